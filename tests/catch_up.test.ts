// Catching up (src/background/scheduler.ts catchUp): a program that keeps
// the event loop busy with reads still sees the compaction worker's results
// installed, and the next compaction started, without a turn of the loop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Db, open } from "../mod.ts";
import { tempDir } from "./_harness.ts";

const key = (i: number) => `key-${String(i).padStart(6, "0")}`;
const small = {
  keyEncoding: "utf8",
  valueEncoding: "utf8",
  memtableSize: 16 << 10,
  blockSize: 1024,
  targetFileSize: 32 << 10,
  levelBaseBytes: 64 << 10,
  l0CompactionTrigger: 4,
  compactionMode: "worker",
} as const;

/** Writes keys [first, first + count) with values naming `round`, then flushes them to one L0 table. */
async function writeTable(db: Db<string, string>, first: number, count: number, round: number): Promise<void> {
  const batch = db.batch();
  for (let i = first; i < first + count; i++) batch.put(key(i), `round ${round} value ${i} `.repeat(4));
  await batch.write();
  await db.flush();
}

test("a synchronous read loop installs the worker's compactions and starts the next ones, and they are durable", async () => {
  const { dir, cleanup } = tempDir();
  const db = await open(dir, small);
  try {
    // A first layer, compacted and settled: L1 and deeper hold every key.
    for (let t = 0; t < 8; t++) await writeTable(db, t * 300, 300, 0);
    await db.waitForCompactions();
    assert.equal(db.stats().compaction.mode, "worker");
    // Four more L0 tables over the same keys: the last flush starts an L0 -> L1 merge in the worker.
    for (let t = 0; t < 4; t++) await writeTable(db, t * 600, 600, 1);
    const before = db.stats();
    assert.ok(before.levels[0].files >= 4, `L0 holds ${before.levels[0].files} tables`);

    // No await from here on: only reads can let the worker's results in.
    const deadline = performance.now() + 20_000;
    let reads = 0;
    while (db.stats().levels[0].files >= 4 || db.stats().compaction.count < before.compaction.count + 2) {
      if (performance.now() > deadline) break;
      const i = reads++ % 2400;
      assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4));
    }
    const after = db.stats();
    assert.ok(
      after.levels[0].files < 4,
      `L0 still holds ${after.levels[0].files} tables after ${reads} synchronous reads`,
    );
    assert.ok(after.compaction.count >= before.compaction.count + 2, "the lane went on past the first merge");
    for (let i = 0; i < 2400; i++) assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4));
  } finally {
    await db.close();
  }
  // What the reads installed is in the manifest.
  const again = await open(dir, { ...small, compactionMode: "inline" });
  try {
    assert.ok(again.stats().levels[0].files < 4, `reopened L0 holds ${again.stats().levels[0].files} tables`);
    for (let i = 0; i < 2400; i++) assert.equal(again.getSync(key(i)), `round 1 value ${i} `.repeat(4));
  } finally {
    await again.close();
    cleanup();
  }
});

test("awaited reads that never yield to a task install the worker's compactions too", async () => {
  const { dir, cleanup } = tempDir();
  const db = await open(dir, small);
  try {
    for (let t = 0; t < 8; t++) await writeTable(db, t * 300, 300, 0);
    await db.waitForCompactions(); // the worker has started (it starts with the first compaction)
    for (let t = 0; t < 4; t++) await writeTable(db, t * 600, 600, 1);
    const before = db.stats().compaction.count;
    const deadline = performance.now() + 20_000;
    let reads = 0;
    // Each get resolves at once: the loop runs on microtasks and the worker's messages never arrive.
    while (db.stats().compaction.count === before && performance.now() < deadline) {
      const i = reads++ % 2400;
      assert.equal(await db.get(key(i)), `round 1 value ${i} `.repeat(4));
    }
    assert.ok(db.stats().compaction.count > before, `no compaction installed in ${reads} awaited reads`);
  } finally {
    await db.close();
    cleanup();
  }
});
