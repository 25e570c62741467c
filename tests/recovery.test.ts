import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { MemoryStorage, open, verify } from "../mod.ts";
import { LOG_HEADER_SIZE } from "../src/format/log_format.ts";
import { rejectsWith, rng, tempDir } from "./_harness.ts";

const opts = (fs: MemoryStorage) => ({ fs, keyEncoding: "utf8", valueEncoding: "utf8" }) as const;

test("synced writes survive a crash; unsynced writes after them may be lost", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", opts(fs));
  for (let i = 0; i < 50; i++) await db.put(`s${i}`, "synced", { sync: true });
  for (let i = 0; i < 50; i++) await db.put(`u${i}`, "unsynced");
  fs.crash();
  const again = await open("/db", opts(fs));
  for (let i = 0; i < 50; i++) assert.equal(again.getSync(`s${i}`), "synced");
  assert.equal(again.getSync("u0"), undefined, "unsynced writes are not durable");
  await again.close();
});

test("crashes that keep a random prefix of unsynced bytes always recover to a prefix of the writes", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = rng(seed);
    const fs = new MemoryStorage();
    const db = await open("/db", opts(fs));
    const total = 20 + Math.floor(random() * 40);
    let lastSynced = 0;
    for (let i = 1; i <= total; i++) {
      const sync = random() < 0.2;
      await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`.repeat(1 + Math.floor(random() * 30)), { sync });
      if (sync) lastSynced = i;
    }
    fs.crash({ unsynced: seed % 2 ? "prefix" : "zeros", random });
    const again = await open("/db", opts(fs));
    const keys = again.scanSync().toArray().map(([k]) => Number(k.slice(1)));
    assert.ok(keys.length >= lastSynced, `seed ${seed}: ${keys.length} writes survived, ${lastSynced} were synced`);
    assert.deepEqual(keys, keys.map((_, i) => i + 1), `seed ${seed}: survivors are a prefix`);
    // The torn tail was cut: new writes after recovery survive the next reopen.
    await again.put("after", "recovery", { sync: true });
    await again.close();
    const third = await open("/db", opts(fs));
    assert.equal(third.getSync("after"), "recovery");
    assert.equal(third.scanSync().toArray().length, keys.length + 1);
    await third.close();
  }
});

test("a crash while the first log is being created leaves an openable empty store", async () => {
  const fs = new MemoryStorage();
  fs.injectFault({ op: "syncDir" });
  await rejectsWith("IO_ERROR", () => open("/db", opts(fs)), /sync/);
  fs.crash();
  const db = await open("/db", opts(fs));
  await db.put("k", "v", { sync: true });
  await db.close();
});

test("a failed log write rejects the write and all later writes; synced data stays intact", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", opts(fs));
  await db.put("safe", "1", { sync: true });
  // Twice: the zeros the log writes ahead once it syncs (ENOSPC there only
  // ends its preallocation), then the record itself.
  fs.injectFault({ op: "append", code: "ENOSPC", partialBytes: 7, times: 2 });
  await rejectsWith("IO_ERROR", () => db.put("doomed", "2", { sync: true }), /ENOSPC/);
  await rejectsWith("IO_ERROR", () => db.put("later", "3"), /refuses writes after a failure/);
  assert.equal(db.getSync("safe"), "1", "reads keep working");
  await db.close().catch(() => {});
  const again = await open("/db", opts(fs));
  assert.equal(again.getSync("safe"), "1");
  assert.equal(again.getSync("later"), undefined);
  await again.put("new", "4", { sync: true });
  await again.close();
});

test("a failed fsync is reported, never silently retried", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", opts(fs));
  fs.injectFault({ op: "sync", code: "EIO" });
  await rejectsWith("IO_ERROR", () => db.put("k", "v", { sync: true }), /EIO/);
  await rejectsWith("IO_ERROR", () => db.put("k2", "v"));
});

test("a corrupt byte in the middle of the log is CORRUPTION naming file and offset, and changes nothing", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < 100; i++) await db.put(`key${i}`, `value${i}`);
    await db.close();
    const path = `${dir}/${readdirSync(dir).find((n) => n.endsWith(".log"))}`;
    const image = readFileSync(path);
    const at = LOG_HEADER_SIZE + Math.floor((image.length - LOG_HEADER_SIZE) / 2);
    image[at] ^= 0x40;
    writeFileSync(path, image);
    const err = await rejectsWith("CORRUPTION", () => open(dir));
    assert.equal(err.file, path);
    assert.ok(
      typeof err.offset === "number" && err.offset <= at && err.offset >= LOG_HEADER_SIZE,
      `offset ${err.offset}`,
    );
    assert.match(err.message, new RegExp(`\\d{6}\\.log at offset ${err.offset}`));
    assert.deepEqual(readFileSync(path), image, "a failed open leaves the file untouched");
    await rejectsWith("CORRUPTION", () => open(dir, { readOnly: true }));
  } finally {
    cleanup();
  }
});

test("a torn tail on disk ends the log; a writable open moves the log's data to a table, read-only opens change nothing", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < 10; i++) await db.put(`k${i}`, `v${i}`);
    await db.close();
    const path = `${dir}/${readdirSync(dir).find((n) => n.endsWith(".log"))}`;
    const full = readFileSync(path);
    const torn = full.subarray(0, full.length - 5);
    writeFileSync(path, torn);
    const ro = await open(dir, { readOnly: true, keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.equal(ro.scanSync().toArray().length, 9);
    await ro.close();
    assert.equal(readFileSync(path).length, torn.length, "read-only: file unchanged");
    const rw = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.equal(rw.scanSync().toArray().length, 9);
    assert.equal(rw.stats().levels[0].files, 1, "the replayed data is in a table");
    assert.ok(!existsSync(path), "the old log is gone: nothing is ever appended to it");
    await rw.put("k9", "again", { sync: true });
    await rw.close();
    const last = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.equal(last.getSync("k9"), "again");
    await last.close();
  } finally {
    cleanup();
  }
});

/**
 * Reopens /db after a crash of `fate` and checks writes 1..count (key "k" +
 * number, keyOf/valueOf): all of them after a process crash ("keep"), at
 * least the first lastSynced, a prefix, and the value of every checkEvery-th
 * survivor. Returns the reopened database.
 */
async function reopenAfterCrash(
  fs: MemoryStorage,
  fate: string,
  count: number,
  lastSynced: number,
  keyOf: (i: number) => string,
  valueOf: (i: number) => string,
  checkEvery: number,
) {
  const again = await open("/db", opts(fs));
  const keys = again.scanSync().toArray().map(([k]) => Number(k.slice(1)));
  if (fate === "keep") assert.equal(keys.length, count, "a crash of the process keeps every acknowledged write");
  assert.ok(keys.length >= lastSynced, `${fate}: ${keys.length} writes survived, ${lastSynced} were synced`);
  assert.deepEqual(keys, keys.map((_, i) => i + 1), `${fate}: the survivors are a prefix of the writes`);
  for (const k of keys.filter((_, i) => i % checkEvery === 0)) assert.equal(again.getSync(keyOf(k)), valueOf(k));
  return again;
}

test("regression (issue 21): a log preallocated with zeros reopens with every acknowledged write and nothing else", async () => {
  for (const fate of ["keep", "drop", "prefix", "sectors"] as const) {
    const random = rng(21);
    const fs = new MemoryStorage();
    const db = await open("/db", { ...opts(fs), memtableSize: 1 << 20 });
    let lastSynced = 0;
    for (let i = 1; i <= 400; i++) {
      const sync = i % 5 === 0;
      await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`.repeat(20), { sync });
      if (sync) lastSynced = i;
    }
    const logs = fs.list("/db").filter((n) => n.endsWith(".log"));
    const log = fs.readFile(`/db/${logs[logs.length - 1]}`);
    assert.equal(log[log.length - 1], 0, "the log ends in zeros written ahead of its records");
    fs.crash({ unsynced: fate, random });
    const report = await verify("/db", { fs });
    if (fate === "keep") assert.deepEqual(report.tornTails, [], "the zeros are the log's clean end, not a torn tail");
    assert.equal(report.problems.length, 0);
    const again = await reopenAfterCrash(
      fs,
      fate,
      400,
      lastSynced,
      (i) => `k${String(i).padStart(3, "0")}`,
      (i) => `v${i}`.repeat(20),
      1,
    );
    await again.put("after", "recovery", { sync: true });
    await again.close();
  }
});

test("a log whose syncs come and go (zeros ahead, then appends, then zeros again) reopens with every acknowledged write", async () => {
  for (const fate of ["keep", "drop", "prefix", "zeros", "sectors"] as const) {
    const random = rng(2100);
    const fs = new MemoryStorage();
    const db = await open("/db", { ...opts(fs), memtableSize: 4 << 20 }); // one log takes every write
    let lastSynced = 0;
    const count = 3800;
    for (let i = 1; i <= count; i++) {
      // 1 in 4 synced for 500 writes, 1 in 1,000 until 3,500, then 1 in 4: the log's zeros stop and resume.
      const sync = random() < (i <= 500 || i > 3500 ? 0.25 : 0.001);
      await db.put(`k${String(i).padStart(4, "0")}`, `v${i}`.repeat(10), { sync });
      if (sync) lastSynced = i;
    }
    fs.crash({ unsynced: fate, random });
    const report = await verify("/db", { fs });
    assert.equal(report.problems.length, 0, `${fate}: ${JSON.stringify(report.problems)}`);
    const again = await reopenAfterCrash(
      fs,
      fate,
      count,
      lastSynced,
      (i) => `k${String(i).padStart(4, "0")}`,
      (i) => `v${i}`.repeat(10),
      97,
    );
    await again.close();
  }
});
