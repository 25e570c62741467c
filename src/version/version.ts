// A Version: the table files of each level at one moment, immutable, and the
// questions asked of such a level state — which files meet a key range, the
// key range of files, the sorted runs a read or a merge goes through, and
// the one order of each level:
//
//   L0      newest data first: largest sequence descending (then file number
//           descending). Not file number alone: a compaction output placed in
//           L0 (tiered) can get a higher number than a flush of newer data
//           that finished after it.
//   L1..Ln  by smallest key; the files of a level never overlap.
//
// A sorted run is a sequence of files with disjoint keys in key order: each
// L0 file alone, then each non-empty deeper level. Runs are listed newest
// first, which is the order a read must consult them in.

import { compareInternalKeys, compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import type { FileMeta } from "./version_edit.ts";

/**
 * Number of levels (L0..L6).
 *
 * @example
 * ```ts
 * import type { FileMeta } from "./version_edit.ts";
 * const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []); // L0..L6, empty
 * ```
 */
export const NUM_LEVELS = 7;

/** Table files per level, each level in its order (see above). */
export type Levels = readonly (readonly FileMeta[])[];

/**
 * An immutable set of table files per level, reference counted by its
 * readers (scans) so that its files outlive later versions while in use.
 *
 * @example
 * ```ts
 * import type { VersionSet } from "./version_set.ts";
 * declare const versions: VersionSet;
 * const version = versions.current.ref(); // a scan starts on it
 * for (const f of version.files()) console.log(f.number);
 * version.unref(); // the scan is done: its files may now be deleted
 * ```
 */
export class Version {
  readonly levels: Levels;
  /** Files per level (a scan's sources are made from it; a version never changes). */
  readonly fileCounts: readonly number[];
  #refs = 0;
  #onRelease: ((v: Version) => void) | undefined;

  constructor(levels: Levels, onRelease?: (v: Version) => void) {
    this.levels = levels;
    this.fileCounts = levels.map((files) => files.length);
    this.#onRelease = onRelease;
  }

  /** Takes a reference (a reader uses this version's files). */
  ref(): this {
    this.#refs++;
    return this;
  }

  /** Gives a reference back. */
  unref(): void {
    if (--this.#refs === 0) this.#onRelease?.(this);
  }

  /** True while someone holds a reference. */
  get referenced(): boolean {
    return this.#refs > 0;
  }

  /** Every file, all levels. */
  *files(): Generator<FileMeta> {
    for (const level of this.levels) yield* level;
  }

  /** The largest sequence held by any table (0 with none). */
  get largestSequence(): number {
    let max = 0;
    for (const f of this.files()) max = Math.max(max, f.largestSequence);
    return max;
  }
}

/**
 * The order of files in level `level` (see the header): negative when a comes first.
 *
 * @example
 * ```ts
 * import type { FileMeta } from "./version_edit.ts";
 * declare const files: FileMeta[]; // L0 files, in any order
 * const l0 = [...files].sort((a, b) => compareInLevel(0, a, b)); // newest data first
 * ```
 */
export function compareInLevel(level: number, a: FileMeta, b: FileMeta): number {
  return level === 0
    ? b.largestSequence - a.largestSequence || b.number - a.number
    : compareInternalKeys(a.smallest, b.smallest);
}

/**
 * The sorted runs of a level state, newest first: each L0 file alone, then
 * each non-empty deeper level (its files in key order).
 *
 * @example
 * ```ts
 * declare const version: Version;
 * const runs = sortedRuns(version.levels);
 * // [{ level: 0, files: [f9] }, { level: 0, files: [f8] }, { level: 1, files: [...] }]
 * ```
 */
export function sortedRuns(levels: Levels): { level: number; files: FileMeta[] }[] {
  const runs = levels[0].map((f) => ({ level: 0, files: [f] }));
  for (let l = 1; l < levels.length; l++) if (levels[l].length > 0) runs.push({ level: l, files: [...levels[l]] });
  return runs;
}

/**
 * The sorted runs (files only, newest first) of files given by level in any
 * order, such as a compaction's inputs: each level's files are put in the
 * level's order first.
 *
 * @example
 * ```ts
 * import type { CompactionTask } from "../compaction/task.ts";
 * declare const task: CompactionTask;
 * const runs = sortedRunsOf(task.inputs); // what the merge reads, newest first
 * ```
 */
export function sortedRunsOf(inputs: readonly { level: number; files: readonly FileMeta[] }[]): FileMeta[][] {
  const levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
  for (const { level, files } of inputs) levels[level].push(...files);
  levels.forEach((files, level) => files.sort((a, b) => compareInLevel(level, a, b)));
  return sortedRuns(levels).map((run) => run.files);
}

/**
 * Smallest and largest user key of (non-empty) files.
 *
 * @example
 * ```ts
 * declare const version: Version;
 * const [lo, hi] = userKeyRange(version.levels[1]);
 * ```
 */
export function userKeyRange(files: readonly FileMeta[]): [Uint8Array, Uint8Array] {
  let lo = userKeyOf(files[0].smallest);
  let hi = userKeyOf(files[0].largest);
  for (const f of files) {
    if (compareUserKeys(userKeyOf(f.smallest), lo) < 0) lo = userKeyOf(f.smallest);
    if (compareUserKeys(userKeyOf(f.largest), hi) > 0) hi = userKeyOf(f.largest);
  }
  return [lo, hi];
}

/**
 * Files whose user-key range meets [lo, hi].
 *
 * @example
 * ```ts
 * declare const version: Version;
 * const [lo, hi] = userKeyRange(version.levels[1]);
 * const below = overlapping(version.levels[2], lo, hi); // the L2 files with keys in L1's range
 * ```
 */
export function overlapping(files: readonly FileMeta[], lo: Uint8Array, hi: Uint8Array): FileMeta[] {
  return files.filter((f) =>
    compareUserKeys(userKeyOf(f.largest), lo) >= 0 && compareUserKeys(userKeyOf(f.smallest), hi) <= 0
  );
}

/**
 * Total bytes of files.
 *
 * @example
 * ```ts
 * declare const version: Version;
 * const l1Bytes = totalBytes(version.levels[1]);
 * ```
 */
export function totalBytes(files: readonly FileMeta[]): number {
  return files.reduce((n, f) => n + f.size, 0);
}
