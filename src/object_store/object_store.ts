// The ObjectStore interface: what siltdb needs of an S3-compatible bucket
// (or of the in-memory store the simulation drives). Keys are relative to
// the store's prefix. Objects are immutable once written, except through a
// conditional put; writes that must not overwrite use a create-only put
// (`ifNoneMatch: "*"`), which the manifest protocol is built on (one winner
// among racing creators; DESIGN §8).
//
// A put whose answer was lost (a timeout, a 5xx after the request went out)
// has an unknown outcome. Implementations resolve it, never guess: every
// conditional put carries a unique id in the object's metadata
// (PUT_ID_METADATA); after an ambiguous failure the store reads the object
// back — our id: it landed; another: someone else won; no object: it is
// sent again.

/**
 * A byte range of an object: `length` bytes from `offset`, or the last
 * `suffix` bytes.
 *
 * @example
 * ```ts
 * const footer: ByteRange = { suffix: 64 };
 * const block: ByteRange = { offset: 4096, length: 4021 };
 * ```
 */
export type ByteRange = { offset: number; length: number } | { suffix: number };

/**
 * An object read back: its bytes (of the range asked for), its whole size,
 * its entity tag and its user metadata (lower-case names, without the
 * `x-amz-meta-` prefix).
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * const got: StoredObject | undefined = await store.get("manifest/00000000000000000007");
 * ```
 */
export interface StoredObject {
  /** The bytes read (the whole object, or the range asked for). */
  data: Uint8Array;
  /** The size of the whole object. */
  size: number;
  /** The object's entity tag (what ifMatch compares). */
  etag: string;
  /** The user metadata stored with the object (lower-case names). */
  metadata: Record<string, string>;
}

/**
 * What a listing or a HEAD tells of an object.
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * const head: ObjectInfo | undefined = await store.head("wal/00000000000000000012");
 * ```
 */
export interface ObjectInfo {
  /** The key, relative to the store's prefix. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** The object's entity tag. */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/**
 * Conditions and metadata of a put.
 *
 * @example
 * ```ts
 * const createOnly: PutOptions = { ifNoneMatch: "*", metadata: { writer: "7" } };
 * ```
 */
export interface PutOptions {
  /** Create only: the put fails (`written: false`) if the key exists. */
  ifNoneMatch?: "*";
  /** Compare and swap: the put fails (`written: false`) unless the object's ETag is this one. */
  ifMatch?: string;
  /** User metadata (ASCII names and values). */
  metadata?: Record<string, string>;
}

/**
 * The outcome of a put: written (with the new ETag), or refused by its condition.
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * const out: PutOutcome = await store.put("manifest/00000000000000000008", bytes, { ifNoneMatch: "*" });
 * if (!out.written) console.log("someone else committed 8 first");
 * declare const bytes: Uint8Array;
 * ```
 */
export type PutOutcome = { written: true; etag: string } | { written: false };

/**
 * One page of a listing, in key order, and where the next one starts.
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * let page: ListPage = await store.list("wal/");
 * while (page.next !== undefined) page = await store.list("wal/", { after: page.next });
 * ```
 */
export interface ListPage {
  /** The objects of this page, in key order. */
  objects: ObjectInfo[];
  /** Pass as `after` to get the next page; undefined on the last one. */
  next?: string;
}

/**
 * Paging of a listing.
 *
 * @example
 * ```ts
 * const options: ListOptions = { after: "wal/00000000000000000100", limit: 1000 };
 * ```
 */
export interface ListOptions {
  /** Only keys after this one. */
  after?: string;
  /** At most this many per page (the store may return fewer). */
  limit?: number;
}

/**
 * A bucket (and prefix) of an S3-compatible object store, or its in-memory
 * stand-in.
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * await store.put("sst/00000000000000000009.sst", new Uint8Array([1, 2, 3]));
 * const tail = await store.get("sst/00000000000000000009.sst", { suffix: 2 }); // data [2, 3], size 3
 * console.log(tail?.data, tail?.size);
 * ```
 */
export interface ObjectStore {
  /** Where the objects live, for messages: "s3://bucket/prefix" or "memory://name". */
  readonly location: string;
  /** The object (or the range of it), or undefined when there is none. */
  get(key: string, range?: ByteRange): Promise<StoredObject | undefined>;
  /** What the object is (no bytes), or undefined when there is none. */
  head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined>;
  /** Writes the object whole; with a condition, resolves `written: false` when it does not hold. */
  put(key: string, data: Uint8Array, options?: PutOptions): Promise<PutOutcome>;
  /** The objects whose keys start with prefix, a page at a time, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Removes the object (no error when there is none). */
  delete(key: string): Promise<void>;
}

/** The metadata name under which a conditional put records its unique id. */
export const PUT_ID_METADATA = "siltdb-put-id";

/**
 * Every object whose key starts with prefix (and, given `from`, comes after
 * it), in key order, page after page.
 *
 * @example
 * ```ts
 * declare const store: ObjectStore;
 * for await (const o of listAll(store, "manifest/")) console.log(o.key, o.size);
 * for await (const o of listAll(store, "wal/", "wal/00000000000000000041")) console.log(o.key); // from 42 on
 * ```
 */
export async function* listAll(store: ObjectStore, prefix: string, from?: string): AsyncGenerator<ObjectInfo> {
  let after: string | undefined = from;
  for (;;) {
    const page = await store.list(prefix, { after });
    yield* page.objects;
    if (page.next === undefined) return;
    after = page.next;
  }
}

/**
 * A unique id for one put (random, 128 bits, hex).
 *
 * @example
 * ```ts
 * const id = newPutId(); // "3f9c…" (32 hex digits)
 * ```
 */
export function newPutId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * True for an ObjectStore (a value with get, put and list methods), as
 * opposed to S3 settings.
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "./memory_object_store.ts";
 * isObjectStore(new MemoryObjectStore()); // true
 * isObjectStore({ region: "us-east-1" }); // false
 * ```
 */
export function isObjectStore(value: unknown): value is ObjectStore {
  const s = value as Partial<ObjectStore> | undefined;
  return typeof s?.put === "function" && typeof s.get === "function" && typeof s.list === "function";
}
