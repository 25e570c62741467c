// Size-tiered ("universal") compaction, pure: level state in, task out.
//
// Sorted runs, newest first: every L0 file is a run, then every non-empty
// level L1.. is one run. When there are at least `runTrigger` runs:
//
// 1. space: if the runs other than the oldest hold more than
//    `maxSpaceAmplification` times the oldest's bytes, merge everything;
// 2. size ratio: starting from the newest run, take the next older run while
//    it is at most (1 + sizeRatio) times the bytes taken so far; merge them if
//    that is at least 2 runs;
// 3. otherwise merge the newest runs so that `runTrigger - 1` remain.
//
// Merged runs always start at the newest, so the output is newer than every
// run left out. It goes to the deepest level among the inputs; when the
// inputs are only L0 files, to the deepest empty level above the first
// older non-empty level (or back to L0 when older L0 files remain, as one
// table: every L0 file is a run; src/compaction/compactor.ts).

import { type Levels, sortedRuns, totalBytes } from "../version/version.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { CompactionTask } from "./task.ts";

/** Knobs of the tiered policy. */
export interface TieredOptions {
  /** Sorted runs that trigger a compaction. Default 4. */
  runTrigger: number;
  /** Relative size slack when gathering runs of similar size. Default 1 (next run <= 2x the sum). */
  sizeRatio: number;
  /** Bytes of newer runs per byte of the oldest run that trigger a full merge. Default 2. */
  maxSpaceAmplification: number;
}

/**
 * Defaults.
 *
 * @example
 * ```ts
 * const o: TieredOptions = { ...TIERED_DEFAULTS, runTrigger: 8 }; // as the scheduler applies l0CompactionTrigger
 * ```
 */
export const TIERED_DEFAULTS: TieredOptions = { runTrigger: 4, sizeRatio: 1, maxSpaceAmplification: 2 };

interface Run {
  level: number;
  files: FileMeta[];
  bytes: number;
}

/** Sorted runs, newest first, with their bytes. */
function runsWithBytes(levels: Levels): Run[] {
  return sortedRuns(levels).map((run) => ({ ...run, bytes: totalBytes(run.files) }));
}

/**
 * The next compaction, or undefined when there are fewer runs than the trigger.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version;
 * const task = pickTiered(version.levels, TIERED_DEFAULTS);
 * if (task !== undefined) console.log(task.reason, task.outputLevel); // e.g. "size ratio over 3 runs" 5
 * ```
 */
export function pickTiered(levels: Levels, o: TieredOptions): CompactionTask | undefined {
  const runs = runsWithBytes(levels);
  if (runs.length < o.runTrigger) return undefined;
  const oldest = runs[runs.length - 1];
  const newer = runs.length > 1 ? totalBytes(runs.slice(0, -1).flatMap((r) => r.files)) : 0;
  let take: number;
  let reason: string;
  if (oldest.bytes > 0 && newer > o.maxSpaceAmplification * oldest.bytes) {
    take = runs.length;
    reason = `space amplification ${(newer / oldest.bytes).toFixed(2)}`;
  } else {
    take = 1;
    let sum = runs[0].bytes;
    while (take < runs.length && runs[take].bytes <= (1 + o.sizeRatio) * sum) sum += runs[take++].bytes;
    reason = `size ratio over ${take} runs`;
    if (take < 2) {
      take = runs.length - o.runTrigger + 2;
      reason = `${runs.length} sorted runs`;
    }
  }
  const chosen = runs.slice(0, take);
  const deepest = Math.max(...chosen.map((r) => r.level));
  let outputLevel = deepest;
  if (deepest === 0) {
    const olderL0Left = take < levels[0].length;
    const firstOlder = runs[take]?.level ?? levels.length;
    outputLevel = olderL0Left ? 0 : firstOlder - 1;
    if (outputLevel < 0) outputLevel = 0;
  }
  const byLevel = new Map<number, FileMeta[]>();
  for (const r of chosen) byLevel.set(r.level, [...(byLevel.get(r.level) ?? []), ...r.files]);
  return {
    inputs: [...byLevel].map(([level, files]) => ({ level, files })),
    outputLevel,
    trivialMove: false,
    reason,
  };
}
