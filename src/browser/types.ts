// The types of siltdb/browser: its open options, and the async API that both
// a database opened on the main thread (a BrowserDb, talking to its worker)
// and one opened inside a worker (the engine's own Db) offer.

import type { ClearOptions } from "../write/writer.ts";
import type { DbStats } from "../stats.ts";
import type { RangeOptions } from "../read/range.ts";
import type { ScanOptions } from "../read/scan_options.ts";
import type { ExpiryOptions, OpenOptions, WriteOptions } from "../options.ts";
import type { BatchOperation, BatchResult } from "../write/write_batch.ts";
import type { Entry } from "../read/reader.ts";
import type { Change, ChangesOptions } from "../changes/change_feed.ts";

/**
 * Options of siltdb/browser's `open()`: siltdb's open options except `fs`
 * (the database lives in the Origin Private File System), plus `wait`.
 */
export interface BrowserOpenOptions extends Omit<OpenOptions, "fs"> {
  /** Not an option here: the storage is the Origin Private File System. */
  fs?: never;
  /**
   * When another tab or worker has the database open: wait until it closes
   * it (true), or fail at once with `LOCKED` (false, the default).
   */
  wait?: boolean;
}

/** An ordered scan, read with `for await`; `break` closes it. */
export interface AsyncScan<T> extends AsyncIterableIterator<T> {
  /** Closes the scan early. Idempotent. */
  close(): void;
  /** All remaining items, in order. */
  toArray(): Promise<T[]>;
}

/** An atomic batch of puts and deletes, committed by `write()`. */
export interface AsyncBatch<K, V> {
  /** Operations in the batch. */
  readonly length: number;
  /** Adds a put, expiring with `ttl` (ms) or at `expireAt` when given. */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: ExpiryOptions): this;
  /** Adds a delete. */
  delete(key: K | string | Uint8Array): this;
  /** Adds operations in the form of abstract-level. */
  add(operations: readonly BatchOperation<K, V>[]): this;
  /** Makes the batch conditional: key must still be at version (null: absent). */
  check(key: K | string | Uint8Array, version: number | null): this;
  /** Empties the batch. */
  clear(): this;
  /** Writes every operation atomically: `{ ok: true, sequence }`, or `{ ok: false }` when a check failed. */
  write(options?: WriteOptions): Promise<BatchResult>;
}

/** A consistent read-only view of the database as of its creation. */
export interface AsyncSnapshot<K, V> {
  /** The value of key as of the snapshot. */
  get(key: K | string | Uint8Array): Promise<V | undefined>;
  /** The value of key with its version, as of the snapshot. */
  getEntry(key: K | string | Uint8Array): Promise<Entry<V>>;
  /** The values of keys as of the snapshot. */
  getMany(keys: readonly (K | string | Uint8Array)[]): Promise<(V | undefined)[]>;
  /** Whether key exists as of the snapshot. */
  has(key: K | string | Uint8Array): Promise<boolean>;
  /** Entries in a range as of the snapshot. */
  count(range?: RangeOptions<K>): Promise<number>;
  /** An ordered scan of [key, value] entries as of the snapshot. */
  scan(options?: ScanOptions<K>): AsyncScan<[K, V]>;
  /** The keys of a scan as of the snapshot. */
  keys(options?: ScanOptions<K>): AsyncScan<K>;
  /** The values of a scan as of the snapshot. */
  values(options?: ScanOptions<K>): AsyncScan<V>;
  /** Gives the snapshot up. */
  release(): void;
}

/**
 * The async API of a database from siltdb/browser's `open()`: a
 * {@linkcode BrowserDb} on the main thread, siltdb's own `Db` in a worker
 * (which also has getSync, scanSync and the rest of the synchronous API).
 */
export interface AsyncDb<K = Uint8Array, V = Uint8Array> {
  /** "open", "closing" or "closed". */
  readonly status: "open" | "closing" | "closed";
  /** Sets key to value. */
  put(
    key: K | string | Uint8Array,
    value: V | string | Uint8Array,
    options?: WriteOptions & ExpiryOptions,
  ): Promise<void>;
  /** The value of key, or undefined. */
  get(key: K | string | Uint8Array): Promise<V | undefined>;
  /** The value of key with its version (the sequence of the write that produced it); both undefined when absent. */
  getEntry(key: K | string | Uint8Array): Promise<Entry<V>>;
  /** The committed writes from `since` on, then live as they commit. */
  changes(options?: ChangesOptions): AsyncIterableIterator<Change<K, V>>;
  /** The values of keys (undefined where absent). */
  getMany(keys: readonly (K | string | Uint8Array)[]): Promise<(V | undefined)[]>;
  /** Whether key exists. */
  has(key: K | string | Uint8Array): Promise<boolean>;
  /** Removes key. */
  delete(key: K | string | Uint8Array, options?: WriteOptions): Promise<void>;
  /** A new atomic batch; commit it with `.write()`. */
  batch(): AsyncBatch<K, V>;
  /** Writes operations in the form of abstract-level atomically. */
  batch(operations: readonly BatchOperation<K, V>[], options?: WriteOptions): Promise<void>;
  /** Deletes every key in a range (every key without one). */
  clear(options?: ClearOptions<K>): Promise<void>;
  /** Deletes every key from start (inclusive) to end (exclusive). */
  deleteRange(start: K | string | Uint8Array, end: K | string | Uint8Array, options?: WriteOptions): Promise<void>;
  /** Entries in a range. */
  count(range?: RangeOptions<K>): Promise<number>;
  /** An ordered scan of [key, value] entries. */
  scan(options?: ScanOptions<K>): AsyncScan<[K, V]>;
  /** The keys of a scan. */
  keys(options?: ScanOptions<K>): AsyncScan<K>;
  /** The values of a scan. */
  values(options?: ScanOptions<K>): AsyncScan<V>;
  /** A consistent view as of now. */
  snapshot(): AsyncSnapshot<K, V>;
  /** Writes the memtable to a table file. */
  flush(): Promise<void>;
  /** Compacts every level. */
  compact(): Promise<void>;
  /** Resolves once no flush or compaction is pending or running. */
  waitForCompactions(): Promise<void>;
  /** Compacts the tables overlapping [start, end]. */
  compactRange(start: K | string | Uint8Array, end: K | string | Uint8Array): Promise<void>;
  /** Clears a background error and lets writes go on. */
  resume(): Promise<void>;
  /** Levels, files, amplification, cache figures (a promise on the main thread). */
  stats(): DbStats | Promise<DbStats>;
  /** Metrics in the Prometheus text format (a promise on the main thread). */
  metrics(): string | Promise<string>;
  /** Closes the database (and, on the main thread, its worker). */
  close(): Promise<void>;
}
