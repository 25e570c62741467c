// Compaction through the public API: bounded L0 under sustained writes,
// space freed by deletes, crashes and failures in the middle of compactions.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open } from "../mod.ts";
import { rejectsWith, rng, tempDir } from "./_harness.ts";

const key = (i: number) => `key-${String(i).padStart(6, "0")}`;
const tiny = { memtableSize: 2048, blockSize: 512, targetFileSize: 8192, levelBaseBytes: 16384 } as const;

for (const compaction of ["leveled", "tiered"] as const) {
  test(`${compaction}: sustained writes keep L0 bounded and reads right`, async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny, compaction });
    let maxL0 = 0;
    for (let i = 0; i < 6000; i++) {
      await db.put(key((i * 7919) % 3000), `v${i}`);
      if (i % 50 === 0) maxL0 = Math.max(maxL0, db.stats().levels[0].files);
    }
    const stats = db.stats();
    assert.ok(maxL0 <= 12, `L0 reached ${maxL0} files (stop trigger 12)`);
    assert.ok(stats.compaction.count > 5, `${stats.compaction.count} compactions`);
    assert.ok(stats.sortedRuns <= 16, `${stats.sortedRuns} sorted runs`);
    for (let i = 3000; i < 6000; i++) {
      const k = (i * 7919) % 3000;
      assert.equal(db.getSync(key(k)), `v${i}`);
    }
    assert.equal(db.scanSync().toArray().length, 3000);
    assert.ok(stats.writeAmplification > 1);
    await db.close();
  });

  test(`${compaction}: after compact(), a fully deleted range occupies no data blocks`, async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny, compaction });
    for (let i = 0; i < 4000; i++) await db.put(key(i), "x".repeat(50));
    const before = db.stats().levels.reduce((n, l) => n + l.bytes, 0);
    for (let i = 1000; i < 3000; i++) await db.delete(key(i));
    await db.compact();
    const after = db.stats();
    const entries = after.levels.reduce((n, l) => n + l.entries, 0);
    assert.equal(entries, 2000, "only the live keys remain: no tombstones, no deleted values");
    assert.ok(after.levels.reduce((n, l) => n + l.bytes, 0) < before * 0.6);
    assert.ok(after.spaceAmplification <= 1.01, `space amplification ${after.spaceAmplification}`);
    assert.equal(after.sortedRuns, 1);
    assert.deepEqual(db.scanSync({ gte: key(999), lte: key(3000) }).toArray().map(([k]) => k), [key(999), key(3000)]);
    await db.close();
  });
}

test("compactRange merges only the tables holding the range", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", {
    fs,
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    ...tiny,
    memtableSize: 8192,
    levelBaseBytes: 1 << 30,
    l0CompactionTrigger: 100,
    l0SlowdownTrigger: 200,
    l0StopTrigger: 300,
  });
  // (few enough flushes that nothing compacts before compactRange)
  // Keys in order: the L0 tables are disjoint, so the range does not chain into all of them.
  for (let i = 0; i < 2000; i++) await db.put(key(i), `v${i}`);
  await db.flush();
  const l0 = db.stats().levels[0].files;
  assert.equal(db.stats().compaction.count, 0);
  await db.compactRange(key(0), key(300));
  const stats = db.stats();
  assert.ok(stats.levels[0].files < l0, "the range's L0 tables were merged");
  assert.ok(stats.levels[0].files > 0, "tables outside the range stay");
  assert.ok(stats.levels[1].files > 0);
  for (let i = 0; i < 2000; i++) assert.equal(db.getSync(key(i)), `v${i}`);
  await rejectsWith("INVALID_ARGUMENT", () => db.compactRange(key(5), key(1)), /start is after end/);
  await db.close();
});

test("snapshots held across compactions keep seeing their versions", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny });
  for (let i = 0; i < 500; i++) await db.put(key(i), "one");
  const snap = db.snapshot();
  for (let i = 0; i < 500; i++) await db.put(key(i), "two");
  for (let i = 0; i < 500; i += 3) await db.delete(key(i));
  await db.compact();
  for (let i = 0; i < 500; i++) assert.equal(snap.getSync(key(i)), "one");
  assert.equal(snap.scanSync().toArray().length, 500);
  snap.release();
  await db.compact();
  const entries = db.stats().levels.reduce((n, l) => n + l.entries, 0);
  assert.equal(entries, 500 - 167, "with the snapshot released, old versions and tombstones go");
  await db.close();
});

test("a crash at any point of a compaction leaves a consistent store", async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = rng(seed);
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny });
    for (let i = 0; i < 1500; i++) await db.put(key(i % 700), `v${i}`, { sync: i % 100 === 99 });
    const compacting = db.compact().catch(() => {});
    // Let the compaction get some way in, then pull the plug.
    for (let steps = Math.floor(random() * 40); steps > 0; steps--) await Promise.resolve();
    fs.crash({ unsynced: (["drop", "prefix", "keep"] as const)[seed % 3], random });
    await compacting;
    const again = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny });
    for (let i = 1400; i < 1500; i++) {
      assert.equal(again.getSync(key(i % 700)), `v${i}`, `seed ${seed}: ${key(i % 700)}`);
    }
    assert.equal(again.scanSync().toArray().length, 700);
    await again.close(); // waits for the compaction the reopened store may start
    const names = fs.list("/db");
    assert.ok(!names.some((n) => n.endsWith(".tmp")), `seed ${seed}: no temp file after recovery: ${names}`);
    const reader = await open("/db", { fs, readOnly: true });
    const tables = names.filter((n) => n.endsWith(".sst")).length;
    assert.equal(
      tables,
      reader.stats().levels.reduce((n, l) => n + l.files, 0),
      `seed ${seed}: no table outside the manifest`,
    );
    await reader.close();
  }
});

test("a failed compaction is reported and refuses writes; reopening recovers", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny });
  for (let i = 0; i < 300; i++) await db.put(key(i), `v${i}`, { sync: i === 299 });
  fs.injectFault({ op: "append", path: /\.sst\.tmp$/, code: "ENOSPC", times: 1000 });
  await rejectsWith("IO_ERROR", () => db.compact(), /ENOSPC/);
  await rejectsWith("IO_ERROR", () => db.put("k", "v"));
  assert.equal(db.getSync(key(7)), "v7");
  await db.close().catch(() => {});
  fs.clearFaults();
  const again = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", ...tiny });
  for (let i = 0; i < 300; i++) assert.equal(again.getSync(key(i)), `v${i}`);
  await again.compact();
  assert.equal(again.stats().sortedRuns, 1);
  await again.close();
});

test("worker mode: compactions run off the main thread on real files", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", ...tiny, compactionMode: "worker" });
    for (let i = 0; i < 4000; i++) await db.put(key(i % 1500), `v${i}`);
    await db.compact();
    const stats = db.stats();
    assert.equal(stats.compaction.mode, "worker");
    assert.ok(stats.compaction.count > 0);
    for (let i = 2500; i < 4000; i++) assert.equal(db.getSync(key(i % 1500)), `v${i}`);
    assert.equal(stats.sortedRuns, 1, "compact() left one sorted run");
    await db.close();
  } finally {
    cleanup();
  }
});
