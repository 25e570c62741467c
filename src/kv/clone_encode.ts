// siltdb/kv's structured-clone format, writing side: any value Deno KV
// stores (the structured clone algorithm "for storage", as V8 serializes
// it) -> bytes that read back the same in Node, Deno, Bun and browsers.
// Why our own format rather than V8's (which only Node and Deno expose, and
// differently) or a CBOR/MessagePack library: none of those keeps sparse
// arrays, wrapper objects, -0, shared buffers behind several views, errors
// with their kind, cycles, KvU64, Blob and File together, and the bytes
// stored here must read back for as long as the store lives (docs/format.md,
// "siltdb/kv").
//
//   encoded := 0x01 (CLONE_VERSION) value
//   value   := tag body, tags in clone_tags.ts:
//     undefined 00 | null 01 | false 02 | true 03
//     int 04       zigzag varint of an integer of at most 2^31 - 1 in size (never -0)
//     float 05     float64 LE (NaN always 0x7FF8000000000000)
//     bigint 06    sign byte (0 or 1), varint n, n magnitude bytes LE
//     utf8 07      varint byte length, UTF-8 (a well-formed string)
//     utf16 08     varint code units, UTF-16LE (a string with a lone surrogate)
//     ref 09       varint id: the object met earlier with that id
//     object 0A    varint count, count x (key string value, value)
//     array 0B     varint length, length values (every index present),
//                  varint count, count x (key, value) of non-index properties
//     sparse 0C    varint length, varint count, count x (key, value)
//     date 0D      float64 time | regexp 0E  source string, flags string
//     map 0F       varint count, count x (key value, value)
//     set 10       varint count, count values
//     buffer 11    varint byteLength, bytes
//     rbuffer 12   varint byteLength, varint maxByteLength, bytes (resizable)
//     view 13      kind byte (VIEW_KINDS), buffer value (11, 12 or a ref),
//                  varint byteOffset, varint length (elements; bytes for DataView)
//     error 14     kind byte (ERROR_KINDS), field flags, then message string,
//                  stack string, cause value, each if its flag is set
//     Boolean 15 byte | Number 16 float64 | String 17 string value | BigInt 18 bigint body
//     KvU64 19     u64 LE
//     Blob 1A      type string, varint size, bytes
//     File 1B      name string, type string, float64 lastModified, varint size, bytes
//     DOMException 1C  name string, message string
//     CryptoKey 1D varint n, then n bytes: a clone-format value (its own
//                  numbering, no version byte) [type, extractable, usages,
//                  algorithm, jwk]: the key as crypto.subtle.exportKey("jwk")
//                  gives it (so only extractable keys can be stored)
//
// Objects (everything but primitives) are numbered 0, 1, 2... in the order
// they are first written (a container before what it holds); a later
// meeting writes a ref, so cycles and shared references come back as they
// were. Own enumerable string-keyed properties are kept, in their order;
// prototypes are not (a class instance reads back as a plain object).
// Functions, symbols, weak collections, promises, SharedArrayBuffers,
// WebAssembly objects and other built-ins without a clone form are refused
// with a DataCloneError naming where in the value they were.

import { ByteWriter } from "./_bytes.ts";
import { CLONE_VERSION, ERROR_KINDS, ErrorField, Tag, VIEW_KINDS } from "./clone_tags.ts";
import { KvU64 } from "./kv_u64.ts";

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
const brand = (v: object): string => Object.prototype.toString.call(v).slice(8, -1);

/**
 * The bytes of a value in the clone format; a Promise only when the value
 * holds a Blob, File or CryptoKey (their bytes are read asynchronously).
 * Throws a DataCloneError for a value that cannot be stored.
 *
 * @example
 * ```ts
 * const bytes = encodeClone({ a: [1, 2n, new Date(0)] }) as Uint8Array;
 * console.log(bytes[0]); // 1, the format version
 * ```
 */
export function encodeClone(value: unknown): Uint8Array | Promise<Uint8Array> {
  const writer = new CloneWriter();
  writer.w.u8(CLONE_VERSION);
  try {
    writer.value(value);
  } catch (err) {
    if (err instanceof Uncloneable) throw notCloneable(err.what, err.path);
    throw err;
  }
  const bytes = writer.w.finish();
  return writer.later.length === 0 ? bytes : withLater(bytes, writer.later);
}

/** Bytes that go in at an offset once a promise settles (a Blob's contents, an exported CryptoKey). */
type Later = { at: number; bytes: Promise<Uint8Array> };

/** Splices each Later's bytes in at its offset. */
async function withLater(bytes: Uint8Array, later: Later[]): Promise<Uint8Array> {
  const parts = await Promise.all(later.map((l) => l.bytes));
  const out = new Uint8Array(bytes.length + parts.reduce((n, c) => n + c.byteLength, 0));
  let from = 0;
  let to = 0;
  later.forEach(({ at }, i) => {
    out.set(bytes.subarray(from, at), to);
    to += at - from;
    from = at;
    out.set(parts[i], to);
    to += parts[i].byteLength;
  });
  out.set(bytes.subarray(from), to);
  return out;
}

/** Thrown inside the writer for a part that cannot be stored; collects the path on its way out. */
class Uncloneable extends Error {
  readonly what: string;
  readonly path: (string | number)[] = [];

  constructor(what: string) {
    super(what);
    this.what = what;
  }
}

function notCloneable(what: string, path: readonly (string | number)[]): Error {
  const where = path.length === 0
    ? ""
    : ` (at ${path.map((p) => typeof p === "number" ? `[${p}]` : `.${p}`).join("")})`;
  const message = `${what} could not be cloned: siltdb/kv stores structured-cloneable values only${where}`;
  return typeof DOMException === "function" ? new DOMException(message, "DataCloneError") : new TypeError(message);
}

class CloneWriter {
  readonly w = new ByteWriter(128);
  readonly ids = new Map<object, number>();
  readonly later: Later[] = [];

  value(v: unknown): void {
    switch (typeof v) {
      case "undefined":
        return this.w.u8(Tag.undefined);
      case "boolean":
        return this.w.u8(v ? Tag.true : Tag.false);
      case "number":
        return this.number(v);
      case "bigint":
        this.w.u8(Tag.bigint);
        return this.bigintBody(v);
      case "string":
        return this.string(v);
      case "object":
        if (v === null) return this.w.u8(Tag.null);
        return this.object(v);
      case "function":
        throw new Uncloneable(`a function${v.name ? ` (${v.name})` : ""}`);
      default:
        throw new Uncloneable(`a ${typeof v}`);
    }
  }

  number(x: number): void {
    if (Number.isInteger(x) && Math.abs(x) <= 0x7fffffff && !Object.is(x, -0)) {
      this.w.u8(Tag.int);
      this.w.varint(x >= 0 ? x * 2 : -x * 2 - 1);
    } else {
      this.w.u8(Tag.float);
      this.w.f64(Number.isNaN(x) ? NaN : x);
    }
  }

  bigintBody(n: bigint): void {
    this.w.u8(n < 0n ? 1 : 0);
    let hex = (n < 0n ? -n : n).toString(16);
    if (hex === "0") hex = "";
    if (hex.length % 2) hex = "0" + hex;
    const size = hex.length / 2;
    this.w.varint(size);
    for (let i = size - 1; i >= 0; i--) this.w.u8(parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  }

  string(s: string): void {
    if (isWellFormed(s)) {
      this.w.u8(Tag.utf8);
      this.w.utf8Prefixed(s);
    } else {
      this.w.u8(Tag.utf16);
      this.w.varint(s.length);
      this.w.utf16(s);
    }
  }

  /** A property value; an error inside it learns the property's name (for its path). */
  child(name: string | number, v: unknown): void {
    try {
      this.value(v);
    } catch (err) {
      if (err instanceof Uncloneable) err.path.unshift(name);
      throw err;
    }
  }

  object(o: object): void {
    const id = this.ids.get(o);
    if (id !== undefined) {
      this.w.u8(Tag.ref);
      return this.w.varint(id);
    }
    this.ids.set(o, this.ids.size);
    if (Array.isArray(o)) return this.array(o);
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) return this.properties(Tag.object, o, Object.keys(o));
    if (o instanceof KvU64) {
      this.w.u8(Tag.kvU64);
      return this.w.u64(o.value);
    }
    if (o instanceof Date) {
      this.w.u8(Tag.date);
      return this.w.f64(o.getTime());
    }
    if (o instanceof RegExp) {
      this.w.u8(Tag.regexp);
      this.string(o.source);
      return this.string(o.flags);
    }
    if (o instanceof Map) return this.map(o);
    if (o instanceof Set) return this.set(o);
    if (o instanceof ArrayBuffer) return this.arrayBuffer(o);
    if (ArrayBuffer.isView(o)) return this.view(o);
    if (typeof File === "function" && o instanceof File) return this.file(o);
    if (typeof Blob === "function" && o instanceof Blob) return this.blob(o);
    if (typeof DOMException === "function" && o instanceof DOMException) {
      this.w.u8(Tag.domException);
      this.string(o.name);
      return this.string(o.message);
    }
    if (o instanceof Error) return this.error(o);
    if (typeof CryptoKey === "function" && o instanceof CryptoKey) return this.cryptoKey(o);
    if (this.wrapper(o)) return;
    if (isBuiltIn(proto)) throw new Uncloneable(`a ${brand(o)}`);
    this.properties(Tag.object, o, Object.keys(o));
  }

  properties(tag: number, o: object, keys: readonly string[]): void {
    this.w.u8(tag);
    this.w.varint(keys.length);
    for (const key of keys) {
      this.string(key);
      this.child(key, (o as Record<string, unknown>)[key]);
    }
  }

  array(a: unknown[]): void {
    const keys = Object.keys(a);
    let dense = keys.length >= a.length;
    for (let i = 0; dense && i < a.length; i++) dense = Object.hasOwn(a, i);
    if (!dense) {
      this.w.u8(Tag.sparseArray);
      this.w.varint(a.length);
      this.w.varint(keys.length);
      for (const key of keys) {
        this.string(key);
        this.child(key, (a as unknown as Record<string, unknown>)[key]);
      }
      return;
    }
    this.w.u8(Tag.array);
    this.w.varint(a.length);
    for (let i = 0; i < a.length; i++) this.child(i, a[i]);
    const extra = keys.slice(a.length);
    this.w.varint(extra.length);
    for (const key of extra) {
      this.string(key);
      this.child(key, (a as unknown as Record<string, unknown>)[key]);
    }
  }

  map(m: Map<unknown, unknown>): void {
    this.w.u8(Tag.map);
    this.w.varint(m.size);
    let i = 0;
    for (const [k, v] of m) {
      this.child(`<key ${i}>`, k);
      this.child(`<value ${i++}>`, v);
    }
  }

  set(s: Set<unknown>): void {
    this.w.u8(Tag.set);
    this.w.varint(s.size);
    let i = 0;
    for (const v of s) this.child(`<item ${i++}>`, v);
  }

  arrayBuffer(b: ArrayBuffer): void {
    const ab = b as ArrayBuffer & { detached?: boolean; resizable?: boolean; maxByteLength?: number };
    if (ab.detached) throw new Uncloneable("a detached ArrayBuffer");
    if (ab.resizable) {
      this.w.u8(Tag.resizableArrayBuffer);
      this.w.varint(ab.byteLength);
      this.w.varint(ab.maxByteLength!);
    } else {
      this.w.u8(Tag.arrayBuffer);
      this.w.varint(ab.byteLength);
    }
    this.w.bytes(new Uint8Array(ab));
  }

  view(v: ArrayBufferView): void {
    const kind = VIEW_KINDS.indexOf(brand(v) as typeof VIEW_KINDS[number]);
    if (kind < 0) throw new Uncloneable(`a ${brand(v)}`);
    if (!(v.buffer instanceof ArrayBuffer)) throw new Uncloneable("a view of a SharedArrayBuffer");
    this.w.u8(Tag.view);
    this.w.u8(kind);
    this.child("buffer", v.buffer);
    this.w.varint(v.byteOffset);
    this.w.varint(v instanceof DataView ? v.byteLength : (v as Uint8Array).length);
  }

  blob(b: Blob): void {
    this.w.u8(Tag.blob);
    this.string(b.type);
    this.w.varint(b.size);
    this.later.push({ at: this.w.length, bytes: b.arrayBuffer().then((a) => new Uint8Array(a)) });
  }

  file(f: File): void {
    this.w.u8(Tag.file);
    this.string(f.name);
    this.string(f.type);
    this.w.f64(f.lastModified);
    this.w.varint(f.size);
    this.later.push({ at: this.w.length, bytes: f.arrayBuffer().then((a) => new Uint8Array(a)) });
  }

  cryptoKey(key: CryptoKey): void {
    if (!key.extractable) {
      throw new Uncloneable("a non-extractable CryptoKey (siltdb/kv stores keys as exportKey gives them)");
    }
    this.w.u8(Tag.cryptoKey);
    const { type, extractable, usages, algorithm } = key;
    const body = crypto.subtle.exportKey("jwk", key).then((jwk) => {
      const inner = new CloneWriter();
      inner.value([type, extractable, [...usages], algorithm, jwk]);
      const w = new ByteWriter(inner.w.length + 8);
      w.varint(inner.w.length);
      w.bytes(inner.w.finish());
      return w.finish();
    });
    this.later.push({ at: this.w.length, bytes: body });
  }

  error(e: Error): void {
    const kind = Math.max(0, ERROR_KINDS.indexOf(e.name as typeof ERROR_KINDS[number]));
    const hasMessage = Object.hasOwn(e, "message");
    const stack = (e as { stack?: unknown }).stack;
    const hasCause = Object.hasOwn(e, "cause");
    this.w.u8(Tag.error);
    this.w.u8(kind);
    this.w.u8(
      (hasMessage ? ErrorField.message : 0) | (typeof stack === "string" ? ErrorField.stack : 0) |
        (hasCause ? ErrorField.cause : 0),
    );
    if (hasMessage) this.string(String(e.message));
    if (typeof stack === "string") this.string(stack);
    if (hasCause) this.child("cause", e.cause);
  }

  /** Boolean, Number, String and BigInt objects; false for anything else. */
  wrapper(o: object): boolean {
    if (o instanceof Boolean) {
      this.w.u8(Tag.booleanObject);
      this.w.u8(o.valueOf() ? 1 : 0);
    } else if (o instanceof Number) {
      this.w.u8(Tag.numberObject);
      this.w.f64(o.valueOf());
    } else if (o instanceof String) {
      this.w.u8(Tag.stringObject);
      this.string(o.valueOf());
    } else if (brand(o) === "BigInt" && typeof o.valueOf() === "bigint") {
      this.w.u8(Tag.bigintObject);
      this.bigintBody(o.valueOf() as bigint);
    } else return false;
    return true;
  }
}

const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;

/** True for the prototype of a built-in class (Promise, WeakMap...): one with no clone form here. */
function isBuiltIn(proto: object): boolean {
  const ctor = (proto as { constructor?: unknown }).constructor;
  if (typeof ctor !== "function" || ctor.name === "Object") return false;
  return NATIVE.test(Function.prototype.toString.call(ctor));
}
