// Catching up (src/background/scheduler.ts catchUp): a program that keeps
// the event loop busy with reads still sees the compaction worker's results
// installed, and the next compaction started, without a turn of the loop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Db, defaultStorage, open, SiltError, type Storage, type StorageFile } from "../mod.ts";
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

/** Reopens `dir` (inline compactions): L0 is below its trigger and every key holds its round-1 value; then `cleanup()`. */
async function reopenedHoldsRound1(dir: string, cleanup: () => void): Promise<void> {
  const again = await open(dir, { ...small, compactionMode: "inline" });
  try {
    assert.ok(again.stats().levels[0].files < 4, `reopened L0 holds ${again.stats().levels[0].files} tables`);
    for (let i = 0; i < 2400; i++) assert.equal(again.getSync(key(i)), `round 1 value ${i} `.repeat(4));
  } finally {
    await again.close();
    cleanup();
  }
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
  await reopenedHoldsRound1(dir, cleanup);
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

/**
 * The runtime's file system, telling `before` of each MANIFEST sync, on the thread pool (`sync()`) or
 * on the calling thread (`syncNow()`, which `before` may fail by throwing).
 */
function watchManifestSyncs(before: (where: "pool" | "now", path: string) => void): Storage {
  const real = defaultStorage();
  const wrap = (file: StorageFile): StorageFile => ({
    path: file.path,
    size: () => file.size(),
    read: (position, into) => file.read(position, into),
    append: (data) => file.append(data),
    appendSync: (data) => file.appendSync(data),
    ...(file.writeAt && { writeAt: (position: number, data: Uint8Array) => file.writeAt!(position, data) }),
    sync: () => {
      before("pool", file.path);
      return file.sync();
    },
    ...(file.syncNow && {
      syncNow() {
        before("now", file.path);
        file.syncNow!();
      },
    }),
    close: () => file.close(),
  });
  return {
    kind: real.kind, // the worker runs over "node" and "deno"
    open: (path, options) => {
      const file = real.open(path, options);
      return /MANIFEST-\d+$/.test(path) ? wrap(file) : file;
    },
    readFile: (path) => real.readFile(path),
    list: (dir) => real.list(dir),
    exists: (path) => real.exists(path),
    mkdir: (path) => real.mkdir(path),
    rename: (from, to) => real.rename(from, to),
    remove: (path) => real.remove(path),
    link: (from, to) => real.link!(from, to),
    syncDir: (dir) => real.syncDir(dir),
    lock: (path, options) => real.lock(path, options),
  };
}

/** The runtime's file system, whose MANIFEST syncs on the calling thread fail while `failing` is set. */
function manifestSyncFails(): { fs: Storage; failing(on: boolean): void; failures(): number } {
  let failing = false;
  let failures = 0;
  const fs = watchManifestSyncs((where, path) => {
    if (where === "now" && failing) {
      failures++;
      throw new SiltError("IO_ERROR", `injected failure: sync ${path}`, { file: path });
    }
  });
  return { fs, failing: (on) => failing = on, failures: () => failures };
}

test("a manifest sync that fails while a read installs a compaction stops writes (IO_ERROR); reads go on; resume() and a reopen find every value", async () => {
  const { dir, cleanup } = tempDir();
  const faulty = manifestSyncFails();
  const db = await open(dir, { ...small, fs: faulty.fs });
  try {
    assert.equal(
      db.stats().compaction.mode,
      "worker",
      "the wrapper keeps the runtime's kind: compactions run in the worker",
    );
    for (let t = 0; t < 8; t++) await writeTable(db, t * 300, 300, 0);
    await db.waitForCompactions();
    for (let t = 0; t < 4; t++) await writeTable(db, t * 600, 600, 1);
    faulty.failing(true);
    const deadline = performance.now() + 20_000;
    let reads = 0;
    while (faulty.failures() === 0 && performance.now() < deadline) {
      const i = reads++ % 2400;
      assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4), "reads go on");
    }
    assert.equal(faulty.failures(), 1, `the install's sync failed (after ${reads} reads)`);
    await assert.rejects(db.put("after", "x"), (err: SiltError) => err.code === "IO_ERROR");
    for (let i = 0; i < 2400; i++) assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4));
    faulty.failing(false);
    await db.resume(); // a new manifest, then the compactions go on
    await db.put("after", "x");
    await db.waitForCompactions();
    for (let i = 0; i < 2400; i++) assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4));
  } finally {
    await db.close().catch(() => {});
  }
  const again = await open(dir, { ...small, compactionMode: "inline" });
  try {
    for (let i = 0; i < 2400; i++) assert.equal(again.getSync(key(i)), `round 1 value ${i} `.repeat(4));
    assert.equal(again.getSync("after"), "x");
  } finally {
    await again.close();
    cleanup();
  }
});

test("a compaction the event loop delivers is installed in that turn: a read loop that starts right after does not keep the store as it was", async () => {
  const { dir, cleanup } = tempDir();
  let poolSyncs = 0; // MANIFEST syncs handed to the thread pool
  const db = await open(dir, { ...small, fs: watchManifestSyncs((where) => where === "pool" && poolSyncs++) });
  try {
    assert.equal(db.stats().compaction.mode, "worker");
    for (let t = 0; t < 8; t++) await writeTable(db, t * 300, 300, 0);
    await db.waitForCompactions();
    for (let t = 0; t < 4; t++) await writeTable(db, t * 600, 600, 1);
    const before = db.stats().compaction.count;
    const poolSyncsBefore = poolSyncs;
    // Turns of the event loop until the merge's result arrives: installed then, or (as before) its
    // manifest edit handed to a sync on the thread pool, which needs one more turn to finish.
    const deadline = performance.now() + 20_000;
    while (db.stats().compaction.count === before && poolSyncs === poolSyncsBefore && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // A synchronous read loop from here on: no further turn of the loop.
    const until = performance.now() + 1_500;
    let reads = 0;
    while (performance.now() < until) {
      const i = reads++ % 2400;
      assert.equal(db.getSync(key(i)), `round 1 value ${i} `.repeat(4));
    }
    const after = db.stats();
    assert.ok(after.compaction.count > before, `the merge was not installed during ${reads} synchronous reads`);
    assert.ok(after.levels[0].files < 4, `L0 still holds ${after.levels[0].files} tables after ${reads} reads`);
  } finally {
    await db.close();
  }
  await reopenedHoldsRound1(dir, cleanup);
});
