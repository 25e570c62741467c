// What a compaction policy decides (a task) and what it looks at (levels).
// Policies are pure: level state in, task out; running a task is
// src/compaction/compactor.ts.

import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** Table files per level: L0 newest first (may overlap), L1.. sorted and disjoint. */
export type Levels = readonly (readonly FileMeta[])[];

/** One compaction: merge the inputs into outputLevel (or move a file there). */
export interface CompactionTask {
  /** Input files by level; every file of a task is removed when it completes. */
  inputs: { level: number; files: FileMeta[] }[];
  /** Level the outputs go to. */
  outputLevel: number;
  /** The single input file moves to outputLevel as it is (nothing to merge with). */
  trivialMove: boolean;
  /** Why the policy chose it, for stats and tests. */
  reason: string;
}

/** Smallest and largest user key of files. */
export function userKeyRange(files: readonly FileMeta[]): [Uint8Array, Uint8Array] {
  let lo = userKeyOf(files[0].smallest);
  let hi = userKeyOf(files[0].largest);
  for (const f of files) {
    if (compareUserKeys(userKeyOf(f.smallest), lo) < 0) lo = userKeyOf(f.smallest);
    if (compareUserKeys(userKeyOf(f.largest), hi) > 0) hi = userKeyOf(f.largest);
  }
  return [lo, hi];
}

/** Files whose user-key range meets [lo, hi]. */
export function overlapping(files: readonly FileMeta[], lo: Uint8Array, hi: Uint8Array): FileMeta[] {
  return files.filter((f) =>
    compareUserKeys(userKeyOf(f.largest), lo) >= 0 && compareUserKeys(userKeyOf(f.smallest), hi) <= 0
  );
}

/** Total bytes of files. */
export function totalBytes(files: readonly FileMeta[]): number {
  return files.reduce((n, f) => n + f.size, 0);
}
