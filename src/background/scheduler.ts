// The one owner of a database's background work (as LevelDB's
// MaybeScheduleCompaction / bg_error_ / RemoveObsoleteFiles):
//
// - the immutable memtables (newest first), their flush queue and the flush
//   lane, which writes the oldest one to an L0 table (src/background/flush.ts)
//   and retires it;
// - the compaction lane: asks the policy (leveled.ts / tiered.ts) for a task
//   after every flush and compaction, runs it through an executor (inline,
//   or the worker of src/compaction/worker_executor.ts) and records the
//   result in the manifest; manual compactions take the same lane;
// - the pending outputs: file numbers being written, which nothing deletes;
// - the obsolete-file deleter (src/background/obsolete_files.ts), the only one;
// - the background error, the database's only one: the first failure of a
//   flush, a compaction, the write-ahead log (its writer reports into it,
//   src/write/commit.ts) or the manifest. It stops writes (IO_ERROR naming
//   the cause) while reads go on, is reported once through the "error"
//   event, and is cleared by db.resume() (src/maintenance.ts),
//   which retries.
//
// maybeSchedule() starts a lane only if it is idle, and a lane marks itself
// idle and calls maybeSchedule() again in the same synchronous step: work
// queued while a lane finishes is never left behind.

import { keepAlive } from "../_runtime.ts";
import { isTrap, SiltError } from "../errors.ts";
import type { CompactionEvent, FlushEvent } from "../events.ts";
import { type MemtableHandle, retireMemtable } from "../memtable.ts";
import type { ResolvedOptions } from "../options.ts";
import type { TableCache } from "../table/table_cache.ts";
import type { FileMeta, VersionEdit } from "../version/version_edit.ts";
import { NUM_LEVELS, totalBytes } from "../version/version.ts";
import type { VersionSet } from "../version/version_set.ts";
import type { BlockCache } from "../wasm/block_cache.ts";
import type { CompactionExecutor } from "../compaction/compactor.ts";
import { compactEverything, compactKeyRange } from "../compaction/manual.ts";
import { compactionJob, compactionStart, outputNumbersFor, pickTask, recordTask } from "../compaction/plan.ts";
import type { CompactionTask } from "../compaction/task.ts";
import { writeLevel0Table } from "./flush.ts";
import type { LiveFiles } from "./obsolete_files.ts";

/** Immutable memtables queued for flushing before a full memtable makes writes wait. */
const MAX_IMMUTABLE = 2;

/** Bytes moved by flushes and compactions, per level. */
export interface LevelIo {
  level: number;
  /** Bytes read from this level by compactions. */
  read: number;
  /** Bytes written to this level by flushes (L0) and compactions. */
  written: number;
}

/** Background work figures. */
export interface BackgroundStats {
  flushes: number;
  /** Bytes of tables written by flushes. */
  flushBytes: number;
  count: number;
  trivialMoves: number;
  ms: number;
  entriesDropped: number;
  /** Expired entries compactions turned into tombstones or dropped (this process). */
  entriesExpired: number;
  /** Entries the compaction filter dropped or changed (this process). */
  entriesFiltered: number;
  io: LevelIo[];
}

/** What the scheduler needs from its database. */
export interface SchedulerContext {
  dir: string;
  options: ResolvedOptions;
  versions: VersionSet;
  tables: TableCache;
  blocks: BlockCache;
  /** Sequence of the oldest live snapshot, or the last visible sequence when there is none. */
  oldestSnapshot(): number;
  /** Sequence of the newest live snapshot (or transaction), or 0 when there is none (the compaction filter's bound). */
  newestSnapshot(): number;
  /** The last sequence handed out (recorded by flush edits). */
  lastSequence(): number;
  /** First log of the active memtable: the oldest log needed once every immutable memtable is flushed. */
  activeLog(): number;
  /** Called after every change of the tree or of the error (queued writes may go on, or fail). */
  changed(): void;
  /** Called once per background error, when it is set. */
  onError(err: SiltError): void;
  /** Called when the core traps during background work: the database must close. */
  onTrap(err: unknown): void;
  /** Called when a flush is installed (after the stats count it). Must not throw. */
  onFlush?(event: FlushEvent): void;
  /** Called when a compaction or trivial move is installed (after the stats count it). Must not throw. */
  onCompaction?(event: CompactionEvent): void;
  /** Where compactions run. */
  executor: CompactionExecutor;
  /**
   * Deletes the files nothing needs any more (the one deleter: on disk
   * obsolete_files.ts, in a bucket the collector); returns the table numbers
   * deleted now, for the caches to forget.
   */
  deleteObsolete(live: LiveFiles): number[];
}

/**
 * The background work of one database.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * declare const ctx: SchedulerContext; // what src/open.ts wires
 * declare const frozen: MemtableHandle; // a full memtable the commit pipeline froze
 * const scheduler = new Scheduler(ctx);
 * scheduler.maybeSchedule(); // recovered tables may need compacting
 * scheduler.enqueueFlush(frozen); // the flush lane writes it to an L0 table
 * await scheduler.waitForFlushes(); // rejects with the background error, if any
 * await scheduler.compactAll();
 * await scheduler.close();
 * ```
 */
export class Scheduler {
  readonly #ctx: SchedulerContext;
  readonly #immutables: MemtableHandle[] = [];
  /** Table numbers being written (flush or compaction outputs), not yet in a version. */
  readonly pending: Set<number> = new Set();
  /** Outputs of edits whose manifest write failed: the edit may be on disk, so they stay until a new manifest. */
  readonly #protected = new Set<number>();
  readonly stats: BackgroundStats = {
    flushes: 0,
    flushBytes: 0,
    count: 0,
    trivialMoves: 0,
    ms: 0,
    entriesDropped: 0,
    entriesExpired: 0,
    entriesFiltered: 0,
    io: Array.from({ length: NUM_LEVELS }, (_, level) => ({ level, read: 0, written: 0 })),
  };
  #pointers: (Uint8Array | undefined)[] = [];
  #error: SiltError | undefined;
  #flushing = false;
  #compacting = false;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** A writer whose compactions run in a compactor process: the timer that installs their results. */
  #watch: ReturnType<typeof setInterval> | undefined;

  constructor(ctx: SchedulerContext) {
    this.#ctx = ctx;
    const o = ctx.options;
    // A writer of a bucket looks at the manifest every refreshInterval: a newer writer fences it within
    // that time (it stops writing, and the new one's open goes on), and a remote compactor's work lands.
    if (ctx.versions.inBucket && !o.readOnly) {
      this.#watch = setInterval(() => void this.refreshBucket().catch(() => {}), o.refreshInterval || 1000);
      keepAlive(this.#watch, false);
    }
  }

  /** True when a compactor process compacts this store (compactionMode "remote"). */
  get remote(): boolean {
    return this.#ctx.options.compactionMode === "remote";
  }

  /**
   * A writer of a bucket: installs the newest manifest (what a compactor
   * process committed, so that writes waiting on L0 go on and obsolete
   * tables are collected), and finds out whether a newer writer claimed the
   * store: FENCED becomes the background error. Other failures are retried
   * by the next refresh.
   */
  async refreshBucket(): Promise<void> {
    if (this.#closed || !this.#ctx.versions.inBucket) return;
    try {
      await this.#ctx.versions.refreshBucket();
    } catch (err) {
      if (err instanceof SiltError && err.code === "FENCED") this.fail(err, "refreshing the manifest");
      throw err;
    }
    this.removeObsoleteFiles();
    this.#notify();
  }

  /** The background error, if any: writes are refused until db.resume() clears it. */
  get error(): SiltError | undefined {
    return this.#error;
  }

  /** True while a flush or a compaction runs. */
  get busy(): boolean {
    return this.#flushing || this.#compacting;
  }

  /** True while a flush or compaction runs, a memtable waits for its flush, or the policy picks a compaction. */
  get pendingWork(): boolean {
    return this.busy || this.#immutables.length > 0 || (!this.#ctx.options.readOnly && this.pick() !== undefined);
  }

  /** Memtables waiting to be flushed, newest first (readers search them after the active one). */
  get immutables(): readonly MemtableHandle[] {
    return this.#immutables;
  }

  /** True when the flush queue is full: a full active memtable must wait instead of freezing. */
  get flushQueueFull(): boolean {
    return this.#immutables.length >= MAX_IMMUTABLE;
  }

  /** Queues a frozen memtable for flushing. */
  enqueueFlush(handle: MemtableHandle): void {
    this.#immutables.unshift(handle);
    this.maybeSchedule();
  }

  /** Frees the immutable memtables (at close; readers are gone). */
  freeMemtables(): void {
    for (const h of this.#immutables) h.mt.free();
  }

  /** Starts each idle lane that has work. */
  maybeSchedule(): void {
    if (this.#closed || this.#error) return;
    if (!this.#flushing && this.#immutables.length > 0) {
      this.#flushing = true;
      void this.#runFlushes();
    }
    if (!this.#compacting && this.pick() !== undefined) {
      this.#compacting = true;
      void this.#runCompactions();
    }
  }

  /** Records a failure from outside the lanes (the write-ahead log). */
  fail(err: unknown, what: string): void {
    if (isTrap(err)) {
      this.#ctx.onTrap(err);
      return;
    }
    if (this.#closed && err instanceof SiltError && err.code === "CLOSED") return;
    if (this.#error === undefined) {
      this.#error = err instanceof SiltError && err.code !== "INVALID_ARGUMENT"
        ? err
        : new SiltError("IO_ERROR", `${what} failed: ${err instanceof Error ? err.message : String(err)}`, {}, err);
      this.#ctx.onError(this.#error);
    }
    this.#notify();
  }

  /**
   * Clears the background error once the running jobs stopped, after
   * starting a new manifest if the last one could not be written.
   * Throws (keeping an error) if that fails.
   */
  async clearError(): Promise<void> {
    await this.idle();
    if (this.#closed) return;
    const { versions } = this.#ctx;
    if (!versions.healthy) {
      try {
        await versions.writeSnapshot();
      } catch (err) {
        this.#error = undefined;
        this.fail(err, "writing a new manifest");
        throw this.#error;
      }
      this.#protected.clear();
    }
    if (versions.inBucket) {
      // A commit whose answer was lost may have landed: plan from the newest manifest, not from before it
      // (read by its number: listings may not show it yet).
      try {
        await versions.refreshBucket({ exact: true });
      } catch (err) {
        if (this.#error?.code !== "FENCED") this.#error = undefined;
        this.fail(err, "reading the manifest");
        throw this.#error;
      }
      this.#dropFlushedImmutables();
    }
    this.#error = undefined;
    this.removeObsoleteFiles();
  }

  /** Resolves when no memtable waits for a flush; rejects with the background error. */
  async waitForFlushes(): Promise<void> {
    while (this.#immutables.length > 0 || this.#flushing) {
      if (this.#error) throw this.#error;
      if (this.#closed) return;
      await this.#changed();
    }
    if (this.#error) throw this.#error;
  }

  /**
   * Resolves when no flush or compaction is queued or running (and the
   * policy picks none); rejects with the background error, CLOSED when the
   * scheduler closes, ABORTED when `signal` aborts (db.waitForCompactions).
   */
  async settle(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#error) throw this.#error;
      if (this.#closed) throw new SiltError("CLOSED", `${this.#ctx.dir} closed while waiting for compactions`);
      if (signal?.aborted) {
        throw new SiltError("ABORTED", "waitForCompactions was aborted", {}, (signal as { reason?: unknown }).reason);
      }
      this.maybeSchedule();
      if (!this.pendingWork) return;
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        onAbort = resolve;
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      signal?.removeEventListener("abort", onAbort!);
    }
  }

  /** Resolves when neither lane runs. */
  async idle(): Promise<void> {
    while (this.#flushing || this.#compacting) await this.#changed();
  }

  /** The policy's next task for the current version, if any. */
  pick(): CompactionTask | undefined {
    const o = this.#ctx.options;
    if (o.compactionMode === "remote") return undefined; // a compactor process compacts (src/remote_compactor.ts)
    return pickTask(this.#ctx.versions.current.levels, o, this.#pointers);
  }

  /** Merges every table into the last level used (dropping everything no snapshot can see). */
  compactAll(): Promise<void> {
    return this.#manual(() => compactEverything(this.#ctx.versions.current.levels));
  }

  /** Merges the tables holding keys in [lo, hi] (user keys) down to the deepest level involved. */
  compactRange(lo: Uint8Array, hi: Uint8Array): Promise<void> {
    return this.#manual(() => compactKeyRange(this.#ctx.versions.current.levels, lo, hi));
  }

  /** The executor compactions run on. */
  get executor(): CompactionExecutor {
    return this.#ctx.executor;
  }

  /** Stops scheduling, waits for running jobs, closes the executor. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const resolve of this.#waiters.splice(0)) resolve(); // settle() learns of it
    if (this.#watch !== undefined) clearInterval(this.#watch);
    await this.idle();
    await this.#ctx.executor.close();
  }

  /** Deletes the files nothing needs any more (see obsolete_files.ts). */
  removeObsoleteFiles(): void {
    const { versions, options, tables, blocks } = this.#ctx;
    if (options.readOnly) return;
    const keep = new Set([...this.pending, ...this.#protected]);
    const removed = this.#ctx.deleteObsolete({
      tables: versions.liveTables(),
      keep,
      logNumber: versions.logNumber,
      manifestNumber: versions.healthy && !versions.switching ? versions.manifestNumber : undefined,
    });
    for (const n of removed) {
      tables.evict(n);
      blocks.forgetFile(n);
    }
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #notify(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
    if (this.#watch !== undefined && this.remote) {
      // Writes may wait on L0 for the compactor's work: its refresh must keep the process alive then.
      keepAlive(this.#watch, this.#ctx.versions.current.levels[0].length >= this.#ctx.options.l0SlowdownTrigger);
    }
    this.#ctx.changed();
  }

  async #runFlushes(): Promise<void> {
    try {
      while (this.#immutables.length > 0 && !this.#error && !this.#closed) {
        await this.#flushOldest();
        this.removeObsoleteFiles();
        this.#notify();
      }
    } catch (err) {
      this.fail(err, "flush");
    } finally {
      this.#flushing = false;
      this.#notify();
      this.maybeSchedule();
    }
  }

  /**
   * Retires the immutable memtables the manifest already records as flushed:
   * a flush whose commit landed although its answer was lost (seen once the
   * manifest is read again) must not be written a second time. A flush
   * records the next memtable's first log (#flushOldest), and a memtable
   * holding writes starts at a log before its successor's, so the manifest's
   * log number reaches the successor's first log only once it was flushed.
   */
  #dropFlushedImmutables(): void {
    const { versions } = this.#ctx;
    while (this.#immutables.length > 0) {
      if (versions.logNumber < this.#logAfterOldest()) return;
      retireMemtable(this.#immutables.pop()!);
    }
  }

  /** The first log of the memtable after the oldest immutable one (the next immutable, or the active memtable). */
  #logAfterOldest(): number {
    const n = this.#immutables.length;
    return n >= 2 ? this.#immutables[n - 2].firstLog : this.#ctx.activeLog();
  }

  /** Writes the oldest immutable memtable to an L0 table and records it with the log it frees. */
  async #flushOldest(): Promise<void> {
    const { versions, options } = this.#ctx;
    const started = performance.now();
    const handle = this.#immutables[this.#immutables.length - 1];
    const number = versions.newFileNumber();
    const added: { level: number; file: FileMeta }[] = [];
    this.pending.add(number);
    try {
      if (handle.mt.count > 0) {
        added.push({
          level: 0,
          file: await writeLevel0Table(
            this.#ctx.tables.files.target,
            number,
            handle.mt,
            options,
            versions.current.levels,
          ),
        });
      }
      // Logs older than the next memtable's first log now hold nothing unflushed.
      const logNumber = this.#logAfterOldest();
      await this.#logAndApply({ added, logNumber, lastSequence: this.#ctx.lastSequence() }, [number]);
    } finally {
      this.pending.delete(number);
      versions.releaseFileNumbers([number]);
    }
    this.#immutables.pop();
    retireMemtable(handle);
    this.stats.flushes++;
    for (const { file } of added) {
      this.stats.flushBytes += file.size;
      this.stats.io[0].written += file.size;
    }
    if (this.#ctx.onFlush) {
      const durationMs = performance.now() - started;
      for (const { level, file } of added) {
        this.#ctx.onFlush({ durationMs, entries: file.entries, bytes: file.size, file: file.number, level });
      }
    }
  }

  /** Logs an edit; if the manifest write fails, the outputs stay until a new manifest (the edit may be on disk). */
  async #logAndApply(edit: VersionEdit, outputs: number[]): Promise<void> {
    try {
      await this.#ctx.versions.logAndApply(edit);
    } catch (err) {
      for (const n of outputs) this.#protected.add(n);
      throw err;
    }
  }

  async #runCompactions(): Promise<void> {
    try {
      for (let task = this.pick(); task && !this.#closed && !this.#error; task = this.pick()) await this.#execute(task);
    } catch (err) {
      this.fail(err, "compaction");
    } finally {
      this.#compacting = false;
      this.#notify();
      this.maybeSchedule();
    }
  }

  async #manual(build: () => CompactionTask | undefined): Promise<void> {
    if (this.remote) {
      throw new SiltError(
        "UNSUPPORTED",
        `${this.#ctx.dir} compacts in a compactor process (compaction "remote"): run \`siltdb compactor\` or runCompactor()`,
      );
    }
    while (this.#compacting) {
      if (this.#error) throw this.#error;
      await this.#changed();
    }
    if (this.#error) throw this.#error;
    if (this.#closed) throw new SiltError("CLOSED", `${this.#ctx.dir} is closing`);
    this.#compacting = true;
    try {
      const task = build();
      if (task) await this.#execute(task);
    } catch (err) {
      this.fail(err, "compaction");
      throw this.#error ?? err;
    } finally {
      this.#compacting = false;
      this.#notify();
      this.maybeSchedule();
    }
  }

  async #execute(task: CompactionTask): Promise<void> {
    const { versions, options } = this.#ctx;
    const started = performance.now();
    const { deleted, event } = compactionStart(task);
    if (task.trivialMove) {
      const file = task.inputs[0].files[0];
      await versions.logAndApply({ deleted, added: [{ level: task.outputLevel, file }] });
      this.stats.trivialMoves++;
    } else {
      const inputBytes = totalBytes(task.inputs.flatMap((i) => i.files));
      const fileNumbers = Array.from(
        { length: outputNumbersFor(task, options.targetFileSize) },
        () => versions.newFileNumber(),
      );
      for (const n of fileNumbers) this.pending.add(n);
      try {
        let job = compactionJob(
          task,
          versions.current.levels,
          this.#ctx.oldestSnapshot(),
          fileNumbers,
          options,
          this.#ctx.newestSnapshot(),
        );
        let result = await this.#ctx.executor.run(job);
        if (result.entriesFiltered > 0 && this.#ctx.newestSnapshot() > (job.newestSnapshot ?? 0)) {
          // A snapshot taken while the filter ran may read what it changed: these outputs are left to
          // the deleter (no version lists them) and the task runs again without the filter.
          for (const f of result.outputs) this.pending.delete(f.number);
          const again = fileNumbers.map(() => versions.newFileNumber());
          for (const n of again) this.pending.add(n);
          fileNumbers.push(...again);
          job = { ...job, fileNumbers: again, compactionFilter: undefined };
          result = await this.#ctx.executor.run(job);
        }
        const outputs = result.outputs.map((file) => ({ level: task.outputLevel, file }));
        // In a bucket the horizon tells readers which of their snapshots may move to the result.
        const horizon = versions.inBucket ? job.oldestSnapshot : undefined;
        await this.#logAndApply({ deleted, added: outputs, horizon }, result.outputs.map((f) => f.number));
        for (const input of task.inputs) this.stats.io[input.level].read += totalBytes(input.files);
        this.stats.io[task.outputLevel].written += result.bytesWritten;
        this.stats.entriesDropped += result.entriesDropped;
        this.stats.entriesExpired += result.entriesExpired;
        this.stats.entriesFiltered += result.entriesFiltered;
        this.stats.count++;
        event.outputFiles = result.outputs.length;
        event.bytesRead = inputBytes;
        event.bytesWritten = result.bytesWritten;
        event.entriesDropped = result.entriesDropped;
      } finally {
        for (const n of fileNumbers) this.pending.delete(n);
        versions.releaseFileNumbers(fileNumbers);
      }
    }
    recordTask(task, this.#pointers);
    event.durationMs = performance.now() - started;
    this.stats.ms += event.durationMs;
    this.#ctx.onCompaction?.(event);
    this.removeObsoleteFiles();
    this.#notify();
  }
}
