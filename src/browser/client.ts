// The main-thread side of siltdb/browser: BrowserDb, a proxy with siltdb's
// async API whose every call is a message to the database worker
// (worker_server.ts) on a MessagePort; scans arrive in chunks, and the next
// chunk is asked for while the current one is read.

import type { BackupResult } from "../backup/backup.ts";
import type { BackupInfo } from "../backup/backup_format.ts";
import type { CheckpointInfo } from "../backup/checkpoint.ts";
import type { DbStats } from "../stats.ts";
import { SiltError } from "../errors.ts";
import type { RangeOptions } from "../read/range.ts";
import type { ScanOptions } from "../read/scan_options.ts";
import type { ExpiryOptions, WriteOptions } from "../options.ts";
import type { BatchOperation, BatchResult } from "../write/write_batch.ts";
import type { Entry } from "../read/reader.ts";
import type { Change, ChangesOptions } from "../changes/change_feed.ts";
import { BrowserBatch } from "./batch.ts";

export { BrowserBatch };
import type { ClearOptions } from "../write/writer.ts";
import {
  type Chunk,
  errorFromData,
  type PortLike,
  type Request,
  type Response,
  type ScanShape,
  unpackColumn,
} from "./protocol.ts";
import type { AsyncDb, AsyncScan, AsyncSnapshot } from "./types.ts";

// As in src/_dispose.ts, which this module does not import: the page loads no engine code.
const ASYNC_DISPOSE: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;

type Pending = { resolve: (value: unknown) => void; reject: (err: unknown) => void };

/** The connection to a worker: numbered requests and their answers. */
class Connection {
  readonly #port: PortLike;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;
  readonly #onMessage: (event: { data: unknown }) => void;

  constructor(port: PortLike) {
    this.#port = port;
    this.#onMessage = (event) => {
      const res = event.data as Response;
      const p = this.#pending.get(res?.id);
      if (p === undefined) return;
      this.#pending.delete(res.id);
      if (res.ok) p.resolve(res.value);
      else p.reject(errorFromData(res.error));
    };
    port.addEventListener("message", this.#onMessage);
    port.start?.();
  }

  nextId(): number {
    return this.#nextId++;
  }

  call(op: string, args: unknown[]): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.nextId();
    const message: Request = { id, op, args };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#port.postMessage(message);
      } catch (err) {
        this.#pending.delete(id);
        // DataCloneError: an argument that cannot be posted (a function, a class instance with private state...).
        reject(
          new SiltError(
            "INVALID_ARGUMENT",
            `${op}: an argument cannot be sent to the database worker: ${(err as Error)?.message ?? String(err)}`,
            {},
            err,
          ),
        );
      }
    });
  }

  /** Fails every request waiting and every later one with `err`. */
  fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  close(): void {
    this.#port.removeEventListener("message", this.#onMessage);
    this.#port.close();
  }
}

/**
 * An ordered scan read from the worker in chunks.
 *
 * @example
 * ```ts
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ prefix: "note:" })) console.log(key, value); // 256 entries a message
 * const last = await db.keys({ reverse: true, limit: 10 }).toArray(); // the last 10 keys
 * await db.close();
 * ```
 */
export class BrowserScan<T> implements AsyncScan<T> {
  readonly #conn: Connection;
  readonly #shape: ScanShape;
  readonly #id: number;
  #items: T[] = [];
  #at = 0;
  #request: Promise<Chunk> | undefined;
  #serverDone = false;
  #closed = false;
  #error: unknown;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  /** @internal */
  constructor(conn: Connection, shape: ScanShape, options: ScanOptions<unknown> | undefined, snapshot?: number) {
    this.#conn = conn;
    this.#shape = shape;
    this.#id = conn.nextId();
    let sent: unknown = options;
    if (options !== null && typeof options === "object" && "signal" in options && options.signal !== undefined) {
      const { signal, ...rest } = options;
      sent = rest;
      const s = signal as AbortSignal;
      if (s.aborted) throw aborted(s);
      this.#signal = s;
      this.#onAbort = () => {
        this.#error ??= aborted(s);
        this.close();
      };
      s.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.#request = conn.call("scan", [this.#id, shape, sent, snapshot]) as Promise<Chunk>;
    this.#request.catch(() => {}); // seen by next()
  }

  #take(chunk: Chunk): void {
    this.#serverDone = chunk.done;
    const keys = chunk.keys === undefined ? undefined : unpackColumn(chunk.keys);
    const values = chunk.values === undefined ? undefined : unpackColumn(chunk.values);
    if (this.#shape === "entries") {
      const out = new Array(keys!.length);
      for (let i = 0; i < out.length; i++) out[i] = [keys![i], values![i]];
      this.#items = out;
    } else this.#items = (keys ?? values) as T[];
    this.#at = 0;
    if (!this.#serverDone && !this.#closed) {
      // Read ahead: the next chunk travels while this one is consumed.
      this.#request = this.#conn.call("next", [this.#id]) as Promise<Chunk>;
      this.#request.catch(() => {});
    }
  }

  /** The next item. */
  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#closed) return { done: true, value: undefined };
      if (this.#at < this.#items.length) return { done: false, value: this.#items[this.#at++] };
      if (this.#request === undefined) {
        this.#finish();
        return { done: true, value: undefined };
      }
      const request = this.#request;
      this.#request = undefined;
      let chunk: Chunk;
      try {
        chunk = await request;
      } catch (err) {
        this.#error ??= err;
        this.#finish();
        throw this.#error;
      }
      if (this.#closed) continue;
      this.#take(chunk);
    }
  }

  /** Closes the scan (called by `break` in `for await`). */
  return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Closes the scan early: the worker drops it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    const serverOpen = !this.#serverDone;
    this.#finish();
    if (serverOpen) this.#conn.call("scanClose", [this.#id]).catch(() => {});
  }

  #finish(): void {
    this.#closed = true;
    this.#items = [];
    this.#at = 0;
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#onAbort = undefined;
  }

  /** All remaining items, in order. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for (;;) {
      const r = await this.next();
      if (r.done) return out;
      out.push(r.value);
    }
  }

  /** The scan itself (`for await`). */
  [Symbol.asyncIterator](): this {
    return this;
  }
}

function aborted(signal: AbortSignal): SiltError {
  return new SiltError("ABORTED", "the scan was aborted", {}, (signal as { reason?: unknown }).reason);
}

/** A worker call: an operation name and its arguments, answered by the worker. */
type Call = (op: string, args: unknown[]) => Promise<unknown>;

/** A scan opened in the worker: what it yields and its options. */
type OpenScan<K> = (shape: ScanShape, options: ScanOptions<K> | undefined) => BrowserScan<unknown>;

/**
 * The reads a {@linkcode BrowserDb} and a {@linkcode BrowserSnapshot} both
 * answer, each a message to the worker; on a snapshot they read as of the
 * snapshot. The subclass says how a read reaches the worker (a snapshot's
 * reads name it) and refuses reads once it is closed or released.
 *
 * @example
 * ```ts ignore
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * const snapshot = db.snapshot();
 * await db.put("a", "2");
 * console.log(await db.get("a"), await snapshot.get("a")); // "2", and the value before the put
 * snapshot.release();
 * await db.close();
 * ```
 */
export abstract class BrowserReader<K, V> {
  readonly #read: Call;
  readonly #scan: OpenScan<K>;

  /**
   * @internal
   * @param read sends a read to the worker, or rejects if reads are over
   * @param scan opens a scan in the worker, or throws if reads are over
   */
  constructor(read: Call, scan: OpenScan<K>) {
    this.#read = read;
    this.#scan = scan;
  }

  /** The value of key, or undefined. */
  get(key: K | string | Uint8Array): Promise<V | undefined> {
    return this.#read("get", [key]) as Promise<V | undefined>;
  }

  /** The value of key with its version (both undefined when absent). */
  getEntry(key: K | string | Uint8Array): Promise<Entry<V>> {
    return this.#read("getEntry", [key]) as Promise<Entry<V>>;
  }

  /** The values of keys (undefined where absent). */
  getMany(keys: readonly (K | string | Uint8Array)[]): Promise<(V | undefined)[]> {
    return this.#read("getMany", [keys]) as Promise<(V | undefined)[]>;
  }

  /** Whether key exists. */
  has(key: K | string | Uint8Array): Promise<boolean> {
    return this.#read("has", [key]) as Promise<boolean>;
  }

  /** Entries in a range. */
  count(range?: RangeOptions<K>): Promise<number> {
    return this.#read("count", [range]) as Promise<number>;
  }

  /** An ordered scan of [key, value] entries, read from the worker in chunks. */
  scan(options?: ScanOptions<K>): BrowserScan<[K, V]> {
    return this.#scan("entries", options) as BrowserScan<[K, V]>;
  }

  /** The keys of a scan. */
  keys(options?: ScanOptions<K>): BrowserScan<K> {
    return this.#scan("keys", options) as BrowserScan<K>;
  }

  /** The values of a scan. */
  values(options?: ScanOptions<K>): BrowserScan<V> {
    return this.#scan("values", options) as BrowserScan<V>;
  }
}

/**
 * A snapshot held by the worker: the reads of a {@linkcode BrowserDb}, as of the snapshot.
 *
 * @example
 * ```ts
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("a", "1");
 * const snapshot = db.snapshot(); // held by the worker
 * await db.put("a", "2");
 * console.log(await snapshot.get("a"), await db.get("a")); // "1" "2"
 * snapshot.release();
 * await db.close();
 * ```
 */
export class BrowserSnapshot<K, V> extends BrowserReader<K, V> implements AsyncSnapshot<K, V> {
  readonly #conn: Connection;
  readonly #id: number;
  #released = false;

  /** @internal */
  constructor(conn: Connection, id: number) {
    // The closures run after construction (at the first read), when the fields are set.
    super((op, args) => this.#call(op, args), (shape, options) => this.#openScan(shape, options));
    this.#conn = conn;
    this.#id = id;
  }

  #call(op: string, args: unknown[]): Promise<unknown> {
    if (this.#released) return Promise.reject(new SiltError("RELEASED", "the snapshot was released"));
    return this.#conn.call(`snapshot.${op}`, [this.#id, ...args]);
  }

  #openScan(shape: ScanShape, options: ScanOptions<K> | undefined): BrowserScan<unknown> {
    if (this.#released) throw new SiltError("RELEASED", "the snapshot was released");
    return new BrowserScan<unknown>(this.#conn, shape, options as ScanOptions<unknown>, this.#id);
  }

  /** Gives the snapshot up. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#conn.call("release", [this.#id]).catch(() => {});
  }
}

/**
 * A database opened on the main thread by siltdb/browser's `open()`: the
 * engine runs in a worker it started, and every call here is a message to
 * it. The API is the async part of siltdb's `Db`; keys and values follow the
 * encodings given at open (they are encoded and decoded in the worker).
 *
 * @example
 * ```ts ignore
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("a", "1");
 * for await (const [k, v] of db.scan()) console.log(k, v);
 * await db.close(); // the worker ends too
 * ```
 */
export class BrowserDb<K = Uint8Array, V = Uint8Array> extends BrowserReader<K, V> implements AsyncDb<K, V> {
  /** The database's name (its OPFS directory is "siltdb-" + name). */
  readonly name: string;
  readonly #conn: Connection;
  readonly #onClosed: () => void;
  #status: "open" | "closing" | "closed" = "open";

  /** @internal Use siltdb/browser's open(). */
  constructor(name: string, port: PortLike, onClosed: () => void = () => {}) {
    // The closures run after construction (at the first read), when the fields are set.
    super((op, args) => this.#call(op, args), (shape, options) => this.#openScan(shape, options));
    this.name = name;
    this.#conn = new Connection(port);
    this.#onClosed = onClosed;
  }

  /** @internal Opens the database in the worker; on failure, closes the connection. */
  async connect(options: unknown): Promise<this> {
    try {
      await this.#conn.call("open", [this.name, options]);
      return this;
    } catch (err) {
      this.#end();
      throw err;
    }
  }

  /** @internal The worker failed: every call from now on fails with `err`. */
  fail(err: Error): void {
    this.#conn.fail(err);
    if (this.#status !== "closed") this.#end();
  }

  #end(): void {
    this.#status = "closed";
    this.#conn.fail(new SiltError("CLOSED", `the database ${this.name} is closed`));
    this.#conn.close();
    this.#onClosed();
  }

  #call(op: string, args: unknown[]): Promise<unknown> {
    if (this.#status !== "open") {
      return Promise.reject(new SiltError("CLOSED", `the database ${this.name} is ${this.#status}`));
    }
    return this.#conn.call(op, args);
  }

  #openScan(shape: ScanShape, options: ScanOptions<K> | undefined): BrowserScan<unknown> {
    if (this.#status !== "open") throw new SiltError("CLOSED", `the database ${this.name} is ${this.#status}`);
    return new BrowserScan<unknown>(this.#conn, shape, options as ScanOptions<unknown>);
  }

  /** "open", "closing" or "closed". */
  get status(): "open" | "closing" | "closed" {
    return this.#status;
  }

  /** Sets key to value. */
  put(
    key: K | string | Uint8Array,
    value: V | string | Uint8Array,
    options?: WriteOptions & ExpiryOptions,
  ): Promise<void> {
    return this.#call("put", options === undefined ? [key, value] : [key, value, options]) as Promise<void>;
  }

  /** Removes key (no error if it is absent). */
  delete(key: K | string | Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#call("delete", options === undefined ? [key] : [key, options]) as Promise<void>;
  }

  /** A new atomic batch, collected here and sent whole by `.write()`. */
  batch(): BrowserBatch<K, V>;
  /** Writes operations in the form of abstract-level atomically. */
  batch(operations: readonly BatchOperation<K, V>[], options?: WriteOptions): Promise<void>;
  batch(operations?: readonly BatchOperation<K, V>[], options?: WriteOptions): BrowserBatch<K, V> | Promise<void> {
    if (operations === undefined) {
      if (options !== undefined) {
        throw new SiltError("INVALID_ARGUMENT", "batch() takes options only with an array of operations");
      }
      if (this.#status !== "open") throw new SiltError("CLOSED", `the database ${this.name} is ${this.#status}`);
      return new BrowserBatch<K, V>((ops, checks, o) =>
        this.#call("batchChecked", [ops, checks, o]) as Promise<BatchResult>
      );
    }
    return this.#call("batch", [operations, options]) as Promise<void>;
  }

  /** Deletes every key in a range (every key without one). */
  clear(options?: ClearOptions<K>): Promise<void> {
    return this.#call("clear", [options]) as Promise<void>;
  }

  /** Deletes every key from start (inclusive) to end (exclusive). */
  deleteRange(start: K | string | Uint8Array, end: K | string | Uint8Array, options?: WriteOptions): Promise<void> {
    return this.#call("deleteRange", [start, end, options]) as Promise<void>;
  }

  /** Approximate bytes on disk of the keys in a range. */
  approximateSize(range?: RangeOptions<K>): Promise<number> {
    return this.#call("approximateSize", [range]) as Promise<number>;
  }

  /** A consistent view as of now (as of every call made before it). */
  snapshot(): BrowserSnapshot<K, V> {
    if (this.#status !== "open") throw new SiltError("CLOSED", `the database ${this.name} is ${this.#status}`);
    const id = this.#conn.nextId();
    const snap = new BrowserSnapshot<K, V>(this.#conn, id);
    // Its failure (none expected on an open database) shows on the first read.
    this.#conn.call("snapshot", [id]).catch(() => {});
    return snap;
  }

  /** The committed writes from `since` on, then live (one message per change; see Db.changes). */
  async *changes(options?: ChangesOptions): AsyncGenerator<Change<K, V>> {
    const signal = options?.signal;
    const id = this.#conn.nextId();
    await this.#call("changes", [id, options?.since]);
    let ended = false;
    const end = () => {
      if (!ended) this.#conn.call("changesClose", [id]).catch(() => {});
      ended = true;
    };
    signal?.addEventListener("abort", end, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) {
          throw new SiltError("ABORTED", "the change feed was aborted", {}, (signal as { reason?: unknown }).reason);
        }
        const next = await this.#call("changesNext", [id]) as Change<K, V> | undefined;
        if (next === undefined) {
          if (signal?.aborted) continue;
          return;
        }
        yield next;
      }
    } finally {
      signal?.removeEventListener("abort", end);
      end();
    }
  }

  /** Writes the memtable to a table file. */
  flush(): Promise<void> {
    return this.#call("flush", []) as Promise<void>;
  }

  /** Compacts every level. */
  compact(): Promise<void> {
    return this.#call("compact", []) as Promise<void>;
  }

  /** Compacts the tables overlapping [start, end]. */
  compactRange(start: K | string | Uint8Array, end: K | string | Uint8Array): Promise<void> {
    return this.#call("compactRange", [start, end]) as Promise<void>;
  }

  /** Clears a background error and lets writes go on. */
  resume(): Promise<void> {
    return this.#call("resume", []) as Promise<void>;
  }

  /** Levels, files, amplification, cache figures. */
  stats(): Promise<DbStats> {
    return this.#call("stats", []) as Promise<DbStats>;
  }

  /** Metrics in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.#call("metrics", []) as Promise<string>;
  }

  /** Resolves once no flush or compaction is pending or running (see Db.waitForCompactions). */
  waitForCompactions(): Promise<void> {
    return this.#call("waitForCompactions", []) as Promise<void>;
  }

  /** Copies the database, as of now, into a new database `name` (open it with open(name)); see Db.checkpoint. */
  checkpoint(name: string): Promise<CheckpointInfo> {
    return this.#call("checkpoint", [name]) as Promise<CheckpointInfo>;
  }

  /** Adds an incremental backup to the backup directory `backupName` (OPFS "siltdb-backup-<name>"). */
  backup(backupName: string): Promise<BackupResult> {
    return this.#call("backup", [backupName]) as Promise<BackupResult>;
  }

  /** The backups of backup directory `backupName`, oldest first. */
  listBackups(backupName: string): Promise<BackupInfo[]> {
    return this.#call("listBackups", [backupName]) as Promise<BackupInfo[]>;
  }

  /** Restores backup `id` (undefined: the latest) of `backupName` into a new database `name`. */
  restoreBackup(backupName: string, id: number | undefined, name: string): Promise<BackupInfo> {
    return this.#call("restoreBackup", [backupName, id, name]) as Promise<BackupInfo>;
  }

  /** Keeps the newest `keep` backups of `backupName`, deletes the others; resolves with their ids. */
  purgeOldBackups(backupName: string, keep: number): Promise<number[]> {
    return this.#call("purgeOldBackups", [backupName, keep]) as Promise<number[]>;
  }

  /** Closes the database, then ends the worker. A second close fails with `CLOSED`. */
  async close(): Promise<void> {
    if (this.#status !== "open") throw new SiltError("CLOSED", `the database ${this.name} is already ${this.#status}`);
    this.#status = "closing";
    try {
      await this.#conn.call("close", []);
    } finally {
      this.#end();
    }
  }

  /** Closes the database at the end of an `await using` block (nothing if it is already closed). */
  async [ASYNC_DISPOSE](): Promise<void> {
    if (this.#status === "open") await this.close();
  }
}
