// Byte helpers of siltdb/kv: a growable writer and a bounds-checked reader
// (unsigned LEB128 varints up to 2^53 - 1, little-endian float64 and u64),
// bytewise comparison, hex and URL-safe base64 (with padding, as Deno KV's
// cursors). A reader that runs off its bytes throws CORRUPTION: stored bytes
// are the only thing it reads.

import { SiltError } from "../errors.ts";

const encoder = new TextEncoder();

/**
 * Bytes appended into a buffer that doubles as it fills.
 *
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.u8(1); w.varint(300); w.f64(0.5);
 * console.log(w.finish().length); // 1 + 2 + 8
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initial = 64) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }

  #room(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Appends one byte. */
  u8(b: number): void {
    this.#room(1);
    this.#buf[this.length++] = b;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }

  /** Appends a non-negative integer (at most 2^53 - 1) as an unsigned LEB128 varint. */
  varint(n: number): void {
    this.#room(8);
    while (n >= 0x80) {
      this.#buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.length++] = n;
  }

  /** Appends a float64, little-endian. */
  f64(x: number): void {
    this.#room(8);
    this.#view.setFloat64(this.length, x, true);
    this.length += 8;
  }

  /** Appends a u64 (0 to 2^64 - 1), little-endian. */
  u64(n: bigint): void {
    this.#room(8);
    this.#view.setBigUint64(this.length, n, true);
    this.length += 8;
  }

  /** Appends a string's UTF-8 bytes (a well-formed string: no lone surrogates). */
  utf8(s: string): void {
    this.#room(s.length * 3);
    this.length += encoder.encodeInto(s, this.#buf.subarray(this.length)).written;
  }

  /**
   * Appends a well-formed string as a varint of its UTF-8 byte length, then
   * the bytes (ASCII is copied directly; the rest goes through TextEncoder).
   */
  utf8Prefixed(s: string): void {
    if (s.length <= 42) {
      // At most 126 bytes: the length takes one byte, set once known.
      this.#room(1 + s.length * 3);
      const at = this.length++;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.#buf[this.length++] = c;
      }
      if (i < s.length) this.length += encoder.encodeInto(s.slice(i), this.#buf.subarray(this.length)).written;
      this.#buf[at] = this.length - at - 1;
      return;
    }
    const bytes = encoder.encode(s);
    this.varint(bytes.length);
    this.bytes(bytes);
  }

  /** Appends a string's UTF-16 code units, little-endian (any string, lone surrogates too). */
  utf16(s: string): void {
    this.#room(s.length * 2);
    for (let i = 0; i < s.length; i++) this.#view.setUint16(this.length + 2 * i, s.charCodeAt(i), true);
    this.length += s.length * 2;
  }

  /** Overwrites one byte already written. */
  setU8(at: number, b: number): void {
    this.#buf[at] = b;
  }

  /** The bytes written (a view of the buffer: write nothing more after). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads stored bytes front to back; throws CORRUPTION past their end.
 *
 * @example
 * ```ts
 * const r = new ByteReader(new Uint8Array([1, 0xac, 0x02]), "a value");
 * console.log(r.u8(), r.varint(), r.done); // 1 300 true
 * ```
 */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  /** Offset of the next byte. */
  at = 0;

  /** Reads `buf`; `what` names it in errors ("a stored value"). */
  constructor(buf: Uint8Array, what: string) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  /** True once every byte was read. */
  get done(): boolean {
    return this.at >= this.#buf.length;
  }

  /** A CORRUPTION error about these bytes at the current offset. */
  corrupt(what: string): SiltError {
    return new SiltError("CORRUPTION", `${this.#what} at byte ${this.at}: ${what}`);
  }

  #need(n: number): void {
    if (this.at + n > this.#buf.length) throw this.corrupt(`needs ${n} more bytes, has ${this.#buf.length - this.at}`);
  }

  /** The next byte. */
  u8(): number {
    this.#need(1);
    return this.#buf[this.at++];
  }

  /** The next n bytes (a view: copy it to keep it). */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** An unsigned LEB128 varint (at most 2^53 - 1). */
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) break;
        return n;
      }
      scale *= 0x80;
    }
    throw this.corrupt("a varint is too long");
  }

  /** A little-endian float64. */
  f64(): number {
    this.#need(8);
    const x = this.#view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  /** A little-endian u64. */
  u64(): bigint {
    this.#need(8);
    const x = this.#view.getBigUint64(this.at, true);
    this.at += 8;
    return x;
  }

  /** n bytes of UTF-8 as a string (malformed UTF-8 is CORRUPTION). */
  utf8(n: number): string {
    const b = this.bytes(n);
    try {
      return decoder.decode(b);
    } catch {
      throw this.corrupt("a string is not valid UTF-8");
    }
  }

  /** n UTF-16 code units, little-endian, as a string. */
  utf16(n: number): string {
    this.#need(2 * n);
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.#view.getUint16(this.at + 2 * i, true));
    this.at += 2 * n;
    return s;
  }
}

/**
 * Bytewise order of a and b: negative, zero or positive.
 *
 * @example
 * ```ts
 * compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])); // -1
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * True when bytes starts with prefix.
 *
 * @example
 * ```ts
 * startsWith(new Uint8Array([1, 2]), new Uint8Array([1])); // true
 * ```
 */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * a followed by b, in a new array.
 *
 * @example
 * ```ts
 * concat(new Uint8Array([1]), new Uint8Array([2])); // Uint8Array [1, 2]
 * ```
 */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Lowercase hex of bytes.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0, 255])); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/**
 * URL-safe base64 with "=" padding (RFC 4648 §5), the form of Deno KV's cursors.
 *
 * @example
 * ```ts
 * base64url(new Uint8Array([2, 98, 0])); // "AmIA"
 * ```
 */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    s += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    s += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return s;
}

/**
 * The bytes of URL-safe base64 (padding optional), or undefined when the text is not that.
 *
 * @example
 * ```ts
 * fromBase64url("AmIA"); // Uint8Array [2, 98, 0]
 * fromBase64url("A*"); // undefined
 * ```
 */
export function fromBase64url(text: string): Uint8Array | undefined {
  const body = text.replace(/={1,2}$/, "");
  if (body.length % 4 === 1 || (text.length !== body.length && text.length % 4 !== 0)) return undefined;
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of body) {
    const d = B64_INDEX.get(c);
    if (d === undefined) return undefined;
    value = (value << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}
