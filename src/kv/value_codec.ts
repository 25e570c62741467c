// The value of a siltdb/kv entry as stored: a small header, then the value's
// bytes in one of three encodings, as Deno KV keeps them (a Uint8Array and a
// KvU64 have their own, everything else is a structured clone):
//
//   +------+---------------+------------------------+-------------------+
//   | head | index varint  | expireAt float64 LE    | payload           |
//   | u8   | (LEB128)      | (only if head & 0x80)  |                   |
//   +------+---------------+------------------------+-------------------+
//
//   head & 0x03  the payload's encoding: 1 structured clone (clone_encode.ts),
//                2 KvU64 (8 bytes, little-endian), 3 bytes (a Uint8Array as is)
//   head & 0x80  the entry expires at expireAt (milliseconds since the epoch):
//                from then on reads treat it as absent, and the sweep deletes it
//   index        the entry's place among the entries of its commit (one siltdb
//                batch): the commit's versionstamp is the sequence siltdb gave
//                the entry minus index (src/kv/versionstamp.ts)
//
// Other head bits are 0 (a reader refuses a head it does not know). DO NOT
// CHANGE: every stored entry is this.

import { ByteReader, ByteWriter } from "./_bytes.ts";
import { decodeClone } from "./clone_decode.ts";
import { encodeClone } from "./clone_encode.ts";
import { KvU64 } from "./kv_u64.ts";

/** The payload encodings (the head's low bits). */
export const Encoding = { clone: 1, u64: 2, bytes: 3 } as const;
/** One of the payload encodings. */
export type EncodingId = typeof Encoding[keyof typeof Encoding];

const EXPIRES = 0x80;
const brand = (v: unknown): string => Object.prototype.toString.call(v).slice(8, -1);

/** A value encoded for storage, before its header. */
export interface EncodedValue {
  encoding: EncodingId;
  payload: Uint8Array;
}

/**
 * Encodes a value as Deno KV does: a Uint8Array as its bytes (copied: later
 * changes to it are not stored), a KvU64 as 8 bytes, anything else as a
 * structured clone. A Promise only for a value holding a Blob or File.
 *
 * @example
 * ```ts
 * const v = encodeValue(new Uint8Array([1, 2])) as EncodedValue;
 * console.log(v.encoding, v.payload); // 3 Uint8Array(2) [ 1, 2 ]
 * ```
 */
export function encodeValue(value: unknown): EncodedValue | Promise<EncodedValue> {
  if (value instanceof Uint8Array && brand(value) === "Uint8Array") {
    return { encoding: Encoding.bytes, payload: value.slice() };
  }
  if (value instanceof KvU64) {
    const w = new ByteWriter(8);
    w.u64(value.value);
    return { encoding: Encoding.u64, payload: w.finish() };
  }
  const payload = encodeClone(value);
  return payload instanceof Uint8Array
    ? { encoding: Encoding.clone, payload }
    : payload.then((p) => ({ encoding: Encoding.clone, payload: p }));
}

/**
 * The value of a payload (a Promise when it holds a CryptoKey: see decodeClone).
 *
 * @example
 * ```ts
 * decodeValue({ encoding: Encoding.bytes, payload: new Uint8Array([7]) }); // Uint8Array [7]
 * ```
 */
export function decodeValue(v: EncodedValue): unknown {
  switch (v.encoding) {
    case Encoding.bytes:
      return v.payload.slice();
    case Encoding.u64:
      return new KvU64(new ByteReader(v.payload, "a stored KvU64").u64());
    default:
      return decodeClone(v.payload);
  }
}

/** A stored entry value, its header read. */
export interface StoredValue extends EncodedValue {
  /** The entry's place in its commit. */
  index: number;
  /** When it expires (ms since the epoch), if it does. */
  expireAt: number | undefined;
}

/**
 * The stored bytes of an entry: header, then payload.
 *
 * @example
 * ```ts
 * const bytes = storedValue({ encoding: Encoding.bytes, payload: new Uint8Array([9]) }, 2, undefined);
 * console.log(bytes); // Uint8Array [3, 2, 9]
 * ```
 */
export function storedValue(v: EncodedValue, index: number, expireAt: number | undefined): Uint8Array {
  const w = new ByteWriter(v.payload.length + 16);
  w.u8(v.encoding | (expireAt === undefined ? 0 : EXPIRES));
  w.varint(index);
  if (expireAt !== undefined) w.f64(expireAt);
  w.bytes(v.payload);
  return w.finish();
}

/**
 * Reads an entry's stored bytes (the payload is a view of them). CORRUPTION for bytes no entry has.
 *
 * @example
 * ```ts
 * const stored = readStored(new Uint8Array([3, 2, 9]));
 * console.log(stored.index, stored.payload); // 2 Uint8Array [9]
 * ```
 */
export function readStored(bytes: Uint8Array): StoredValue {
  const r = new ByteReader(bytes, "a stored entry");
  const head = r.u8();
  const encoding = head & 0x7f;
  if (encoding < 1 || encoding > 3) throw r.corrupt(`entry header 0x${head.toString(16)} is unknown`);
  const index = r.varint();
  const expireAt = head & EXPIRES ? r.f64() : undefined;
  return { encoding: encoding as EncodingId, index, expireAt, payload: r.bytes(bytes.length - r.at) };
}
