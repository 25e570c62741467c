// Compaction output syncs give way to the log's syncs (src/wal/log_syncs.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { LogSyncs, QUIET_MS } from "../src/wal/log_syncs.ts";
import { runCompaction } from "../src/compaction/compactor.ts";
import { internalKey, KIND_PUT } from "../src/format/internal_key.ts";
import { MemoryStorage } from "../src/storage/memory_storage.ts";
import { tableFiles } from "../src/table/table_files.ts";
import { writeEntries } from "../src/tools/_write_tables.ts";
import { LogWriter } from "../src/wal/log_writer.ts";
import { open } from "../mod.ts";
import { tempDir } from "./_harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("LogSyncs: quiet() waits while a log sync is in flight, and a view of its shared buffer sees the same", async () => {
  const syncs = new LogSyncs();
  assert.equal(syncs.busy, false, "no sync yet");
  syncs.syncing();
  assert.equal(syncs.busy, true);
  if (syncs.shared !== undefined) assert.equal(new LogSyncs(syncs.shared).busy, true, "the worker's view");
  const started = Date.now();
  let quiet = false;
  const waiting = syncs.quiet(10_000).then(() => quiet = true);
  await sleep(40);
  assert.equal(quiet, false, "still syncing: still waiting");
  syncs.synced();
  await waiting;
  assert.ok(Date.now() - started >= 40 + QUIET_MS - 1, "it waited for the sync and the pause after it");
  assert.equal(syncs.busy, false);
  if (syncs.shared !== undefined) assert.equal(new LogSyncs(syncs.shared).busy, false);
});

test("LogSyncs: quiet() gives up after its limit when the log never pauses", async () => {
  const syncs = new LogSyncs();
  syncs.syncing();
  const started = Date.now();
  await syncs.quiet(30);
  const waited = Date.now() - started;
  assert.ok(waited >= 29 && waited < 5_000, `waited ${waited} ms for a limit of 30`);
  assert.equal(syncs.busy, true);
});

test("a log writer reports each of its syncs, inline or on the pool, failed or not", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const log = LogWriter.create(fs, "/db/000001.log");
  await log.whenReady();
  const calls: string[] = [];
  log.reportSyncsTo({ syncing: () => calls.push("start"), synced: () => calls.push("end") } as unknown as LogSyncs);
  for (let i = 0; i < 3; i++) {
    log.write(new Uint8Array([1, 2, 3]));
    await log.sync(true);
  }
  assert.equal(calls.join(","), "start,end,start,end,start,end");
  fs.injectFault({ op: "sync", path: "/db/000001.log" });
  log.write(new Uint8Array([4]));
  await assert.rejects(log.sync());
  await log.close().catch(() => {});
  assert.equal(calls.join(","), "start,end,start,end,start,end,start,end", "the failed sync ended too");
});

/** Two overlapping L0 tables in /db of a memory store, and a job that merges them into table 20. */
async function twoTables(giveWayToLog: boolean) {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const o = { blockSize: 4096, bloomBitsPerKey: 10, compression: "none" as const };
  const enc = (s: string) => new TextEncoder().encode(s);
  const entry = (k: string, seq: number) => ({ key: internalKey(enc(k), seq, KIND_PUT), value: enc(`v${seq}`) });
  const a = await writeEntries(fs, "/db", 5, [entry("a", 1), entry("m", 2)], o);
  const b = await writeEntries(fs, "/db", 6, [entry("m", 3), entry("z", 4)], o);
  const job = {
    task: { inputs: [{ level: 0, files: [b, a] }], outputLevel: 1, trivialMove: false, reason: "test" },
    oldestSnapshot: 4,
    older: [],
    fileNumbers: [20],
    ...o,
    targetFileSize: 2 << 20,
    now: 0,
    giveWayToLog,
  };
  return { fs, job };
}

test("a compaction syncs its outputs only once the log's syncs pause, when its job says so", async () => {
  const { fs, job } = await twoTables(true);
  const syncs = new LogSyncs();
  syncs.syncing();
  let done = false;
  const running = runCompaction({ files: tableFiles({ fs, dir: "/db" }), logSyncs: syncs }, job).then((r) => {
    done = true;
    return r;
  });
  await sleep(60);
  assert.equal(done, false, "its output waits while the log syncs");
  assert.equal(fs.list("/db").includes("000020.sst"), false, "the output is not in place yet");
  syncs.synced();
  const result = await running;
  assert.deepEqual(result.outputs.map((f) => f.number), [20]);
  assert.ok(fs.list("/db").includes("000020.sst"));
});

test("a compaction whose job does not give way (L0 at its slowdown trigger) syncs at once", async () => {
  const { fs, job } = await twoTables(false);
  const syncs = new LogSyncs();
  syncs.syncing(); // a log that never pauses
  const started = Date.now();
  const result = await runCompaction({ files: tableFiles({ fs, dir: "/db" }), logSyncs: syncs }, job);
  assert.deepEqual(result.outputs.map((f) => f.number), [20]);
  assert.ok(Date.now() - started < 900, "it did not wait for the log");
});

test("synced writes while compactions run on real files: every write reads back, before and after a reopen", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const options = {
      keyEncoding: "utf8",
      valueEncoding: "utf8",
      memtableSize: 8 << 10,
      blockSize: 1024,
      targetFileSize: 16 << 10,
      levelBaseBytes: 64 << 10,
    } as const;
    for (const compactionMode of ["worker", "inline"] as const) {
      const db = await open(dir, { ...options, compactionMode });
      const writes: Promise<void>[] = [];
      // Unsynced puts fill memtables (flushes, compactions) while one writer syncs each of its puts.
      const synced = (async () => {
        for (let i = 0; i < 300; i++) await db.put(`s-${compactionMode}-${i}`, `v${i}`, { sync: true });
      })();
      for (let i = 0; i < 20_000; i++) writes.push(db.put(`k-${compactionMode}-${i % 5000}`, `w${i}`));
      await Promise.all([synced, ...writes]);
      await db.waitForCompactions();
      assert.ok(db.stats().compaction.count > 0, `${compactionMode}: compactions ran`);
      await db.close();
      const again = await open(dir, options);
      for (let i = 0; i < 300; i++) assert.equal(again.getSync(`s-${compactionMode}-${i}`), `v${i}`);
      for (let i = 15_000; i < 20_000; i++) assert.equal(again.getSync(`k-${compactionMode}-${i % 5000}`), `w${i}`);
      await again.close();
    }
  } finally {
    cleanup();
  }
});
