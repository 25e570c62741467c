// The optional local disk cache of a store in a bucket (options cacheDir,
// cacheSize): an ObjectStore in front of the bucket's that keeps the answers
// to ranged GETs of tables (keys under sst/: immutable, and never reused
// while the store lives) in files under cacheDir, so that a table's tail
// (footer, index, filter, properties: one suffix GET) and its data blocks
// (one GET each) are fetched once, also across restarts. Everything else
// (WAL objects, manifests, listings, puts) goes straight to the bucket.
//
// One file per GET answer ("piece"), in one directory per store
// (<cacheDir>/<hash of the store's location>/), its format and name in
// cache_piece.ts. Per block rather than per object: a table is rarely read
// whole, a piece is written once with a temp name and a rename and never
// changed (no read-modify-write of a shared file, so two processes cannot
// tear each other's writes), and eviction can drop single cold blocks.
//
// Safety: a piece is read back whole and checked (length, magic, checksum,
// identity) before a byte of it is used; a damaged, truncated or vanished
// file is a miss (fetched again, the file rewritten), never an error. A piece
// is written to "<name>.<time>-<random>.tmp" and renamed: a crash leaves a
// temp file (removed by the next listing of the directory once a minute
// old: a younger one may be another process's write in flight), never a
// half piece under a piece's name. No fsync: a piece torn by a power loss fails its
// checksum. Two processes may share a directory: their temp names differ,
// a rename replaces a piece whole, and a piece the other one evicted is a
// miss.
//
// The bound: the cache counts the bytes of the pieces it knows (listed when
// it opens, then each one read or written) and evicts the least recently
// used ones past maxBytes. After a restart the pieces found start in no
// remembered order (tails last, so they go after blocks). Each cache lists
// the directory again every maxBytes/8 bytes it writes, learning the pieces
// others wrote and dropping those they removed; so processes sharing a
// directory exceed the bound by at most what they wrote between two listings.

import { SiltError } from "../errors.ts";
import { deno } from "../_runtime.ts";
import { removeQuietly } from "../storage/atomic_file.ts";
import { defaultStorage } from "../storage/default_storage.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { tableChecksum } from "../wasm/checksum.ts";
import { TABLE_DIR } from "./bucket_layout.ts";
import {
  decodePiece,
  encodePiece,
  isWholeAnswer,
  parsePieceName,
  pieceBytesAtMost,
  pieceName,
  tempAge,
  tempName,
} from "./cache_piece.ts";
import type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutOutcome,
  StoredObject,
} from "./object_store.ts";

/** A temp file older than this is a crash's leftover (a write takes milliseconds). */
const STALE_TEMP_MS = 60_000;

/** The default bound of a disk cache: 1 GiB. */
export const DEFAULT_CACHE_SIZE = 1 << 30;

/**
 * Options of a {@linkcode DiskCache}.
 *
 * @example
 * ```ts
 * const options: DiskCacheOptions = { dir: "/var/cache/siltdb", maxBytes: 4 * 2 ** 30 };
 * ```
 */
export interface DiskCacheOptions {
  /** The directory of the cache (created if missing; may be shared by processes and stores). */
  dir: string;
  /** The bound, in bytes of piece files. Default 1 GiB. */
  maxBytes?: number;
  /** Where the directory is. Default: the runtime's file system (`defaultStorage()`). */
  fs?: Storage;
  /** Which objects are cached. Default: tables (keys under sst/), which never change. */
  cacheable?: (key: string) => boolean;
}

/**
 * What a disk cache did (since it was made) and holds.
 *
 * @example
 * ```ts
 * declare const cache: DiskCache;
 * const { hits, misses } = cache.stats();
 * console.log(`disk cache hit rate ${hits / Math.max(1, hits + misses)}`);
 * ```
 */
export interface DiskCacheStats {
  /** GETs answered from a piece on disk (no request). */
  hits: number;
  /** GETs of cacheable objects that went to the bucket (or waited for one that did). */
  misses: number;
  /** Bytes of data answered from disk. */
  bytesRead: number;
  /** Bytes of piece files written. */
  bytesWritten: number;
  /** Pieces removed to stay within the bound. */
  evictions: number;
  /** Pieces found damaged (checksum, length, identity) and fetched again. */
  damaged: number;
  /** Pieces that could not be written (the GET was answered all the same). */
  writeFailures: number;
  /** Bytes of the pieces this cache knows of (files on disk). */
  bytes: number;
  /** Pieces this cache knows of. */
  pieces: number;
  /** The bound, in bytes. */
  capacity: number;
}

/** A piece this cache knows of: its object and its bytes on disk (an upper bound until read). */
interface Entry {
  key: string;
  bytes: number;
}

/** A GET that missed, in flight: later GETs of the same piece wait for it. */
interface Fill {
  key: string;
  answer: Promise<StoredObject | undefined>;
  /** Set when the object is deleted or replaced meanwhile: the piece is not kept. */
  cancelled: boolean;
}

/** True where a real file system can be reached (Node, Deno, Bun; not a browser). */
function hasFileSystem(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return deno !== undefined || typeof process?.versions?.node === "string";
}

/**
 * An ObjectStore that keeps the answers to ranged GETs of tables in files of
 * a local directory, bounded in bytes, verified when read back, surviving
 * restarts; everything else goes to `store`.
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "./memory_object_store.ts";
 * const bucket = new MemoryObjectStore();
 * const store = new DiskCache(bucket, { dir: "/tmp/siltdb-cache", maxBytes: 64 << 20 });
 * await store.put("sst/00000000000000000009.sst", new Uint8Array(100));
 * await store.get("sst/00000000000000000009.sst", { offset: 0, length: 10 }); // a GET, then a piece on disk
 * await store.get("sst/00000000000000000009.sst", { offset: 0, length: 10 }); // from disk
 * console.log(store.stats().hits, bucket.counters.gets); // 1 1
 * ```
 */
export class DiskCache implements ObjectStore {
  /** The bucket's location (the cache is invisible in messages). */
  readonly location: string;
  /** The store in front of which this cache stands. */
  readonly store: ObjectStore;
  /** The directory of this store's pieces (under the cache directory). */
  readonly dir: string;
  readonly #fs: Storage;
  readonly #max: number;
  readonly #cacheable: (key: string) => boolean;
  /** The pieces known, least recently used first. */
  #entries = new Map<string, Entry>();
  /** The pieces known of each object. */
  readonly #byKey = new Map<string, Set<string>>();
  readonly #fills = new Map<string, Fill>();
  #bytes = 0;
  #writtenSinceListing = 0;
  readonly #counts = { hits: 0, misses: 0, bytesRead: 0, bytesWritten: 0, evictions: 0, damaged: 0, writeFailures: 0 };

  /**
   * A cache of `store` in `options.dir` (created if missing). UNSUPPORTED
   * where there is no file system for it (a browser); IO_ERROR if the
   * directory cannot be made or listed.
   */
  constructor(store: ObjectStore, options: DiskCacheOptions) {
    const fs = options.fs ?? defaultStorage();
    if (fs.kind === "opfs" || ((fs.kind === "node" || fs.kind === "deno") && !hasFileSystem())) {
      throw new SiltError(
        "UNSUPPORTED",
        `a disk cache (cacheDir) needs a file system (Node, Deno or Bun); ${fs.kind} storage here has none for it`,
      );
    }
    this.store = store;
    this.location = store.location;
    this.#fs = fs;
    this.#max = Math.max(0, Math.floor(options.maxBytes ?? DEFAULT_CACHE_SIZE));
    this.#cacheable = options.cacheable ?? ((key) => key.startsWith(TABLE_DIR));
    const tag = tableChecksum(new TextEncoder().encode(store.location)).toString(16).padStart(8, "0");
    this.dir = joinPath(options.dir, tag);
    fs.mkdir(this.dir);
    this.#list();
    this.#evict();
  }

  /** What this cache did and holds. */
  stats(): DiskCacheStats {
    return { ...this.#counts, bytes: this.#bytes, pieces: this.#entries.size, capacity: this.#max };
  }

  /** A ranged GET of a table: from its piece on disk, or from the bucket (then kept). Others: the bucket's. */
  async get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    const name = range !== undefined && this.#cacheable(key) ? pieceName(key, range) : undefined;
    if (name === undefined || range === undefined) return this.store.get(key, range);
    const hit = this.#read(name, key, range);
    if (hit !== undefined) return hit;
    this.#counts.misses++;
    const inFlight = this.#fills.get(name);
    if (inFlight !== undefined) {
      const got = await inFlight.answer;
      return got && { ...got, data: got.data.slice(), metadata: { ...got.metadata } };
    }
    const fill: Fill = { key, answer: Promise.resolve(undefined), cancelled: false };
    fill.answer = this.#fill(name, key, range, fill);
    this.#fills.set(name, fill);
    try {
      return await fill.answer;
    } finally {
      this.#fills.delete(name);
    }
  }

  /** The bucket's HEAD. */
  head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined> {
    return this.store.head(key);
  }

  /** The bucket's put; a cached object written again loses its pieces. */
  async put(key: string, data: Uint8Array, options?: PutOptions): Promise<PutOutcome> {
    const out = await this.store.put(key, data, options);
    if (out.written) this.#drop(key);
    return out;
  }

  /** The bucket's listing. */
  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.store.list(prefix, options);
  }

  /** The bucket's delete; the object's pieces go too. */
  async delete(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } finally {
      this.#drop(key);
    }
  }

  /** The piece's answer, if its file is there and intact; a damaged one is removed. */
  #read(name: string, key: string, range: ByteRange): StoredObject | undefined {
    const path = joinPath(this.dir, name);
    let file: Uint8Array;
    try {
      file = this.#fs.readFile(path);
    } catch {
      this.#forget(name); // gone (evicted by another process, removed by hand): a miss
      return undefined;
    }
    const got = decodePiece(file, this.location, key, range);
    if (got === undefined) {
      this.#counts.damaged++;
      removeQuietly(this.#fs, path);
      this.#forget(name);
      return undefined;
    }
    this.#counts.hits++;
    this.#counts.bytesRead += got.data.length;
    this.#remember(name, key, file.length); // the most recently used now
    this.#evict();
    return got;
  }

  /** Fetches a piece from the bucket and keeps it (a failure to keep it is counted, not thrown). */
  async #fill(name: string, key: string, range: ByteRange, fill: Fill): Promise<StoredObject | undefined> {
    const got = await this.store.get(key, range);
    if (got === undefined || !isWholeAnswer(range, got)) return got;
    const bytes = encodePiece(this.location, key, range, got);
    if (bytes === undefined || bytes.length > this.#max) return got;
    const tmp = joinPath(this.dir, tempName(name, Date.now()));
    try {
      const file = this.#fs.open(tmp, { create: true, exclusive: true });
      try {
        await file.append(bytes);
      } finally {
        file.close();
      }
      if (fill.cancelled) {
        removeQuietly(this.#fs, tmp);
        return got;
      }
      this.#fs.rename(tmp, joinPath(this.dir, name));
    } catch {
      this.#counts.writeFailures++;
      removeQuietly(this.#fs, tmp);
      return got;
    }
    this.#counts.bytesWritten += bytes.length;
    this.#writtenSinceListing += bytes.length;
    this.#remember(name, key, bytes.length);
    if (this.#writtenSinceListing >= Math.max(1, this.#max / 8)) {
      try {
        this.#list();
      } catch {
        // listed again after the next writes
      }
    }
    this.#evict();
    return got;
  }

  /** Counts a piece (again) as the most recently used. */
  #remember(name: string, key: string, bytes: number): void {
    this.#forget(name);
    this.#entries.set(name, { key, bytes });
    this.#bytes += bytes;
    let names = this.#byKey.get(key);
    if (names === undefined) this.#byKey.set(key, names = new Set());
    names.add(name);
  }

  /** Stops counting a piece (its file is gone, or is being removed). */
  #forget(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    this.#entries.delete(name);
    this.#bytes -= entry.bytes;
    const names = this.#byKey.get(entry.key);
    names?.delete(name);
    if (names?.size === 0) this.#byKey.delete(entry.key);
  }

  /** Removes the pieces of an object (deleted or replaced), and keeps fills in flight from adding one. */
  #drop(key: string): void {
    for (const fill of this.#fills.values()) if (fill.key === key) fill.cancelled = true;
    for (const name of [...this.#byKey.get(key) ?? []]) {
      removeQuietly(this.#fs, joinPath(this.dir, name));
      this.#forget(name);
    }
  }

  /** Removes the least recently used pieces until the bound holds. */
  #evict(): void {
    for (const [name] of this.#entries) {
      if (this.#bytes <= this.#max) return;
      removeQuietly(this.#fs, joinPath(this.dir, name));
      this.#forget(name);
      this.#counts.evictions++;
    }
  }

  /**
   * Lists the directory: pieces not known yet are counted (as the least
   * recently used, tails after blocks), known ones that are gone are
   * dropped, and temp files over a minute old (a crash's) are removed.
   */
  #list(): void {
    this.#writtenSinceListing = 0;
    const now = Date.now();
    const blocks: [string, Entry][] = [];
    const tails: [string, Entry][] = [];
    const there = new Set<string>();
    for (const name of this.#fs.list(this.dir)) {
      const age = tempAge(name, now);
      if (age !== undefined) {
        if (age > STALE_TEMP_MS) removeQuietly(this.#fs, joinPath(this.dir, name));
      } else if (this.#entries.has(name)) {
        there.add(name);
      } else {
        const parsed = parsePieceName(name);
        const bytes = parsed === undefined ? 0 : this.#sizeOf(name, parsed.range);
        if (parsed !== undefined && bytes > 0) {
          ("suffix" in parsed.range ? tails : blocks).push([name, { key: parsed.key, bytes }]);
        }
      }
    }
    // Least recently used first: the pieces not known (blocks, then tails), then the known ones in their order.
    const known = [...this.#entries].filter(([name]) => there.has(name));
    this.#entries = new Map();
    this.#byKey.clear();
    this.#bytes = 0;
    for (const [name, entry] of [...blocks, ...tails, ...known]) this.#remember(name, entry.key, entry.bytes);
  }

  /** The bytes a piece found on disk takes: a tail's file is measured, a block's bound is known. */
  #sizeOf(name: string, range: ByteRange): number {
    if (!("suffix" in range)) return pieceBytesAtMost(range);
    try {
      const file = this.#fs.open(joinPath(this.dir, name));
      try {
        return file.size();
      } finally {
        file.close();
      }
    } catch {
      return 0; // gone meanwhile
    }
  }
}

/**
 * The bucket's store, behind a disk cache when `cacheDir` is set.
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "./memory_object_store.ts";
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * const store = withDiskCache(new MemoryObjectStore(), { cacheDir: "/cache", cacheSize: 1 << 30, fs: new MemoryStorage() });
 * console.log(store instanceof DiskCache); // true
 * ```
 */
export function withDiskCache(
  store: ObjectStore,
  options: { cacheDir?: string; cacheSize: number; fs: Storage },
): ObjectStore {
  if (options.cacheDir === undefined) return store;
  return new DiskCache(store, { dir: options.cacheDir, maxBytes: options.cacheSize, fs: options.fs });
}
