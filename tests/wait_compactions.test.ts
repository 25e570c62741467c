// db.waitForCompactions(): resolves once no flush or compaction is pending or running.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open } from "../mod.ts";
import { rejectsWith, TINY } from "./_harness.ts";

const small = { ...TINY, memtableSize: 16 << 10, targetFileSize: 16 << 10, levelBaseBytes: 16 << 10 };

test("after rounds of overwrites, waitForCompactions() leaves no pending work and space amplification near 1", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), ...small, keyEncoding: "utf8", valueEncoding: "utf8" });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2000; i++) await db.put(`key${String(i).padStart(5, "0")}`, `round${round}-${"x".repeat(40)}`);
  }
  await db.flush();
  await db.waitForCompactions();
  const stats = db.stats();
  assert.equal(stats.compaction.pending, false);
  assert.equal(stats.immutable.count, 0);
  assert.ok(stats.spaceAmplification < 1.2, `space amplification ${stats.spaceAmplification}`);
  await db.waitForCompactions(); // nothing to wait for: resolves at once
  await db.close();
});

test("waitForCompactions() rejects with ABORTED when its signal aborts, and CLOSED once closed", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), ...small });
  await rejectsWith("ABORTED", () => db.waitForCompactions({ signal: AbortSignal.abort() }));
  const controller = new AbortController();
  for (let i = 0; i < 3000; i++) void db.put(`k${i}`, "v".repeat(50));
  const waiting = db.waitForCompactions({ signal: controller.signal });
  controller.abort();
  await waiting.then(() => {}, (err) => assert.equal(err.code, "ABORTED")); // or it had settled already
  await rejectsWith("INVALID_ARGUMENT", () => db.waitForCompactions(42 as never));
  await db.close();
  await rejectsWith("CLOSED", () => db.waitForCompactions());
});

test("waitForCompactions() of a read-only store resolves at once", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...small });
  await db.put("a", "1");
  await db.close();
  const reader = await open("/db", { fs, readOnly: true });
  await reader.waitForCompactions();
  assert.equal(reader.stats().compaction.pending, false);
  await reader.close();
});

test("waitForCompactions() rejects with the background error that stops work", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...small, keyEncoding: "utf8", valueEncoding: "utf8" });
  for (let i = 0; i < 500; i++) await db.put(`key${i}`, "v".repeat(50));
  fs.injectFault({ op: "append", path: /\.sst\.tmp$/, times: 1000 }); // every table write fails
  for (let i = 0; i < 2000; i++) void db.put(`more${i}`, "v".repeat(50)).catch(() => {});
  await Promise.resolve();
  assert.equal(db.stats().compaction.pending, true, "a flush waits");
  await rejectsWith("IO_ERROR", () => db.waitForCompactions());
  fs.clearFaults();
  await db.resume();
  await db.waitForCompactions();
  await db.close();
});
