// The write side of one database: put, delete, batches, clear and
// deleteRange (one range tombstone each: range_delete.ts), and the queue of writes waiting for room. A write is checked
// first (the database writable, the options, the key and value sizes: bad
// input never reaches the core), encoded as a log record straight into the
// pending group in linear memory (the entry layout is src/format/batch_format.ts)
// and committed through the commit pipeline (commit.ts) — or, while writes
// must wait (admission.ts), queued as a copy of its payload and committed in
// call order once there is room.
//
// Writes are refused with IO_ERROR while the scheduler holds a background
// error (src/background/scheduler.ts; the log reports its failures there
// too), with READ_ONLY on a read-only database.

import { checkedSize, type Encoding, storedKey } from "../encoding.ts";
import { SiltError } from "../errors.ts";
import { BATCH_HEADER_SIZE, encodeEntry, entryBound, setBatchCount } from "../format/batch_format.ts";
import { KIND_DELETE, KIND_PUT, KIND_PUT_EXPIRING, KIND_RANGE_DELETE } from "../format/internal_key.ts";
import { putExpiry } from "./expiry_options.ts";
import { rangeDeleteValue } from "../format/range_tombstone_format.ts";
import { clearSpan, deleteRangeSpan, type KeySpan } from "./range_delete.ts";
import { RECORD_HEADER_SIZE, RECORD_OVERHEAD } from "../format/log_format.ts";
import type { Lifecycle } from "../lifecycle.ts";
import { checkCallOptions, type ExpiryOptions, resolveSync, type WriteOptions } from "../options.ts";
import { resolveLimit } from "../read/scan_options.ts";
import { RANGE_OPTIONS, type RangeOptions } from "../read/range.ts";
import type { Scheduler } from "../background/scheduler.ts";
import { bytes, view } from "../wasm/instance.ts";
import type { Admission, QueuedWrite } from "./admission.ts";
import type { WritePipeline } from "./commit.ts";
import { binaryString, ConflictTracker, type Registration } from "./conflicts.ts";
import { type BatchCheck, BatchEntries, type BatchTarget } from "./write_batch.ts";

const noop = (): void => {};

/**
 * A conditional write waits at most this many times for the writes stamped
 * before it to be applied (more may keep arriving); after that it begins
 * anyway, and a conflict with them is possible (never a wrong answer).
 *
 * @example
 * ```ts
 * console.log(SETTLE_ROUNDS); // 64
 * ```
 */
export const SETTLE_ROUNDS = 64;

/**
 * clear() with a `limit` deletes its keys one by one, in one atomic batch up
 * to this many bytes of encoded deletes (key bytes + 5 per key: about
 * 400,000 keys of 16 bytes), and in consecutive batches of this size beyond
 * (without a limit, clear() writes one range tombstone).
 *
 * @example
 * ```ts
 * import { CLEAR_BATCH_BYTES, open } from "siltdb";
 * const db = await open("./data");
 * const keyBytes = (await db.keys({ prefix: "tmp:", limit: 1000 }).toArray()).reduce((n, k) => n + k.length + 5, 0);
 * console.log(keyBytes <= CLEAR_BATCH_BYTES ? "one atomic batch" : "several batches");
 * await db.clear({ prefix: "tmp:", limit: 1000 });
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

/**
 * Names of the options of clear().
 *
 * @example
 * ```ts
 * import { checkCallOptions } from "../options.ts";
 * checkCallOptions({ prefix: "session:", sync: true }, "clear", CLEAR_OPTIONS); // { prefix: "session:", sync: true }
 * ```
 */
export const CLEAR_OPTIONS: readonly string[] = [...RANGE_OPTIONS, "reverse", "limit", "sync"];

/** A source of stored keys to delete, in order (a scan cursor of shape "stored-keys"). */
export interface KeySource {
  /** False for a store in a bucket: readAsync reads it. */
  readonly synchronous: boolean;
  read(): Uint8Array | undefined;
  readAsync(): Promise<Uint8Array | undefined>;
  close(): void;
}

/** What the writer needs from its database. */
export interface WriterContext {
  path: string;
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  maxKeySize: number;
  maxValueSize: number;
  /** The default of the sync write option. */
  sync: boolean;
  /** The database's clock (epoch ms): a put's ttl counts from it. */
  clock: () => number;
  life: Lifecycle;
  scheduler: Scheduler;
  admission: Admission;
  /** The commit pipeline; undefined when the database is read-only. */
  pipeline: WritePipeline | undefined;
  /** The version of key (a user key) as of a visible sequence; undefined when absent. */
  versionOf(key: unknown, sequence: number): Promise<number | undefined>;
  /** Keeps what reads at sequence see until the returned function is called (as a snapshot does). */
  pin(sequence: number): () => void;
}

/**
 * The writes of one database.
 *
 * @example
 * ```ts
 * declare const writer: Writer; // src/open.ts makes it
 * declare const entries: Uint8Array; // a WriteBatch's 3 entries, in the batch layout
 * await writer.put("k", "v", { sync: true });
 * await writer.delete("k", undefined);
 * await writer.commitEntries(entries, 3, undefined);
 * ```
 */
export class Writer {
  readonly #ctx: WriterContext;
  /** What WriteBatch objects commit through. */
  readonly batchTarget: BatchTarget;
  /** The newest writes of each key while conditional writes are open (conflicts.ts). */
  readonly conflicts: ConflictTracker = new ConflictTracker();
  /** The last write stamped: it settles once it and every write before it are applied. */
  #lastWrite: Promise<unknown> | undefined;

  constructor(ctx: WriterContext) {
    this.#ctx = ctx;
    this.batchTarget = {
      keyEncoding: ctx.keyEncoding,
      valueEncoding: ctx.valueEncoding,
      maxKeySize: ctx.maxKeySize,
      maxValueSize: ctx.maxValueSize,
      clock: ctx.clock,
      commitEntries: (entries, count, options) => this.commitEntries(entries, count, options),
      commitChecked: (entries, count, options, checks) => this.commitChecked(entries, count, options, checks),
    };
  }

  /** Throws unless writes are accepted: CLOSED, READ_ONLY, or IO_ERROR after a background error. */
  checkWritable(): void {
    this.#ctx.life.checkOpen();
    if (this.#ctx.pipeline === undefined) throw new SiltError("READ_ONLY", `${this.#ctx.path} was opened read-only`);
    const failure = this.#ctx.scheduler.error;
    if (failure) throw this.#refusal(failure);
  }

  /** Sets key to value; resolves as a write does (see src/db.ts). */
  put(key: unknown, value: unknown, options: (WriteOptions & ExpiryOptions) | undefined): Promise<void> {
    try {
      const { expireAt, rest } = putExpiry(options, this.#ctx.clock, "put");
      if (expireAt !== undefined) return this.#write(KIND_PUT_EXPIRING, key, value, rest as WriteOptions, expireAt);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(KIND_PUT, key, value, options);
  }

  /** Removes key. */
  delete(key: unknown, options: WriteOptions | undefined): Promise<void> {
    return this.#write(KIND_DELETE, key, undefined, options);
  }

  #write(kind: number, key: unknown, value: unknown, options: WriteOptions | undefined, expireAt = 0): Promise<void> {
    const call = kind === KIND_DELETE ? "delete" : "put";
    try {
      this.checkWritable();
      const sync = resolveSync(options, this.#ctx.sync, call);
      const k = this.#ctx.keyEncoding.encode(key, "key");
      const v = kind === KIND_DELETE ? "" : this.#ctx.valueEncoding.encode(value, "value");
      return this.#commitOne(kind, k, v, sync, expireAt);
    } catch (err) {
      return Promise.reject(this.#ctx.life.trapped(err, `a ${call}`));
    }
  }

  /** Commits encoded entries (the batch layout's entries) as one atomic write; count 0 with sync: just syncs. */
  commitEntries(entries: Uint8Array, count: number, options: WriteOptions | undefined): Promise<void> {
    try {
      this.checkWritable();
      const sync = resolveSync(options, this.#ctx.sync, "write");
      const pipeline = this.#ctx.pipeline!;
      if (count === 0) return sync ? pipeline.syncLog() : Promise.resolve();
      const payloadLength = BATCH_HEADER_SIZE + entries.length;
      const record = pipeline.reserve(RECORD_OVERHEAD + payloadLength);
      const payload = record + RECORD_HEADER_SIZE;
      bytes().set(entries, payload + BATCH_HEADER_SIZE);
      setBatchCount(view(), payload, count);
      return this.#commitRecord(record, payloadLength, count, sync);
    } catch (err) {
      return Promise.reject(this.#ctx.life.trapped(err, "a batch"));
    }
  }

  /**
   * Opens a registration of conditional writes at the visible sequence:
   * until it is released, every write stamped after it is recorded in
   * `conflicts` (conflicts.ts). The database must be writable.
   */
  registerConflicts(): Registration {
    this.checkWritable();
    const pipeline = this.#ctx.pipeline!;
    return this.conflicts.register(pipeline.visibleSequence, () => {
      for (const records of pipeline.unappliedRecords()) this.conflicts.recordRecords(records);
    });
  }

  /**
   * Resolves once every write stamped so far is applied (visible to reads),
   * or at once (undefined) when none waits. Settles (never rejects) when a
   * write before it failed.
   */
  whenApplied(): Promise<void> | undefined {
    const pipeline = this.#ctx.pipeline;
    if (pipeline === undefined || pipeline.lastSequence === pipeline.visibleSequence) return undefined;
    return this.#lastWrite?.then(noop, noop);
  }

  /**
   * Commits encoded entries as one atomic write if `condition()` holds at
   * the moment the write is stamped (after any wait for room): resolves with
   * the sequence of its first entry (with no entry, the last sequence), or
   * undefined, writing nothing, when the condition failed.
   */
  commitEntriesIf(
    entries: Uint8Array,
    count: number,
    options: WriteOptions | undefined,
    condition: () => boolean,
  ): Promise<number | undefined> {
    try {
      this.checkWritable();
      const sync = resolveSync(options, this.#ctx.sync, "write");
      const { admission } = this.#ctx;
      const pipeline = this.#ctx.pipeline!;
      if (admission.mustWait()) {
        const payload = new Uint8Array(BATCH_HEADER_SIZE + entries.length);
        payload.set(entries, BATCH_HEADER_SIZE);
        setBatchCount(new DataView(payload.buffer), 0, count);
        return admission.enqueue(payload, count, sync, condition);
      }
      if (!condition()) return Promise.resolve(undefined);
      if (count === 0) {
        const last = pipeline.lastSequence;
        return sync ? pipeline.syncLog().then(() => last) : Promise.resolve(last);
      }
      const payloadLength = BATCH_HEADER_SIZE + entries.length;
      const record = pipeline.reserve(RECORD_OVERHEAD + payloadLength);
      const payload = record + RECORD_HEADER_SIZE;
      bytes().set(entries, payload + BATCH_HEADER_SIZE);
      setBatchCount(view(), payload, count);
      const sequence = pipeline.lastSequence + 1;
      return this.#commitRecord(record, payloadLength, count, sync).then(() => sequence);
    } catch (err) {
      return Promise.reject(this.#ctx.life.trapped(err, "a batch"));
    }
  }

  /**
   * Commits encoded entries as one atomic write if every checked key is
   * still at its version (null: absent) when the write is stamped; resolves
   * with the sequence of the first entry, or undefined (nothing written).
   */
  async commitChecked(
    entries: Uint8Array,
    count: number,
    options: WriteOptions | undefined,
    checks: readonly BatchCheck[],
  ): Promise<number | undefined> {
    if (checks.length === 0) return this.commitEntriesIf(entries, count, options, () => true);
    // Register (synchronously after) once what was written before is applied: read it, do not fail on it.
    for (let round = 0, pending = this.whenApplied(); pending !== undefined && round < SETTLE_ROUNDS; round++) {
      await pending;
      pending = this.whenApplied();
    }
    const reg = this.registerConflicts();
    const unpin = this.#ctx.pin(reg.readPoint);
    try {
      const keys = checks.map((c) =>
        binaryString(storedKey(this.#ctx.keyEncoding, c.key, "check key", this.#ctx.maxKeySize))
      );
      const seen: (number | null)[] = [];
      for (const c of checks) seen.push((await this.#ctx.versionOf(c.key, reg.readPoint)) ?? null);
      const current = (i: number): number | null => {
        const newest = this.conflicts.newest(keys[i]);
        if (newest === undefined || newest.sequence <= reg.readPoint) return seen[i];
        return newest.deleted ? null : newest.sequence;
      };
      return await this.commitEntriesIf(
        entries,
        count,
        options,
        () => checks.every((c, i) => current(i) === c.version),
      );
    } finally {
      unpin();
      this.conflicts.release(reg);
    }
  }

  /**
   * db.clear(): checks the options, then deletes the range as of now with
   * one range tombstone; with a `limit`, the first `limit` keys of the
   * range (in `reverse` order) one by one (`keysOf` lists them).
   */
  async clear(options: unknown, keysOf: (range: unknown, call: string) => KeySource): Promise<void> {
    this.checkWritable();
    const { sync, ...range } = checkCallOptions(options, "clear", CLEAR_OPTIONS) ?? {};
    const writeOptions: WriteOptions = { sync: resolveSync({ sync }, this.#ctx.sync, "clear") };
    if (resolveLimit(range.limit, "clear") !== Infinity) {
      await this.deleteKeys(keysOf(range, "clear"), writeOptions);
      return;
    }
    await this.#deleteSpan(clearSpan(range, this.#ctx.keyEncoding, this.#ctx.maxKeySize), writeOptions);
  }

  /** db.deleteRange(): checks the bounds, then deletes the keys from start to end (exclusive) with one range tombstone. */
  async deleteRange(start: unknown, end: unknown, options: WriteOptions | undefined): Promise<void> {
    this.checkWritable();
    const writeOptions: WriteOptions = { sync: resolveSync(options, this.#ctx.sync, "deleteRange") };
    const from = storedKey(this.#ctx.keyEncoding, start, "deleteRange start", this.#ctx.maxKeySize);
    const to = storedKey(this.#ctx.keyEncoding, end, "deleteRange end", this.#ctx.maxKeySize);
    await this.#deleteSpan(deleteRangeSpan(from, to), writeOptions);
  }

  /** Commits one range-tombstone entry for span (none: an empty write, which still syncs with sync). */
  #deleteSpan(span: KeySpan | undefined, options: WriteOptions): Promise<void> {
    const batch = new BatchEntries(64);
    if (span !== undefined) {
      const value = rangeDeleteValue(span.end);
      batch.add(KIND_RANGE_DELETE, span.start, span.start.length, value, value.length);
    }
    return this.commitEntries(batch.bytes(), batch.count, options);
  }

  /**
   * Deletes the keys `keys` yields, in batches of up to CLEAR_BATCH_BYTES,
   * each awaited (clear() with a limit); closes the source. With sync,
   * the last batch (or, with no key, the log) is synced.
   */
  async deleteKeys(keys: KeySource, options: WriteOptions): Promise<void> {
    try {
      const batch = new BatchEntries();
      for (;;) {
        const key = keys.synchronous ? keys.read() : await keys.readAsync();
        if (key !== undefined) batch.add(KIND_DELETE, key, key.length, "", 0);
        if (key === undefined || batch.byteLength >= CLEAR_BATCH_BYTES) {
          if (batch.count > 0 || (key === undefined && options.sync)) {
            await this.commitEntries(batch.bytes(), batch.count, options);
          }
          if (key === undefined) return;
          batch.truncate(0, 0);
        }
      }
    } finally {
      keys.close();
    }
  }

  /** Lets queued writes in while there is room, or fails them after a background error. */
  drainQueue(): void {
    const { life, scheduler, pipeline, admission } = this.#ctx;
    if (life.state !== "open" || pipeline === undefined) return;
    if (scheduler.error === undefined) {
      try {
        pipeline.maybeFreeze(); // a flush may have made room
      } catch {
        // reported as the background error
      }
    }
    admission.drain((w) => this.#commitQueued(w), scheduler.error ? this.#refusal(scheduler.error) : undefined);
  }

  /** Encodes one put or delete as a log record in the pending group, and commits it (or queues it). */
  #commitOne(
    kind: number,
    key: string | Uint8Array,
    value: string | Uint8Array,
    sync: boolean,
    expireAt: number,
  ): Promise<void> {
    const keyRoom = checkedSize(key, this.#ctx.maxKeySize, "key", "maxKeySize");
    const valueRoom = kind === KIND_DELETE ? 0 : checkedSize(value, this.#ctx.maxValueSize, "value", "maxValueSize");
    const pipeline = this.#ctx.pipeline!;
    const record = pipeline.reserve(RECORD_OVERHEAD + BATCH_HEADER_SIZE + entryBound(kind, keyRoom, valueRoom));
    const payload = record + RECORD_HEADER_SIZE;
    const dv = view();
    const end = encodeEntry(bytes(), dv, payload + BATCH_HEADER_SIZE, kind, key, value, expireAt);
    setBatchCount(dv, payload, 1);
    return this.#commitRecord(record, end - payload, 1, sync);
  }

  /**
   * Commits the record encoded at `record` (from reserve(), its batch
   * payload in place), or, while writes must wait, queues a copy of the payload.
   */
  #commitRecord(record: number, payloadLength: number, count: number, sync: boolean): Promise<void> {
    const { admission, pipeline } = this.#ctx;
    const payload = record + RECORD_HEADER_SIZE;
    if (admission.mustWait()) {
      return admission.enqueue(bytes().slice(payload, payload + payloadLength), count, sync).then(() => {});
    }
    if (this.conflicts.active) this.conflicts.recordBatch(bytes(), view(), payload, pipeline!.lastSequence + 1);
    const done = pipeline!.commit(record, payloadLength, count, sync);
    this.#lastWrite = done;
    return admission.pace(done, count);
  }

  /**
   * Commits a queued write, now that there is room (a conditional one only
   * if its condition still holds: else it resolves undefined).
   */
  #commitQueued(w: QueuedWrite): Promise<number | undefined> {
    try {
      this.checkWritable();
      if (w.condition !== undefined && !w.condition()) return Promise.resolve(undefined);
      const pipeline = this.#ctx.pipeline!;
      const sequence = pipeline.lastSequence + 1;
      if (w.count === 0) return w.sync ? pipeline.syncLog().then(() => sequence - 1) : Promise.resolve(sequence - 1);
      const record = pipeline.reserve(RECORD_OVERHEAD + w.payload.length);
      const payload = record + RECORD_HEADER_SIZE;
      bytes().set(w.payload, payload);
      if (this.conflicts.active) this.conflicts.recordBatch(bytes(), view(), payload, sequence);
      const done = pipeline.commit(record, w.payload.length, w.count, w.sync);
      this.#lastWrite = done;
      return done.then(() => sequence);
    } catch (err) {
      throw this.#ctx.life.trapped(err, "a write");
    }
  }

  #refusal(failure: SiltError): SiltError {
    if (failure.code === "FENCED") return failure; // for good: resume() cannot undo it
    return new SiltError(
      "IO_ERROR",
      `${this.#ctx.path} refuses writes after a failure (db.resume() retries): ${failure.message}`,
      { file: failure.file, offset: failure.offset },
      failure,
    );
  }
}
