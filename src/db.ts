// The database: orchestration of the write path (WAL + memtable), the read
// path (memtables, then tables), memtable freezing and background flushes,
// snapshots and lifecycle.
//
// Writes are applied in call order: put/delete/batch.write encode the write
// into the scratch region, the core stamps the next sequence, seals the WAL
// record and inserts it into the active memtable in one call, and the sealed
// bytes are queued on the log writer. A write is visible to reads at once;
// with sync its promise resolves once the log is durable.
//
// When the active memtable reaches memtableSize it becomes immutable, a new
// memtable and a new log start, and a background flush writes the oldest
// immutable memtable to an L0 table, records it in the manifest, and deletes
// the logs it no longer needs. Writes wait only when MAX_IMMUTABLE memtables
// are already queued for flushing and the active one is full.

import { bytes, core, maxEncodedLength, scratch, view, writeData } from "./_wasm.ts";
import type { Encoding } from "./encoding.ts";
import { invalidArgument, SiltError } from "./errors.ts";
import { compareUserKeys, KIND_DELETE, KIND_PUT, MAX_SEQUENCE, userKeyOf } from "./format/internal_key.ts";
import { BATCH_HEADER_SIZE, RECORD_HEADER_SIZE } from "./format/log_format.ts";
import { type ReadView, Scan, ScanCursor, type ScanOptions, type ScanSource, ScanSync } from "./iter/db_iterator.ts";
import { Lookup, Memtable, valueAt, valueLength } from "./memtable.ts";
import { type OpenOptions, type ResolvedOptions, resolveOptions, resolveSync, type WriteOptions } from "./options.ts";
import { hasDatabase, recover } from "./recovery.ts";
import { Snapshot, type SnapshotReader } from "./snapshot.ts";
import { joinPath, type StorageLock } from "./storage/storage.ts";
import { guardStorage } from "./storage/guarded_storage.ts";
import { BlockCache } from "./table/block_cache.ts";
import { TableCache } from "./table/table_cache.ts";
import type { ReadCounters } from "./table/table_reader.ts";
import { writeMemtableTable } from "./table/table_builder.ts";
import { LOCK_FILE, logFileName, parseFileName } from "./version/file_names.ts";
import type { FileMeta } from "./version/version_edit.ts";
import type { VersionSet } from "./version/version_set.ts";
import { LogWriter } from "./wal/log_writer.ts";
import { InlineExecutor } from "./compaction/inline_executor.ts";
import { WorkerExecutor } from "./compaction/worker_executor.ts";
import { type CompactionExecutor, CompactionScheduler } from "./compaction/scheduler.ts";
import { type BatchTarget, WriteBatch } from "./write_batch.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const ENTRY_OFFSET = RECORD_HEADER_SIZE + BATCH_HEADER_SIZE;
/** Immutable memtables queued for flushing before writes wait. */
const MAX_IMMUTABLE = 2;
/** Open table files kept by the table cache. */
const MAX_OPEN_TABLES = 500;
/**
 * While background I/O is in flight, every this many writes one resolves
 * after a turn of the event loop. A loop of awaited writes otherwise runs on
 * microtasks alone, and the I/O callbacks of the flush and the log writer
 * would wait until the loop ends or stalls.
 */
const YIELD_EVERY = 128;

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0));

/** Figures from {@linkcode Db.stats}. */
export interface DbStats {
  /** Sequence number of the last write. */
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
  levels: { level: number; files: number; bytes: number; entries: number }[];
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
  /** Live snapshots. */
  snapshots: number;
  /** Open scans. */
  scans: number;
  /** Bytes of linear memory of the core module (shared by all databases in this thread). */
  coreMemory: number;
}

/** Value type produced by an encoding name. */
export type Decoded<E> = E extends "utf8" ? string : E extends "json" ? unknown : Uint8Array;

/** A memtable and what keeps it alive. */
interface MemtableHandle {
  mt: Memtable;
  /** Smallest log file holding its data. */
  firstLog: number;
  /** Readers (scans) using it. */
  refs: number;
  /** Flushed: free it when the last reader goes. */
  retired: boolean;
}

/** A write waiting for a flush to make room. */
interface QueuedWrite {
  /** When it was queued (performance.now()), for the stall time. */
  since: number;
  record: Uint8Array;
  count: number;
  sync: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Opens (creating if needed) the database in directory `path`.
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
export async function open<O extends OpenOptions = Record<never, never>>(
  path: string,
  options?: O,
): Promise<Db<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>> {
  if (typeof path !== "string" || path === "") {
    throw invalidArgument(`path must be a non-empty string, got ${typeof path === "string" ? '""' : typeof path}`);
  }
  const o = resolveOptions(options);
  const fs = o.fs;
  if (!fs.exists(path)) {
    if (!o.createIfMissing || o.readOnly) {
      throw new SiltError("NOT_FOUND", `${path} does not exist (createIfMissing is false or readOnly is set)`, { file: path });
    }
    fs.mkdir(path);
  }
  const lock = fs.lock(joinPath(path, LOCK_FILE));
  o.fs = guardStorage(fs, lock);
  try {
    const names = fs.list(path);
    const exists = hasDatabase(names);
    if (exists && o.errorIfExists) throw new SiltError("EXISTS", `${path} already holds a database (errorIfExists is set)`, { file: path });
    if (!exists && (!o.createIfMissing || o.readOnly)) {
      throw new SiltError("NOT_FOUND", `${path} holds no database (createIfMissing is false or readOnly is set)`, { file: path });
    }
    const state = await recover(path, names, o);
    return new Db(path, o, lock, state);
  } catch (err) {
    lock.release();
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
  #mem: MemtableHandle;
  #imm: MemtableHandle[] = []; // newest first
  #wal: LogWriter | undefined;
  #logNumber: number;
  #lastSequence: number;
  #state: "open" | "closing" | "closed" = "open";
  #scans = new Set<() => void>();
  #snapshots = new Set<Snapshot<K, V>>();
  #tables: TableCache;
  #blocks: BlockCache;
  #counters: ReadCounters = { bloomUseful: 0, bloomChecked: 0 };
  #flushing: Promise<void> | undefined;
  #flushes = 0;
  #background: SiltError | undefined;
  #queue: QueuedWrite[] = [];
  #stallMs = 0;
  #writesSinceYield = 0;
  #userBytes = 0;
  #flushBytes = 0;
  #compactions: CompactionScheduler;
  #executor: CompactionExecutor;
  #batchTarget: BatchTarget;
  #scanSource: ScanSource;
  #reader: SnapshotReader<K, V>;

  /** @internal Use {@linkcode open}. */
  constructor(path: string, o: ResolvedOptions, lock: StorageLock, state: Awaited<ReturnType<typeof recover>>) {
    this.path = path;
    this.#o = o;
    this.#keys = o.keyEncoding;
    this.#values = o.valueEncoding;
    this.#lock = lock;
    this.#versions = state.versions;
    this.#mem = { mt: state.memtable, firstLog: state.memtableLog, refs: 0, retired: false };
    this.#wal = state.log;
    this.#logNumber = state.logNumber;
    this.#lastSequence = state.lastSequence;
    this.#tables = new TableCache(o.fs, path, MAX_OPEN_TABLES);
    this.#blocks = new BlockCache(o.blockCacheSize);
    // A worker reaches only the real file system, through the runtime's default storage.
    const workerCan = o.compactionMode === "worker" && (o.fs.kind === "node" || o.fs.kind === "deno");
    this.#executor = workerCan ? new WorkerExecutor(path) : new InlineExecutor(o.fs, path);
    this.#compactions = new CompactionScheduler({
      dir: path,
      options: o,
      versions: this.#versions,
      tables: this.#tables,
      blocks: this.#blocks,
      executor: this.#executor,
      oldestSnapshot: () => this.#oldestSnapshot(),
      changed: () => this.#drainQueue(),
    });
    this.#versions.onVersionReleased = () => {
      if (this.#state === "open" && !o.readOnly) this.#compactions.removeObsoleteTables();
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
      tables: this.#tables,
      blocks: this.#blocks,
      checkOpen: () => this.#checkOpen(),
      acquireView: () => this.#acquireView(),
      track: (release) => {
        this.#scans.add(release);
        return () => this.#scans.delete(release);
      },
    };
    this.#reader = {
      getAt: (key, sequence) => this.#getAt(key, sequence),
      scanAt: (options, sequence) => new Scan(new ScanCursor(this.#scanSource, sequence, options)),
      scanSyncAt: (options, sequence) => new ScanSync(new ScanCursor(this.#scanSource, sequence, options)),
      releaseSnapshot: (snapshot) => this.#snapshots.delete(snapshot),
    };
    // A recovered memtable may already be full; recovered tables may need compacting.
    if (!o.readOnly && this.#mem.mt.bytesUsed >= o.memtableSize) this.#freeze();
    if (!o.readOnly) this.#compactions.schedule();
  }

  /** "open", "closing" (close() is under way) or "closed". */
  get status(): "open" | "closing" | "closed" {
    return this.#state;
  }

  // ---- writes ---------------------------------------------------------------

  /**
   * Sets key to value. Resolves once logged; with `sync: true`, once durable.
   *
   * @example
   * ```ts
   * await db.put("user:1", "alice", { sync: true });
   * ```
   */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#checkWritable();
      const sync = options === undefined ? this.#o.sync : resolveSync(options, this.#o.sync);
      return this.#commitOne(KIND_PUT, this.#keys.encode(key, "key"), this.#values.encode(value, "value"), sync);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Removes key (no error if it is absent). With `sync: true`, resolves once durable.
   *
   * @example
   * ```ts
   * await db.delete("user:1");
   * ```
   */
  delete(key: K | string | Uint8Array, options?: WriteOptions): Promise<void> {
    try {
      this.#checkWritable();
      const sync = options === undefined ? this.#o.sync : resolveSync(options, this.#o.sync);
      return this.#commitOne(KIND_DELETE, this.#keys.encode(key, "key"), "", sync);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A new atomic batch of puts and deletes; commit it with `.write()`.
   *
   * @example
   * ```ts
   * await db.batch().put("a", "1").delete("b").write({ sync: true });
   * ```
   */
  batch(): WriteBatch<K, V> {
    this.#checkOpen();
    return new WriteBatch<K, V>(this.#batchTarget);
  }

  #commitOne(kind: number, key: string | Uint8Array, value: string | Uint8Array, sync: boolean): Promise<void> {
    const record = scratch(ENTRY_OFFSET + 9 + maxEncodedLength(key) + maxEncodedLength(value));
    const keyAt = record + ENTRY_OFFSET + 5;
    const keyLen = writeData(keyAt, key);
    if (keyLen > this.#o.maxKeySize) throw tooBig("key", keyLen, this.#o.maxKeySize);
    let end = keyAt + keyLen;
    if (kind === KIND_PUT) {
      const valueLen = writeData(end + 4, value);
      if (valueLen > this.#o.maxValueSize) throw tooBig("value", valueLen, this.#o.maxValueSize);
      view().setUint32(end, valueLen, true);
      end += 4 + valueLen;
    }
    const dv = view();
    dv.setUint8(record + ENTRY_OFFSET, kind);
    dv.setUint32(record + ENTRY_OFFSET + 1, keyLen, true);
    dv.setUint32(record + RECORD_HEADER_SIZE + 8, 1, true);
    return this.#commit(record, end - record - RECORD_HEADER_SIZE, 1, sync);
  }

  #commitEntries(entries: Uint8Array, count: number, options: WriteOptions | undefined): Promise<void> {
    try {
      this.#checkWritable();
      const sync = resolveSync(options, this.#o.sync);
      if (count === 0) return sync ? this.#wal!.sync() : RESOLVED;
      const record = scratch(ENTRY_OFFSET + entries.length);
      bytes().set(entries, record + ENTRY_OFFSET);
      view().setUint32(record + RECORD_HEADER_SIZE + 8, count, true);
      return this.#commit(record, BATCH_HEADER_SIZE + entries.length, count, sync);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Applies the record at `record` (payload built, sequence not yet stamped) and logs it, or queues it. */
  #commit(record: number, payloadLen: number, count: number, sync: boolean): Promise<void> {
    if (this.#lastSequence + count > MAX_SEQUENCE) throw new SiltError("INVALID_ARGUMENT", "sequence numbers are exhausted");
    if (this.#queue.length > 0 || this.#mustWait()) {
      const copy = bytes().slice(record, record + RECORD_HEADER_SIZE + payloadLen);
      return new Promise((resolve, reject) => this.#queue.push({ since: performance.now(), record: copy, count, sync, resolve, reject }));
    }
    return this.#apply(record, payloadLen, count, sync);
  }

  #apply(record: number, payloadLen: number, count: number, sync: boolean): Promise<void> {
    const wal = this.#wal!;
    if (this.#mem.mt.commitRecord(record, payloadLen, this.#lastSequence + 1) !== count) {
      throw new Error(`siltdb internal error: core rejected a write batch it was given`);
    }
    this.#lastSequence += count;
    this.#userBytes += payloadLen;
    wal.add(bytes().subarray(record, record + RECORD_HEADER_SIZE + payloadLen));
    if (this.#mem.mt.bytesUsed >= this.#o.memtableSize && this.#imm.length < MAX_IMMUTABLE) this.#freeze();
    if (sync) return wal.sync();
    if (this.#versions.current.levels[0].length >= this.#o.l0SlowdownTrigger && ++this.#writesSinceYield % 16 === 0) {
      // L0 is filling faster than compaction drains it: slow writes down a little.
      const started = performance.now();
      return new Promise((resolve) => setTimeout(() => (this.#stallMs += performance.now() - started, resolve()), 1));
    }
    if (++this.#writesSinceYield >= YIELD_EVERY && (this.#flushing !== undefined || this.#compactions.busy || wal.busy)) {
      this.#writesSinceYield = 0;
      return yieldToEventLoop();
    }
    return RESOLVED;
  }

  /** The active memtable is full and no more can be queued for flushing, or L0 is at its stop trigger. */
  #mustWait(): boolean {
    return (this.#mem.mt.bytesUsed >= this.#o.memtableSize && this.#imm.length >= MAX_IMMUTABLE) ||
      this.#versions.current.levels[0].length >= this.#o.l0StopTrigger;
  }

  /** Applies queued writes while there is room. */
  #drainQueue(): void {
    const failure = this.#background ?? this.#compactions.failure;
    if (failure) for (const w of this.#queue.splice(0)) w.reject(failure);
    let stalled = 0; // the longest wait among the writes applied now: they waited together
    while (this.#queue.length > 0 && !this.#mustWait()) {
      const w = this.#queue.shift()!;
      stalled = Math.max(stalled, performance.now() - w.since);
      try {
        this.#checkWritable();
        const record = scratch(w.record.length);
        bytes().set(w.record, record);
        this.#apply(record, w.record.length - RECORD_HEADER_SIZE, w.count, w.sync).then(w.resolve, w.reject);
      } catch (err) {
        w.reject(err);
      }
    }
    this.#stallMs += stalled;
  }

  /** Makes the active memtable immutable, starts a new memtable and log, schedules a flush. */
  #freeze(): void {
    const previous = this.#wal!;
    const number = this.#versions.newFileNumber();
    this.#wal = LogWriter.create(this.#o.fs, joinPath(this.path, logFileName(number)), previous.close());
    this.#logNumber = number;
    this.#imm.unshift(this.#mem);
    this.#mem = { mt: new Memtable(), firstLog: number, refs: 0, retired: false };
    this.#flushing ??= this.#flushLoop().finally(() => {
      this.#flushing = undefined;
    });
  }

  /** Flushes immutable memtables, oldest first, until none is left. */
  async #flushLoop(): Promise<void> {
    while (this.#imm.length > 0 && this.#background === undefined) {
      const handle = this.#imm[this.#imm.length - 1];
      try {
        const added: { level: number; file: FileMeta }[] = [];
        const number = this.#versions.newFileNumber();
        this.#compactions.pending.add(number);
        try {
          if (handle.mt.count > 0) {
            const file = await writeMemtableTable(this.#o.fs, this.path, number, handle.mt, this.#o);
            added.push({ level: 0, file });
            this.#flushBytes += file.size;
            this.#compactions.stats.io[0].written += file.size;
          }
          // Logs older than the next memtable's first log now hold nothing unflushed.
          const next = this.#imm.length >= 2 ? this.#imm[this.#imm.length - 2] : this.#mem;
          await this.#versions.logAndApply({ added, logNumber: next.firstLog, lastSequence: this.#lastSequence });
        } finally {
          this.#compactions.pending.delete(number);
        }
        this.#imm.pop();
        handle.retired = true;
        if (handle.refs === 0) handle.mt.free();
        this.#flushes++;
        this.#removeObsoleteLogs();
        this.#compactions.schedule();
      } catch (err) {
        this.#background = err instanceof SiltError ? err : new SiltError("IO_ERROR", `flush failed: ${String(err)}`, {}, err);
      }
      this.#drainQueue();
    }
    if (this.#background) for (const w of this.#queue.splice(0)) w.reject(this.#background);
  }

  #removeObsoleteLogs(): void {
    for (const name of this.#o.fs.list(this.path)) {
      const p = parseFileName(name);
      if (p?.kind === "log" && p.number < this.#versions.logNumber) this.#o.fs.remove(joinPath(this.path, name));
    }
  }

  // ---- reads ----------------------------------------------------------------

  /**
   * The value of key, or undefined. Synchronous: the fast path for hot reads.
   *
   * @example
   * ```ts
   * const v = db.getSync("user:1");
   * ```
   */
  getSync(key: K | string | Uint8Array): V | undefined {
    return this.#getAt(key, this.#lastSequence);
  }

  /**
   * The value of key, or undefined.
   *
   * @example
   * ```ts
   * const v = await db.get("user:1");
   * ```
   */
  get(key: K | string | Uint8Array): Promise<V | undefined> {
    try {
      return Promise.resolve(this.#getAt(key, this.#lastSequence));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #getAt(key: unknown, sequence: number): V | undefined {
    this.#checkOpen();
    const k = this.#keys.encode(key, "key");
    const ptr = scratch(maxEncodedLength(k));
    const len = writeData(ptr, k);
    // Memtables, newest first: the first version found decides.
    let found = this.#mem.mt.lookupAt(ptr, len, sequence);
    for (let i = 0; found === Lookup.Absent && i < this.#imm.length; i++) found = this.#imm[i].mt.lookupAt(ptr, len, sequence);
    if (found === Lookup.Found) return this.#values.decode(valueAt(), valueLength()) as V;
    if (found === Lookup.Deleted) return undefined;
    return this.#getFromTables(ptr, len, sequence);
  }

  /** Reads the key (len bytes at ptr) from the tables: L0 newest first, then one file per level. */
  #getFromTables(ptr: number, len: number, sequence: number): V | undefined {
    const version = this.#versions.current;
    const userKey = bytes().slice(ptr, ptr + len);
    const decode = (p: number, n: number) => this.#values.decode(p, n) as V;
    for (const file of version.levels[0]) {
      if (compareUserKeys(userKey, userKeyOf(file.smallest)) < 0 || compareUserKeys(userKey, userKeyOf(file.largest)) > 0) continue;
      const result = this.#tableGet(file, ptr, len, sequence, decode);
      if (result !== undefined) return result === null ? undefined : result;
    }
    for (let level = 1; level < version.levels.length; level++) {
      const files = version.levels[level];
      // The first file whose largest key is at or after the key.
      let lo = 0;
      let hi = files.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareUserKeys(userKeyOf(files[mid].largest), userKey) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (lo === files.length || compareUserKeys(userKey, userKeyOf(files[lo].smallest)) < 0) continue;
      const result = this.#tableGet(files[lo], ptr, len, sequence, decode);
      if (result !== undefined) return result === null ? undefined : result;
    }
    return undefined;
  }

  #tableGet(file: FileMeta, ptr: number, len: number, sequence: number, decode: (p: number, n: number) => V): V | null | undefined {
    // Synchronous: nothing can close the table before this returns.
    return this.#tables.get(file.number).get(ptr, len, sequence, this.#blocks, decode, this.#counters);
  }

  /**
   * An ordered scan of the current data (`for await`). It sees the data as of
   * the call, not later writes.
   *
   * @example
   * ```ts
   * for await (const [k, v] of db.scan({ gte: "a", lt: "b", limit: 10 })) console.log(k, v);
   * ```
   */
  scan(options?: ScanOptions<K>): Scan<K, V> {
    return new Scan(new ScanCursor(this.#scanSource, this.#lastSequence, options));
  }

  /**
   * An ordered scan of the current data (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * for (const [k, v] of db.scanSync({ reverse: true, limit: 3 })) console.log(k, v);
   * ```
   */
  scanSync(options?: ScanOptions<K>): ScanSync<K, V> {
    return new ScanSync(new ScanCursor(this.#scanSource, this.#lastSequence, options));
  }

  /** The memtables and table files a new reader sees, referenced until released. */
  #acquireView(): ReadView {
    const handles = [this.#mem, ...this.#imm];
    for (const h of handles) h.refs++;
    const version = this.#versions.current.ref();
    const runs: FileMeta[][] = version.levels[0].map((f) => [f]);
    for (let level = 1; level < version.levels.length; level++) {
      if (version.levels[level].length > 0) runs.push([...version.levels[level]]);
    }
    let released = false;
    return {
      memtables: handles.map((h) => h.mt.ptr),
      runs,
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

  /**
   * A consistent read-only view as of now. Release it when done.
   *
   * @example
   * ```ts
   * const snap = db.snapshot();
   * const v = snap.getSync("k");
   * snap.release();
   * ```
   */
  snapshot(): Snapshot<K, V> {
    this.#checkOpen();
    const snapshot = new Snapshot<K, V>(this.#reader, this.#lastSequence);
    this.#snapshots.add(snapshot);
    return snapshot;
  }

  // ---- maintenance and lifecycle ---------------------------------------------

  /**
   * Writes the memtable to a table file and waits for every pending flush.
   *
   * @example
   * ```ts
   * await db.flush();
   * ```
   */
  async flush(): Promise<void> {
    this.#checkWritable();
    if (this.#mem.mt.count > 0) {
      while (this.#imm.length >= MAX_IMMUTABLE && this.#flushing) await this.#flushing;
      this.#checkWritable();
      if (this.#mem.mt.count > 0) this.#freeze();
    }
    while (this.#flushing) await this.#flushing;
    if (this.#background) throw this.#background;
  }

  /**
   * Flushes the memtable, then merges every table into one level, dropping
   * every version and tombstone no live snapshot can see: deleted data stops
   * taking space. Waits for background compaction first.
   *
   * @example
   * ```ts
   * await db.compact();
   * ```
   */
  async compact(): Promise<void> {
    await this.flush();
    await this.#compactions.compactAll();
    if (this.#compactions.failure) throw this.#compactions.failure;
  }

  /**
   * Like compact(), for the tables holding keys from start to end (inclusive).
   *
   * @example
   * ```ts
   * await db.compactRange("user:", "user;");
   * ```
   */
  async compactRange(start: K | string | Uint8Array, end: K | string | Uint8Array): Promise<void> {
    this.#checkWritable();
    const lo = this.#encodeKey(start, "start");
    const hi = this.#encodeKey(end, "end");
    if (compareUserKeys(lo, hi) > 0) throw invalidArgument("compactRange: start is after end");
    await this.flush();
    await this.#compactions.compactRange(lo, hi);
    if (this.#compactions.failure) throw this.#compactions.failure;
  }

  #encodeKey(key: unknown, what: string): Uint8Array {
    const k = this.#keys.encode(key, what);
    return typeof k === "string" ? new TextEncoder().encode(k) : k;
  }

  #oldestSnapshot(): number {
    let oldest = this.#lastSequence;
    for (const s of this.#snapshots) if (s.sequence < oldest) oldest = s.sequence;
    return oldest;
  }

  /**
   * Figures about the database.
   *
   * @example
   * ```ts
   * console.log(db.stats().levels[0].files);
   * ```
   */
  stats(): DbStats {
    this.#checkOpen();
    const cache = this.#blocks.stats();
    const lookups = cache.hits + cache.misses;
    return {
      sequence: this.#lastSequence,
      memtable: {
        entries: this.#mem.mt.count,
        bytes: this.#mem.mt.bytesUsed,
        memoryUsage: this.#mem.mt.memoryUsage,
      },
      immutable: { count: this.#imm.length, bytes: this.#imm.reduce((n, h) => n + h.mt.bytesUsed, 0) },
      levels: this.#versions.current.levels.map((files, level) => ({
        level,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        entries: files.reduce((n, f) => n + f.entries, 0),
      })),
      flushes: this.#flushes,
      blockCache: { hits: cache.hits, misses: cache.misses, hitRate: lookups ? cache.hits / lookups : 0, bytes: cache.bytes, capacity: cache.capacity },
      bloom: { useful: this.#counters.bloomUseful, checked: this.#counters.bloomChecked },
      wal: {
        file: logFileName(this.#logNumber),
        bytesWritten: this.#wal?.bytesAdded ?? 0,
        syncs: this.#wal?.syncCount ?? 0,
      },
      stallMs: this.#stallMs,
      compaction: {
        policy: this.#o.compaction,
        mode: this.#executor.mode,
        ...this.#compactions.stats,
        io: this.#compactions.stats.io.map((x) => ({ ...x })),
      },
      writeAmplification: this.#userBytes > 0
        ? ((this.#wal?.bytesAdded ?? 0) + this.#flushBytes + this.#compactions.stats.io.reduce((n, x) => n + (x.level > 0 ? x.written : 0), 0)) / this.#userBytes
        : 0,
      spaceAmplification: spaceAmplification(this.#versions.current.levels),
      sortedRuns: this.#versions.current.levels[0].length + this.#versions.current.levels.slice(1).filter((l) => l.length > 0).length,
      snapshots: this.#snapshots.size,
      scans: this.#scans.size,
      coreMemory: core.memory.buffer.byteLength,
    };
  }

  /**
   * Waits for background work and queued writes, writes and syncs the log,
   * releases memory and the directory lock. Open scans and snapshots stop
   * working. A second close fails with `CLOSED`.
   *
   * @example
   * ```ts
   * await db.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#state !== "open") throw new SiltError("CLOSED", `${this.path} is already ${this.#state}`);
    this.#state = "closing";
    try {
      while (this.#flushing) await this.#flushing;
      await this.#compactions.close();
      await this.#wal?.close();
      await this.#versions.close();
    } finally {
      for (const w of this.#queue.splice(0)) w.reject(new SiltError("CLOSED", `${this.path} closed before the write could be applied`));
      for (const release of [...this.#scans]) release();
      for (const snapshot of [...this.#snapshots]) snapshot.release();
      this.#mem.mt.free();
      for (const h of this.#imm) h.mt.free();
      this.#tables.close();
      this.#blocks.clear();
      this.#lock.release();
      this.#state = "closed";
    }
  }

  #checkOpen(): void {
    if (this.#state !== "open") throw new SiltError("CLOSED", `${this.path} is ${this.#state}`);
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#wal === undefined) throw new SiltError("READ_ONLY", `${this.path} was opened read-only`);
    const failure = this.#wal.failure ?? this.#background ?? this.#compactions.failure;
    if (failure) {
      throw new SiltError("IO_ERROR", `${this.path} refuses writes after a failure: ${failure.message}`, {
        file: failure.file,
      }, failure);
    }
  }
}

/** Table bytes per byte of the deepest non-empty level (1 when everything is in one level). */
function spaceAmplification(levels: readonly (readonly FileMeta[])[]): number {
  const bytes = levels.map((files) => files.reduce((n, f) => n + f.size, 0));
  const total = bytes.reduce((a, b) => a + b, 0);
  const last = [...bytes].reverse().find((b) => b > 0) ?? 0;
  return last > 0 ? total / last : 0;
}

function tooBig(what: "key" | "value", size: number, max: number): SiltError {
  return invalidArgument(`${what} is ${size} bytes, over the maximum of ${max} (option max${what === "key" ? "Key" : "Value"}Size)`);
}
