// The compression option through the public API: per table, so a store
// holds tables of both kinds and reads them alike; flushes, compactions
// and repair follow the option of the moment; an unknown codec opens
// nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open, repair } from "../mod.ts";
import { rejectsWith } from "./_harness.ts";
import { blockCodecs } from "./_tables.ts";

const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

const value = (i: number) => JSON.stringify({ id: i, name: `user ${i % 10}`, tags: ["a", "b"], status: "active" });

test("a store holds tables of both codecs; flushes and compactions follow the option of the moment", async () => {
  const fs = new MemoryStorage();
  const expected = new Map<string, string>();
  const write = async (compression: "lz4" | "none", from: number, to: number) => {
    const db = await open("/db", { fs, ...utf8, compression, compactionMode: "inline", blockSize: 1024 });
    for (let i = from; i < to; i++) {
      await db.put(`k${String(i).padStart(5, "0")}`, value(i));
      expected.set(`k${String(i).padStart(5, "0")}`, value(i));
    }
    await db.flush();
    return db;
  };
  let db = await write("none", 0, 500);
  await db.close();
  assert.deepEqual(blockCodecs(fs).lz4, 0, "compression none: no compressed block");
  db = await write("lz4", 250, 1000);
  const mixed = blockCodecs(fs);
  assert.ok(mixed.lz4 > 0 && mixed.none > 0, `tables of both kinds: ${JSON.stringify(mixed)}`);
  for (const [k, v] of expected) assert.equal(db.getSync(k), v);
  assert.deepEqual(new Map(db.scanSync().toArray()), expected);
  await db.compact();
  assert.equal(blockCodecs(fs).none, 0, "the compaction rewrote every block with lz4");
  // Writes left in the log only: repair writes them to a table with the option it is given.
  for (let i = 1000; i < 1300; i++) {
    await db.put(`k${String(i).padStart(5, "0")}`, value(i));
    expected.set(`k${String(i).padStart(5, "0")}`, value(i));
  }
  await db.close();
  const report = await repair("/db", { fs, compression: "none" });
  const fromLog = report.tables.filter((t) => t.origin === "log").map((t) => t.file);
  assert.equal(fromLog.length, 1, JSON.stringify(report.tables));
  assert.deepEqual(blockCodecs(fs, fromLog).lz4, 0, "repair with compression none");
  assert.ok(blockCodecs(fs).lz4 > 0, "the tables repair kept are as they were");
  db = await open("/db", { fs, ...utf8 });
  assert.deepEqual(new Map(db.scanSync().toArray()), expected);
  await db.close();
});

test("a compaction whose raw output outgrows its compressed input (reopened with none) ends in a larger last table, not an error", async () => {
  // Output numbers are reserved by the inputs' file bytes; tables 8x smaller than their
  // data once ran out of numbers ("compaction ran out of reserved file numbers", IO_ERROR).
  const fs = new MemoryStorage();
  const repetitive = (i: number) => `${i}:` + "the same forty bytes of text again and ".repeat(50);
  const options = { fs, ...utf8, compactionMode: "inline", targetFileSize: 16 << 10, memtableSize: 64 << 10 } as const;
  let db = await open("/db", { ...options, compression: "lz4" });
  for (let i = 0; i < 600; i++) await db.put(`k${String(i).padStart(5, "0")}`, repetitive(i));
  await db.compact();
  await db.close();
  db = await open("/db", { ...options, compression: "none" });
  await db.compact();
  assert.equal(db.stats().backgroundError, undefined);
  assert.equal(blockCodecs(fs).lz4, 0, "every block rewritten raw");
  for (let i = 0; i < 600; i += 37) assert.equal(db.getSync(`k${String(i).padStart(5, "0")}`), repetitive(i));
  assert.equal(db.scanSync().toArray().length, 600);
  await db.close();
});

test("after a run of blocks that do not compress, blocks that do are compressed again", async () => {
  // The builder tries only one block in 8 once 4 in a row stayed raw (random bytes gain nothing).
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, compression: "lz4", blockSize: 1024, memtableSize: 8 << 20 });
  let seed = 7;
  const random = () =>
    Uint8Array.from({ length: 1000 }, () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
  for (let i = 0; i < 200; i++) await db.put(`a${String(i).padStart(4, "0")}`, random());
  const json = (i: number) => [0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => value(i * 9 + j)).join(",");
  for (let i = 0; i < 200; i++) await db.put(`b${String(i).padStart(4, "0")}`, json(i));
  await db.flush();
  const codecs = blockCodecs(fs);
  // 200 raw blocks of random values (one per block), then ~100 of JSON, all compressed
  // but the few (at most 7) before the next retry.
  assert.ok(codecs.none >= 200 && codecs.none <= 208, JSON.stringify(codecs));
  assert.ok(codecs.lz4 >= 90, JSON.stringify(codecs));
  await db.close();
});

test("an unknown codec is INVALID_ARGUMENT naming it, and nothing is opened", async () => {
  const fs = new MemoryStorage();
  for (const bad of ["zstd", "LZ4", "", 1, null, true]) {
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, compression: bad as "lz4" }),
      typeof bad === "string" ? new RegExp(`compression.*unknown codec ${JSON.stringify(bad)}`) : /compression/,
    );
  }
  assert.equal(fs.exists("/db"), false, "no directory was made");
});
