// The write buffer: the default memtable limit grows with the store's
// tables (src/write/write_buffer.ts); an explicit memtableSize does not.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open } from "../mod.ts";
import { MAX_WRITE_BUFFER, memtableLimit } from "../src/write/write_buffer.ts";

const MiB = 1 << 20;

test("the default memtable limit is 4 MiB for small stores and doubles up to 32 MiB as the tables grow", () => {
  assert.equal(memtableLimit(undefined, 0), 4 * MiB);
  assert.equal(memtableLimit(undefined, 128 * MiB), 4 * MiB);
  assert.equal(memtableLimit(undefined, 128 * MiB + 1), 8 * MiB);
  assert.equal(memtableLimit(undefined, 256 * MiB + 1), 16 * MiB);
  assert.equal(memtableLimit(undefined, 512 * MiB + 1), 32 * MiB);
  assert.equal(memtableLimit(undefined, 100 * 1024 * MiB), MAX_WRITE_BUFFER);
  assert.equal(memtableLimit(64 << 10, 100 * 1024 * MiB), 64 << 10, "an explicit memtableSize is used as is");
});

/** Puts `count` values of 64 KiB with keys from `first` on, awaited one by one. */
async function putValues(db: Awaited<ReturnType<typeof open>>, first: number, count: number): Promise<void> {
  const value = new Uint8Array(64 << 10).fill(7);
  for (let i = first; i < first + count; i++) await db.put(`key${String(i).padStart(8, "0")}`, value);
}

test("a store with more than 128 MiB of tables freezes its memtables at 8 MiB by default, and at memtableSize when set", async () => {
  for (const memtableSize of [undefined, 4 * MiB]) {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, compactionMode: "inline", ...(memtableSize ? { memtableSize } : {}) });
    await putValues(db, 0, 2200); // ~137 MiB
    await db.flush();
    const tables = db.stats().levels.reduce((n, l) => n + l.bytes, 0);
    assert.ok(tables > 128 * MiB && tables < 256 * MiB, `tables ${tables}`);
    const before = db.stats().flushes;
    await putValues(db, 2200, 1024); // 64 MiB more
    const flushes = db.stats().flushes - before;
    if (memtableSize === undefined) assert.ok(flushes >= 7 && flushes <= 8, `8 MiB memtables: ${flushes} flushes`);
    else assert.ok(flushes >= 15 && flushes <= 16, `4 MiB memtables: ${flushes} flushes`);
    await db.close();
    // Reopened, every value is there (what the last memtable held came back from its log).
    const again = await open("/db", { fs, compactionMode: "inline" });
    assert.equal((await again.get("key00003223"))?.length, 64 << 10);
    assert.equal((await again.get("key00000000"))?.length, 64 << 10);
    await again.close();
  }
});
