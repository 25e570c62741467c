// Turning a version's levels into the next compaction job: the policy's pick
// (leveled or tiered, by the database's options) and what a job needs besides
// its task (the older runs that may hold its keys, how many output numbers to
// reserve). The scheduler of a database (src/background/scheduler.ts) and the
// compactor of a store in a bucket (src/remote_compactor.ts) both plan here.

import type { CompactionEvent } from "../events.ts";
import type { Compression } from "../format/table_format.ts";
import { type Levels, sortedRuns, totalBytes, userKeyRange } from "../version/version.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { LEVELED_DEFAULTS, pickLeveled } from "./leveled.ts";
import type { CompactionJob } from "./compactor.ts";
import type { CompactionTask } from "./task.ts";
import { pickTiered, TIERED_DEFAULTS } from "./tiered.ts";

/** The options a plan reads (a subset of ResolvedOptions). */
export interface PlanOptions {
  compaction: "leveled" | "tiered";
  l0CompactionTrigger: number;
  levelBaseBytes: number;
  targetFileSize: number;
}

/**
 * The policy's next task for `levels`, if any. `pointers` (per level, the
 * largest key of the last leveled compaction) is updated by recordTask().
 *
 * @example
 * ```ts
 * import type { Levels } from "../version/version.ts";
 * declare const levels: Levels;
 * const pointers: (Uint8Array | undefined)[] = [];
 * const options = { compaction: "leveled", l0CompactionTrigger: 4, levelBaseBytes: 10 << 20, targetFileSize: 2 << 20 } as const;
 * const task = pickTask(levels, options, pointers);
 * if (task) recordTask(task, pointers);
 * ```
 */
export function pickTask(
  levels: Levels,
  o: PlanOptions,
  pointers: (Uint8Array | undefined)[],
): CompactionTask | undefined {
  return o.compaction === "tiered"
    ? pickTiered(levels, { ...TIERED_DEFAULTS, runTrigger: o.l0CompactionTrigger })
    : pickLeveled(
      levels,
      { ...LEVELED_DEFAULTS, l0Trigger: o.l0CompactionTrigger, baseLevelBytes: o.levelBaseBytes },
      pointers,
    );
}

/**
 * Moves the round-robin pointers past a finished task's inputs.
 *
 * @example
 * ```ts
 * import type { CompactionTask } from "./task.ts";
 * declare const task: CompactionTask;
 * const pointers: (Uint8Array | undefined)[] = [];
 * recordTask(task, pointers);
 * ```
 */
export function recordTask(task: CompactionTask, pointers: (Uint8Array | undefined)[]): void {
  for (const input of task.inputs) {
    if (input.level > 0) pointers[input.level] = userKeyRange(input.files)[1];
  }
}

/**
 * The runs older than a task's output that may hold its keys (conservative:
 * every other file at or below the output level), for dropping tombstones.
 *
 * @example
 * ```ts
 * import type { Levels } from "../version/version.ts";
 * import type { CompactionTask } from "./task.ts";
 * declare const levels: Levels, task: CompactionTask;
 * const older = olderRuns(levels, task);
 * ```
 */
export function olderRuns(levels: Levels, task: CompactionTask): FileMeta[][] {
  const inputs = new Set(task.inputs.flatMap((i) => i.files.map((f) => f.number)));
  const candidates = levels.map((files, level) =>
    level < task.outputLevel ? [] : files.filter((f) => !inputs.has(f.number))
  );
  return sortedRuns(candidates).map((run) => run.files);
}

/**
 * How many output file numbers to reserve for a task: enough for its input
 * bytes in files of targetFileSize, and a few more.
 *
 * @example
 * ```ts
 * import type { CompactionTask } from "./task.ts";
 * declare const task: CompactionTask;
 * const count = outputNumbersFor(task, 2 << 20);
 * ```
 */
export function outputNumbersFor(task: CompactionTask, targetFileSize: number): number {
  return Math.ceil(totalBytes(task.inputs.flatMap((i) => i.files)) / targetFileSize) + 4;
}

/**
 * What every compaction starts from, whoever runs it (the scheduler, or a
 * compactor process): the inputs its edit deletes, and its event, whose
 * outputs and figures are filled in as it ends.
 *
 * @example
 * ```ts
 * import type { CompactionTask } from "./task.ts";
 * declare const task: CompactionTask;
 * const { deleted, event } = compactionStart(task);
 * console.log(deleted.length === event.inputFiles); // true
 * ```
 */
export function compactionStart(
  task: CompactionTask,
): { deleted: { level: number; number: number }[]; event: CompactionEvent } {
  const deleted = task.inputs.flatMap((i) => i.files.map((f) => ({ level: i.level, number: f.number })));
  const event: CompactionEvent = {
    durationMs: 0,
    fromLevel: Math.min(...task.inputs.map((i) => i.level)),
    toLevel: task.outputLevel,
    inputFiles: deleted.length,
    outputFiles: task.trivialMove ? 1 : 0,
    bytesRead: 0,
    bytesWritten: 0,
    entriesDropped: 0,
    trivialMove: task.trivialMove,
  };
  return { deleted, event };
}

/**
 * The job of a task that merges: its inputs over `levels`, keeping every
 * version `oldestSnapshot` sees, into tables numbered from `fileNumbers`;
 * expiring puts judged at the clock's time now (read here, never in the
 * worker), the compaction filter (if any) kept off versions at or below
 * `newestSnapshot` (0: no snapshot).
 *
 * @example
 * ```ts
 * import type { Levels } from "../version/version.ts";
 * import type { CompactionTask } from "./task.ts";
 * declare const task: CompactionTask, levels: Levels;
 * const job = compactionJob(task, levels, 0, [12, 13], { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4", targetFileSize: 2 << 20 });
 * ```
 */
export function compactionJob(
  task: CompactionTask,
  levels: Levels,
  oldestSnapshot: number,
  fileNumbers: number[],
  o: {
    blockSize: number;
    bloomBitsPerKey: number;
    compression: Compression;
    targetFileSize: number;
    clock?: () => number;
    compactionFilter?: string;
  },
  newestSnapshot = 0,
): CompactionJob {
  return {
    task,
    oldestSnapshot,
    now: (o.clock ?? Date.now)(),
    compactionFilter: o.compactionFilter,
    newestSnapshot,
    older: olderRuns(levels, task),
    fileNumbers,
    blockSize: o.blockSize,
    bloomBitsPerKey: o.bloomBitsPerKey,
    compression: o.compression,
    targetFileSize: levelFileSize(o.targetFileSize, task.outputLevel),
  };
}

/**
 * The size at which a compaction into `level` cuts its output tables:
 * `targetFileSize` in L1, twice as much in each level below (RocksDB's
 * target_file_size_multiplier of 2). A store of 10 million 116-byte entries
 * then holds ~150 tables rather than ~550 — below the default maxOpenFiles
 * (500), past which random gets reopen tables (their index and filter read
 * and checked again) all the time. L0 outputs are never cut.
 *
 * @example
 * ```ts
 * levelFileSize(2 << 20, 1); // 2097152
 * levelFileSize(2 << 20, 3); // 8388608
 * ```
 */
export function levelFileSize(targetFileSize: number, level: number): number {
  return level <= 1 ? targetFileSize : targetFileSize * 2 ** (level - 1);
}
