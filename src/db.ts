// The database facade: open, close, the public calls, stats and events. It
// wires the parts together and holds no machinery of its own:
//
//   write/commit.ts       sequences, the write-ahead log, the active memtable
//   write/admission.ts    when writes wait, are slowed, or yield
//   background/           the scheduler: flushes, compactions, obsolete files,
//                         the background error
//   recovery.ts           what open() finds on disk
//   iter/db_iterator.ts   scans; point reads are here (#getAt)
//
// A write resolves once its log record is in the operating system (with
// sync: true, once it is durable); it is visible to reads from then on. A
// background failure (a flush, a compaction, the log, the manifest) stops
// writes with IO_ERROR while reads go on; "error" listeners hear of it, and
// resume() retries once storage is healthy. A trap of the WebAssembly core
// closes the database (INTERNAL) and leaves the process's others working.

import { bytes, core, maxEncodedLength, scratch, view, writeData } from "./_wasm.ts";
import { checkedSize, describe, type Encoding, type EncodingName } from "./encoding.ts";
import { invalidArgument, isTrap, SiltError } from "./errors.ts";
import { DB_EVENTS, type DbEvent, type DbEventMap } from "./events.ts";
import { formatMetrics } from "./metrics.ts";
import { compareUserKeys, KIND_DELETE, KIND_PUT, userKeyOf } from "./format/internal_key.ts";
import { userKeyRange } from "./compaction/task.ts";
import { BATCH_HEADER_SIZE, RECORD_HEADER_SIZE, RECORD_OVERHEAD } from "./format/log_format.ts";
import {
  ASYNC_DISPOSE,
  RANGE_OPTIONS,
  type RangeOptions,
  type ReadView,
  resolveLimit,
  Scan,
  ScanCursor,
  ScanIterator,
  ScanIteratorSync,
  type ScanOptions,
  type ScanSource,
  ScanSync,
  type Shape,
} from "./iter/db_iterator.ts";
import { boundBytes, resolveRange } from "./iter/range.ts";
import { indexEntries } from "./table/block_walk.ts";
import type { MemtableHandle } from "./memtable.ts";
import {
  checkCallOptions,
  type OpenOptions,
  type ResolvedOptions,
  resolveOptions,
  resolveSync,
  type WriteOptions,
} from "./options.ts";
import { hasDatabase, recover, type Recovered } from "./recovery.ts";
import { Snapshot, type SnapshotReader } from "./snapshot.ts";
import { joinPath, type StorageLock } from "./storage/storage.ts";
import { guardStorage } from "./storage/guarded_storage.ts";
import { TableCache } from "./table/table_cache.ts";
import { PointReader } from "./read/get.ts";
import { LOCK_FILE, logFileName } from "./version/file_names.ts";
import type { FileMeta } from "./version/version_edit.ts";
import type { VersionSet } from "./version/version_set.ts";
import { InlineExecutor } from "./compaction/inline_executor.ts";
import { WorkerExecutor } from "./compaction/worker_executor.ts";
import { Scheduler } from "./background/scheduler.ts";
import { Admission, type QueuedWrite } from "./write/admission.ts";
import { CommitPipeline } from "./write/commit.ts";
import { type BatchOperation, type BatchTarget, DeleteEntries, WriteBatch } from "./write/write_batch.ts";

export type { CompactionEvent, DbEvent, DbEventMap, FlushEvent, StallEvent, StallReason } from "./events.ts";

/** Immutable memtables queued for flushing before a full memtable makes writes wait. */
const MAX_IMMUTABLE = 2;

/**
 * clear() deletes a range in one atomic batch up to this many bytes of
 * encoded deletes (key bytes + 5 per key: about 400,000 keys of 16 bytes),
 * and in consecutive batches of this size beyond.
 *
 * @example
 * ```ts
 * import { CLEAR_BATCH_BYTES, open } from "siltdb";
 * const db = await open("./data");
 * const keyBytes = (await db.keys({ prefix: "tmp:" }).toArray()).reduce((n, k) => n + k.length + 5, 0);
 * console.log(keyBytes <= CLEAR_BATCH_BYTES ? "one atomic batch" : "several batches");
 * await db.clear({ prefix: "tmp:" });
 * await db.close();
 * ```
 */
export const CLEAR_BATCH_BYTES = 8 << 20;

/**
 * Options of {@linkcode Db.clear}: the range (every key without one), and
 * as abstract-level `reverse` and `limit` (with `limit`, the first `limit`
 * keys of the range in that direction), and the write option `sync`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.clear({ prefix: "session:", sync: true });
 * await db.clear({ gte: "log:", lt: "log;", reverse: true, limit: 100 }); // the last 100 log keys
 * await db.close();
 * ```
 */
export interface ClearOptions<K = Uint8Array> extends RangeOptions<K>, WriteOptions {
  /** With `limit`: delete the last keys of the range instead of the first. Default false. */
  reverse?: boolean;
  /** Delete at most this many keys (a non-negative integer, Infinity, or -1: no limit). Default: no limit. */
  limit?: number;
}

const CLEAR_OPTIONS: readonly string[] = [...RANGE_OPTIONS, "reverse", "limit", "sync"];

/** Figures from {@linkcode Db.stats}. */
export interface DbStats {
  /** Sequence number of the last write visible to reads. */
  sequence: number;
  /** The active memtable. */
  memtable: {
    /** Entries, every version and tombstone counted. */
    entries: number;
    /** Bytes of entries (towers, keys, values). */
    bytes: number;
    /** Bytes of linear memory reserved. */
    memoryUsage: number;
  };
  /** Memtables waiting to be flushed. */
  immutable: { count: number; bytes: number };
  /** Table files per level (L0 first). */
  levels: {
    level: number;
    files: number;
    bytes: number;
    entries: number;
    /** Smallest user key in the level's tables (a copy); undefined for an empty level. */
    smallestKey: Uint8Array | undefined;
    /** Largest user key in the level's tables (a copy); undefined for an empty level. */
    largestKey: Uint8Array | undefined;
  }[];
  /** Flushes done since open. */
  flushes: number;
  /** The data block cache. */
  blockCache: { hits: number; misses: number; hitRate: number; bytes: number; capacity: number };
  /** Point reads the bloom filters answered without reading a block, of those that consulted one. */
  bloom: { useful: number; checked: number };
  /** The write-ahead log. */
  wal: {
    /** Current log file name. */
    file: string;
    /** Bytes logged since open. */
    bytesWritten: number;
    /** fdatasync calls since open (sync writes share them). */
    syncs: number;
  };
  /** Time writes waited for room (flush or compaction), and were slowed down (ms). */
  stallMs: number;
  /** Writes delayed because L0 reached l0SlowdownTrigger. */
  slowdowns: number;
  /** The background error that stops writes until resume(), if any. */
  backgroundError: string | undefined;
  /** Compactions. */
  compaction: {
    policy: "leveled" | "tiered";
    mode: "inline" | "worker";
    count: number;
    trivialMoves: number;
    ms: number;
    entriesDropped: number;
    /** Bytes read from and written to each level by flushes and compactions. */
    io: { level: number; read: number; written: number }[];
  };
  /** Bytes written to storage (log + flushes + compactions) per byte written by the user. */
  writeAmplification: number;
  /** Table bytes per byte of the last level (about the live data once compacted). */
  spaceAmplification: number;
  /** Sorted runs a read may consult: L0 files plus non-empty deeper levels. */
  sortedRuns: number;
  /**
   * Read amplification as LevelDB counts it: the sorted runs a point read
   * may consult (every L0 file, plus one table per non-empty deeper level).
   * With siltdb's levels this is the same figure as `sortedRuns`, under the
   * name dashboards expect.
   */
  readAmplification: number;
  /** Live snapshots. */
  snapshots: number;
  /** Open scans. */
  scans: number;
  /** Bytes of linear memory of the core module (shared by all databases in this thread). */
  coreMemory: number;
}

/** Value type produced by an encoding name. */
export type Decoded<E> = E extends "utf8" ? string : E extends "json" ? unknown : Uint8Array;

/**
 * Options of {@linkcode open} for JSON values of a type given explicitly
 * (`open<User>(path, { valueEncoding: "json" })`): `valueEncoding` must be
 * "json", and a `keyEncoding` other than "binary" must be named as the
 * second type argument (`open<User, "utf8">(path, { keyEncoding: "utf8",
 * valueEncoding: "json" })`).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * interface User { name: string }
 * const db = await open<User, "utf8">("./data", { keyEncoding: "utf8", valueEncoding: "json" });
 * const user = await db.get("user:1"); // User | undefined
 * await db.close();
 * ```
 */
export type TypedJsonOptions<KE extends EncodingName = "binary"> =
  & Omit<OpenOptions, "keyEncoding" | "valueEncoding">
  & { valueEncoding: "json" }
  & ([KE] extends ["binary"] ? { keyEncoding?: "binary" } : { keyEncoding: KE });

/**
 * Opens (creating if needed) the database in directory `path`, with JSON
 * values of the type given: `open<User>(path, { valueEncoding: "json" })`
 * (see {@linkcode TypedJsonOptions}); a key encoding other than "binary" is
 * the second type argument. With `await using`, the database is closed at
 * the end of the block.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * await using users = await open<{ name: string }>("./users", { valueEncoding: "json" });
 * const user = await users.get("user:1"); // { name: string } | undefined
 * await using byName = await open<{ name: string }, "utf8">("./names", { keyEncoding: "utf8", valueEncoding: "json" });
 * for (const [key, user] of byName.scanSync()) console.log(key.toUpperCase(), user.name);
 * ```
 */
export function open<V, KE extends EncodingName = "binary">(
  path: string,
  options: TypedJsonOptions<KE>,
): Promise<Db<Decoded<KE>, V>>;
/**
 * Opens (creating if needed) the database in directory `path`. Key and value
 * types follow the encodings chosen (`string` for "utf8", `Uint8Array` for
 * "binary", `unknown` for "json", unless given: see the overload above).
 * With `await using`, the database is closed at the end of the block.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { valueEncoding: "utf8" });
 * await db.put("user:1", "alice");
 * console.log(await db.get("user:1")); // "alice"
 * await db.close();
 * ```
 */
export function open<O extends OpenOptions = Record<never, never>>(
  path: string,
  options?: O,
): Promise<Db<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>>;
export async function open(path: string, options?: OpenOptions): Promise<Db<unknown, unknown>> {
  if (typeof path !== "string" || path === "") {
    throw invalidArgument(`path must be a non-empty string, got ${typeof path === "string" ? '""' : describe(path)}`);
  }
  const o = resolveOptions(options);
  const fs = o.fs;
  if (!fs.exists(path)) {
    if (!o.createIfMissing || o.readOnly) {
      throw new SiltError("NOT_FOUND", `${path} does not exist (createIfMissing is false or readOnly is set)`, {
        file: path,
      });
    }
    fs.mkdir(path);
  }
  const lock = await fs.lock(joinPath(path, LOCK_FILE), { readOnly: o.readOnly });
  o.fs = guardStorage(fs, lock);
  try {
    const names = o.fs.list(path);
    const exists = hasDatabase(names);
    if (exists && o.errorIfExists) {
      throw new SiltError("EXISTS", `${path} already holds a database (errorIfExists is set)`, { file: path });
    }
    if (!exists && (!o.createIfMissing || o.readOnly)) {
      throw new SiltError("NOT_FOUND", `${path} holds no database (createIfMissing is false or readOnly is set)`, {
        file: path,
      });
    }
    const state = await recover(path, names, o);
    return new Db(path, o, lock, state);
  } catch (err) {
    lock.release();
    if (isTrap(err)) {
      throw new SiltError(
        "INTERNAL",
        `siltdb's WebAssembly core failed while opening ${path}: ${(err as Error).message}`,
        {},
        err,
      );
    }
    throw err;
  }
}

/**
 * An open database. Keys and values are `K`/`V` as chosen by the
 * `keyEncoding`/`valueEncoding` options (Uint8Array by default).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("a", "1");
 * await db.batch().put("b", "2").delete("a").write({ sync: true });
 * for await (const [k, v] of db.scan()) console.log(k, v); // b 2
 * await db.close();
 * ```
 */
export class Db<K = Uint8Array, V = Uint8Array> {
  /** The directory. */
  readonly path: string;
  #o: ResolvedOptions;
  #keys: Encoding<unknown>;
  #values: Encoding<unknown>;
  #lock: StorageLock;
  #versions: VersionSet;
  /** The write path; undefined when read-only. */
  #writes: CommitPipeline | undefined;
  /** Read-only: the memtable replayed from the logs, and the last sequence. */
  #frozen: { mem: MemtableHandle; sequence: number } | undefined;
  #scheduler: Scheduler;
  #admission: Admission;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  #fatal: SiltError | undefined;
  #scans = new Set<() => void>();
  #snapshots = new Set<Snapshot<K, V>>();
  #tables: TableCache;
  #point: PointReader;
  #listeners: { [E in DbEvent]: Set<(payload: DbEventMap[E]) => void> } = {
    error: new Set(),
    warning: new Set(),
    flush: new Set(),
    compaction: new Set(),
    stall: new Set(),
  };
  #batchTarget: BatchTarget;
  #scanSource: ScanSource;
  #reader: SnapshotReader<K, V>;

  /** @internal Use {@linkcode open}. */
  constructor(path: string, o: ResolvedOptions, lock: StorageLock, state: Recovered) {
    this.path = path;
    this.#o = o;
    this.#keys = o.keyEncoding;
    this.#values = o.valueEncoding;
    this.#lock = lock;
    this.#versions = state.versions;
    this.#tables = new TableCache(o.fs, path, o.maxOpenFiles);
    this.#point = new PointReader(o.blockCacheSize, this.#tables);
    this.#tables.register(this.#point.rs);
    // A worker reaches only the real file system, through the runtime's default storage.
    const workerCan = o.compactionMode === "worker" && (o.fs.kind === "node" || o.fs.kind === "deno");
    const inline = new InlineExecutor(o.fs, path);
    const lockFile = joinPath(path, LOCK_FILE);
    this.#scheduler = new Scheduler({
      dir: path,
      options: o,
      versions: this.#versions,
      tables: this.#tables,
      blocks: this.#point.blocks,
      executor: workerCan
        ? new WorkerExecutor(
          path,
          inline,
          (err) => this.#emit("warning", err),
          () => lock.token ? { path: lockFile, token: lock.token } : undefined,
        )
        : inline,
      oldestSnapshot: () => this.#oldestSnapshot(),
      lastSequence: () => this.#writes?.lastSequence ?? 0,
      activeLog: () => this.#writes!.mem.firstLog,
      changed: () => this.#drainQueue(),
      onError: (err) => this.#emit("error", err),
      onTrap: (err) => this.#onTrap(err, "background work"),
      onFlush: (event) => this.#emit("flush", event),
      onCompaction: (event) => this.#emit("compaction", event),
    });
    this.#admission = new Admission(o, {
      l0Files: () => this.#versions.current.levels[0].length,
      memtableBlocked: () => this.#writes!.memtableFull && this.#scheduler.immutables.length >= MAX_IMMUTABLE,
      backgroundBusy: () => this.#scheduler.busy || (this.#writes?.wal.busy ?? false),
      onStalled: (durationMs, reason) => {
        if (this.#listeners.stall.size > 0) this.#emit("stall", { durationMs, reason });
      },
    });
    if (o.readOnly) {
      this.#frozen = {
        mem: { mt: state.memtable, firstLog: state.memtableLog, refs: 0, retired: false },
        sequence: state.lastSequence,
      };
    } else {
      this.#writes = new CommitPipeline({
        fs: o.fs,
        dir: path,
        versions: this.#versions,
        scheduler: this.#scheduler,
        memtableSize: o.memtableSize,
        bufferWrites: o.bufferWrites,
        maxImmutable: MAX_IMMUTABLE,
        onTrap: (err) => this.#onTrap(err, "a write"),
      }, { ...state, log: state.log! });
    }
    this.#versions.onVersionReleased = () => {
      if (this.#state === "open") this.#scheduler.removeObsoleteFiles();
    };
    this.#batchTarget = {
      keyEncoding: o.keyEncoding,
      valueEncoding: o.valueEncoding,
      maxKeySize: o.maxKeySize,
      maxValueSize: o.maxValueSize,
      commitEntries: (entries, count, options) => this.#commitEntries(entries, count, options),
    };
    this.#scanSource = {
      keyEncoding: o.keyEncoding,
      valueEncoding: o.valueEncoding,
      maxKeySize: o.maxKeySize,
      tables: this.#tables,
      blocks: this.#point.blocks,
      checkOpen: () => this.#checkOpen(),
      onTrap: (err) => this.#onTrap(err, "a scan"),
      acquireView: () => this.#acquireView(),
      track: (release) => {
        this.#scans.add(release);
        return () => this.#scans.delete(release);
      },
    };
    this.#reader = {
      getAt: (key, sequence) => this.#getAt(key, sequence),
      getManyAt: (keys, sequence) => this.#getManyAt(keys, sequence),
      hasAt: (key, sequence) => this.#hasAt(key, sequence),
      countAt: (range, sequence) => this.#countAt(range, sequence),
      cursorAt: <T>(options: unknown, sequence: number, shape: Shape, call: string) =>
        this.#cursorAt<T>(options, sequence, shape, call),
      releaseSnapshot: (snapshot) => this.#snapshots.delete(snapshot),
    };
    // Recovered tables may need compacting.
    if (!o.readOnly) this.#scheduler.maybeSchedule();
  }

  /**
   * "open", "closing" (close() is under way) or "closed".
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data");
   * console.log(db.status); // "open"
   * await db.close();
   * console.log(db.status); // "closed"
   * ```
   */
  get status(): "open" | "closing" | "closed" {
    return this.#state;
  }

  // ---- events ---------------------------------------------------------------

  /**
   * Calls `listener` on each event of this kind (see {@linkcode DbEventMap}
   * for the events and their payloads). A listener that throws is ignored.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data");
   * db.on("error", (err) => console.error(`writes stopped: ${err.message}`));
   * db.on("flush", (e) => console.log(`flushed ${e.entries} entries, ${e.bytes} bytes`));
   * db.on("compaction", (e) => console.log(`L${e.fromLevel} -> L${e.toLevel} in ${e.durationMs} ms`));
   * db.on("stall", (e) => console.warn(`writes waited ${e.durationMs} ms (${e.reason})`));
   * ```
   */
  on<E extends DbEvent>(event: E, listener: (payload: DbEventMap[E]) => void): this {
    this.#eventListeners(event).add(listener);
    return this;
  }

  /**
   * Stops calling `listener`.
   *
   * @example
   * ```ts
   * import { open, type SiltError } from "siltdb";
   * const db = await open("./data");
   * const onError = (err: SiltError) => console.error(err.code, err.message);
   * db.on("error", onError);
   * db.off("error", onError); // no longer called
   * await db.close();
   * ```
   */
  off<E extends DbEvent>(event: E, listener: (payload: DbEventMap[E]) => void): this {
    this.#eventListeners(event).delete(listener);
    return this;
  }

  #eventListeners<E extends DbEvent>(event: E): Set<(payload: DbEventMap[E]) => void> {
    if (!(DB_EVENTS as readonly unknown[]).includes(event)) {
      throw invalidArgument(
        `unknown event ${typeof event === "string" ? JSON.stringify(event) : describe(event)} (known: ${
          DB_EVENTS.join(", ")
        })`,
      );
    }
    return this.#listeners[event] as Set<(payload: DbEventMap[E]) => void>;
  }

  #emit<E extends DbEvent>(event: E, payload: DbEventMap[E]): void {
    const listeners = this.#listeners[event] as Set<(payload: DbEventMap[E]) => void>;
    if (listeners.size === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(payload);
      } catch {
        // a failing listener must not break the database
      }
    }
  }

  // ---- writes ---------------------------------------------------------------

  /**
   * Sets key to value. Resolves once the write is in the operating system
   * (it survives a crash of the process); with `sync: true`, once it is
   * durable (it survives a crash of the machine).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");               // survives a crash of the process
   * await db.put("user:2", "bob", { sync: true }); // durable: survives a crash of the machine
   * console.log(await db.get("user:2"));           // "bob"
   * await db.close();
   * ```
   */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#checkWritable();
      const sync = resolveSync(options, this.#o.sync, "put");
      return this.#commitOne(KIND_PUT, this.#keys.encode(key, "key"), this.#values.encode(value, "value"), sync);
    } catch (err) {
      return Promise.reject(this.#trapped(err, "a put"));
    }
  }

  /**
   * Removes key (no error if it is absent). With `sync: true`, resolves once durable.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * await db.delete("user:1");
   * await db.delete("user:404");         // absent: no error
   * console.log(await db.get("user:1")); // undefined
   * await db.close();
   * ```
   */
  delete(key: K | string | Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#checkWritable();
      const sync = resolveSync(options, this.#o.sync, "delete");
      return this.#commitOne(KIND_DELETE, this.#keys.encode(key, "key"), "", sync);
    } catch (err) {
      return Promise.reject(this.#trapped(err, "a delete"));
    }
  }

  /**
   * Without arguments: a new atomic batch of puts and deletes; commit it
   * with `.write()`. With an array of operations in the form of
   * abstract-level (`{ type: "put", key, value }`, `{ type: "del", key }`):
   * writes them atomically and resolves as a write does.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").delete("c").write({ sync: true });
   * await db.batch([{ type: "put", key: "c", value: "3" }, { type: "del", key: "a" }]);
   * console.log(await db.getMany(["a", "b", "c"])); // [undefined, "2", "3"]
   * await db.close();
   * ```
   */
  batch(): WriteBatch<K, V>;
  /**
   * Writes operations in the form of abstract-level (`{ type: "put", key,
   * value }`, `{ type: "del", key }`) atomically; resolves as a write does.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("a", "1");
   * await db.batch([{ type: "put", key: "b", value: "2" }, { type: "del", key: "a" }], { sync: true });
   * console.log(await db.keys().toArray()); // ["b"]
   * await db.close();
   * ```
   */
  batch(operations: readonly BatchOperation<K, V>[], options?: WriteOptions): Promise<void>;
  batch(operations?: readonly BatchOperation<K, V>[], options?: WriteOptions): WriteBatch<K, V> | Promise<void> {
    if (operations === undefined) {
      if (options !== undefined) throw invalidArgument("batch() takes options only with an array of operations");
      this.#checkOpen();
      return new WriteBatch<K, V>(this.#batchTarget);
    }
    try {
      this.#checkWritable();
      return new WriteBatch<K, V>(this.#batchTarget).add(operations).write(options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Deletes every key in a range (`gt`, `gte`, `lt`, `lte`, `prefix`, as
   * scan(); every key without one; `reverse` and `limit` as abstract-level)
   * as of the call. Keys written after the call starts are not deleted.
   *
   * Atomicity: the deletes are batches of up to {@linkcode CLEAR_BATCH_BYTES}
   * (8 MiB of keys, about 400,000 keys of 16 bytes), each one atomic (one log
   * record): a range that fits is deleted in one batch, seen by every reader
   * all at once, and by a snapshot taken before the call not at all. A larger
   * range is deleted batch by batch in key order: a reader during the call
   * may see the first part deleted and not the rest, a crash may leave a
   * first part deleted, and a key of the range written again while it runs
   * may be deleted by a later batch; a snapshot taken before the call still
   * sees all of it. siltdb has no range tombstones: each key costs a delete
   * in the log and the memtable until compaction drops it. Resolves once
   * every batch is written (with `sync: true`, durable).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("session:1", "x").put("session:2", "y").put("user:1", "alice").write();
   * await db.clear({ prefix: "session:" });   // every key starting with "session:"
   * console.log(await db.keys().toArray());   // ["user:1"]
   * await db.clear();                         // every key
   * await db.close();
   * ```
   */
  async clear(options?: ClearOptions<K>): Promise<void> {
    this.#checkWritable();
    const o = checkCallOptions(options, "clear", CLEAR_OPTIONS) ?? {};
    const writeOptions: WriteOptions = { sync: resolveSync({ sync: o.sync }, this.#o.sync, "clear") };
    resolveLimit(o.limit, "clear");
    const { sync: _, ...scanOptions } = o;
    await this.#deleteKeys(this.#cursor<Uint8Array>(scanOptions, "stored-keys", "clear"), writeOptions);
  }

  /**
   * Deletes every key from start (inclusive) to end (exclusive), as
   * RocksDB's DeleteRange: `clear({ gte: start, lt: end })`, with its
   * atomicity. Nothing is deleted when start is not before end.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("log:2024-01-15", "a").put("log:2024-02-01", "b").write();
   * await db.deleteRange("log:2024-01", "log:2024-02"); // January's log keys
   * console.log(await db.keys({ prefix: "log:" }).toArray()); // ["log:2024-02-01"]
   * await db.close();
   * ```
   */
  async deleteRange(
    start: K | string | Uint8Array,
    end: K | string | Uint8Array,
    options?: WriteOptions,
  ): Promise<void> {
    this.#checkWritable();
    const writeOptions: WriteOptions = { sync: resolveSync(options, this.#o.sync, "deleteRange") };
    this.#encodeKey(start, "deleteRange start");
    this.#encodeKey(end, "deleteRange end");
    await this.#deleteKeys(
      this.#cursor<Uint8Array>({ gte: start, lt: end }, "stored-keys", "deleteRange"),
      writeOptions,
    );
  }

  /** Deletes the keys a cursor yields, in batches of up to CLEAR_BATCH_BYTES, each awaited. */
  async #deleteKeys(cursor: ScanCursor<Uint8Array>, options: WriteOptions): Promise<void> {
    try {
      const batch = new DeleteEntries();
      for (;;) {
        const key = cursor.read();
        if (key !== undefined) batch.add(key);
        if (key === undefined || batch.byteLength >= CLEAR_BATCH_BYTES) {
          if (batch.count > 0 || (key === undefined && options.sync)) {
            await this.#commitEntries(batch.entries(), batch.count, options);
          }
          if (key === undefined) return;
          batch.reset();
        }
      }
    } finally {
      cursor.close();
    }
  }

  /** Encodes one put or delete as a log record in the pending group, and commits it (or queues it). */
  #commitOne(kind: number, key: string | Uint8Array, value: string | Uint8Array, sync: boolean): Promise<void> {
    const writes = this.#writes!;
    const keyRoom = checkedSize(key, this.#o.maxKeySize, "key", "maxKeySize");
    const valueRoom = kind === KIND_PUT ? checkedSize(value, this.#o.maxValueSize, "value", "maxValueSize") : 0;
    const record = writes.reserve(RECORD_OVERHEAD + BATCH_HEADER_SIZE + 9 + keyRoom + valueRoom);
    const payload = record + RECORD_HEADER_SIZE;
    const keyAt = payload + BATCH_HEADER_SIZE + 5;
    const keyLen = writeData(keyAt, key);
    let end = keyAt + keyLen;
    if (kind === KIND_PUT) {
      const valueLen = writeData(end + 4, value);
      view().setUint32(end, valueLen, true);
      end += 4 + valueLen;
    }
    const dv = view();
    dv.setUint8(payload + BATCH_HEADER_SIZE, kind);
    dv.setUint32(payload + BATCH_HEADER_SIZE + 1, keyLen, true);
    dv.setUint32(payload + 8, 1, true);
    return this.#commitRecord(record, end - payload, 1, sync);
  }

  #commitEntries(entries: Uint8Array, count: number, options: WriteOptions | undefined): Promise<void> {
    try {
      this.#checkWritable();
      const sync = resolveSync(options, this.#o.sync, "write");
      const writes = this.#writes!;
      if (count === 0) return sync ? writes.drain().then(() => writes.wal.sync()) : Promise.resolve();
      const payloadLen = BATCH_HEADER_SIZE + entries.length;
      const record = writes.reserve(RECORD_OVERHEAD + payloadLen);
      bytes().set(entries, record + RECORD_HEADER_SIZE + BATCH_HEADER_SIZE);
      view().setUint32(record + RECORD_HEADER_SIZE + 8, count, true);
      return this.#commitRecord(record, payloadLen, count, sync);
    } catch (err) {
      return Promise.reject(this.#trapped(err, "a batch"));
    }
  }

  /**
   * Commits the record encoded at `record` (from reserve(), its batch
   * payload in place), or, while writes must wait, queues a copy of the payload.
   */
  #commitRecord(record: number, payloadLen: number, count: number, sync: boolean): Promise<void> {
    const payload = record + RECORD_HEADER_SIZE;
    if (this.#admission.mustWait()) {
      return this.#admission.enqueue(bytes().slice(payload, payload + payloadLen), count, sync);
    }
    return this.#admission.pace(this.#writes!.commit(record, payloadLen, count, sync), count);
  }

  /** Commits a queued write, now that there is room. */
  #commitQueued(w: QueuedWrite): Promise<void> {
    try {
      this.#checkWritable();
      const writes = this.#writes!;
      const record = writes.reserve(RECORD_OVERHEAD + w.payload.length);
      bytes().set(w.payload, record + RECORD_HEADER_SIZE);
      return writes.commit(record, w.payload.length, w.count, w.sync);
    } catch (err) {
      throw this.#trapped(err, "a write");
    }
  }

  /** Lets queued writes in while there is room, or fails them after a background error. */
  #drainQueue(): void {
    if (this.#state !== "open" || this.#writes === undefined) return;
    if (this.#scheduler.error === undefined) {
      try {
        this.#writes.maybeFreeze(); // a flush may have made room
      } catch {
        // reported as the background error
      }
    }
    this.#admission.drain(
      (w) => this.#commitQueued(w),
      this.#scheduler.error ? this.#writeRefusal(this.#scheduler.error) : undefined,
    );
  }

  // ---- reads ----------------------------------------------------------------

  /**
   * The value of key, or undefined. Synchronous: the fast path for hot reads.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(db.getSync("user:1")); // "alice"
   * console.log(db.getSync("user:2")); // undefined
   * await db.close();
   * ```
   */
  getSync(key: K | string | Uint8Array, options?: Record<string, never>): V | undefined {
    if (options !== undefined) checkCallOptions(options, "get", []);
    return this.#getAt(key, this.#visibleSequence());
  }

  /**
   * The value of key, or undefined.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(await db.get("user:1")); // "alice"
   * console.log(await db.get("user:2")); // undefined
   * await db.close();
   * ```
   */
  get(key: K | string | Uint8Array, options?: Record<string, never>): Promise<V | undefined> {
    try {
      if (options !== undefined) checkCallOptions(options, "get", []);
      return Promise.resolve(this.#getAt(key, this.#visibleSequence()));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #getAt(key: unknown, sequence: number, what = "key"): V | undefined {
    this.#checkOpen();
    const k = this.#keys.encode(key, what);
    checkedSize(k, this.#o.maxKeySize, what, "maxKeySize");
    try {
      this.#refreshReadState();
      const ptr = scratch(maxEncodedLength(k));
      return this.#point.get(ptr, writeData(ptr, k), sequence, this.#decodeValue);
    } catch (err) {
      throw this.#trapped(err, "a read");
    }
  }

  #decodeValue = (ptr: number, len: number): V => this.#values.decode(ptr, len) as V;

  /**
   * The values of keys (undefined where absent), in order, read at one
   * moment: no write lands between two of them. Synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const [alice, bob] = db.getManySync(["user:1", "user:2"]);
   * console.log(alice, bob); // alice undefined
   * await db.close();
   * ```
   */
  getManySync(keys: readonly (K | string | Uint8Array)[], options?: Record<string, never>): (V | undefined)[] {
    if (options !== undefined) checkCallOptions(options, "getMany", []);
    return this.#getManyAt(keys, this.#visibleSequence());
  }

  /**
   * The values of keys (undefined where absent), in order, read at one
   * moment: no write lands between two of them.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const [alice, bob] = await db.getMany(["user:1", "user:2"]);
   * console.log(alice, bob); // alice undefined
   * await db.close();
   * ```
   */
  getMany(keys: readonly (K | string | Uint8Array)[], options?: Record<string, never>): Promise<(V | undefined)[]> {
    try {
      return Promise.resolve(this.getManySync(keys, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #getManyAt(keys: unknown, sequence: number): (V | undefined)[] {
    this.#checkOpen();
    if (!Array.isArray(keys)) throw invalidArgument(`getMany keys must be an array, got ${describe(keys)}`);
    const values: (V | undefined)[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = this.#getAt(keys[i], sequence, `getMany keys[${i}]`);
    return values;
  }

  /**
   * True if key has a value (the value is not read out). Synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(db.hasSync("user:1"), db.hasSync("user:2")); // true false
   * await db.close();
   * ```
   */
  hasSync(key: K | string | Uint8Array, options?: Record<string, never>): boolean {
    if (options !== undefined) checkCallOptions(options, "has", []);
    return this.#hasAt(key, this.#visibleSequence());
  }

  /**
   * True if key has a value (the value is not read out).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(await db.has("user:1"), await db.has("user:2")); // true false
   * await db.close();
   * ```
   */
  has(key: K | string | Uint8Array, options?: Record<string, never>): Promise<boolean> {
    try {
      return Promise.resolve(this.hasSync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #hasAt(key: unknown, sequence: number): boolean {
    this.#checkOpen();
    const k = this.#keys.encode(key, "key");
    checkedSize(k, this.#o.maxKeySize, "key", "maxKeySize");
    try {
      this.#refreshReadState();
      const ptr = scratch(maxEncodedLength(k));
      return this.#point.lookup(ptr, writeData(ptr, k), sequence) === 1;
    } catch (err) {
      throw this.#trapped(err, "a read");
    }
  }

  /**
   * An ordered scan of [key, value] entries (`for await`). It sees the data
   * as of the call, not later writes. Options: a range (`gt`, `gte`, `lt`,
   * `lte`, `prefix`, combined as their intersection), `reverse`, `limit`
   * (-1: no limit) and an AbortSignal (`signal`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * for await (const [k, v] of db.scan({ gte: "a", lt: "b", limit: 10 })) console.log(k, v); // a:1 x, a:2 y
   * for await (const [k, v] of db.scan({ prefix: "a:", reverse: true })) console.log(k, v); // a:2 y, a:1 x
   * await db.close();
   * ```
   */
  scan(options?: ScanOptions<K>): Scan<K, V> {
    return new Scan(this.#cursor(options, "entries", "scan"));
  }

  /**
   * An ordered scan of [key, value] entries (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * for (const [k, v] of db.scanSync({ reverse: true, limit: 2 })) console.log(k, v); // b:1 z, a:2 y
   * await db.close();
   * ```
   */
  scanSync(options?: ScanOptions<K>): ScanSync<K, V> {
    return new ScanSync(this.#cursor(options, "entries", "scan"));
  }

  /**
   * The keys of a scan (`for await`), with the options of scan(). Values
   * are not read out: cheaper than scan() when only keys are needed.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").put("x", "1").write();
   * for await (const key of db.keys({ prefix: "user:" })) console.log(key); // user:1, user:2
   * await db.close();
   * ```
   */
  keys(options?: ScanOptions<K>): ScanIterator<K> {
    return new ScanIterator(this.#cursor(options, "keys", "keys"));
  }

  /**
   * The keys of a scan (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * console.log(db.keysSync({ gte: "a", lt: "b" }).toArray()); // ["a:1", "a:2"]
   * await db.close();
   * ```
   */
  keysSync(options?: ScanOptions<K>): ScanIteratorSync<K> {
    return new ScanIteratorSync(this.#cursor(options, "keys", "keys"));
  }

  /**
   * The values of a scan (`for await`), with the options of scan(). Keys
   * are not decoded.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").write();
   * for await (const value of db.values({ prefix: "user:", limit: 10 })) console.log(value); // alice, bob
   * await db.close();
   * ```
   */
  values(options?: ScanOptions<K>): ScanIterator<V> {
    return new ScanIterator(this.#cursor(options, "values", "values"));
  }

  /**
   * The values of a scan (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").put("c", "3").write();
   * console.log(db.valuesSync({ reverse: true, limit: 2 }).toArray()); // ["3", "2"]
   * await db.close();
   * ```
   */
  valuesSync(options?: ScanOptions<K>): ScanIteratorSync<V> {
    return new ScanIteratorSync(this.#cursor(options, "values", "values"));
  }

  #cursor<T>(options: unknown, shape: Shape, call: string): ScanCursor<T> {
    return this.#cursorAt(options, this.#visibleSequence(), shape, call);
  }

  #cursorAt<T>(options: unknown, sequence: number, shape: Shape, call: string): ScanCursor<T> {
    try {
      return new ScanCursor<T>(this.#scanSource, sequence, options, shape, call);
    } catch (err) {
      throw this.#trapped(err, `a ${call}`);
    }
  }

  /**
   * The exact number of keys in a range (`gt`, `gte`, `lt`, `lte`,
   * `prefix`; every key without one), as of the call. It walks the range
   * without decoding keys or values.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").put("x", "1").write();
   * console.log(await db.count({ prefix: "user:" })); // 2
   * console.log(await db.count());                    // 3
   * await db.close();
   * ```
   */
  count(range?: RangeOptions<K>): Promise<number> {
    try {
      return Promise.resolve(this.#countAt(range, this.#visibleSequence()));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #countAt(range: unknown, sequence: number): number {
    this.#checkOpen();
    checkCallOptions(range, "count", RANGE_OPTIONS);
    const cursor = this.#cursorAt<never>(range, sequence, "none", "count");
    try {
      return cursor.count();
    } catch (err) {
      cursor.close();
      throw this.#trapped(err, "a count");
    }
  }

  /** The memtables and table files a new reader sees, referenced until released. */
  #acquireView(): ReadView {
    this.#refreshReadState();
    const handles = [this.#activeMemtable(), ...this.#scheduler.immutables];
    for (const h of handles) h.refs++;
    const version = this.#versions.current.ref();
    let released = false;
    return {
      memtables: handles.map((h) => h.mt.ptr),
      readState: this.#point.rs,
      packedVersion: core.rsVersion(this.#point.rs),
      fileCounts: version.levels.map((files) => files.length),
      release: () => {
        if (released) return;
        released = true;
        for (const h of handles) {
          h.refs--;
          if (h.retired && h.refs === 0) h.mt.free();
        }
        version.unref();
      },
    };
  }

  /** Brings the core read state up to date with the memtables and the current version (cheap when unchanged). */
  #refreshReadState(): void {
    this.#point.update(this.#activeMemtable(), this.#scheduler.immutables, this.#versions.current.levels);
  }

  /**
   * A consistent read-only view as of now. Release it when done.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "old");
   * const snap = db.snapshot();
   * await db.put("k", "new");
   * console.log(snap.getSync("k"), db.getSync("k")); // old new
   * snap.release();
   * await db.close();
   * ```
   */
  snapshot(): Snapshot<K, V> {
    this.#checkOpen();
    const snapshot = new Snapshot<K, V>(this.#reader, this.#visibleSequence());
    this.#snapshots.add(snapshot);
    return snapshot;
  }

  #activeMemtable(): MemtableHandle {
    return this.#writes?.mem ?? this.#frozen!.mem;
  }

  #visibleSequence(): number {
    return this.#writes?.visibleSequence ?? this.#frozen!.sequence;
  }

  // ---- maintenance and lifecycle ---------------------------------------------

  /**
   * Writes the memtable to a table file and waits for every pending flush.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * await db.flush();
   * console.log(db.stats().levels[0].files); // 1: the memtable is now a level-0 table
   * await db.close();
   * ```
   */
  async flush(): Promise<void> {
    this.#checkWritable();
    const writes = this.#writes!;
    await writes.drain();
    while (writes.mem.mt.count > 0 && this.#scheduler.immutables.length >= MAX_IMMUTABLE) {
      await this.#scheduler.waitForFlushes();
    }
    this.#checkWritable();
    if (writes.mem.mt.count > 0) {
      try {
        writes.freeze();
      } catch (err) {
        this.#scheduler.fail(err, "starting a new log");
        throw this.#scheduler.error ?? err;
      }
    }
    await this.#scheduler.waitForFlushes();
  }

  /**
   * Flushes the memtable, then merges every table into one level, dropping
   * every version and tombstone no live snapshot can see: deleted data stops
   * taking space. Waits for background compaction first.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * await db.delete("k");
   * await db.compact(); // the value and its tombstone are dropped
   * console.log(db.stats().levels.reduce((n, l) => n + l.entries, 0)); // 0
   * await db.close();
   * ```
   */
  async compact(): Promise<void> {
    await this.flush();
    await this.#scheduler.compactAll();
  }

  /**
   * Like compact(), for the tables holding keys from start to end (inclusive).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").delete("user:1").write();
   * await db.compactRange("user:", "user;"); // the tables holding keys from "user:" to "user;"
   * await db.close();
   * ```
   */
  async compactRange(start: K | string | Uint8Array, end: K | string | Uint8Array): Promise<void> {
    this.#checkWritable();
    const lo = this.#encodeKey(start, "start");
    const hi = this.#encodeKey(end, "end");
    if (compareUserKeys(lo, hi) > 0) throw invalidArgument("compactRange: start is after end");
    await this.flush();
    await this.#scheduler.compactRange(lo, hi);
  }

  /**
   * After a background error (see the "error" event): retries. Writes a new
   * manifest if the last one could not be written, starts a new log, and
   * flushes every memtable, so that nothing depends on a file that failed.
   * Resolves once writes are accepted again; rejects (writes stay stopped)
   * if storage is still failing. No-op without an error.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data");
   * db.on("error", (err) => {
   *   console.error(err.message); // writes fail with IO_ERROR until resume() succeeds
   *   setTimeout(() => db.resume().catch(() => {}), 1000);
   * });
   * ```
   */
  async resume(): Promise<void> {
    this.#checkOpen();
    const writes = this.#writes;
    if (writes === undefined) throw new SiltError("READ_ONLY", `${this.path} was opened read-only`);
    if (this.#scheduler.error === undefined && writes.wal.failure === undefined) return;
    await this.#scheduler.clearError();
    try {
      writes.freeze();
      this.#scheduler.maybeSchedule();
      await this.#scheduler.waitForFlushes();
    } catch (err) {
      this.#scheduler.fail(err, "resume");
      throw this.#scheduler.error ?? err;
    }
    this.#drainQueue();
  }

  /**
   * About how many bytes of table files the keys of a range take on disk
   * (`gt`, `gte`, `lt`, `lte`, `prefix`; the whole store without one), as
   * LevelDB's GetApproximateSizes: a table file entirely inside the range
   * counts whole; one that straddles a bound counts from the data block
   * holding the first key of the range to the one holding the last
   * (offsets from the table's index), so the result is off by up to a data
   * block (blockSize) per table at each bound. Data still in memtables
   * (not yet flushed) is not counted, nor is data the range shares with
   * old versions and tombstones that compaction has not dropped yet.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice".repeat(1000));
   * await db.flush(); // data still in a memtable is not counted
   * const bytes = await db.approximateSize({ prefix: "user:" });
   * console.log(`users take about ${(bytes / 1e3).toFixed(1)} kB`);
   * await db.close();
   * ```
   */
  approximateSize(range?: RangeOptions<K>): Promise<number> {
    try {
      this.#checkOpen();
      const o = checkCallOptions(range, "approximateSize", RANGE_OPTIONS) ?? {};
      const { lower, upper, empty } = resolveRange(o, this.#keys, this.#o.maxKeySize, "approximateSize");
      if (empty) return Promise.resolve(0);
      const lo = lower && boundBytes(lower);
      const hi = upper && boundBytes(upper);
      let total = 0;
      try {
        for (const files of this.#versions.current.levels) {
          for (const f of files) total += this.#approximateBytesIn(f, lo, hi);
        }
      } catch (err) {
        throw this.#trapped(err, "approximateSize");
      }
      return Promise.resolve(total);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** About how many bytes of table f hold keys from lo to hi (either may be missing). */
  #approximateBytesIn(f: FileMeta, lo: Uint8Array | undefined, hi: Uint8Array | undefined): number {
    const smallest = userKeyOf(f.smallest);
    const largest = userKeyOf(f.largest);
    if (lo !== undefined && compareUserKeys(largest, lo) < 0) return 0;
    if (hi !== undefined && compareUserKeys(smallest, hi) > 0) return 0;
    const cutLow = lo !== undefined && compareUserKeys(smallest, lo) < 0;
    const cutHigh = hi !== undefined && compareUserKeys(largest, hi) > 0;
    if (!cutLow && !cutHigh) return f.size;
    const table = this.#tables.get(f.number);
    const blocks = indexEntries(table.index.ptr, table.index.size) ?? [];
    const dataEnd = blocks.reduce((end, b) => b.handle ? Math.max(end, b.handle.offset + b.handle.size) : end, 0);
    // The offset of the data block that holds key (or would), as LevelDB's ApproximateOffsetOf.
    const offsetOf = (key: Uint8Array): number => {
      for (const b of blocks) if (b.handle && compareUserKeys(userKeyOf(b.lastKey), key) >= 0) return b.handle.offset;
      return dataEnd;
    };
    const start = cutLow ? offsetOf(lo!) : 0;
    const end = cutHigh ? offsetOf(hi!) : f.size;
    return Math.max(0, end - start);
  }

  #encodeKey(key: unknown, what: string): Uint8Array {
    const k = this.#keys.encode(key, what);
    checkedSize(k, this.#o.maxKeySize, what, "maxKeySize");
    return typeof k === "string" ? new TextEncoder().encode(k) : k;
  }

  #oldestSnapshot(): number {
    let oldest = this.#visibleSequence();
    for (const s of this.#snapshots) if (s.sequence < oldest) oldest = s.sequence;
    return oldest;
  }

  /**
   * Figures about the database.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * const stats = db.stats();
   * console.log(stats.sequence, stats.memtable.entries, stats.levels[0].files); // 1 1 0
   * await db.close();
   * ```
   */
  stats(): DbStats {
    this.#checkOpen();
    const cache = this.#point.blocks.stats();
    const lookups = cache.hits + cache.misses;
    const mem = this.#activeMemtable().mt;
    const bg = this.#scheduler.stats;
    const levels = this.#versions.current.levels;
    const userBytes = this.#writes?.userBytes ?? 0;
    const sortedRuns = levels[0].length + levels.slice(1).filter((l) => l.length > 0).length;
    return {
      sequence: this.#visibleSequence(),
      memtable: { entries: mem.count, bytes: mem.bytesUsed, memoryUsage: mem.memoryUsage },
      immutable: {
        count: this.#scheduler.immutables.length,
        bytes: this.#scheduler.immutables.reduce((n, h) => n + h.mt.bytesUsed, 0),
      },
      levels: levels.map((files, level) => {
        const range = files.length > 0 ? userKeyRange(files) : undefined;
        return {
          level,
          files: files.length,
          bytes: files.reduce((n, f) => n + f.size, 0),
          entries: files.reduce((n, f) => n + f.entries, 0),
          smallestKey: range?.[0].slice(),
          largestKey: range?.[1].slice(),
        };
      }),
      flushes: bg.flushes,
      blockCache: {
        hits: cache.hits,
        misses: cache.misses,
        hitRate: lookups ? cache.hits / lookups : 0,
        bytes: cache.bytes,
        capacity: cache.capacity,
      },
      bloom: this.#point.bloomStats(),
      wal: {
        file: logFileName(this.#writes?.logNumber ?? 0),
        bytesWritten: this.#writes?.logBytesWritten ?? 0,
        syncs: this.#writes?.logSyncs ?? 0,
      },
      stallMs: this.#admission.stallMs,
      slowdowns: this.#admission.slowdowns,
      backgroundError: this.#scheduler.error?.message,
      compaction: {
        policy: this.#o.compaction,
        mode: this.#scheduler.executor.mode,
        count: bg.count,
        trivialMoves: bg.trivialMoves,
        ms: bg.ms,
        entriesDropped: bg.entriesDropped,
        io: bg.io.map((x) => ({ ...x })),
      },
      writeAmplification: userBytes > 0
        ? ((this.#writes?.logBytesWritten ?? 0) + bg.flushBytes +
          bg.io.reduce((n, x) => n + (x.level > 0 ? x.written : 0), 0)) / userBytes
        : 0,
      spaceAmplification: spaceAmplification(levels),
      sortedRuns,
      readAmplification: sortedRuns,
      snapshots: this.#snapshots.size,
      scans: this.#scans.size,
      coreMemory: core.memory.buffer.byteLength,
    };
  }

  /**
   * The figures of {@linkcode Db.stats} in the Prometheus text exposition
   * format (version 0.0.4), for a `/metrics` endpoint: `siltdb_*` metrics,
   * counters ending in `_total`, per-level gauges with a `level` label, bytes
   * in bytes and durations in seconds (see src/metrics.ts for the names).
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   * import { open } from "siltdb";
   * const db = await open("./data");
   * createServer((_req, res) => {
   *   res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
   *   res.end(db.metrics()); // # HELP siltdb_sequence ...
   * }).listen(9464);
   * ```
   */
  metrics(): string {
    return formatMetrics(this.stats());
  }

  /**
   * Writes what is pending to the log and syncs it, waits for the running
   * flush or compaction, releases memory and the directory lock. Queued
   * writes (waiting for room) fail with `CLOSED`; open scans and snapshots
   * stop working. A second close fails with `CLOSED`.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * await db.close(); // the write is in the log, the directory unlocked
   * await db.close().catch((err) => console.log(err.code)); // CLOSED
   * ```
   */
  close(): Promise<void> {
    if (this.#state !== "open") {
      return Promise.reject(
        this.#fatal ? this.#closedError() : new SiltError("CLOSED", `${this.path} is already ${this.#state}`),
      );
    }
    this.#state = "closing";
    this.#closing = this.#close();
    return this.#closing;
  }

  /**
   * Closes the database at the end of an `await using` block: close(), or
   * nothing when it is already closed (or waits for the close under way).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * {
   *   await using db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   *   await db.put("k", "v");
   * } // closed here
   * ```
   */
  async [ASYNC_DISPOSE](): Promise<void> {
    if (this.#state === "open") return await this.close();
    await this.#closing?.catch(() => {}); // its caller hears of a failure
  }

  async #close(): Promise<void> {
    try {
      this.#admission.rejectAll(new SiltError("CLOSED", `${this.path} closed before the write could be applied`));
      const writes = this.#writes;
      await writes?.drain().catch(() => {});
      await this.#scheduler.close();
      await writes?.close();
      await this.#versions.close();
    } finally {
      this.#release();
      this.#state = "closed";
    }
  }

  /** Frees memory, caches and the lock (at close, or after a trap). */
  #release(): void {
    for (const release of [...this.#scans]) release();
    for (const snapshot of [...this.#snapshots]) snapshot.release();
    if (this.#fatal === undefined) {
      // After a trap the core's state is suspect: leave its memory alone.
      this.#activeMemtable().mt.free();
      for (const h of this.#scheduler.immutables) h.mt.free();
      this.#tables.close();
      this.#point.free();
    }
    this.#lock.release();
  }

  /** The core trapped: close this database (its files untouched from now on) and report it. */
  #onTrap(err: unknown, during: string): SiltError {
    if (this.#fatal !== undefined) return this.#fatal;
    const fatal = new SiltError(
      "INTERNAL",
      `siltdb's WebAssembly core failed during ${during} (${err instanceof Error ? err.message : String(err)}); ` +
        `${this.path} was closed to protect its files. Reopen it to go on; please report this.`,
      {},
      err,
    );
    this.#fatal = fatal;
    if (this.#state === "closed") return fatal;
    this.#state = "closed";
    this.#admission.rejectAll(fatal);
    void this.#scheduler.close().catch(() => {});
    void this.#writes?.wal.close().catch(() => {});
    try {
      this.#release();
    } catch {
      // best effort
    }
    this.#emit("error", fatal);
    return fatal;
  }

  /** err, or the INTERNAL error that replaces a trap (closing the database). */
  #trapped(err: unknown, during: string): unknown {
    return isTrap(err) ? this.#onTrap(err, during) : err;
  }

  #closedError(): SiltError {
    if (this.#fatal) {
      return new SiltError(
        "CLOSED",
        `${this.path} was closed after an internal error: ${this.#fatal.message}`,
        {},
        this.#fatal,
      );
    }
    return new SiltError("CLOSED", `${this.path} is ${this.#state === "open" ? "closed" : this.#state}`);
  }

  #checkOpen(): void {
    if (this.#state !== "open") throw this.#closedError();
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#writes === undefined) throw new SiltError("READ_ONLY", `${this.path} was opened read-only`);
    const failure = this.#scheduler.error ?? this.#writes.wal.failure;
    if (failure) throw this.#writeRefusal(failure);
  }

  #writeRefusal(failure: SiltError): SiltError {
    return new SiltError(
      "IO_ERROR",
      `${this.path} refuses writes after a failure (db.resume() retries): ${failure.message}`,
      {
        file: failure.file,
        offset: failure.offset,
      },
      failure,
    );
  }
}

/** Table bytes per byte of the deepest non-empty level (1 when everything is in one level). */
function spaceAmplification(levels: readonly (readonly FileMeta[])[]): number {
  const bytes = levels.map((files) => files.reduce((n, f) => n + f.size, 0));
  const total = bytes.reduce((a, b) => a + b, 0);
  const last = [...bytes].reverse().find((b) => b > 0) ?? 0;
  return last > 0 ? total / last : 0;
}
