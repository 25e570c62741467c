// The key codec of siltdb/kv: a Deno KV key (a tuple of parts) <-> the bytes
// stored as the siltdb key. The bytes are those of denokv's tuple codec (the
// FoundationDB tuple layer, trimmed), so that the bytewise order siltdb keeps
// is exactly Deno KV's order of keys, and a key's byte size (what Deno KV's
// limits count) is the same. Each part is one tag byte and its body; parts
// follow each other with no separator:
//
//   part          tag         body
//   Uint8Array    0x01        bytes, each 0x00 written 0x00 0xFF, then 0x00
//   string        0x02        UTF-8, each 0x00 written 0x00 0xFF, then 0x00
//   bigint < 0    0x0C..0x13  tag 0x14 - n, then the n-byte big-endian magnitude
//                             with every bit inverted (n = 1..8)
//                 0x0B        n ^ 0xFF (one byte, n = 9..255), inverted magnitude
//   0n            0x14        (none)
//   bigint > 0    0x15..0x1C  tag 0x14 + n, then the n-byte big-endian magnitude
//                 0x1D        n (one byte, n = 9..255), magnitude
//   number        0x21        8 bytes big-endian: the float64 bits, all inverted
//                             when the sign bit is set, else with the sign bit
//                             set (-NaN < -Infinity < ... < -0 < 0 < ... < NaN);
//                             NaN is stored as 0x7FF8000000000000 (one NaN)
//   false         0x26        (none)
//   true          0x27        (none)
//
// Parts of different types order by tag: Uint8Array < string < bigint <
// number < false < true. A key that is a prefix of another sorts first.
// Magnitudes are minimal (no leading zero byte). No stored user key starts
// with 0xFF: siltdb/kv keeps its own records (queue, expiry index, format
// mark) under 0xFF, where no list can reach (src/kv/layout.ts).
//
// DO NOT CHANGE: stored keys and cursors are these bytes.

import { ByteReader, ByteWriter, compareBytes } from "./_bytes.ts";

/**
 * One part of a key: Deno KV's `KvKeyPart` (a symbol only as the last part of
 * a set's key: `kv.commitVersionstamp()`).
 */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean | symbol;
/** A key: Deno KV's `KvKey`, a tuple of parts. */
export type KvKey = readonly KvKeyPart[];

const BYTES = 0x01;
const STRING = 0x02;
const NEG_INT_START = 0x0b;
const INT_ZERO = 0x14;
const POS_INT_END = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;
const ESCAPE = 0xff;
const SIGN = 0x8000000000000000n;
const ALL = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/** What every bad key part is told (the wording of Deno KV). */
const EXPECTED = "expected string, number, bigint, ArrayBufferView, boolean";

/**
 * Throws a TypeError unless key is an array of valid parts (as Deno KV:
 * strings, numbers, bigints, booleans, and any ArrayBufferView as bytes).
 *
 * @example
 * ```ts
 * checkKey(["users", 1n], "key"); // fine
 * try { checkKey(["a", null], "key"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function checkKey(key: unknown, what: string): asserts key is KvKey {
  if (!Array.isArray(key)) throw new TypeError(`${what} must be an array of key parts, got ${typeName(key)}`);
  for (let i = 0; i < key.length; i++) {
    const part: unknown = key[i];
    const type = typeof part;
    if (type === "string" || type === "number" || type === "bigint" || type === "boolean") continue;
    if (ArrayBuffer.isView(part)) continue;
    throw new TypeError(`${what} part ${i} is invalid: ${EXPECTED}, got ${typeName(part)}`);
  }
}

/** "null", "a symbol", "an ArrayBuffer", "a Date"... for messages. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object" || typeof value === "function") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && name !== "") return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
    return "an object";
  }
  return `${/^[aeiou]/.test(typeof value) ? "an" : "a"} ${typeof value}`;
}

/**
 * The stored bytes of a key (checked: a TypeError for a bad key).
 *
 * @example
 * ```ts
 * encodeKey(["hello"]); // Uint8Array [0x02, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00]
 * encodeKey([]); // Uint8Array [] (the empty prefix)
 * ```
 */
export function encodeKey(key: KvKey, what = "key"): Uint8Array {
  checkKey(key, what);
  const w = new ByteWriter(32);
  for (const part of key) encodePart(w, part);
  return w.finish().slice();
}

function encodePart(w: ByteWriter, part: KvKeyPart): void {
  switch (typeof part) {
    case "string":
      w.u8(STRING);
      escaped(w, encoder.encode(part));
      return;
    case "number":
      w.u8(DOUBLE);
      doubleBytes(w, part);
      return;
    case "bigint":
      bigintBytes(w, part);
      return;
    case "boolean":
      w.u8(part ? TRUE : FALSE);
      return;
    default: {
      const view = part as ArrayBufferView;
      w.u8(BYTES);
      escaped(w, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    }
  }
}

function escaped(w: ByteWriter, bytes: Uint8Array): void {
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    w.bytes(bytes.subarray(from, i + 1));
    w.u8(ESCAPE);
    from = i + 1;
  }
  w.bytes(bytes.subarray(from));
  w.u8(0);
}

const f64 = new DataView(new ArrayBuffer(8));

function doubleBytes(w: ByteWriter, x: number): void {
  f64.setFloat64(0, Number.isNaN(x) ? NaN : x);
  let bits = Number.isNaN(x) ? 0x7ff8000000000000n : f64.getBigUint64(0);
  bits = bits & SIGN ? bits ^ ALL : bits ^ SIGN;
  f64.setBigUint64(0, bits);
  for (let i = 0; i < 8; i++) w.u8(f64.getUint8(i));
}

function bigintBytes(w: ByteWriter, n: bigint): void {
  if (n === 0n) return w.u8(INT_ZERO);
  const negative = n < 0n;
  let hex = (negative ? -n : n).toString(16);
  if (hex.length % 2) hex = "0" + hex;
  const size = hex.length / 2;
  if (size > 255) throw new TypeError("a bigint key part takes more than 255 bytes: it is too large for a key");
  if (size <= 8) w.u8(negative ? INT_ZERO - size : INT_ZERO + size);
  else {
    w.u8(negative ? NEG_INT_START : POS_INT_END);
    w.u8(negative ? size ^ 0xff : size);
  }
  for (let i = 0; i < size; i++) {
    const b = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    w.u8(negative ? b ^ 0xff : b);
  }
}

/**
 * The key of stored bytes. Throws CORRUPTION (a SiltError) for bytes no key encodes to.
 *
 * @example
 * ```ts
 * decodeKey(encodeKey(["a", 1n, true])); // ["a", 1n, true]
 * ```
 */
export function decodeKey(bytes: Uint8Array): KvKeyPart[] {
  const r = new ByteReader(bytes, "a stored key");
  const key: KvKeyPart[] = [];
  while (!r.done) {
    const tag = r.u8();
    if (tag === STRING) key.push(new TextDecoder().decode(unescaped(r)));
    else if (tag === BYTES) key.push(unescaped(r));
    else if (tag === DOUBLE) key.push(readDouble(r));
    else if (tag === FALSE) key.push(false);
    else if (tag === TRUE) key.push(true);
    else if (tag >= NEG_INT_START && tag <= POS_INT_END) key.push(readBigint(r, tag));
    else throw r.corrupt(`0x${tag.toString(16)} is no key part's tag`);
  }
  return key;
}

function unescaped(r: ByteReader): Uint8Array {
  const out = new ByteWriter(16);
  for (;;) {
    const b = r.u8();
    if (b !== 0) {
      out.u8(b);
      continue;
    }
    if (r.done) break;
    const next = r.u8();
    if (next === ESCAPE) out.u8(0);
    else {
      r.at--;
      break;
    }
  }
  return out.finish().slice();
}

function readDouble(r: ByteReader): number {
  const b = r.bytes(8);
  for (let i = 0; i < 8; i++) f64.setUint8(i, b[i]);
  const bits = f64.getBigUint64(0);
  f64.setBigUint64(0, bits & SIGN ? bits ^ SIGN : bits ^ ALL);
  return f64.getFloat64(0);
}

function readBigint(r: ByteReader, tag: number): bigint {
  if (tag === INT_ZERO) return 0n;
  const negative = tag < INT_ZERO;
  let size: number;
  if (tag === NEG_INT_START) size = r.u8() ^ 0xff;
  else if (tag === POS_INT_END) size = r.u8();
  else size = negative ? INT_ZERO - tag : tag - INT_ZERO;
  let n = 0n;
  for (const b of r.bytes(size)) n = (n << 8n) | BigInt(negative ? b ^ 0xff : b);
  return negative ? -n : n;
}

/**
 * Deno KV's order of two keys (negative, zero, positive): the bytewise order
 * of their encodings.
 *
 * @example
 * ```ts
 * compareKeys(["a"], ["a", 1]) < 0; // true: a prefix sorts first
 * compareKeys([1n], ["z"]) > 0; // true: bigints sort after strings
 * ```
 */
export function compareKeys(a: KvKey, b: KvKey): number {
  return compareBytes(encodeKey(a), encodeKey(b));
}
