// The background error: a failure of a flush, a compaction, the log or the
// manifest stops writes (IO_ERROR naming the cause) while reads go on, is
// reported once to "error" listeners, and db.resume() retries once storage
// is healthy. Nothing acknowledged is lost on the way.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open, type SiltError } from "../mod.ts";
import { rejectsWith } from "./_harness.ts";

const options = { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 2048, compactionMode: "inline" } as const;

test("a full disk stops writes, reads go on, one error event; resume() after space is freed, nothing lost", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...options });
  const errors: SiltError[] = [];
  db.on("error", (err) => errors.push(err));
  const acked = new Map<string, string>();
  for (let i = 0; i < 100; i++) {
    await db.put(`k${i}`, `v${i}`);
    acked.set(`k${i}`, `v${i}`);
  }
  fs.capacity = fs.usedBytes + 3000;
  let refused: SiltError | undefined;
  for (let i = 100; i < 2000 && refused === undefined; i++) {
    try {
      await db.put(`k${i}`, `v${i}`.padEnd(60, "."));
      acked.set(`k${i}`, `v${i}`.padEnd(60, "."));
    } catch (err) {
      refused = err as SiltError;
    }
  }
  assert.equal(refused?.code, "IO_ERROR");
  assert.match(refused!.message, /ENOSPC/);
  await rejectsWith("IO_ERROR", () => db.put("more", "x"), /refuses writes .*resume/);
  assert.equal(errors.length, 1, "one error event");
  assert.match(db.stats().backgroundError ?? "", /ENOSPC/);
  for (const [k, v] of acked) assert.equal(db.getSync(k), v, `reads go on: ${k}`);
  fs.capacity = fs.usedBytes; // (what a flush's table takes varies with the build: leave it no room at all)
  await rejectsWith("IO_ERROR", () => db.resume(), /ENOSPC/); // still full: writes stay stopped
  await rejectsWith("IO_ERROR", () => db.put("more", "x"));
  fs.capacity = Infinity;
  await db.resume();
  assert.equal(db.stats().backgroundError, undefined);
  await db.put("after", "resume", { sync: true });
  await db.close();
  const again = await open("/db", { fs, ...options });
  for (const [k, v] of acked) assert.equal(again.getSync(k), v, `after reopen: ${k}`);
  assert.equal(again.getSync("after"), "resume");
  await again.close();
});

test("a failed manifest write keeps the flushed table and starts a new manifest on resume()", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...options });
  for (let i = 0; i < 20; i++) await db.put(`k${i}`, `v${i}`);
  fs.injectFault({ op: "sync", path: /MANIFEST/, code: "EIO" });
  await rejectsWith("IO_ERROR", () => db.flush(), /MANIFEST.*EIO/);
  const tables = fs.list("/db").filter((n) => n.endsWith(".sst"));
  assert.equal(tables.length, 1, "the flushed table stays: the edit naming it may be on disk");
  await db.resume();
  const manifests = fs.list("/db").filter((n) => n.startsWith("MANIFEST-"));
  assert.equal(manifests.length, 1, `one manifest after resume: ${manifests}`);
  for (let i = 0; i < 20; i++) assert.equal(db.getSync(`k${i}`), `v${i}`);
  await db.put("x", "y", { sync: true });
  fs.crash();
  const again = await open("/db", { fs, ...options });
  for (let i = 0; i < 20; i++) assert.equal(again.getSync(`k${i}`), `v${i}`);
  assert.equal(again.getSync("x"), "y");
  await again.close();
});

test("a failed log sync rejects that write; resume() makes everything written durable", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...options });
  await db.put("a", "1");
  fs.injectFault({ op: "sync", path: /\.log$/, code: "EIO" });
  await rejectsWith("IO_ERROR", () => db.put("b", "2", { sync: true }), /EIO/);
  await rejectsWith("IO_ERROR", () => db.put("c", "3"), /refuses writes/);
  await db.resume();
  fs.crash(); // a power loss right after resume(): what it flushed is durable
  const again = await open("/db", { fs, ...options });
  assert.equal(again.getSync("a"), "1");
  assert.equal(again.getSync("b"), "2", "a write whose sync failed was in the OS: resume() made it durable");
  assert.equal(again.getSync("c"), undefined, "a refused write was never applied");
  await again.close();
});

test("a log that fails while no write waits (its close at a memtable switch) is the background error at once", async () => {
  // Regression: the log writer kept such a failure to itself; writes were
  // refused, but no "error" event came and stats() named no error.
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...options });
  const errors: SiltError[] = [];
  db.on("error", (err) => errors.push(err));
  await db.put("a", "1");
  const oldLog = db.stats().wal.file;
  fs.injectFault({ op: "sync", path: new RegExp(`${oldLog}$`), code: "EIO" });
  await db.flush().catch(() => {}); // the switch closes (syncs) the old log: it fails
  for (let i = 0; i < 20 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(errors.length, 1, "one error event, though no write was waiting");
  assert.match(db.stats().backgroundError ?? "", /EIO/);
  await rejectsWith("IO_ERROR", () => db.put("b", "2"), /refuses writes/);
  await db.resume();
  assert.equal(db.stats().backgroundError, undefined);
  await db.put("c", "3", { sync: true });
  fs.crash();
  const again = await open("/db", { fs, ...options });
  assert.equal(again.getSync("a"), "1");
  assert.equal(again.getSync("c"), "3");
  await again.close();
});
