// What a compaction policy decides: a task. Policies are pure (level state
// in, task out; src/compaction/leveled.ts, tiered.ts, manual.ts); running a
// task is src/compaction/compactor.ts, and the level state's questions
// (overlaps, key ranges, sorted runs) are src/version/version.ts.

import type { FileMeta } from "../version/version_edit.ts";

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
