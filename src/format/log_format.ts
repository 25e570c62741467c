// Log file layout, shared by write-ahead logs (NNNNNN.log) and manifests
// (MANIFEST-NNNNNN). Do not change: these bytes are on disk.
//
//   file header (16 bytes)
//     +0   8 bytes  magic "SILTLOG\n"
//     +8   u32      format version (2)
//     +12  u32      reserved, 0
//
//   record (13-byte header + payload + end mark), repeated
//     +0     u32  masked CRC-32C of bytes [+4, +13): length, type, payload CRC
//     +4     u32  payload length N
//     +8     u8   type: 1 = write batch (NNNNNN.log), 2 = version edit (MANIFEST-NNNNNN)
//     +9     u32  masked CRC-32C of the payload
//     +13    payload (a write batch, see src/format/batch_format.ts, or a version
//            edit, see src/version/version_edit.ts)
//     +13+N  u8   end mark 0xA5
//
// The header checksum covers the length, so a reader tells a record a crash
// cut short (intact header, payload running past the end of the file) from
// a damaged one. The end mark is never zero, so a complete record never ends
// in zeros: zeros from inside a record to the end of the file can only be
// sectors a crash left unwritten (src/wal/log_reader.ts). Records are sealed
// by the core (core/write_batch.ts); this file holds the constants
// TypeScript needs.
//
// Version history: 1 had a 9-byte header with one CRC over length, type and
// payload, which could not tell a torn tail from a flipped length bit.

/** "SILTLOG\n" */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x53, 0x49, 0x4c, 0x54, 0x4c, 0x4f, 0x47, 0x0a]);
/** Current log format version. */
export const LOG_VERSION = 2;
/** Bytes in the file header. */
export const LOG_HEADER_SIZE = 16;
/** Bytes in a record header. */
export const RECORD_HEADER_SIZE = 13;
/** The byte after every record's payload: never zero, and no single bit flip makes it zero. */
export const RECORD_END_MARK = 0xa5;
/** Bytes a record takes besides its payload: the header and the end mark. */
export const RECORD_OVERHEAD = RECORD_HEADER_SIZE + 1;
/** Record type of a write batch (in write-ahead logs). */
export const RECORD_TYPE_BATCH = 1;
/** Record type of a version edit (in manifests, src/version/version_edit.ts). */
export const RECORD_TYPE_EDIT = 2;
/**
 * Sector size assumed by torn-tail detection: a crash can leave the unwritten
 * sectors of an extended file as zeros, starting at a multiple of this.
 */
export const SECTOR_SIZE = 512;

/** The 16 header bytes of a new log file. */
export function logFileHeader(): Uint8Array {
  const header = new Uint8Array(LOG_HEADER_SIZE);
  header.set(LOG_MAGIC);
  new DataView(header.buffer).setUint32(8, LOG_VERSION, true);
  return header;
}
