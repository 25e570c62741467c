// Leveled compaction (LevelDB's policy), pure: level state in, task out.
//
// L0 compacts into L1 when it holds `l0Trigger` files (all L0 files, with the
// L1 files they overlap). Level n >= 1 has a byte target, base * 10^(n-1);
// the level with the highest score (L0: files / trigger, Ln: bytes / target)
// at or above 1 is compacted: one of its files (round-robin over the key
// space, after the last one compacted at that level) with the files of the
// next level it overlaps. A file that overlaps nothing below moves down as is.

import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import { type Levels, overlapping, totalBytes, userKeyRange } from "../version/version.ts";
import type { CompactionTask } from "./task.ts";

/** Knobs of the leveled policy. */
export interface LeveledOptions {
  /** L0 files that trigger an L0 -> L1 compaction. Default 4. */
  l0Trigger: number;
  /** Byte target of L1; each deeper level is 10x. Default 10 MiB. */
  baseLevelBytes: number;
  /** Growth of the byte target per level. Default 10. */
  levelMultiplier: number;
}

/**
 * Defaults, as LevelDB.
 *
 * @example
 * ```ts
 * const o: LeveledOptions = { ...LEVELED_DEFAULTS, l0Trigger: 8 }; // as the scheduler applies l0CompactionTrigger
 * ```
 */
export const LEVELED_DEFAULTS: LeveledOptions = { l0Trigger: 4, baseLevelBytes: 10 << 20, levelMultiplier: 10 };

/**
 * Byte target of level n >= 1.
 *
 * @example
 * ```ts
 * levelTarget(1, LEVELED_DEFAULTS); // 10485760 (10 MiB)
 * levelTarget(2, LEVELED_DEFAULTS); // 104857600 (100 MiB)
 * ```
 */
export function levelTarget(level: number, o: LeveledOptions): number {
  return o.baseLevelBytes * o.levelMultiplier ** (level - 1);
}

/**
 * The compaction score of each level (>= 1: needs compaction). The last level has none.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version; // say 5 L0 files, 4 MiB in L1
 * const scores = leveledScores(version.levels, LEVELED_DEFAULTS); // [1.25, 0.4, 0, 0, 0, 0, 0]: L0 needs compaction
 * ```
 */
export function leveledScores(levels: Levels, o: LeveledOptions): number[] {
  return levels.map((files, level) => {
    if (level === levels.length - 1) return 0;
    return level === 0 ? files.length / o.l0Trigger : totalBytes(files) / levelTarget(level, o);
  });
}

/**
 * The next compaction, or undefined when no level is over its target.
 * `pointers[n]` is the largest user key last compacted out of level n (round-robin).
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version;
 * const pointers: (Uint8Array | undefined)[] = []; // per level: the largest user key last compacted out of it
 * const task = pickLeveled(version.levels, LEVELED_DEFAULTS, pointers);
 * if (task !== undefined) console.log(task.reason, task.outputLevel); // e.g. "L0 score 1.25" 1
 * ```
 */
export function pickLeveled(
  levels: Levels,
  o: LeveledOptions,
  pointers: (Uint8Array | undefined)[] = [],
): CompactionTask | undefined {
  const scores = leveledScores(levels, o);
  let best = -1;
  for (let l = 0; l < scores.length; l++) if (scores[l] >= 1 && (best < 0 || scores[l] > scores[best])) best = l;
  if (best < 0) return undefined;
  const next = best + 1;
  const reason = `L${best} score ${scores[best].toFixed(2)}`;
  if (best === 0) {
    const files = [...levels[0]];
    const [lo, hi] = userKeyRange(files);
    const below = overlapping(levels[1], lo, hi);
    if (files.length === 1 && below.length === 0) {
      return { inputs: [{ level: 0, files }], outputLevel: 1, trivialMove: true, reason };
    }
    const inputs = [{ level: 0, files }];
    if (below.length > 0) inputs.push({ level: 1, files: below });
    return { inputs, outputLevel: 1, trivialMove: false, reason };
  }
  const pointer = pointers[best];
  const candidates = levels[best];
  const file = (pointer && candidates.find((f) => compareUserKeys(userKeyOf(f.smallest), pointer) > 0)) ||
    candidates[0];
  const below = overlapping(levels[next], userKeyOf(file.smallest), userKeyOf(file.largest));
  if (below.length === 0) {
    return { inputs: [{ level: best, files: [file] }], outputLevel: next, trivialMove: true, reason };
  }
  return {
    inputs: [{ level: best, files: [file] }, { level: next, files: below }],
    outputLevel: next,
    trivialMove: false,
    reason,
  };
}
