// The database facade: the public methods of an open database, each
// delegating to the part that owns the work (wired by src/open.ts):
//
//   read/           the reads (shared with snapshots: read/reads.ts), scans, snapshots
//   write/          puts, deletes, batches, clear's deletes, the write queue
//   maintenance.ts  flush, compact, compactRange, resume (the write side and the scheduler)
//   lifecycle.ts    state, close, the fatal error of a trap
//   events.ts, stats.ts, metrics.ts
//
// A write resolves once its log record is in the operating system (with
// sync: true, once it is durable); it is visible to reads from then on. A
// background failure stops writes with IO_ERROR while reads go on; "error"
// listeners hear of it, and resume() retries once storage is healthy. A trap
// of the WebAssembly core closes the database (INTERNAL) and leaves the
// process's other databases working.

import { ASYNC_DISPOSE } from "./_dispose.ts";
import type { Maintenance } from "./maintenance.ts";
import { invalidArgument } from "./errors.ts";
import type { DbEvent, DbEventMap, EventHub } from "./events.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { formatMetrics } from "./metrics.ts";
import type { ExpiryOptions, ResolvedOptions, WriteOptions } from "./options.ts";
import { approximateSize } from "./read/approximate_size.ts";
import type { RangeOptions } from "./read/range.ts";
import type { Reader } from "./read/reader.ts";
import { BackupDb, type BackupParts } from "./db_backups.ts";
import { Snapshot } from "./read/snapshot.ts";
import type { DbStats } from "./stats.ts";
import type { VersionSet } from "./version/version_set.ts";
import { type BatchOperation, WriteBatch } from "./write/write_batch.ts";
import type { ClearOptions, KeySource, Writer } from "./write/writer.ts";

/** @internal The parts of an open database (src/open.ts builds them). */
export interface DbParts extends BackupParts {
  path: string;
  options: ResolvedOptions;
  life: Lifecycle;
  events: EventHub;
  reader: Reader;
  writer: Writer;
  maintenance: Maintenance;
  versions: VersionSet;
  visibleSequence(): number;
  /** The reader, after installing compaction results the event loop has not delivered (Scheduler.catchUp). */
  currentReader(): Reader;
  /** A reader of a bucket: catches up with the writer. */
  refresh(): Promise<void>;
  stats(): DbStats;
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
export class Db<K = Uint8Array, V = Uint8Array> extends BackupDb<K, V> {
  /** The directory. */
  readonly path: string;
  readonly #parts: DbParts;

  /** The stored keys of a range as of now: what clear() and deleteRange() delete. */
  readonly #storedKeys = (range: unknown, call: string): KeySource =>
    this.#parts.reader.cursor<Uint8Array>(range, this.#parts.visibleSequence(), "stored-keys", call);

  /** @internal Use {@linkcode open}. */
  constructor(parts: DbParts) {
    super({ reader: parts.currentReader as () => Reader<V>, sequence: parts.visibleSequence }, parts);
    this.path = parts.path;
    this.#parts = parts;
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
    return this.#parts.life.state;
  }

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
    this.#parts.events.on(event, listener);
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
    this.#parts.events.off(event, listener);
    return this;
  }

  /**
   * Sets key to value. Resolves once the write is in the operating system
   * (it survives a crash of the process); with `sync: true`, once it is
   * durable (it survives a crash of the machine). With `ttl` (ms) or
   * `expireAt`, the key reads as deleted once that time has passed.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");               // survives a crash of the process
   * await db.put("user:2", "bob", { sync: true }); // durable: survives a crash of the machine
   * await db.put("session:9", "t", { ttl: 60_000 }); // gone in a minute
   * console.log(await db.get("user:2"));           // "bob"
   * await db.close();
   * ```
   */
  put(
    key: K | string | Uint8Array,
    value: V | string | Uint8Array,
    options?: WriteOptions & ExpiryOptions,
  ): Promise<void> {
    return this.#parts.writer.put(key, value, options);
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
    return this.#parts.writer.delete(key, options);
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
    const { writer, life } = this.#parts;
    if (operations === undefined) {
      if (options !== undefined) throw invalidArgument("batch() takes options only with an array of operations");
      life.checkOpen();
      return new WriteBatch<K, V>(writer.batchTarget);
    }
    try {
      writer.checkWritable();
      return new WriteBatch<K, V>(writer.batchTarget).add(operations).write(options).then(() => {});
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Deletes every key in a range (`gt`, `gte`, `lt`, `lte`, `prefix`, as
   * scan(); every key without one; `reverse` and `limit` as abstract-level)
   * as of the call. Keys written after the call starts are not deleted.
   *
   * Without `limit`, one range-tombstone record deletes the whole range,
   * whatever the number of keys in it (RocksDB's DeleteRange): atomic, seen
   * by every reader all at once and by a snapshot taken before the call not
   * at all. With `limit`, the first `limit` keys (in `reverse` order) are
   * deleted one by one, in atomic batches of up to
   * {@linkcode CLEAR_BATCH_BYTES} of keys. Resolves once written (with
   * `sync: true`, durable).
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
  clear(options?: ClearOptions<K>): Promise<void> {
    return this.#parts.writer.clear(options, this.#storedKeys);
  }

  /**
   * Deletes every key from start (inclusive) to end (exclusive), as
   * RocksDB's DeleteRange: one range-tombstone record, whatever the number
   * of keys in the range. start equal to end deletes nothing; start after
   * end is INVALID_ARGUMENT (nothing written).
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
  deleteRange(start: K | string | Uint8Array, end: K | string | Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#parts.writer.deleteRange(start, end, options);
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
    this.#parts.life.checkOpen();
    return new Snapshot<K, V>(this.#parts.reader as Reader<V>, this.#parts.visibleSequence());
  }

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
  flush(): Promise<void> {
    return this.#parts.maintenance.flush();
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
  compact(): Promise<void> {
    return this.#parts.maintenance.compact();
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
  compactRange(start: K | string | Uint8Array, end: K | string | Uint8Array): Promise<void> {
    return this.#parts.maintenance.compactRange(start, end);
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
    this.#parts.life.checkOpen();
    await this.#parts.maintenance.resume();
  }

  /**
   * A store in a bucket opened readOnly: catches up with its writer now (the
   * newest manifest and the WAL objects stored since), as it does by itself
   * every `refreshInterval`. Reads from then on see every write the writer
   * had acknowledged when the call began. Elsewhere it does nothing.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const reader = await open("s3://my-bucket/app", { readOnly: true, refreshInterval: 0 });
   * await reader.refresh();
   * console.log(await reader.get("user:1"));
   * await reader.close();
   * ```
   */
  async refresh(): Promise<void> {
    this.#parts.life.checkOpen();
    await this.#parts.refresh();
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
    const { life, reader, versions, options } = this.#parts;
    try {
      life.checkOpen();
      return approximateSize(range, versions.current.levels, reader.tables, options).catch((err) =>
        Promise.reject(life.trapped(err, "approximateSize"))
      );
    } catch (err) {
      return Promise.reject(life.trapped(err, "approximateSize"));
    }
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
    this.#parts.life.checkOpen();
    return this.#parts.stats();
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
    return this.#parts.life.close();
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
  [ASYNC_DISPOSE](): Promise<void> {
    return this.#parts.life.dispose();
  }
}
