// SiltLevel beyond abstract-level's suite: what it maps from siltdb (errors,
// options, the on-disk format shared with `open`), clear() with ranges, and
// iterators over data spread across memtables and table files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { open } from "../mod.ts";
import { SiltLevel } from "../level.ts";
import { tempDir, TINY } from "./_harness.ts";

const key = (i: number) => `k${String(i).padStart(5, "0")}`;

async function openFails(db: SiltLevel): Promise<{ code?: string; cause?: { code?: string; message?: string } }> {
  try {
    await db.open();
  } catch (err) {
    return err as { code?: string; cause?: { code?: string } };
  }
  assert.fail("open() should have failed");
}

test("a second SiltLevel on the same directory fails to open with cause LEVEL_LOCKED", async () => {
  const { dir, cleanup } = tempDir();
  const first = new SiltLevel(join(dir, "db"));
  try {
    await first.open();
    const second = new SiltLevel(join(dir, "db"));
    const err = await openFails(second);
    assert.equal(err.code, "LEVEL_DATABASE_NOT_OPEN");
    assert.equal(err.cause?.code, "LEVEL_LOCKED");
    assert.equal(second.status, "closed");
  } finally {
    await first.close();
    cleanup();
  }
});

test("createIfMissing: false and errorIfExists: true fail with causes that say why", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const missing = await openFails(new SiltLevel(join(dir, "nope"), { createIfMissing: false }));
    assert.equal(missing.code, "LEVEL_DATABASE_NOT_OPEN");
    assert.match(missing.cause?.message ?? "", /does not exist/);
    const db = new SiltLevel(join(dir, "db"));
    await db.put("a", "1");
    await db.close();
    const exists = await openFails(new SiltLevel(join(dir, "db"), { errorIfExists: true }));
    assert.match(exists.cause?.message ?? "", /already exists/);
  } finally {
    cleanup();
  }
});

test("SiltLevel and siltdb's open() read each other's data (the same bytes on disk)", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = new SiltLevel<string, unknown>(dir, { valueEncoding: "json" });
    // classic-level's sync option (abstract-level's typings do not list it)
    await db.put("user:1", { name: "alice" }, { sync: true } as object);
    await db.sublevel("s").put("x", "y");
    await db.put(Uint8Array.of(0xff, 0), "bytes", { keyEncoding: "view", valueEncoding: "utf8" });
    await db.close();

    const raw = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.equal(raw.getSync("user:1"), '{"name":"alice"}');
    assert.equal(raw.getSync("!s!x"), "y");
    await raw.put("user:2", '{"name":"bob"}');
    await raw.close();

    const again = new SiltLevel<string, unknown>(dir, { valueEncoding: "json" });
    assert.deepEqual(await again.getMany(["user:1", "user:2", "user:3"]), [
      { name: "alice" },
      { name: "bob" },
      undefined,
    ]);
    assert.equal(await again.get(Uint8Array.of(0xff, 0), { keyEncoding: "view", valueEncoding: "utf8" }), "bytes");
    await again.close();
  } finally {
    cleanup();
  }
});

test("clear() deletes the range: limit with reverse takes the last keys; a snapshot keeps later writes", async () => {
  const { dir, cleanup } = tempDir();
  const db = new SiltLevel(dir);
  try {
    await db.batch(Array.from({ length: 2500 }, (_, i) => ({ type: "put" as const, key: key(i), value: String(i) })));
    await db.clear({ gte: key(100), lt: key(2200), reverse: true, limit: 1500 }); // deletes 700..2199
    const keys = await db.keys().all();
    assert.equal(keys.length, 1000);
    assert.equal(keys[699], key(699));
    assert.equal(keys[700], key(2200));
    const snapshot = db.snapshot();
    await db.put("k99999", "written after the snapshot");
    await db.clear({ snapshot });
    assert.deepEqual(await db.keys().all(), ["k99999"]);
    await snapshot.close();
  } finally {
    await db.close();
    cleanup();
  }
});

test("iterators, seek and snapshots over data in memtables and table files (tiny memtables)", async () => {
  const { dir, cleanup } = tempDir();
  const db = new SiltLevel(dir, { ...TINY });
  try {
    const model = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      const ops = [];
      for (let i = round; i < 3000; i += 3) {
        const del = (i + round) % 5 === 0;
        ops.push(
          del ? { type: "del" as const, key: key(i) } : { type: "put" as const, key: key(i), value: `${round}:${i}` },
        );
        if (del) model.delete(key(i));
        else model.set(key(i), `${round}:${i}`);
      }
      await db.batch(ops);
    }
    const snapshot = db.snapshot();
    const before = [...model.entries()].sort(([a], [b]) => a < b ? -1 : 1);
    await db.clear({ gte: key(1000), lt: key(2000) });
    assert.deepEqual(await db.iterator({ snapshot }).all(), before);
    assert.deepEqual(await db.iterator({ reverse: true, snapshot }).all(), [...before].reverse());
    const live = before.filter(([k]) => k < key(1000) || k >= key(2000));
    assert.deepEqual(await db.iterator().all(), live);

    const it = db.iterator({ gte: key(500), lt: key(2500) });
    it.seek(key(1500)); // inside the cleared range: the next live key is k02000
    assert.deepEqual(await it.next(), live.find(([k]) => k >= key(2000)));
    it.seek(key(0)); // before the range: back to its start
    assert.deepEqual(await it.next(), live.find(([k]) => k >= key(500)));
    await it.close();
    assert.ok(db.siltdb.stats().flushes > 0, "the data went through flushes");
    await db.compactRange(key(0), key(9999));
    assert.deepEqual(await db.iterator().all(), live);
    await snapshot.close();
  } finally {
    await db.close();
    cleanup();
  }
});

test("siltdb's limits become Level errors: a key over maxKeySize is LEVEL_INVALID_KEY", async () => {
  const { dir, cleanup } = tempDir();
  const db = new SiltLevel(dir, { maxKeySize: 8 });
  try {
    await assert.rejects(db.put("123456789", "v"), { code: "LEVEL_INVALID_KEY" });
    await assert.rejects(db.batch([{ type: "put", key: "123456789", value: "v" }]), { code: "LEVEL_INVALID_KEY" });
    assert.throws(() => db.batch().put("123456789", "v"), { code: "LEVEL_INVALID_KEY" });
    assert.equal(await db.get("12345678"), undefined);
  } finally {
    await db.close();
    cleanup();
  }
});
