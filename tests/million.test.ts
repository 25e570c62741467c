// The issue-4 acceptance load: 1,000,000 keys spill into table files, survive
// close/reopen and a simulated crash with every acknowledged synced write
// intact. Slow (about a minute per runtime): runs only with SILTDB_MILLION=1.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open } from "../mod.ts";
import { tempDir } from "./_harness.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const N = Number(env.SILTDB_MILLION_N ?? 1_000_000);
const enabled = env.SILTDB_MILLION === "1";
const key = (i: number) => String(i).padStart(16, "0");
const value = (i: number) => `value-${i}-`.padEnd(100, "x");

test("a 1M-key load spills into tables and survives close/reopen", { skip: !enabled }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    let db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < N; i++) await db.put(key((i * 7919) % N), value((i * 7919) % N));
    await db.flush();
    const files = db.stats().levels.reduce((n, l) => n + l.files, 0);
    assert.ok(files > 10, `${files} tables`);
    await db.close();
    db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < N; i += 97) assert.equal(db.getSync(key(i)), value(i));
    let count = 0;
    let previous = "";
    for (const [k] of db.scanSync()) {
      assert.ok(k > previous);
      previous = k;
      count++;
    }
    assert.equal(count, N);
    await db.close();
  } finally {
    cleanup();
  }
});

test("a 1M-key load keeps every acknowledged synced write through a simulated crash", { skip: !enabled }, async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  let synced = -1;
  for (let i = 0; i < N; i++) {
    const sync = i % 1000 === 999;
    await db.put(key(i), value(i), { sync });
    if (sync) synced = i;
  }
  fs.crash({ unsynced: "drop" });
  const again = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  for (let i = 0; i <= synced; i += 101) assert.equal(again.getSync(key(i)), value(i), key(i));
  assert.equal(again.getSync(key(synced)), value(synced));
  const all = again.scanSync().toArray();
  assert.ok(all.length > synced, `${all.length} survived, ${synced + 1} were synced`);
  all.forEach(([k, v], i) => {
    assert.equal(k, key(i), "survivors are a prefix of the writes");
    assert.equal(v, value(i));
  });
  assert.ok(again.stats().levels.reduce((n, l) => n + l.files, 0) > 10);
  await again.close();
});
