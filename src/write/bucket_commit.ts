// The commit pipeline of a store in a bucket: sequences, WAL objects and the
// active memtable. A write is encoded into the pending group as for a log
// file (commit.ts) and stamped; the group is uploaded as one WAL object
// (src/object_store/wal_objects.ts: a create-only PUT) as soon as the
// previous upload is done — no timer: writes that arrive during an upload
// go into the next object. Once an object is stored, its writes are applied
// to the memtable, become visible, and resolve: every awaited write, with
// or without sync, is durable in the bucket.
//
// An upload refused because the number is taken means a newer writer fenced
// this one: FENCED, for good. Any other failure of an upload is the
// background error (resume() retries); the writes of that group fail.
//
// Each WAL object's writes land in one memtable, and a memtable's first WAL
// object (MemtableHandle.firstLog) tells which objects a flush frees. The
// writes of an object are applied only once it is stored, and logNumber
// moves past it only then: a memtable frozen while an object is in flight
// (flush() or resume() at that moment) ends before it, and the new one,
// starting at that object's number, receives its writes.

import type { Scheduler } from "../background/scheduler.ts";
import { isTrap, SiltError } from "../errors.ts";
import { MAX_SEQUENCE } from "../format/internal_key.ts";
import { RECORD_OVERHEAD } from "../format/log_format.ts";
import type { MemtableHandle } from "../memtable.ts";
import type { ObjectStore } from "../object_store/object_store.ts";
import { walKey } from "../object_store/bucket_layout.ts";
import { FENCE_METADATA, putWalObject } from "../object_store/wal_objects.ts";
import { copyIn, freeBuffer } from "../wasm/instance.ts";
import { Memtable } from "../wasm/memtable.ts";
import { applyBatchRecords, stampBatchRecord } from "../wasm/records.ts";
import type { WritePipeline } from "./commit.ts";
import { PendingGroup } from "./pending_group.ts";

/** Past this size a group is uploaded as soon as the upload before it is done, and the next group starts. */
const GROUP_BYTES = 4 << 20;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the pipeline needs from its database. */
export interface BucketCommitContext {
  store: ObjectStore;
  scheduler: Scheduler;
  /** The bytes at which a new memtable will be frozen (asked once per memtable). */
  memtableLimit(): number;
  /** The writer's epoch (for messages). */
  epoch: number;
  onTrap(err: unknown): void;
  /**
   * Before each WAL object: rejects with FENCED if a newer writer has
   * claimed the store since this one last looked (done only when that look
   * is getting old: a fence is never collected sooner than gcMinAge after it
   * was made, so a writer that looked within gcMinAge / 2 meets it).
   */
  checkEpoch?(): Promise<void> | undefined;
}

/** The state recovery hands over. */
export interface BucketCommitStart {
  memtable: Memtable;
  /** First WAL object holding the memtable's data. */
  memtableLog: number;
  /** The number of the next WAL object (after the fence). */
  nextWal: number;
  lastSequence: number;
}

/**
 * The write path of a store in a bucket.
 *
 * @example
 * ```ts
 * import { RECORD_OVERHEAD } from "../format/log_format.ts";
 * declare const pipeline: BucketCommitPipeline, payloadLength: number;
 * const at = pipeline.reserve(RECORD_OVERHEAD + payloadLength);
 * // ... encode the batch payload at at + RECORD_HEADER_SIZE ...
 * await pipeline.commit(at, payloadLength, 1, false); // resolves once its WAL object is stored
 * ```
 */
export class BucketCommitPipeline implements WritePipeline {
  readonly #ctx: BucketCommitContext;
  mem: MemtableHandle;
  /** The number of the next WAL object. */
  logNumber: number;
  lastSequence: number;
  visibleSequence: number;
  userBytes = 0;
  #bytesWritten = 0;
  #uploads = 0;
  #group = new PendingGroup();
  #waiters: Waiter[] = [];
  #uploading = false;
  /** True while a WAL object's PUT is out (the memtable must not change then). */
  #scheduled = false;
  /** The last upload that failed: it may have landed all the same (its answer lost). */
  #failed: { n: number; records: Uint8Array; last: number } | undefined;
  /** The records of the upload under way. */
  #inFlight: Uint8Array | undefined;
  #idle: (() => void)[] = [];
  /** The active memtable's limit. */
  #limit: number;

  constructor(ctx: BucketCommitContext, start: BucketCommitStart) {
    this.#ctx = ctx;
    this.#limit = ctx.memtableLimit();
    this.mem = { mt: start.memtable, firstLog: start.memtableLog, refs: 0, retired: false };
    this.logNumber = start.nextWal;
    this.lastSequence = start.lastSequence;
    this.visibleSequence = start.lastSequence;
  }

  get logBytesWritten(): number {
    return this.#bytesWritten;
  }

  /** WAL objects uploaded since open (each as durable as a sync). */
  get logSyncs(): number {
    return this.#uploads;
  }

  get memtableFull(): boolean {
    return this.mem.mt.bytesUsed >= this.#limit;
  }

  get busy(): boolean {
    return this.#uploading;
  }

  reserve(size: number): number {
    return this.#group.reserve(size);
  }

  onApplied: ((records: Uint8Array) => void) | undefined;

  /** A failed upload's records (they may have landed), the one under way, the pending group. */
  unappliedRecords(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.#failed !== undefined) out.push(this.#failed.records);
    if (this.#inFlight !== undefined) out.push(this.#inFlight);
    if (this.#group.length > 0) out.push(this.#group.view());
    return out;
  }

  commit(record: number, payloadLength: number, count: number, _sync: boolean): Promise<void> {
    if (!this.#group.atEnd(record)) {
      throw new Error("siltdb internal error: commit of a record not at the end of the group");
    }
    if (this.lastSequence + count > MAX_SEQUENCE) {
      throw new SiltError("INVALID_ARGUMENT", "sequence numbers are exhausted");
    }
    if (stampBatchRecord(record, payloadLength, this.lastSequence + 1) !== count) {
      throw new Error("siltdb internal error: the core rejected a write batch it was given");
    }
    this.lastSequence += count;
    this.#group.added(RECORD_OVERHEAD + payloadLength);
    this.userBytes += payloadLength;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#uploading && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        void this.#upload();
      });
    }
    return done;
  }

  /** Resolves once every committed write is stored (rejects with the background error). */
  async drain(): Promise<void> {
    while (this.#uploading || this.#scheduled || this.#group.length > 0) {
      if (this.#ctx.scheduler.error) throw this.#ctx.scheduler.error;
      if (!this.#uploading && !this.#scheduled) void this.#upload();
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
  }

  /** Every stored write is durable: the same as drain(). */
  syncLog(): Promise<void> {
    return this.drain();
  }

  maybeFreeze(): void {
    if (!this.memtableFull || this.#ctx.scheduler.flushQueueFull || this.#uploading) return;
    this.freeze();
  }

  /** Makes the active memtable immutable (queued for flushing); the next WAL object's writes go to a new one. */
  freeze(): void {
    const frozen = this.mem;
    this.mem = {
      mt: new Memtable(),
      firstLog: this.logNumber,
      firstSequence: this.visibleSequence + 1,
      refs: 0,
      retired: false,
    };
    this.#limit = this.#ctx.memtableLimit();
    this.#ctx.scheduler.enqueueFlush(frozen);
  }

  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.#group.free();
    }
  }

  abandon(): void {
    for (const w of this.#waiters.splice(0)) w.reject(new SiltError("CLOSED", "the database was closed"));
  }

  /** Uploads the pending group as the next WAL object, then the one gathered meanwhile, and so on. */
  async #upload(): Promise<void> {
    if (this.#uploading) return;
    this.#uploading = true;
    try {
      if (this.#failed !== undefined && !(await this.#settleFailed(this.#failed))) return;
      while (this.#group.length > 0 && this.#ctx.scheduler.error === undefined) {
        const records = this.#group.view().slice(); // out of linear memory: it may grow during the upload
        this.#inFlight = records;
        const waiters = this.#waiters;
        this.#waiters = [];
        const last = this.lastSequence;
        this.#group.clear(4 * GROUP_BYTES);
        const n = this.logNumber;
        try {
          await this.#ctx.checkEpoch?.();
        } catch (err) {
          for (const w of waiters) w.reject(err);
          this.#failPending(err);
          this.#ctx.scheduler.fail(err, "checking the writer's epoch");
          return;
        }
        try {
          this.#bytesWritten += await putWalObject(this.#ctx.store, n, records, this.#ctx.epoch);
        } catch (err) {
          this.#inFlight = undefined;
          if (!(err instanceof SiltError && err.code === "FENCED")) this.#failed = { n, records, last };
          for (const w of waiters) w.reject(err);
          this.#failPending(err);
          this.#ctx.scheduler.fail(err, "writing a WAL object");
          return;
        }
        this.#inFlight = undefined;
        this.logNumber = n + 1;
        this.#uploads++;
        try {
          this.#apply(records);
        } catch (err) {
          for (const w of waiters) w.reject(err);
          if (isTrap(err)) this.#ctx.onTrap(err);
          return;
        }
        this.visibleSequence = last;
        for (const w of waiters) w.resolve();
        if (!this.#ctx.scheduler.flushQueueFull && this.memtableFull) this.freeze(); // between two uploads
      }
      if (this.#ctx.scheduler.error !== undefined) this.#failPending(this.#ctx.scheduler.error);
    } finally {
      this.#uploading = false;
      for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /**
   * Before the first upload after a failed one: whether that one landed (its
   * answer may have been lost). Landed: its writes are durable, so they are
   * applied too (their callers were told they failed, as with a log file a
   * failed write may still have reached), and the next object takes the next
   * number. A fence there: FENCED. False when the store still fails.
   */
  async #settleFailed(failed: { n: number; records: Uint8Array; last: number }): Promise<boolean> {
    let head;
    try {
      head = await this.#ctx.store.head(walKey(failed.n));
    } catch (err) {
      this.#failPending(err);
      this.#ctx.scheduler.fail(err, "checking the WAL object of a failed write");
      return false;
    }
    this.#failed = undefined;
    if (head === undefined) return true;
    if (head.metadata[FENCE_METADATA] !== undefined) {
      const fenced = new SiltError(
        "FENCED",
        `${this.#ctx.store.location}: a newer writer (epoch ${head.metadata[FENCE_METADATA]}) fenced this one ` +
          `(epoch ${this.#ctx.epoch}) at WAL object ${failed.n}; this writer refuses every write from now on`,
        { file: `${this.#ctx.store.location}${walKey(failed.n)}` },
      );
      this.#failPending(fenced);
      this.#ctx.scheduler.fail(fenced, "writing a WAL object");
      return false;
    }
    this.#apply(failed.records);
    this.visibleSequence = Math.max(this.visibleSequence, failed.last);
    this.logNumber = failed.n + 1;
    return true;
  }

  /** Applies stored records to the active memtable. */
  #apply(records: Uint8Array): void {
    const ptr = copyIn(records);
    try {
      if (applyBatchRecords(this.mem.mt, ptr, records.length) < 0) {
        throw new Error("siltdb internal error: a sealed record did not apply");
      }
    } finally {
      freeBuffer(ptr);
    }
    this.onApplied?.(records);
  }

  /** The writes gathered after a failed upload fail too: writes are refused from now on. */
  #failPending(err: unknown): void {
    this.#group.clear(Infinity);
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}
