// siltdb/kv's structured-clone format, reading side: bytes written by
// clone_encode.ts (where the layout is drawn) -> the value, with its cycles
// and shared references. Bytes that are not the format throw CORRUPTION.

import { ByteReader } from "./_bytes.ts";
import { CLONE_VERSION, ERROR_KINDS, ErrorField, Tag, VIEW_KINDS } from "./clone_tags.ts";
import { KvU64 } from "./kv_u64.ts";

type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/**
 * The value of bytes in the clone format; a Promise when it holds a
 * CryptoKey (crypto.subtle.importKey is asynchronous).
 *
 * @example
 * ```ts
 * import { encodeClone } from "./clone_encode.ts";
 * const value = { list: [1, , 3], when: new Date(0) };
 * console.log(decodeClone(encodeClone(value) as Uint8Array)); // { list: [1, <1 empty item>, 3], when: 1970-01-01T00:00:00.000Z }
 * ```
 */
export function decodeClone(bytes: Uint8Array): unknown {
  const first = read(bytes, undefined);
  if (first.keys.length === 0) return first.value;
  // CryptoKeys: import them, then read again with them in their places.
  return Promise.all(first.keys.map(importKey)).then((keys) =>
    read(bytes, new Map(first.keys.map((k, i) => [k.id, keys[i]]))).value
  );
}

/** A stored CryptoKey, before its import. */
type StoredKey = { id: number; fields: unknown };

function read(bytes: Uint8Array, keys: Map<number, CryptoKey> | undefined): { value: unknown; keys: StoredKey[] } {
  const r = new ByteReader(bytes, "a stored value");
  const version = r.u8();
  if (version !== CLONE_VERSION) {
    throw r.corrupt(`clone format version ${version} is not one this siltdb reads (${CLONE_VERSION})`);
  }
  const reader = new CloneReader(r, keys);
  const value = reader.value();
  if (!r.done) throw r.corrupt("bytes follow the value");
  return { value, keys: reader.storedKeys };
}

async function importKey({ fields }: StoredKey): Promise<CryptoKey> {
  const [type, extractable, usages, algorithm, jwk] = fields as [string, boolean, KeyUsage[], Algorithm, JsonWebKey];
  const key = await crypto.subtle.importKey("jwk", jwk, algorithm, extractable, usages);
  if (key.type !== type) throw new TypeError(`a stored ${type} CryptoKey imports as a ${key.type} key`);
  return key;
}

class CloneReader {
  readonly r: ByteReader;
  readonly objects: unknown[] = [];
  readonly keys: Map<number, CryptoKey> | undefined;
  readonly storedKeys: StoredKey[] = [];

  constructor(r: ByteReader, keys?: Map<number, CryptoKey>) {
    this.r = r;
    this.keys = keys;
  }

  /** Numbers an object as the writer did: in the order first met. */
  keep<T>(o: T): T {
    this.objects.push(o);
    return o;
  }

  value(): unknown {
    const r = this.r;
    const tag = r.u8();
    switch (tag) {
      case Tag.undefined:
        return undefined;
      case Tag.null:
        return null;
      case Tag.false:
        return false;
      case Tag.true:
        return true;
      case Tag.int: {
        const z = r.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.float:
        return r.f64();
      case Tag.bigint:
        return this.bigintBody();
      case Tag.utf8:
        return r.utf8(r.varint());
      case Tag.utf16:
        return r.utf16(r.varint());
      case Tag.ref: {
        const id = r.varint();
        if (id >= this.objects.length) throw r.corrupt(`reference ${id} to an object not read yet`);
        return this.objects[id];
      }
      case Tag.object:
        return this.properties(this.keep({}), r.varint());
      case Tag.array:
        return this.array();
      case Tag.sparseArray: {
        const a = this.keep(new Array(r.varint()));
        return this.properties(a, r.varint());
      }
      case Tag.date:
        return this.keep(new Date(r.f64()));
      case Tag.regexp:
        return this.regexp();
      case Tag.map:
        return this.map();
      case Tag.set:
        return this.set();
      case Tag.arrayBuffer:
      case Tag.resizableArrayBuffer:
        return this.arrayBuffer(tag);
      case Tag.view:
        return this.view();
      case Tag.error:
        return this.error();
      case Tag.booleanObject:
        return this.keep(Object(r.u8() !== 0));
      case Tag.numberObject:
        return this.keep(Object(r.f64()));
      case Tag.stringObject:
        return this.wrapped(this.string());
      case Tag.bigintObject:
        return this.wrapped(this.bigintBody());
      case Tag.kvU64:
        return this.keep(new KvU64(r.u64()));
      case Tag.blob:
      case Tag.file:
        return this.blob(tag);
      case Tag.cryptoKey:
        return this.cryptoKey();
      case Tag.domException: {
        const name = this.string();
        return this.keep(new (globalOf<typeof DOMException>("DOMException"))(this.string(), name));
      }
      default:
        r.at--;
        throw r.corrupt(`0x${tag.toString(16)} is no value's tag`);
    }
  }

  wrapped(primitive: string | bigint): object {
    return this.keep(Object(primitive));
  }

  /** A string value (a key, a source, a name...). */
  string(): string {
    const v = this.value();
    if (typeof v !== "string") throw this.r.corrupt("a string was expected");
    return v;
  }

  bigintBody(): bigint {
    const r = this.r;
    const negative = r.u8() === 1;
    const size = r.varint();
    let n = 0n;
    const bytes = r.bytes(size);
    for (let i = size - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
    return negative ? -n : n;
  }

  properties<T extends object>(o: T, count: number): T {
    for (let i = 0; i < count; i++) {
      const key = this.string();
      const value = this.value();
      // An own "__proto__" property stays a property (an assignment would set the prototype).
      if (key === "__proto__") {
        Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
      } else (o as Record<string, unknown>)[key] = value;
    }
    return o;
  }

  array(): unknown[] {
    const length = this.r.varint();
    const a = this.keep(new Array(length));
    for (let i = 0; i < length; i++) a[i] = this.value();
    return this.properties(a, this.r.varint());
  }

  regexp(): RegExp {
    const slot = this.objects.push(undefined) - 1;
    const source = this.string();
    const flags = this.string();
    try {
      return (this.objects[slot] = new RegExp(source, flags)) as RegExp;
    } catch {
      throw this.r.corrupt(`/${source}/${flags} is not a regular expression this runtime reads`);
    }
  }

  map(): Map<unknown, unknown> {
    const m = this.keep(new Map());
    const count = this.r.varint();
    for (let i = 0; i < count; i++) {
      const k = this.value();
      m.set(k, this.value());
    }
    return m;
  }

  set(): Set<unknown> {
    const s = this.keep(new Set());
    const count = this.r.varint();
    for (let i = 0; i < count; i++) s.add(this.value());
    return s;
  }

  arrayBuffer(tag: number): ArrayBuffer {
    const length = this.r.varint();
    const max = tag === Tag.resizableArrayBuffer ? this.r.varint() : undefined;
    const buffer = max === undefined
      ? new ArrayBuffer(length)
      : new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(length, {
        maxByteLength: max,
      });
    new Uint8Array(buffer).set(this.r.bytes(length));
    return this.keep(buffer);
  }

  view(): ArrayBufferView {
    const slot = this.objects.push(undefined) - 1;
    const name = VIEW_KINDS[this.r.u8()];
    if (name === undefined) throw this.r.corrupt("unknown view kind");
    const buffer = this.value();
    if (!(buffer instanceof ArrayBuffer)) throw this.r.corrupt("a view's buffer is not an ArrayBuffer");
    const offset = this.r.varint();
    const length = this.r.varint();
    try {
      const view = new (globalOf<ViewConstructor>(name))(buffer, offset, length);
      return (this.objects[slot] = view) as ArrayBufferView;
    } catch (err) {
      if (err instanceof TypeError && /not supported/.test(err.message)) throw err;
      throw this.r.corrupt(`a ${name} at ${offset} of ${length} lies outside its buffer`);
    }
  }

  error(): Error {
    const r = this.r;
    const kind = ERROR_KINDS[r.u8()];
    if (kind === undefined) throw r.corrupt("unknown error kind");
    const fields = r.u8();
    const err = this.keep(new (globalOf<ErrorConstructor>(kind))());
    const define = (name: string, value: unknown) =>
      Object.defineProperty(err, name, { value, writable: true, configurable: true, enumerable: false });
    if (fields & ErrorField.message) define("message", this.string());
    if (fields & ErrorField.stack) define("stack", this.string());
    else delete (err as { stack?: string }).stack;
    if (fields & ErrorField.cause) define("cause", this.value());
    return err;
  }

  cryptoKey(): unknown {
    const id = this.objects.push(undefined) - 1;
    const body = new CloneReader(new ByteReader(this.r.bytes(this.r.varint()), "a stored CryptoKey"));
    const fields = body.value();
    if (!Array.isArray(fields) || fields.length !== 5) throw this.r.corrupt("a stored CryptoKey is malformed");
    const key = this.keys?.get(id);
    if (key === undefined) this.storedKeys.push({ id, fields });
    return (this.objects[id] = key ?? {});
  }

  blob(tag: number): Blob {
    const slot = this.objects.push(undefined) - 1;
    const name = tag === Tag.file ? this.string() : "";
    const type = this.string();
    const lastModified = tag === Tag.file ? this.r.f64() : 0;
    const bytes = this.r.bytes(this.r.varint()).slice();
    const blob = tag === Tag.file
      ? new (globalOf<typeof File>("File"))([bytes], name, { type, lastModified })
      : new (globalOf<typeof Blob>("Blob"))([bytes], { type });
    return (this.objects[slot] = blob) as Blob;
  }
}

/** A global constructor by name; a TypeError if this runtime lacks it. */
function globalOf<T>(name: string): T {
  const ctor = (globalThis as Record<string, unknown>)[name];
  if (typeof ctor !== "function") throw new TypeError(`a stored ${name} cannot be read: ${name} is not supported here`);
  return ctor as T;
}
