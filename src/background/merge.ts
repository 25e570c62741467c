// A merge (a compaction that is not a trivial move), from the scheduler's
// side: reserving its output numbers, making its job, running it on the
// executor (again without the compaction filter when a snapshot taken
// meanwhile may read what the filter changed), and counting it in the
// background figures once the scheduler has installed its edit.

import type { CompactionEvent } from "../events.ts";
import type { ResolvedOptions } from "../options.ts";
import type { VersionEdit } from "../version/version_edit.ts";
import { NUM_LEVELS, totalBytes } from "../version/version.ts";
import type { VersionSet } from "../version/version_set.ts";
import type { CompactionExecutor, CompactionJob, CompactionResult, JobDone } from "../compaction/compactor.ts";
import { compactionJob, outputNumbersFor } from "../compaction/plan.ts";
import type { CompactionTask } from "../compaction/task.ts";

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

/**
 * Background figures at zero.
 *
 * @example
 * ```ts
 * const stats = newBackgroundStats();
 * console.log(stats.io.length); // 7: one per level
 * ```
 */
export function newBackgroundStats(): BackgroundStats {
  return {
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
}

/** What a merge needs from the scheduler. */
export interface MergeContext {
  versions: VersionSet;
  options: ResolvedOptions;
  executor: CompactionExecutor;
  /** Table numbers being written: the outputs are added until the merge is released. */
  pending: Set<number>;
  oldestSnapshot(): number;
  newestSnapshot(): number;
}

/** A merge's result, for the scheduler to install. */
export interface MergeOutcome {
  /** The edit that installs it (inputs deleted, outputs added). */
  edit: VersionEdit;
  /** Its outputs' table numbers. */
  outputs: number[];
  /** Counts it in `stats` and fills in `event` (once it is installed). */
  count(stats: BackgroundStats, event: CompactionEvent): void;
  /** Lets go of the reserved numbers (once it is installed, or failed to be). */
  release(): void;
}

/**
 * Runs `task` (a merge) on the context's executor and calls `done` once:
 * with the error that stopped it (its reserved numbers already released),
 * or with its outcome — synchronously from the executor's reply, so that
 * the scheduler can install it where no microtask runs (catchUp).
 *
 * @example
 * ```ts
 * import type { CompactionTask } from "../compaction/task.ts";
 * declare const ctx: MergeContext, task: CompactionTask;
 * runMerge(ctx, task, [], (err, outcome) => {
 *   if (outcome === undefined) throw err;
 *   void ctx.versions.logAndApply(outcome.edit).finally(() => outcome.release());
 * });
 * ```
 */
export function runMerge(
  ctx: MergeContext,
  task: CompactionTask,
  deleted: VersionEdit["deleted"],
  done: (err: unknown, outcome?: MergeOutcome) => void,
): void {
  const { versions, options, executor, pending } = ctx;
  const fileNumbers = Array.from(
    { length: outputNumbersFor(task, options.targetFileSize) },
    () => versions.newFileNumber(),
  );
  for (const n of fileNumbers) pending.add(n);
  const release = () => {
    for (const n of fileNumbers) pending.delete(n);
    versions.releaseFileNumbers(fileNumbers);
  };
  const failed = (err: unknown) => {
    release();
    done(err);
  };
  let job: CompactionJob;
  try {
    job = compactionJob(
      task,
      versions.current.levels,
      ctx.oldestSnapshot(),
      fileNumbers,
      options,
      ctx.newestSnapshot(),
    );
  } catch (err) {
    failed(err);
    return;
  }
  const replied: JobDone = (err, result) => {
    if (result === undefined) {
      failed(err);
      return;
    }
    if (result.entriesFiltered > 0 && ctx.newestSnapshot() > (job.newestSnapshot ?? 0)) {
      // A snapshot taken while the filter ran may read what it changed: these outputs are left to
      // the deleter (no version lists them) and the task runs again without the filter.
      for (const f of result.outputs) pending.delete(f.number);
      const again = fileNumbers.map(() => versions.newFileNumber());
      for (const n of again) pending.add(n);
      fileNumbers.push(...again);
      job = { ...job, fileNumbers: again, compactionFilter: undefined };
      executor.submit(job, replied);
      return;
    }
    const added = result.outputs.map((file) => ({ level: task.outputLevel, file }));
    // In a bucket the horizon tells readers which of their snapshots may move to the result.
    const horizon = versions.inBucket ? job.oldestSnapshot : undefined;
    done(undefined, {
      edit: { deleted, added, horizon },
      outputs: result.outputs.map((f) => f.number),
      count: (stats, event) => countMerge(stats, event, task, result),
      release,
    });
  };
  executor.submit(job, replied);
}

function countMerge(stats: BackgroundStats, event: CompactionEvent, task: CompactionTask, result: CompactionResult) {
  for (const input of task.inputs) stats.io[input.level].read += totalBytes(input.files);
  stats.io[task.outputLevel].written += result.bytesWritten;
  stats.entriesDropped += result.entriesDropped;
  stats.entriesExpired += result.entriesExpired;
  stats.entriesFiltered += result.entriesFiltered;
  stats.count++;
  event.outputFiles = result.outputs.length;
  event.bytesRead = totalBytes(task.inputs.flatMap((i) => i.files));
  event.bytesWritten = result.bytesWritten;
  event.entriesDropped = result.entriesDropped;
}
