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
//
// Catching up (catchUp(), from every read of the database; the whole story
// in docs/architecture.md): a worker's reply that a busy event loop has not
// delivered for a while (catch_up.ts) is taken by a read, its result
// installed on the spot (VersionSet.logAndApplyNow) and the lane's next task
// started, which the lane then awaits as if it had started it. What the
// install tells the rest of the database waits for the next microtask. Replies the event loop
// delivers are installed on the spot as well (#install).

import { keepAlive } from "../_runtime.ts";
import { isTrap, SiltError } from "../errors.ts";
import type { CompactionEvent } from "../events.ts";
import { type MemtableHandle, retireMemtable } from "../memtable.ts";
import type { FileMeta, VersionEdit } from "../version/version_edit.ts";
import type { CompactionExecutor } from "../compaction/compactor.ts";
import { compactEverything, compactKeyRange } from "../compaction/manual.ts";
import { compactionStart, pickTask, recordTask } from "../compaction/plan.ts";
import type { CompactionTask } from "../compaction/task.ts";
import { writeLevel0Table } from "./flush.ts";
import { CatchUpClock } from "./catch_up.ts";
import { type BackgroundStats, newBackgroundStats, runMerge } from "./merge.ts";
import type { SchedulerContext } from "./scheduler_context.ts";

/** Immutable memtables queued for flushing before a full memtable makes writes wait. */
const MAX_IMMUTABLE = 2;
/** Trivial moves installed in a row on the spot (#startAhead) before the rest is left to the lane. */
const MAX_MOVES_AHEAD = 16;

/**
 * The background work of one database.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * import type { SchedulerContext } from "./scheduler_context.ts";
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
  readonly stats: BackgroundStats = newBackgroundStats();
  #pointers: (Uint8Array | undefined)[] = [];
  #error: SiltError | undefined;
  #flushing = false;
  #compacting = false;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** A writer whose compactions run in a compactor process: the timer that installs their results. */
  #watch: ReturnType<typeof setInterval> | undefined;
  /** The lane's next task, started on the spot when the one before was installed (#startAhead). */
  #ahead: Promise<void> | undefined;
  /** True while catchUp() takes replies: what an install tells the database waits for a microtask (inside a read). */
  #catchingUp = false;
  readonly #catchUpClock = new CatchUpClock();

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

  /**
   * Called by every read of the database: takes a compaction result that
   * has waited for the event loop (catch_up.ts), installs it and starts the
   * next task (see the header). A countdown on most reads.
   */
  catchUp(): void {
    const clock = this.#catchUpClock;
    const executor = this.#ctx.executor;
    if (!clock.look() || !executor.replyWaiting || !clock.due() || this.#catchingUp) return;
    this.#catchingUp = true;
    try {
      executor.takeReplies();
    } catch (err) {
      this.fail(err, "compaction");
    } finally {
      this.#catchingUp = false;
      this.#catchUpClock.reset();
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
    if (this.#catchingUp) queueMicrotask(() => this.#ctx.changed()); // not in the middle of the caller's read
    else this.#ctx.changed();
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
      for (;;) {
        // A task started ahead (#startAhead) is awaited even after close() or an error: it is running.
        let run = this.#ahead;
        this.#ahead = undefined;
        if (run === undefined) {
          const task = this.#closed || this.#error ? undefined : this.pick();
          if (task === undefined) break;
          run = this.#execute(task, true);
        }
        await run;
      }
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
      if (task) await this.#execute(task, false);
    } catch (err) {
      this.fail(err, "compaction");
      throw this.#error ?? err;
    } finally {
      this.#compacting = false;
      this.#notify();
      this.maybeSchedule();
    }
  }

  /**
   * Runs a task and installs its result; rejects with what stopped it. A merge is installed when the
   * executor's reply comes (event loop or catchUp()), on the spot where it can be (#install), which
   * for the lane's own tasks (`lane`) starts the next one.
   */
  #execute(task: CompactionTask, lane: boolean): Promise<void> {
    const started = performance.now();
    const { deleted, event } = compactionStart(task);
    if (!task.trivialMove) {
      return this.#merge(task, deleted, event, started, lane);
    }
    const edit: VersionEdit = { deleted, added: [{ level: task.outputLevel, file: task.inputs[0].files[0] }] };
    const installed = () => {
      this.stats.trivialMoves++;
      this.#recorded(task, event, started);
    };
    try {
      const later = this.#install(edit, []);
      if (later) return later.then(installed);
      installed();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** #execute for a merge: runs it (merge.ts) and installs what it returns. */
  #merge(
    task: CompactionTask,
    deleted: VersionEdit["deleted"],
    event: CompactionEvent,
    started: number,
    lane: boolean,
  ): Promise<void> {
    return new Promise((resolve, reject) =>
      runMerge({ ...this.#ctx, pending: this.pending }, task, deleted, (err, outcome) => {
        this.#catchUpClock.reset();
        if (outcome === undefined) {
          reject(err);
          return;
        }
        const installed = () => {
          try {
            outcome.count(this.stats, event);
            outcome.release();
            this.#recorded(task, event, started);
            resolve();
          } catch (err) {
            reject(err);
          }
        };
        const failed = (err: unknown) => {
          outcome.release();
          reject(err);
        };
        let later: Promise<void> | undefined;
        try {
          later = this.#install(outcome.edit, outcome.outputs);
        } catch (err) {
          failed(err);
          return;
        }
        if (later) later.then(installed, failed);
        else {
          installed();
          if (lane) this.#startAhead();
        }
      })
    );
  }

  /**
   * Installs a compaction's edit on the spot when the manifest can sync on this thread (undefined), else
   * returns #logAndApply's promise (a sync on the pool needs a turn of the event loop a read loop withholds).
   */
  #install(edit: VersionEdit, outputs: number[]): Promise<void> | undefined {
    const { versions } = this.#ctx;
    if (!versions.canApplyNow) return this.#logAndApply(edit, outputs);
    try {
      versions.logAndApplyNow(edit);
    } catch (err) {
      for (const n of outputs) this.#protected.add(n);
      this.fail(err, "compaction"); // now: the caller's next write must see it
      throw err;
    }
    return undefined;
  }

  /** Once a task of the lane is installed on the spot: starts the next, which the lane awaits next. */
  #startAhead(): void {
    const { versions } = this.#ctx;
    // Trivial moves are installed on the spot too (the version changes at once): the lane goes on past them.
    for (let moves = 0; moves < MAX_MOVES_AHEAD && !this.#closed && !this.#error; moves++) {
      const task = this.pick();
      if (task === undefined) return;
      const before = versions.current;
      const run = this.#execute(task, true);
      run.catch(() => {}); // the lane awaits it and reports its failure
      this.#ahead = run;
      if (!task.trivialMove || versions.current === before) return;
    }
  }

  /** After a task is installed: the policy's pointers, its duration, the event, obsolete files. */
  #recorded(task: CompactionTask, event: CompactionEvent, started: number): void {
    recordTask(task, this.#pointers);
    event.durationMs = performance.now() - started;
    this.stats.ms += event.durationMs;
    const onCompaction = this.#ctx.onCompaction;
    if (onCompaction && this.#catchingUp) queueMicrotask(() => onCompaction(event));
    else onCompaction?.(event);
    this.removeObsoleteFiles();
    this.#notify();
  }
}
