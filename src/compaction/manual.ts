// Manual compactions (db.compact(), db.compactRange()), pure like the
// policies: level state in, task out.

import { compareUserKeys } from "../format/internal_key.ts";
import { type Levels, overlapping, userKeyRange } from "../version/version.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { CompactionTask } from "./task.ts";

/**
 * Every table merged into the deepest level used (at least L1), dropping
 * every version and tombstone no snapshot can see; undefined with no table.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version;
 * const task = compactEverything(version.levels);
 * // { inputs: every non-empty level's files, outputLevel: the deepest of them (at least 1), trivialMove: false, ... }
 * ```
 */
export function compactEverything(levels: Levels): CompactionTask | undefined {
  const inputs = levels.map((files, level) => ({ level, files: [...files] })).filter((i) => i.files.length > 0);
  if (inputs.length === 0) return undefined;
  const deepest = Math.max(1, ...inputs.map((i) => i.level));
  return { inputs, outputLevel: deepest, trivialMove: false, reason: "manual: everything" };
}

/**
 * The tables holding user keys in [lo, hi] merged down to the deepest level
 * involved (at least L1): every L0 file meeting the range as it grows, and
 * at the output level every file in the final range, so that the level
 * stays disjoint. Undefined when no table holds such a key.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version;
 * const utf8 = new TextEncoder();
 * const task = compactKeyRange(version.levels, utf8.encode("user:"), utf8.encode("user;"));
 * ```
 */
export function compactKeyRange(levels: Levels, lo: Uint8Array, hi: Uint8Array): CompactionTask | undefined {
  let [rangeLo, rangeHi] = [lo, hi];
  const inputs: { level: number; files: FileMeta[] }[] = [];
  for (let level = 0; level < levels.length; level++) {
    let files = overlapping(levels[level], rangeLo, rangeHi);
    // L0 files overlap each other: take every one that meets the growing range.
    while (level === 0 && files.length > 0) {
      [rangeLo, rangeHi] = widen(files, rangeLo, rangeHi);
      const more = overlapping(levels[0], rangeLo, rangeHi);
      if (more.length === files.length) break;
      files = more;
    }
    if (files.length > 0) {
      inputs.push({ level, files });
      [rangeLo, rangeHi] = widen(files, rangeLo, rangeHi);
    }
  }
  if (inputs.length === 0) return undefined;
  const outputLevel = Math.max(1, ...inputs.map((i) => i.level));
  const atOutput = overlapping(levels[outputLevel], rangeLo, rangeHi);
  const existing = inputs.find((i) => i.level === outputLevel);
  if (existing) existing.files = atOutput;
  else if (atOutput.length > 0) inputs.push({ level: outputLevel, files: atOutput });
  return { inputs, outputLevel, trivialMove: false, reason: "manual: range" };
}

function widen(files: readonly FileMeta[], lo: Uint8Array, hi: Uint8Array): [Uint8Array, Uint8Array] {
  const [flo, fhi] = userKeyRange(files);
  return [compareUserKeys(flo, lo) < 0 ? flo : lo, compareUserKeys(fhi, hi) > 0 ? fhi : hi];
}
