// Write batch layout: the payload of a log record of type 1 (framing in
// src/format/log_format.ts), the unit of atomicity. Do not change: these
// bytes are on disk. Every TypeScript encoder of a batch (WriteBatch, the
// deletes of clear(), a single put or delete written straight into linear
// memory) goes through encodeEntry; the core (core/write_batch.ts) stamps
// the sequence, seals the record and applies it, and tests/wasm_abi.test.ts
// holds the constants equal to the core's.
//
//   +0   u64  sequence number of the first entry (entry i gets sequence + i),
//             stamped by the core at commit
//   +8   u32  entry count
//   +12  entries, each:
//          u8   kind (0 = delete, 1 = put, 2 = range delete, 3 = expiring put;
//               src/format/internal_key.ts)
//          u32  key length
//          key bytes (a range delete: its start)
//          put, range delete, expiring put: u32 value length, value bytes
//            range delete: its end, src/format/range_tombstone_format.ts
//            expiring put (8 + n bytes): u64 expiry time (epoch ms), the user's n bytes
//
// All integers little-endian.

import { encodeUtf8Into } from "../_utf8.ts";
import { EXPIRY_PREFIX_SIZE, KIND_DELETE, KIND_PUT_EXPIRING, MAX_SEQUENCE } from "./internal_key.ts";

/**
 * Bytes in a write batch header (u64 sequence + u32 count).
 *
 * @example
 * ```ts
 * import { KIND_PUT } from "./internal_key.ts";
 * const payload = BATCH_HEADER_SIZE + entryBound(KIND_PUT, 3, 5); // 29: a batch of one put, 3-byte key, 5-byte value
 * ```
 */
export const BATCH_HEADER_SIZE = 12;
/**
 * Bytes of an entry besides its key and value: kind and key length, and for a put the value length.
 *
 * @example
 * ```ts
 * const deleteBytes = ENTRY_OVERHEAD + 3; // 8: a delete of a 3-byte key (kind, key length, key)
 * ```
 */
export const ENTRY_OVERHEAD = 5;
/**
 * Bytes a put's value length takes.
 *
 * @example
 * ```ts
 * const putBytes = ENTRY_OVERHEAD + 3 + VALUE_LENGTH_SIZE + 5; // 17: a put of a 3-byte key and a 5-byte value
 * ```
 */
export const VALUE_LENGTH_SIZE = 4;

/**
 * Most bytes an entry can take whose key and value take at most keyRoom and
 * valueRoom bytes (a delete: valueRoom is ignored).
 *
 * @example
 * ```ts
 * import { checkedSize } from "../encoding.ts";
 * import { KIND_PUT } from "./internal_key.ts";
 * declare const key: string, value: string;
 * const keyRoom = checkedSize(key, 65536, "key", "maxKeySize");
 * const room = entryBound(KIND_PUT, keyRoom, checkedSize(value, 64 << 20, "value", "maxValueSize"));
 * ```
 */
export function entryBound(kind: number, keyRoom: number, valueRoom: number): number {
  if (kind === KIND_PUT_EXPIRING) return ENTRY_OVERHEAD + keyRoom + VALUE_LENGTH_SIZE + EXPIRY_PREFIX_SIZE + valueRoom;
  return ENTRY_OVERHEAD + keyRoom + (kind !== KIND_DELETE ? VALUE_LENGTH_SIZE + valueRoom : 0);
}

/**
 * Encodes one entry at `at` of mem (dv a DataView of the same buffer; room
 * for entryBound bytes); strings go in as UTF-8. An expiring put gets
 * `expireAt` (epoch ms) in front of its value. Returns where it ends.
 *
 * @example
 * ```ts
 * import { KIND_PUT } from "./internal_key.ts";
 * const buf = new Uint8Array(64);
 * const end = encodeEntry(buf, new DataView(buf.buffer), 0, KIND_PUT, "key", "value"); // 17
 * ```
 */
export function encodeEntry(
  mem: Uint8Array,
  dv: DataView,
  at: number,
  kind: number,
  key: string | Uint8Array,
  value: string | Uint8Array,
  expireAt = 0,
): number {
  mem[at] = kind;
  const keyLength = put(mem, at + ENTRY_OVERHEAD, key);
  dv.setUint32(at + 1, keyLength, true);
  let end = at + ENTRY_OVERHEAD + keyLength;
  if (kind === KIND_PUT_EXPIRING) {
    dv.setUint32(end + VALUE_LENGTH_SIZE, expireAt % 2 ** 32, true);
    dv.setUint32(end + VALUE_LENGTH_SIZE + 4, Math.floor(expireAt / 2 ** 32), true);
    const valueLength = EXPIRY_PREFIX_SIZE + put(mem, end + VALUE_LENGTH_SIZE + EXPIRY_PREFIX_SIZE, value);
    dv.setUint32(end, valueLength, true);
    end += VALUE_LENGTH_SIZE + valueLength;
  } else if (kind !== KIND_DELETE) {
    const valueLength = put(mem, end + VALUE_LENGTH_SIZE, value);
    dv.setUint32(end, valueLength, true);
    end += VALUE_LENGTH_SIZE + valueLength;
  }
  return end;
}

function put(mem: Uint8Array, at: number, data: string | Uint8Array): number {
  if (typeof data === "string") return encodeUtf8Into(data, mem, at);
  mem.set(data, at);
  return data.length;
}

/**
 * Writes the entry count into the header of the batch payload at `payload`
 * (the sequence is stamped at commit).
 *
 * @example
 * ```ts
 * import { view } from "../wasm/instance.ts";
 * declare const payload: number; // address of a batch payload in linear memory
 * setBatchCount(view(), payload, 3);
 * ```
 */
export function setBatchCount(dv: DataView, payload: number, count: number): void {
  dv.setUint32(payload + 8, count, true);
}

/**
 * The sequence and entry count of the write batch whose payload (`length`
 * bytes at `payload` in `view`) follows a batch that ended at sequence
 * `last`; or, as text, what is wrong with its header. Recovery, verify and
 * dump-wal all read batches this way.
 *
 * @example
 * ```ts
 * import { corruption } from "../errors.ts";
 * import { view } from "../wasm/instance.ts";
 * declare const payload: number, length: number; // a record's payload in linear memory
 * declare const lastSequence: number, path: string, offset: number; // the batch before it; where the record is
 * const header = batchHeader(view(), payload, length, lastSequence);
 * if (typeof header === "string") throw corruption(path, offset, header);
 * ```
 */
export function batchHeader(
  view: DataView,
  payload: number,
  length: number,
  last: number,
): { sequence: number; count: number } | string {
  if (length < BATCH_HEADER_SIZE) return "write batch shorter than its header";
  const sequence = view.getUint32(payload, true) + view.getUint32(payload + 4, true) * 2 ** 32;
  const count = view.getUint32(payload + 8, true);
  if (sequence < 1 || sequence + count - 1 > MAX_SEQUENCE) return `write batch sequence ${sequence} is out of range`;
  if (sequence <= last) return `write batch sequence ${sequence} does not follow ${last}`;
  return { sequence, count };
}

/** Where one entry of a batch lies in its buffer (see forEachBatchEntry). */
export interface BatchEntryAt {
  /** KIND_PUT, KIND_DELETE, KIND_RANGE_DELETE (value: its end, range_tombstone_format.ts) or KIND_PUT_EXPIRING. */
  kind: number;
  /** An expiring put's expiry time (epoch ms; its value range excludes it), else 0. */
  expireAt: number;
  /** Its sequence: the batch's sequence plus its index. */
  sequence: number;
  keyStart: number;
  keyEnd: number;
  /** A delete: both equal keyEnd. */
  valueStart: number;
  valueEnd: number;
}

/**
 * Visits every entry of the batch payload at `payload` of mem (dv a
 * DataView of the same buffer), in order, numbered from its stamped
 * sequence (or from `sequence`, for a payload not stamped yet). The entry
 * object is reused: copy what you keep. The payload must be well formed
 * (one the engine encoded).
 *
 * @example
 * ```ts
 * import { bytes, view } from "../wasm/instance.ts";
 * declare const payload: number; // a sealed batch payload in linear memory
 * forEachBatchEntry(bytes(), view(), payload, (e) => console.log(e.sequence, e.keyEnd - e.keyStart));
 * ```
 */
export function forEachBatchEntry(
  mem: Uint8Array,
  dv: DataView,
  payload: number,
  visit: (entry: BatchEntryAt) => void,
  sequence = dv.getUint32(payload, true) + dv.getUint32(payload + 4, true) * 2 ** 32,
): void {
  const count = dv.getUint32(payload + 8, true);
  const entry: BatchEntryAt = { kind: 0, expireAt: 0, sequence, keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0 };
  let at = payload + BATCH_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    entry.kind = mem[at];
    entry.sequence = sequence + i;
    entry.keyStart = at + ENTRY_OVERHEAD;
    entry.keyEnd = entry.keyStart + dv.getUint32(at + 1, true);
    at = entry.keyEnd;
    entry.expireAt = 0;
    if (entry.kind !== KIND_DELETE) {
      entry.valueStart = at + VALUE_LENGTH_SIZE;
      entry.valueEnd = entry.valueStart + dv.getUint32(at, true);
      at = entry.valueEnd;
      if (entry.kind === KIND_PUT_EXPIRING) {
        entry.expireAt = dv.getUint32(entry.valueStart, true) + dv.getUint32(entry.valueStart + 4, true) * 2 ** 32;
        entry.valueStart += EXPIRY_PREFIX_SIZE;
      }
    } else {
      entry.valueStart = entry.valueEnd = at;
    }
    visit(entry);
  }
}
