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

/**
 * "SILTLOG\n"
 *
 * @example
 * ```ts
 * const header = logFileHeader();
 * console.log(LOG_MAGIC.every((b, i) => header[i] === b)); // true: every log file starts with "SILTLOG\n"
 * ```
 */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x53, 0x49, 0x4c, 0x54, 0x4c, 0x4f, 0x47, 0x0a]);
/**
 * Current log format version.
 *
 * @example
 * ```ts
 * new DataView(logFileHeader().buffer).getUint32(8, true) === LOG_VERSION; // true
 * ```
 */
export const LOG_VERSION = 2;
/**
 * Bytes in the file header.
 *
 * @example
 * ```ts
 * logFileHeader().length === LOG_HEADER_SIZE; // true: the first record starts at offset 16
 * ```
 */
export const LOG_HEADER_SIZE = 16;
/**
 * Bytes in a record header.
 *
 * @example
 * ```ts
 * const record = new Uint8Array(RECORD_OVERHEAD + 29); // room for a record of a 29-byte batch
 * const payload = record.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + 29); // where the batch goes
 * ```
 */
export const RECORD_HEADER_SIZE = 13;
/**
 * The byte after every record's payload: never zero, and no single bit flip makes it zero.
 *
 * @example
 * ```ts
 * declare const record: Uint8Array, length: number; // a record and its payload length
 * const complete = record[RECORD_HEADER_SIZE + length] === RECORD_END_MARK;
 * ```
 */
export const RECORD_END_MARK = 0xa5;
/**
 * Bytes a record takes besides its payload: the header and the end mark.
 *
 * @example
 * ```ts
 * const size = RECORD_OVERHEAD + 29; // 43: the bytes a record of a 29-byte batch takes in its log
 * ```
 */
export const RECORD_OVERHEAD = RECORD_HEADER_SIZE + 1;
/**
 * Record type of a write batch (in write-ahead logs).
 *
 * @example
 * ```ts
 * import { allocBuffer } from "../wasm/instance.ts";
 * import { sealRecord } from "../wasm/records.ts";
 * const ptr = allocBuffer(RECORD_OVERHEAD + 29);
 * // ... a 29-byte write batch at ptr + RECORD_HEADER_SIZE ...
 * sealRecord(ptr, 29, RECORD_TYPE_BATCH); // a record of a write-ahead log
 * ```
 */
export const RECORD_TYPE_BATCH = 1;
/**
 * Record type of a version edit (in manifests, src/version/version_edit.ts).
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * import { replayLog } from "../wal/log_reader.ts";
 * declare const file: StorageFile; // an open MANIFEST-000004
 * replayLog(file, file.path, (payload, length, offset) => console.log(`an edit of ${length} bytes`), RECORD_TYPE_EDIT);
 * ```
 */
export const RECORD_TYPE_EDIT = 2;
/**
 * Sector size assumed by torn-tail detection: a crash can leave the unwritten
 * sectors of an extended file as zeros, starting at a multiple of this.
 *
 * @example
 * ```ts
 * const offset = 70000; // where a torn tail starts
 * const sector = Math.floor(offset / SECTOR_SIZE) * SECTOR_SIZE; // 69632: unwritten sectors begin at a multiple of 512
 * ```
 */
export const SECTOR_SIZE = 512;

/**
 * The 16 header bytes of a new log file.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * declare const file: StorageFile; // a new, empty log or manifest
 * file.appendSync(logFileHeader()); // 16 bytes: "SILTLOG\n", version 2, reserved 0
 * ```
 */
export function logFileHeader(): Uint8Array {
  const header = new Uint8Array(LOG_HEADER_SIZE);
  header.set(LOG_MAGIC);
  new DataView(header.buffer).setUint32(8, LOG_VERSION, true);
  return header;
}

/**
 * Visits the payload of every record of `records` (whole records one after
 * another, as a pending group holds them before they are written), giving
 * each payload's offset in `records` and its length.
 *
 * @example
 * ```ts
 * declare const group: Uint8Array; // sealed records, back to back
 * let payloads = 0;
 * forEachRecordPayload(group, () => payloads++);
 * ```
 */
export function forEachRecordPayload(records: Uint8Array, visit: (payload: number, length: number) => void): void {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  for (let at = 0; at + RECORD_OVERHEAD <= records.length;) {
    const length = dv.getUint32(at + 4, true);
    visit(at + RECORD_HEADER_SIZE, length);
    at += RECORD_OVERHEAD + length;
  }
}
