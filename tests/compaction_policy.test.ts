// The compaction policies are pure functions of the level state: tested here
// on hand-made states, without any I/O.

import { test } from "node:test";
import assert from "node:assert/strict";
import { internalKey } from "../src/format/internal_key.ts";
import { LEVELED_DEFAULTS, leveledScores, pickLeveled } from "../src/compaction/leveled.ts";
import { pickTiered, TIERED_DEFAULTS } from "../src/compaction/tiered.ts";
import { sortedRuns, totalBytes } from "../src/version/version.ts";
import type { FileMeta } from "../src/version/version_edit.ts";
import { utf8 } from "./_harness.ts";

let next = 1;
function file(lo: string, hi: string, size: number, seq = next): FileMeta {
  return {
    number: next++,
    size,
    smallest: internalKey(utf8(lo), seq, 1),
    largest: internalKey(utf8(hi), seq, 1),
    smallestSequence: seq,
    largestSequence: seq,
    entries: 1,
  };
}
const MiB = 1 << 20;
const empty = () => Array.from({ length: 7 }, () => [] as FileMeta[]);
const numbers = (files: FileMeta[]) => files.map((f) => f.number).sort((a, b) => a - b);

test("leveled: nothing to do below the L0 trigger and the level targets", () => {
  const levels = empty();
  levels[0] = [file("a", "z", MiB), file("a", "z", MiB), file("a", "z", MiB)];
  levels[1] = [file("a", "m", 4 * MiB)];
  assert.equal(pickLeveled(levels, LEVELED_DEFAULTS), undefined);
  assert.deepEqual(leveledScores(levels, LEVELED_DEFAULTS).slice(0, 2), [0.75, 0.4]);
});

test("leveled: four L0 files compact into L1 with the L1 files they overlap", () => {
  const levels = empty();
  levels[0] = [file("c", "f", MiB), file("d", "h", MiB), file("a", "e", MiB), file("e", "g", MiB)];
  const l1 = [file("a", "b", MiB), file("c", "d", MiB), file("i", "k", MiB)];
  levels[1] = l1;
  const task = pickLeveled(levels, LEVELED_DEFAULTS)!;
  assert.equal(task.outputLevel, 1);
  assert.equal(task.trivialMove, false);
  assert.deepEqual(numbers(task.inputs.find((i) => i.level === 0)!.files), numbers(levels[0]));
  assert.deepEqual(
    numbers(task.inputs.find((i) => i.level === 1)!.files),
    numbers([l1[0], l1[1]]),
    "i..k does not overlap a..h",
  );
});

test("leveled: the level most over its target goes first, round-robin over its files, with trivial moves", () => {
  const levels = empty();
  levels[1] = [file("a", "c", 8 * MiB), file("d", "f", 8 * MiB)]; // 16 MiB / 10 MiB = 1.6
  levels[2] = [file("a", "b", 200 * MiB)]; // 200 / 100 = 2.0
  levels[3] = [file("x", "y", 10 * MiB)];
  let task = pickLeveled(levels, LEVELED_DEFAULTS)!;
  assert.equal(task.inputs[0].level, 2, "L2 has the highest score");
  assert.equal(task.trivialMove, true, "nothing in L3 overlaps a..b");
  assert.equal(task.outputLevel, 3);
  levels[2] = [];
  task = pickLeveled(levels, LEVELED_DEFAULTS)!;
  assert.equal(task.inputs[0].level, 1);
  assert.equal(utf8("a").length, 1);
  const first = task.inputs[0].files[0];
  const second = pickLeveled(levels, LEVELED_DEFAULTS, [
    undefined,
    first.largest.subarray(0, first.largest.length - 8),
  ])!;
  assert.notEqual(second.inputs[0].files[0].number, first.number, "the next pick starts after the last compacted key");
});

test("leveled: the last level is never scored", () => {
  const levels = empty();
  levels[6] = [file("a", "z", 1 << 40)];
  assert.equal(pickLeveled(levels, LEVELED_DEFAULTS), undefined);
});

test("sorted runs are L0 files newest first, then each non-empty level", () => {
  const levels = empty();
  levels[0] = [file("a", "z", MiB, 9), file("a", "z", MiB, 8)];
  levels[2] = [file("a", "m", 4 * MiB), file("n", "z", 4 * MiB)];
  levels[5] = [file("a", "z", 50 * MiB)];
  const runs = sortedRuns(levels);
  assert.deepEqual(runs.map((r) => [r.level, totalBytes(r.files)]), [[0, MiB], [0, MiB], [2, 8 * MiB], [5, 50 * MiB]]);
});

test("tiered: fewer runs than the trigger: nothing to do", () => {
  const levels = empty();
  levels[0] = [file("a", "z", MiB), file("a", "z", MiB)];
  levels[6] = [file("a", "z", 10 * MiB)];
  assert.equal(pickTiered(levels, TIERED_DEFAULTS), undefined);
});

test("tiered: similar-sized newest runs merge; the output goes below them", () => {
  const levels = empty();
  levels[0] = [file("a", "z", MiB, 30), file("a", "z", MiB, 29), file("a", "z", 2 * MiB, 28)];
  levels[6] = [file("a", "z", 100 * MiB)];
  const task = pickTiered(levels, TIERED_DEFAULTS)!;
  assert.deepEqual(task.inputs.map((i) => i.level), [0]);
  assert.equal(task.inputs[0].files.length, 3, "1 + 1 + 2 MiB: each within 2x of the sum before it");
  assert.equal(task.outputLevel, 5, "the deepest empty level above L6");
});

test("tiered: too much newer data relative to the oldest run merges everything", () => {
  const levels = empty();
  levels[0] = [file("a", "z", 30 * MiB, 40), file("a", "z", 30 * MiB, 39), file("a", "z", 30 * MiB, 38)];
  levels[6] = [file("a", "z", 20 * MiB)];
  const task = pickTiered(levels, TIERED_DEFAULTS)!;
  assert.match(task.reason, /space amplification/);
  assert.equal(task.outputLevel, 6);
  assert.equal(task.inputs.flatMap((i) => i.files).length, 4);
});

test("tiered: with no similar sizes, the newest runs merge down to the trigger", () => {
  const levels = empty();
  levels[0] = [file("a", "z", MiB, 50)];
  levels[3] = [file("a", "z", 10 * MiB)];
  levels[4] = [file("a", "z", 100 * MiB)];
  levels[5] = [file("a", "z", 1000 * MiB)];
  levels[6] = [file("a", "z", 10000 * MiB)];
  const task = pickTiered(levels, TIERED_DEFAULTS)!;
  // 5 runs, trigger 4: merging the newest 3 leaves 3 runs (trigger - 1).
  assert.deepEqual(task.inputs.map((i) => i.level).sort(), [0, 3, 4]);
  assert.equal(task.outputLevel, 4);
});
