// Write batches and the log record around them. A batch is the unit of
// atomicity: it is one log record and is applied to the memtable whole.
//
// Log record, format version 2 (see also src/format/log_format.ts and
// docs/format.md):
//
//   +0   u32  masked CRC-32C of bytes [+4, +13): length, type, payload CRC
//   +4   u32  payload length N
//   +8   u8   record type (1 = write batch, 2 = version edit)
//   +9   u32  masked CRC-32C of the payload
//   +13  payload (N bytes)
//   +13+N  u8  end mark 0xA5
//
// The header has its own checksum so that a reader can tell a record a crash
// cut short (intact header, payload running past the end of the file) from a
// damaged one (a flipped bit in the length fails the header checksum). The
// end mark is never zero, so a complete record never ends in zeros: zeros
// reaching past a record's end can only be sectors a crash left unwritten.
//
// Write batch payload:
//
//   +0   u64  sequence number of the first entry (entry i gets sequence + i)
//   +8   u32  entry count
//   +12  entries, each:
//          u8   kind (0 = delete, 1 = put, 2 = range delete, 3 = expiring put)
//          u32  key length
//          key bytes (a range delete: its start)
//          put, range delete and expiring put: u32 value length, value bytes
//            range delete: u8 1 then the end key, or u8 0 alone: no end
//              (range_tombstones.ts)
//            expiring put (8 + n bytes): +0 u64 expiry time, epoch
//              milliseconds   +8 the user's n bytes (core/expiry.ts; stored
//              so in memtables and tables, kind 3)
//
// All integers little-endian. Do not change: these bytes are on disk.

import { crc32cExtend, maskCrc } from "./crc32c";
import { mtInsert } from "./skiplist";
import { EXPIRY_PREFIX, KIND_PUT_EXPIRING } from "./expiry";
import { KIND_RANGE_DELETE, rtMemAdd } from "./range_tombstones";

export const RECORD_HEADER: usize = 13;
/** The byte after the payload: never zero, no single bit flip makes it zero. */
export const RECORD_END_MARK: u8 = 0xa5;
/** Bytes a record takes besides its payload. */
export const RECORD_OVERHEAD: usize = RECORD_HEADER + 1;
export const RECORD_TYPE_BATCH: u8 = 1;
export const BATCH_HEADER: usize = 12;
export const KIND_DELETE: u8 = 0;
export const KIND_PUT: u8 = 1;

/**
 * Checks the structure of a batch payload: every entry has a known kind and
 * lies inside the payload, and the count matches. Returns the entry count, or
 * -1 when the payload is malformed.
 */
export function batchValidate(payload: usize, len: usize): i32 {
  if (len < BATCH_HEADER) return -1;
  const count = load<u32>(payload, 8);
  const end = payload + len;
  let p = payload + BATCH_HEADER;
  for (let i: u32 = 0; i < count; i++) {
    if (p + 5 > end) return -1;
    const kind = load<u8>(p);
    if (kind != KIND_PUT && kind != KIND_DELETE && kind != KIND_RANGE_DELETE && kind != KIND_PUT_EXPIRING) return -1;
    const keyLen = <usize>load<u32>(p, 1);
    p += 5;
    if (keyLen > end - p) return -1;
    p += keyLen;
    if (kind != KIND_DELETE) {
      if (p + 4 > end) return -1;
      const valueLen = <usize>load<u32>(p);
      p += 4;
      if (valueLen > end - p || (kind == KIND_PUT_EXPIRING && valueLen < <usize>EXPIRY_PREFIX)) return -1;
      if (kind == KIND_RANGE_DELETE && !rangeEndOk(p, valueLen)) return -1;
      p += valueLen;
    }
  }
  if (p != end || count > 0x7fffffff) return -1;
  return <i32>count;
}

/** A range delete's value: u8 1 and the end key, or u8 0 alone (no end). */
function rangeEndOk(p: usize, len: usize): bool {
  return len >= 1 && (load<u8>(p) == 1 || (load<u8>(p) == 0 && len == 1));
}

/**
 * Validates a batch payload, then inserts all its entries into memtable mt.
 * Returns the entry count, or -1 (and inserts nothing) when malformed.
 */
export function batchApply(mt: usize, payload: usize, len: usize): i32 {
  const count = batchValidate(payload, len);
  if (count >= 0) insertAll(mt, payload, count);
  return count;
}

/** Inserts the count entries of a validated batch payload. */
function insertAll(mt: usize, payload: usize, count: i32): void {
  let sequence = load<u64>(payload);
  let p = payload + BATCH_HEADER;
  for (let i = 0; i < count; i++) {
    const kind = load<u8>(p);
    const keyLen = load<u32>(p, 1);
    const key = p + 5;
    p = key + <usize>keyLen;
    let value: usize = 0;
    let valueLen: u32 = 0;
    if (kind != KIND_DELETE) {
      valueLen = load<u32>(p);
      value = p + 4;
      p = value + <usize>valueLen;
    }
    if (kind == KIND_RANGE_DELETE) rtMemAdd(mt, key, keyLen, (sequence << 8) | <u64>kind, value, valueLen);
    else mtInsert(mt, key, keyLen, (sequence << 8) | <u64>kind, value, valueLen);
    sequence++;
  }
}

/** Writes the header of the record at ptr (length, type, payload CRC, header CRC) over its payload. */
export function recordSeal(record: usize, payloadLen: usize, type: u8): void {
  store<u32>(record, <u32>payloadLen, 4);
  store<u8>(record, type, 8);
  store<u32>(record, maskCrc(crc32cExtend(0, record + RECORD_HEADER, payloadLen)), 9);
  store<u32>(record, maskCrc(crc32cExtend(0, record + 4, 9)));
  store<u8>(record + RECORD_HEADER + payloadLen, RECORD_END_MARK);
}

/**
 * Stamps the first sequence into the batch of the record at ptr, checks the
 * batch and seals the record. Returns the entry count, or -1 (record left
 * unsealed) when the batch is malformed.
 */
export function recordStampAndSeal(record: usize, payloadLen: usize, sequence: f64): i32 {
  const payload = record + RECORD_HEADER;
  store<u64>(payload, <u64>sequence);
  const count = batchValidate(payload, payloadLen);
  if (count < 0) return -1;
  recordSeal(record, payloadLen, RECORD_TYPE_BATCH);
  return count;
}

/** recordStampAndSeal, then applies the batch to mt. Returns the entry count or -1 (nothing applied). */
export function recordSealAndApply(mt: usize, record: usize, payloadLen: usize, sequence: f64): i32 {
  const count = recordStampAndSeal(record, payloadLen, sequence);
  if (count >= 0) insertAll(mt, record + RECORD_HEADER, count);
  return count;
}

/**
 * Applies every sealed write-batch record in [ptr, ptr + len) to mt, in
 * order. Returns the number of records, or -1 (nothing applied) when a
 * record is not a well-formed batch.
 */
export function recordsApply(mt: usize, ptr: usize, len: usize): i32 {
  const end = ptr + len;
  let records = 0;
  for (let p = ptr; p < end; records++) {
    if (end - p < RECORD_OVERHEAD) return -1;
    const payloadLen = <usize>load<u32>(p, 4);
    if (payloadLen > end - p - RECORD_OVERHEAD || batchValidate(p + RECORD_HEADER, payloadLen) < 0) return -1;
    p += RECORD_OVERHEAD + payloadLen;
  }
  for (let p = ptr; p < end;) {
    const payloadLen = <usize>load<u32>(p, 4);
    insertAll(mt, p + RECORD_HEADER, <i32>load<u32>(p + RECORD_HEADER, 8));
    p += RECORD_OVERHEAD + payloadLen;
  }
  return records;
}

/** True when the header CRC of the record at ptr matches its length, type and payload CRC. */
export function recordHeaderOk(record: usize): bool {
  return load<u32>(record) == maskCrc(crc32cExtend(0, record + 4, 9));
}

/** True when the payload CRC stored in the record's header matches its payload, and the end mark is there. */
export function recordPayloadOk(record: usize, payloadLen: usize): bool {
  return load<u8>(record + RECORD_HEADER + payloadLen) == RECORD_END_MARK &&
    load<u32>(record, 9) == maskCrc(crc32cExtend(0, record + RECORD_HEADER, payloadLen));
}
