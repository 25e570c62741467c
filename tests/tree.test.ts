// The tree on disk through the public API: memtables freeze and flush to L0
// tables, reads merge every source, the manifest survives reopen and crashes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { MemoryStorage, open } from "../mod.ts";
import { rejectsWith, rng, tempDir } from "./_harness.ts";

const small = (fs: MemoryStorage) =>
  ({ fs, keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 4096, blockSize: 512 }) as const;
const key = (i: number) => `key-${String(i).padStart(6, "0")}`;

test("data beyond the memtable spills into tables, compacts into L1, and every read agrees", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", small(fs));
  for (let i = 0; i < 3000; i++) await db.put(key(i), `value-${i}`);
  for (let i = 0; i < 3000; i += 5) await db.delete(key(i));
  await db.flush();
  const stats = db.stats();
  assert.ok(stats.flushes > 20, `${stats.flushes} flushes`);
  assert.ok(stats.compaction.count > 0, "L0 was compacted into L1");
  assert.ok(stats.levels[0].files < 4);
  assert.ok(stats.levels[1].files > 0);
  assert.equal(stats.immutable.count, 0);
  for (let i = 0; i < 3000; i++) assert.equal(db.getSync(key(i)), i % 5 === 0 ? undefined : `value-${i}`, key(i));
  const all = db.scanSync().toArray();
  assert.equal(all.length, 2400);
  assert.deepEqual(all.slice(0, 2), [[key(1), "value-1"], [key(2), "value-2"]]);
  const reverse = db.scanSync({ reverse: true, lt: key(2000), gte: key(1990) }).toArray().map(([k]) => k);
  assert.deepEqual(reverse, [1999, 1998, 1997, 1996, 1994, 1993, 1992, 1991].map(key));
  assert.ok(db.stats().bloom.checked > 0);
  const logs = fs.list("/db").filter((n) => n.endsWith(".log"));
  assert.equal(logs.length, 1, `obsolete logs are deleted: ${logs}`);
  await db.close();
});

test("reopen recovers tables from the manifest and the rest from the log", async () => {
  const fs = new MemoryStorage();
  let db = await open("/db", small(fs));
  for (let i = 0; i < 2000; i++) await db.put(key(i), `v${i}`);
  const before = db.stats();
  await db.close();
  db = await open("/db", small(fs));
  assert.equal(db.stats().sequence, before.sequence);
  assert.ok(db.stats().levels.some((l) => l.files > 0), "tables came back from the manifest");
  for (let i = 0; i < 2000; i += 37) assert.equal(db.getSync(key(i)), `v${i}`);
  assert.equal(db.scanSync().toArray().length, 2000);
  await db.put("after", "reopen", { sync: true });
  await db.close();
  const names = fs.list("/db");
  assert.equal(names.filter((n) => n.startsWith("MANIFEST-")).length, 1, "one manifest");
  assert.ok(names.includes("CURRENT"));
});

test("a snapshot taken before a flush sees exactly its data after the flush", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", small(fs));
  for (let i = 0; i < 100; i++) await db.put(key(i), "old");
  const snap = db.snapshot();
  for (let i = 0; i < 100; i++) await db.put(key(i), "new");
  for (let i = 100; i < 200; i++) await db.put(key(i), "later");
  await db.flush();
  assert.ok(db.stats().levels[0].files > 0);
  for (let i = 0; i < 200; i++) assert.equal(snap.getSync(key(i)), i < 100 ? "old" : undefined);
  assert.deepEqual(snap.scanSync().toArray().map(([, v]) => v), Array(100).fill("old"));
  assert.equal(db.getSync(key(5)), "new");
  snap.release();
  await db.close();
});

test("an open scan keeps reading its memtables and tables across flushes", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", small(fs));
  for (let i = 0; i < 1000; i++) await db.put(key(i), `v${i}`);
  const scan = db.scanSync();
  const first = scan.next().value!;
  for (let i = 0; i < 1000; i++) await db.put(key(i), "overwritten");
  await db.flush();
  const rest = [first, ...scan];
  assert.equal(rest.length, 1000);
  assert.ok(rest.every(([k, v]) => v === `v${Number(k.slice(4))}`));
  await db.close();
});

test("memory stays bounded: writes wait for flushes instead of piling up memtables", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { ...small(fs), memtableSize: 8192 });
  const writes = [];
  for (let i = 0; i < 5000; i++) writes.push(db.put(key(i), "x".repeat(100)));
  assert.ok(db.stats().immutable.count <= 2);
  await Promise.all(writes);
  for (let i = 0; i < 5000; i += 101) assert.equal(db.getSync(key(i)), "x".repeat(100));
  await db.close();
});

test("every acknowledged synced write survives a crash at any point of the flushes", async () => {
  for (let seed = 1; seed <= 25; seed++) {
    const random = rng(seed);
    const fs = new MemoryStorage();
    const db = await open("/db", small(fs));
    const total = 300 + Math.floor(random() * 600);
    let synced = 0;
    const crashAt = Math.floor(random() * total);
    for (let i = 1; i <= total; i++) {
      const sync = random() < 0.3;
      const write = db.put(key(i), `v${i}`, { sync });
      if (i === crashAt) { // crash while this write (and any flush) may be in flight
        write.catch(() => {});
        break;
      }
      await write;
      if (sync) synced = i;
    }
    fs.crash({ unsynced: (["drop", "prefix", "zeros", "keep"] as const)[seed % 4], random });
    const again = await open("/db", small(fs));
    const keys = again.scanSync().toArray().map(([k]) => Number(k.slice(4)));
    assert.ok(keys.length >= synced, `seed ${seed}: ${keys.length} survived, ${synced} synced`);
    assert.deepEqual(keys, keys.map((_, i) => i + 1), `seed ${seed}: a prefix of the writes`);
    await again.close();
  }
});

test("a failed flush is reported and refuses further writes; the data stays readable", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", small(fs));
  fs.injectFault({ op: "rename", path: /\.sst\.tmp$/, code: "ENOSPC" });
  const written: number[] = [];
  for (let i = 0; i < 300; i++) await db.put(key(i), `v${i}`).then(() => written.push(i), () => {});
  await rejectsWith("IO_ERROR", () => db.flush(), /ENOSPC/);
  await rejectsWith("IO_ERROR", () => db.put("k", "v"), /refuses writes/);
  assert.ok(written.length > 20, `${written.length} writes went through before the flush failed`);
  assert.equal(db.getSync(key(3)), "v3");
  await db.close();
  const again = await open("/db", small(fs));
  for (const i of written) assert.equal(again.getSync(key(i)), `v${i}`);
  await again.put("k", "v", { sync: true });
  await again.close();
});

test("a damaged table or manifest is CORRUPTION naming the file, never a wrong answer", async () => {
  const { dir, cleanup } = tempDir();
  try {
    let db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 4096 });
    for (let i = 0; i < 500; i++) await db.put(key(i), `value-${i}`);
    await db.flush();
    await db.close();
    const table = readdirSync(dir).find((n) => n.endsWith(".sst"))!;
    const image = readFileSync(`${dir}/${table}`);
    const damaged = Uint8Array.from(image);
    damaged[40] ^= 0x08; // inside the first data block
    writeFileSync(`${dir}/${table}`, damaged);
    db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 4096 });
    const err = await rejectsWith("CORRUPTION", () => db.scanSync().toArray());
    assert.equal(err.file, `${dir}/${table}`);
    assert.equal(err.offset, 0);
    await db.close();
    writeFileSync(`${dir}/${table}`, image);

    const manifest = readdirSync(dir).find((n) => n.startsWith("MANIFEST-"))!;
    const m = readFileSync(`${dir}/${manifest}`);
    const tables = readdirSync(dir).filter((n) => n.endsWith(".sst"));
    for (const at of [30, m.length - 3]) { // in the snapshot record, in the last edit
      const bad = Uint8Array.from(m);
      bad[at] ^= 0x01;
      writeFileSync(`${dir}/${manifest}`, bad);
      const e = await rejectsWith("CORRUPTION", () => open(dir));
      assert.equal(e.file, `${dir}/${manifest}`);
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".sst")), tables, "no table is deleted");
    }
    writeFileSync(`${dir}/${manifest}`, m);
    writeFileSync(`${dir}/CURRENT`, "MANIFEST-999999\n");
    await rejectsWith("CORRUPTION", () => open(dir), /does not exist/);
  } finally {
    cleanup();
  }
});

test("regression: data stays visible after reopen when the manifest's last edit is a compaction", async () => {
  // A compaction edit once recorded the last sequence known at open (0 for a
  // new database); reopening then read as of sequence 0 and saw nothing.
  const fs = new MemoryStorage();
  let db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  for (let r = 0; r < 4; r++) {
    await db.put("", `v${r}`);
    await db.flush();
  }
  await db.compact();
  await db.close();
  db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  assert.deepEqual(db.scanSync().toArray(), [["", "v3"]]);
  await db.put("next", "x");
  assert.equal(db.getSync(""), "v3");
  assert.ok(db.stats().sequence > 4, "new writes do not reuse sequences");
  await db.close();
});
