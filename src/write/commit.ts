// The commit pipeline: sequences, the write-ahead log and the active memtable.
//
// A write is encoded as a log record straight into the pending group, a
// buffer in linear memory (reserve()), and committed (commit()): the core
// stamps its sequence and seals it. Writes committed in the same synchronous
// stretch form one group; at the next microtask (or at once past GROUP_BYTES)
// the group is handed to the operating system in one write (appendSync),
// then applied to the memtable in one core call, and only then do the
// writes resolve: an awaited write survives a crash of the process, and a
// write the log refused was never applied, so no read returns it. Sync
// writes resolve after the log's fdatasync, shared by every sync write
// waiting at that moment (group commit).
//
// With bufferWrites (an opt-in), a write is applied at once and resolves at
// once; its group is written within a timer tick or past GROUP_BYTES, at
// close(), flush(), and when the process exits (write/exit_flush.ts). A crash
// of the process can lose what is still buffered.
//
// Visibility: reads use `visibleSequence`, the last sequence applied to the
// memtable; `lastSequence` is the last one handed out.
//
// When the memtable reaches its limit (memtableSize, or the default grown
// with the store: write_buffer.ts) it is frozen: a new log starts (its
// records wait until the previous log is synced, see wal/log_writer.ts) and
// the memtable goes to the scheduler's flush queue.
//
// A failure of the active log (a write, a sync, or the close of the log
// before it) reaches the scheduler's background error at once, whether or
// not a write is waiting: writes are refused from then on.

import type { Scheduler } from "../background/scheduler.ts";
import { isTrap, SiltError } from "../errors.ts";
import { MAX_SEQUENCE } from "../format/internal_key.ts";
import { RECORD_OVERHEAD } from "../format/log_format.ts";
import type { MemtableHandle } from "../memtable.ts";

import { bytes } from "../wasm/instance.ts";
import { Memtable } from "../wasm/memtable.ts";
import { applyBatchRecords, commitBatchRecord, stampBatchRecord } from "../wasm/records.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { logFileName } from "../version/file_names.ts";
import type { VersionSet } from "../version/version_set.ts";
import { LogWriter } from "../wal/log_writer.ts";
import { trackPendingWrites } from "./exit_flush.ts";
import { PendingGroup } from "./pending_group.ts";

/** A group is written at once when it reaches this size. */
const GROUP_BYTES = 1 << 20;
/** Buffered groups are written past this size, or at the next timer tick. */
const BUFFERED_BYTES = 256 << 10;

interface Waiter {
  sync: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the pipeline needs from its database. */
export interface CommitContext {
  fs: Storage;
  dir: string;
  versions: VersionSet;
  scheduler: Scheduler;
  /** The bytes at which a new memtable will be frozen (asked once per memtable). */
  memtableLimit(): number;
  /** Acknowledge unsynced writes before they reach the OS (see above). */
  bufferWrites: boolean;
  onTrap(err: unknown): void;
}

/**
 * The write path of one database as the writer, maintenance, stats and
 * lifecycle see it: a log file of a directory (CommitPipeline) or WAL
 * objects of a bucket (BucketCommitPipeline, bucket_commit.ts).
 *
 * @example
 * ```ts
 * declare const pipeline: WritePipeline;
 * const at = pipeline.reserve(64);
 * // ... encode a record at `at` ...
 * await pipeline.drain();
 * ```
 */
export interface WritePipeline {
  /** The active memtable. */
  readonly mem: MemtableHandle;
  /** The last sequence handed out, and the last one visible to reads. */
  readonly lastSequence: number;
  readonly visibleSequence: number;
  /** Bytes of batch payloads committed (the user's bytes). */
  readonly userBytes: number;
  /** The current log: the log file's number, or the next WAL object's. */
  readonly logNumber: number;
  /** Bytes written to logs, and their syncs (or uploads), since open. */
  readonly logBytesWritten: number;
  readonly logSyncs: number;
  /** True when the active memtable is full. */
  readonly memtableFull: boolean;
  /** True while the log syncs (or uploads). */
  readonly busy: boolean;
  reserve(size: number): number;
  commit(record: number, payloadLength: number, count: number, sync: boolean): Promise<void>;
  /** Resolves once every committed write is written. */
  drain(): Promise<void>;
  /** Resolves once every committed write is durable. */
  syncLog(): Promise<void>;
  maybeFreeze(): void;
  freeze(): void;
  close(): Promise<void>;
  /** After a trap: lets the log go without waiting, touching nothing more. */
  abandon(): void;
  /** Records stamped but not yet applied (sequences after visibleSequence), back to back. */
  unappliedRecords(): Uint8Array[];
  /**
   * Hears of every record applied to the memtable, right after (a view of
   * records back to back, valid only during the call; it must not throw).
   */
  onApplied: ((records: Uint8Array) => void) | undefined;
}

/** The state recovery hands over. */
export interface CommitStart {
  memtable: Memtable;
  /** First log holding the memtable's data. */
  memtableLog: number;
  log: LogWriter;
  logNumber: number;
  lastSequence: number;
}

/**
 * The write path of one database.
 *
 * @example
 * ```ts
 * import { RECORD_OVERHEAD } from "../format/log_format.ts";
 * declare const writes: CommitPipeline, payloadBound: number, payloadLength: number, entryCount: number;
 * const at = writes.reserve(RECORD_OVERHEAD + payloadBound);
 * // ... encode the batch payload at at + RECORD_HEADER_SIZE ...
 * await writes.commit(at, payloadLength, entryCount, false);
 * ```
 */
export class CommitPipeline implements WritePipeline {
  readonly #ctx: CommitContext;
  mem: MemtableHandle;
  wal: LogWriter;
  logNumber: number;
  lastSequence: number;
  visibleSequence: number;
  /** Bytes of batch payloads committed (the user's bytes, for write amplification). */
  userBytes = 0;
  /** Bytes written to and syncs of the logs retired since open (the current log counts its own). */
  #retiredLogBytes = 0;
  #retiredLogSyncs = 0;
  #group = new PendingGroup();
  #waiters: Waiter[] = [];
  #scheduled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waitingForLog = false;
  #closed = false;
  #untrack: () => void;
  /** The active memtable's limit. */
  #limit: number;
  onApplied: ((records: Uint8Array) => void) | undefined;

  constructor(ctx: CommitContext, start: CommitStart) {
    this.#ctx = ctx;
    this.mem = { mt: start.memtable, firstLog: start.memtableLog, refs: 0, retired: false };
    this.wal = start.log;
    this.#watch(start.log);
    this.logNumber = start.logNumber;
    this.lastSequence = start.lastSequence;
    this.visibleSequence = start.lastSequence;
    this.#untrack = trackPendingWrites(() => this.#writeAtExit());
    this.#limit = ctx.memtableLimit();
  }

  /** Bytes of records written to every log since open. */
  get logBytesWritten(): number {
    return this.#retiredLogBytes + this.wal.bytesWritten;
  }

  /** Syncs (fdatasync) of every log since open. */
  get logSyncs(): number {
    return this.#retiredLogSyncs + this.wal.syncCount;
  }

  /** True while the log syncs. */
  get busy(): boolean {
    return this.wal.busy;
  }

  /** Resolves once every write committed so far is durable (written, then the log synced). */
  async syncLog(): Promise<void> {
    await this.drain();
    await this.wal.sync();
  }

  /** After a trap: closes the log without waiting. */
  abandon(): void {
    void this.wal.close().catch(() => {});
  }

  /** True when the active memtable is full. */
  get memtableFull(): boolean {
    return this.mem.mt.bytesUsed >= this.#limit;
  }

  /** The pending group, unless buffered writes applied it already. */
  unappliedRecords(): Uint8Array[] {
    return this.#ctx.bufferWrites || this.#group.length === 0 ? [] : [this.#group.view()];
  }

  /**
   * Address where a record of up to `size` bytes can be encoded, at the end
   * of the pending group. May grow linear memory: take views afterwards.
   */
  reserve(size: number): number {
    return this.#group.reserve(size);
  }

  /**
   * Commits the record encoded at `record` (from reserve(): header room,
   * then a batch payload of payloadLength bytes with count entries, then
   * room for the end mark; the sequence is stamped here). Resolves when the
   * write is in the OS (or buffered, with bufferWrites), durable with sync.
   */
  commit(record: number, payloadLength: number, count: number, sync: boolean): Promise<void> {
    if (!this.#group.atEnd(record)) {
      throw new Error("siltdb internal error: commit of a record not at the end of the group");
    }
    if (this.lastSequence + count > MAX_SEQUENCE) {
      throw new SiltError("INVALID_ARGUMENT", "sequence numbers are exhausted");
    }
    const sequence = this.lastSequence + 1;
    const buffered = this.#ctx.bufferWrites;
    // A trap here reaches the caller, which closes the database (Db.#trapped).
    const sealed = buffered
      ? commitBatchRecord(this.mem.mt, record, payloadLength, sequence)
      : stampBatchRecord(record, payloadLength, sequence);
    if (sealed !== count) throw new Error("siltdb internal error: the core rejected a write batch it was given");
    this.lastSequence += count;
    if (buffered) {
      this.visibleSequence = this.lastSequence;
      this.onApplied?.(bytes().subarray(record, record + RECORD_OVERHEAD + payloadLength));
    }
    this.#group.added(RECORD_OVERHEAD + payloadLength);
    this.userBytes += payloadLength;
    if (buffered && !sync) {
      if (this.#group.length >= BUFFERED_BYTES) this.#writeGroup();
      else this.#timer ??= setTimeout(() => this.#writeGroup(), 0);
      try {
        this.maybeFreeze();
      } catch {
        // reported as the background error: the next write sees it
      }
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ sync, resolve, reject }));
    if (this.#group.length >= GROUP_BYTES) this.#writeGroup();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#writeGroup());
    }
    return done;
  }

  /** Writes the pending group now (throws if the log refuses it). */
  writePending(): void {
    this.#writeGroup();
    if (this.#group.length > 0) {
      // The log is not ready (the previous one is still being synced) or failed.
      throw this.wal.failure ?? new SiltError("IO_ERROR", `the log ${this.wal.file.path} is not ready for writing`);
    }
  }

  /** Resolves once the pending group is written (waiting for the log if needed). */
  async drain(): Promise<void> {
    while (this.#group.length > 0) {
      await this.wal.whenReady();
      this.#writeGroup();
    }
  }

  /** Freezes the memtable if it is full, the flush queue has room and the log can take the pending group. */
  maybeFreeze(): void {
    if (!this.memtableFull || this.#ctx.scheduler.flushQueueFull) return;
    if (this.#group.length > 0 && !this.wal.ready) return; // the group's write freezes it
    try {
      this.freeze();
    } catch (err) {
      this.#ctx.scheduler.fail(err, "starting a new log");
      throw err;
    }
  }

  /**
   * Makes the active memtable immutable (queued for flushing) and starts a
   * new memtable and a new log. Records of the pending group go to the new
   * log and memtable (with bufferWrites, already applied, to the old log
   * first). Records wait for the new log until the old one is synced, or,
   * if the old one failed, until every memtable is flushed: nothing written
   * later may survive a crash that loses something written earlier.
   * Throws if the new log cannot be created (nothing changes then).
   */
  freeze(): void {
    if (this.#ctx.bufferWrites) this.writePending();
    const number = this.#ctx.versions.newFileNumber();
    const previous = this.wal;
    const scheduler = this.#ctx.scheduler;
    const wal = LogWriter.create(this.#ctx.fs, joinPath(this.#ctx.dir, logFileName(number)), () => {
      if (previous.failure === undefined) return previous.close();
      void previous.close().catch(() => {});
      return Promise.resolve().then(() => scheduler.waitForFlushes()); // once the frozen memtable is queued
    });
    // Counted when the old log is retired: its own count goes on for the sync at close.
    this.#retiredLogBytes += previous.bytesWritten;
    this.#retiredLogSyncs += previous.syncCount;
    this.wal = wal;
    this.#watch(wal);
    this.logNumber = number;
    const frozen = this.mem;
    this.mem = {
      mt: new Memtable(),
      firstLog: number,
      firstSequence: this.visibleSequence + 1,
      refs: 0,
      retired: false,
    };
    this.#limit = this.#ctx.memtableLimit();
    this.#ctx.scheduler.enqueueFlush(frozen);
  }

  /** Writes what is pending and closes the log (synced). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#untrack();
    try {
      await this.drain();
    } finally {
      await this.wal.close().finally(() => {
        this.#group.free();
      });
    }
  }

  /** Writes the group if the log can take it; applies it (unless buffered); settles its writes. */
  #writeGroup(): void {
    this.#scheduled = false;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const group = this.#group;
    if (group.length === 0) return;
    const wal = this.wal;
    if (!wal.ready) {
      if (wal.failure) this.#failGroup(wal.failure);
      else if (!this.#waitingForLog) {
        this.#waitingForLog = true;
        wal.whenReady().then(() => {
          this.#waitingForLog = false;
          this.#writeGroup();
        }, (err) => {
          this.#waitingForLog = false;
          this.#failGroup(err);
        });
      }
      return;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    try {
      wal.write(group.view());
    } catch (err) {
      this.#failGroup(err, waiters);
      return;
    }
    if (!this.#ctx.bufferWrites) {
      try {
        if (applyBatchRecords(this.mem.mt, group.start, group.length) < 0) {
          throw new Error("siltdb internal error: a sealed record did not apply");
        }
      } catch (err) {
        group.clear(Infinity);
        for (const w of waiters) w.reject(err);
        if (isTrap(err)) this.#ctx.onTrap(err);
        return;
      }
      this.visibleSequence = this.lastSequence;
      this.onApplied?.(group.view());
    }
    group.clear(4 * GROUP_BYTES); // a huge record grew the buffer: give the memory back
    const syncs: Waiter[] = [];
    for (const w of waiters) w.sync ? syncs.push(w) : w.resolve();
    if (syncs.length > 0) {
      wal.sync(syncs.length === 1 && waiters.length === 1).then(() => {
        for (const w of syncs) w.resolve();
      }, (err) => {
        for (const w of syncs) w.reject(err);
        this.#ctx.scheduler.fail(err, "syncing the log");
      });
    }
    try {
      this.maybeFreeze();
    } catch {
      // reported as the background error
    }
  }

  /** The group was not written: its writes fail, and so do later ones (background error). */
  #failGroup(err: unknown, waiters: Waiter[] = this.#waiters.splice(0)): void {
    this.#group.clear(Infinity);
    for (const w of waiters) w.reject(err);
    this.#ctx.scheduler.fail(err, "writing the log");
  }

  /** Reports a failure of wal, while it is the active log of an open database, as the background error. */
  #watch(wal: LogWriter): void {
    wal.onFailure((failure) => {
      if (wal === this.wal && !this.#closed) this.#ctx.scheduler.fail(failure, "the log");
    });
  }

  /** At process exit: hand whatever is pending to the OS, synchronously, if the log can take it. */
  #writeAtExit(): void {
    if (this.#group.length > 0 && this.wal.ready) this.#writeGroup();
  }
}
