// The database: orchestration of the write path (WAL + memtable), the read
// path (memtable lookups and scans), snapshots and lifecycle.
//
// Writes are applied in call order: put/delete/batch.write encode the write
// into the scratch region, the core stamps the next sequence, seals the WAL
// record and inserts it into the memtable in one call, and the sealed bytes
// are queued on the log writer. A write is visible to reads at once; with
// sync its promise resolves once the log is durable.

import { bytes, core, maxEncodedLength, scratch, view, writeData } from "./_wasm.ts";
import type { Encoding } from "./encoding.ts";
import { invalidArgument, SiltError } from "./errors.ts";
import { KIND_DELETE, KIND_PUT, MAX_SEQUENCE } from "./format/internal_key.ts";
import { BATCH_HEADER_SIZE, RECORD_HEADER_SIZE } from "./format/log_format.ts";
import { Scan, ScanCursor, type ScanOptions, type ScanSource, ScanSync } from "./iter/db_iterator.ts";
import { Lookup, type Memtable, valueAt, valueLength } from "./memtable.ts";
import { type OpenOptions, type ResolvedOptions, resolveOptions, resolveSync, type WriteOptions } from "./options.ts";
import { hasDatabase, recover } from "./recovery.ts";
import { Snapshot, type SnapshotReader } from "./snapshot.ts";
import { joinPath, type StorageLock } from "./storage/storage.ts";
import { LOCK_FILE, logFileName } from "./version/file_names.ts";
import type { LogWriter } from "./wal/log_writer.ts";
import { type BatchTarget, WriteBatch } from "./write_batch.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const ENTRY_OFFSET = RECORD_HEADER_SIZE + BATCH_HEADER_SIZE;

/** Figures from {@linkcode Db.stats}. */
export interface DbStats {
  /** Sequence number of the last write. */
  sequence: number;
  /** The in-memory table. */
  memtable: {
    /** Entries, every version and tombstone counted. */
    entries: number;
    /** Bytes of entries (nodes, keys, values). */
    bytes: number;
    /** Bytes of linear memory reserved. */
    memoryUsage: number;
  };
  /** The write-ahead log. */
  wal: {
    /** Current log file name. */
    file: string;
    /** Bytes logged since open. */
    bytesWritten: number;
    /** fdatasync calls since open (sync writes share them). */
    syncs: number;
  };
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
  try {
    const names = fs.list(path);
    const exists = hasDatabase(names);
    if (exists && o.errorIfExists) throw new SiltError("EXISTS", `${path} already holds a database (errorIfExists is set)`, { file: path });
    if (!exists && (!o.createIfMissing || o.readOnly)) {
      throw new SiltError("NOT_FOUND", `${path} holds no database (createIfMissing is false or readOnly is set)`, { file: path });
    }
    const state = await recover(path, names, o);
    return new Db(path, o, lock, state.memtable, state.log, state.logNumber, state.lastSequence);
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
  #memtable: Memtable;
  #wal: LogWriter | undefined;
  #logNumber: number;
  #lastSequence: number;
  #state: "open" | "closing" | "closed" = "open";
  #scans = new Set<number>();
  #snapshots = new Set<Snapshot<K, V>>();
  #batchTarget: BatchTarget;
  #scanSource: ScanSource;
  #reader: SnapshotReader<K, V>;

  /** @internal Use {@linkcode open}. */
  constructor(
    path: string,
    o: ResolvedOptions,
    lock: StorageLock,
    memtable: Memtable,
    wal: LogWriter | undefined,
    logNumber: number,
    lastSequence: number,
  ) {
    this.path = path;
    this.#o = o;
    this.#keys = o.keyEncoding;
    this.#values = o.valueEncoding;
    this.#lock = lock;
    this.#memtable = memtable;
    this.#wal = wal;
    this.#logNumber = logNumber;
    this.#lastSequence = lastSequence;
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
      checkOpen: () => this.#checkOpen(),
      track: (it) => {
        this.#scans.add(it);
        return () => {
          if (this.#scans.delete(it)) core.iterFree(it);
        };
      },
    };
    this.#reader = {
      getAt: (key, sequence) => this.#getAt(key, sequence),
      scanAt: (options, sequence) => new Scan(this.#cursor(options, sequence)),
      scanSyncAt: (options, sequence) => new ScanSync(this.#cursor(options, sequence)),
      releaseSnapshot: (snapshot) => this.#snapshots.delete(snapshot),
    };
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

  /** Applies the record at `record` (payload built, sequence not yet stamped) and logs it. */
  #commit(record: number, payloadLen: number, count: number, sync: boolean): Promise<void> {
    const wal = this.#wal!;
    const sequence = this.#lastSequence + 1;
    if (sequence + count - 1 > MAX_SEQUENCE) throw new SiltError("INVALID_ARGUMENT", "sequence numbers are exhausted");
    if (this.#memtable.commitRecord(record, payloadLen, sequence) !== count) {
      throw new Error(`siltdb internal error: core rejected a write batch it was given`);
    }
    this.#lastSequence += count;
    wal.add(bytes().subarray(record, record + RECORD_HEADER_SIZE + payloadLen));
    return sync ? wal.sync() : RESOLVED;
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
    if (this.#memtable.lookupAt(ptr, len, sequence) !== Lookup.Found) return undefined;
    return this.#values.decode(valueAt(), valueLength()) as V;
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
    return new Scan(this.#cursor(options, this.#lastSequence));
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
    return new ScanSync(this.#cursor(options, this.#lastSequence));
  }

  #cursor(options: ScanOptions<unknown> | undefined, sequence: number): ScanCursor<K, V> {
    return new ScanCursor<K, V>(this.#scanSource, this.#memtable.ptr, sequence, options);
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

  // ---- lifecycle ------------------------------------------------------------

  /**
   * Figures about the database.
   *
   * @example
   * ```ts
   * console.log(db.stats().memtable.entries);
   * ```
   */
  stats(): DbStats {
    this.#checkOpen();
    return {
      sequence: this.#lastSequence,
      memtable: {
        entries: this.#memtable.count,
        bytes: this.#memtable.bytesUsed,
        memoryUsage: this.#memtable.memoryUsage,
      },
      wal: {
        file: logFileName(this.#logNumber),
        bytesWritten: this.#wal?.bytesAdded ?? 0,
        syncs: this.#wal?.syncCount ?? 0,
      },
      snapshots: this.#snapshots.size,
      scans: this.#scans.size,
      coreMemory: core.memory.buffer.byteLength,
    };
  }

  /**
   * Writes and syncs the log, releases memory and the directory lock. Open
   * scans and snapshots stop working. A second close fails with `CLOSED`.
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
      await this.#wal?.close();
    } finally {
      for (const it of this.#scans) core.iterFree(it);
      this.#scans.clear();
      for (const snapshot of [...this.#snapshots]) snapshot.release();
      this.#memtable.free();
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
    const failure = this.#wal.failure;
    if (failure) {
      throw new SiltError("IO_ERROR", `${this.path} refuses writes after a log failure: ${failure.message}`, {
        file: failure.file,
      }, failure);
    }
  }
}

function tooBig(what: "key" | "value", size: number, max: number): SiltError {
  return invalidArgument(`${what} is ${size} bytes, over the maximum of ${max} (option max${what === "key" ? "Key" : "Value"}Size)`);
}
