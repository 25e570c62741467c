// WAL (write-ahead log) file layout. Do not change: these bytes are on disk.
//
// A log file is a header followed by records. Write-ahead logs and manifests
// are both log files:
//
//   file header (16 bytes)
//     +0   8 bytes  magic "SILTLOG\n"
//     +8   u32      format version (1)
//     +12  u32      reserved, 0
//
//   record (9-byte header + payload), repeated
//     +0   u32  masked CRC-32C of bytes [+4, +9 + length): length, type, payload
//     +4   u32  payload length
//     +8   u8   type: 1 = write batch (NNNNNN.log), 2 = version edit (MANIFEST-NNNNNN)
//     +9   payload (a write batch, see core/write_batch.ts and docs/format.md)
//
// All integers little-endian. The record header and batch layout are built
// and checked in core/write_batch.ts; this file holds the constants
// TypeScript needs.

/** "SILTLOG\n" */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x53, 0x49, 0x4c, 0x54, 0x4c, 0x4f, 0x47, 0x0a]);
/** Current log format version. */
export const LOG_VERSION = 1;
/** Bytes in the file header. */
export const LOG_HEADER_SIZE = 16;
/** Bytes in a record header. */
export const RECORD_HEADER_SIZE = 9;
/** Record type of a write batch (in write-ahead logs). */
export const RECORD_TYPE_BATCH = 1;
/** Record type of a version edit (in manifests, src/version/version_edit.ts). */
export const RECORD_TYPE_EDIT = 2;
/** Bytes in a write batch header (u64 sequence + u32 count). */
export const BATCH_HEADER_SIZE = 12;

/** The 16 header bytes of a new log file. */
export function logFileHeader(): Uint8Array {
  const header = new Uint8Array(LOG_HEADER_SIZE);
  header.set(LOG_MAGIC);
  new DataView(header.buffer).setUint32(8, LOG_VERSION, true);
  return header;
}
