// db.checkpoint(dir): consistent copies of a live store at one sequence.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryStorage, open, SiltError, verify } from "../mod.ts";
import { compareBytes, fcRuns, rejectsWith, tempDir, TINY, utf8 } from "./_harness.ts";
import { faultyStorage } from "./_faulty_storage.ts";

type Model = Map<string, string>;

/** Every key and value of a store, as text, in key order. */
async function contents(db: Db<string, string>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.scan()) out.push([k, v]);
  return out;
}

function sorted(model: Model): [string, string][] {
  return [...model].sort((a, b) => compareBytes(utf8(a[0]), utf8(b[0])));
}

const textDb = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

test("checkpoint() copies a store that opens with the same keys and values, tables linked", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  for (let i = 0; i < 200; i++) await db.put(`k${i % 50}`, `v${i}`);
  await db.delete("k3");
  const info = await db.checkpoint("/cp");
  assert.equal(info.sequence, db.sequence);
  assert.ok(info.linked > 0, "tables were linked");
  assert.equal(info.copied, 0);
  await db.put("after", "x");
  const expected = (await contents(db)).filter(([k]) => k !== "after");
  const copy = await open("/cp", { fs, ...textDb });
  assert.deepEqual(await contents(copy), expected);
  assert.equal(copy.sequence, info.sequence);
  await copy.put("own", "write"); // a store of its own
  await copy.close();
  assert.equal(await db.get("own"), undefined);
  await db.close();
});

test("checkpoint() on the real file system links tables, and the copy verifies", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(`${dir}/db`, { ...TINY, ...textDb });
    for (let i = 0; i < 300; i++) await db.put(`key${i}`, `value${i}`);
    const info = await db.checkpoint(`${dir}/cp`);
    assert.ok(info.linked > 0);
    for (let i = 0; i < 300; i++) await db.delete(`key${i}`); // the source moves on, compacts, deletes tables
    await db.compact();
    await db.close();
    const report = await verify(`${dir}/cp`);
    assert.ok(report.ok, JSON.stringify(report.problems ?? report));
    const copy = await open(`${dir}/cp`, { readOnly: true, ...textDb });
    assert.equal((await contents(copy)).length, 300);
    await copy.close();
  } finally {
    cleanup();
  }
});

test("checkpoint() into another storage copies the tables", async () => {
  const fs = new MemoryStorage();
  const other = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, `v${i}`);
  const info = await db.checkpoint("/elsewhere", { fs: other });
  assert.equal(info.linked, 0);
  assert.ok(info.copied > 0);
  const expected = await contents(db);
  await db.close();
  const copy = await open("/elsewhere", { fs: other, ...textDb });
  assert.deepEqual(await contents(copy), expected);
  await copy.close();
});

test("checkpoint() keeps the tables it copies while a compaction replaces and deletes them", async () => {
  const fs = new MemoryStorage();
  const other = new MemoryStorage();
  const db = await open("/db", {
    fs,
    ...TINY,
    l0CompactionTrigger: 8,
    l0SlowdownTrigger: 16,
    l0StopTrigger: 24,
    ...textDb,
  });
  for (let i = 0; i < 400; i++) await db.put(`k${i % 97}`, `v${i}`);
  await db.flush();
  const tables = fs.list("/db").filter((n) => n.endsWith(".sst"));
  assert.ok(tables.length > 3, `${tables.length} tables`);
  const expected = await contents(db);
  const [info] = await Promise.all([db.checkpoint("/cp", { fs: other }), db.compact()]);
  assert.ok(tables.some((n) => !fs.exists(`/db/${n}`)), "the compaction deleted tables the checkpoint copied");
  assert.equal(info.copied, tables.length);
  await db.close();
  const copy = await open("/cp", { fs: other, ...textDb });
  assert.deepEqual(await contents(copy), expected);
  await copy.close();
});

test("checkpoint() refuses a directory that is not empty, or a file, and changes nothing", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...textDb });
  await db.put("a", "1");
  fs.mkdir("/full");
  const f = fs.open("/full/notes.txt", { create: true });
  f.close();
  await rejectsWith("INVALID_ARGUMENT", () => db.checkpoint("/full"), /\/full exists and is not empty/);
  assert.deepEqual(fs.list("/full"), ["notes.txt"]);
  fs.open("/file", { create: true }).close();
  await rejectsWith("INVALID_ARGUMENT", () => db.checkpoint("/file"), /\/file exists and is not a directory/);
  await rejectsWith("INVALID_ARGUMENT", () => db.checkpoint(""), /non-empty string/);
  fs.mkdir("/empty");
  await db.checkpoint("/empty"); // an empty directory is fine
  const both = await Promise.allSettled([db.checkpoint("/twice"), db.checkpoint("/twice")]);
  assert.equal(both.filter((r) => r.status === "fulfilled").length, 1, "one of two checkpoints into one directory");
  const refused = both.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.equal(refused.reason.code, "INVALID_ARGUMENT", String(refused.reason));
  const twice = await open("/twice", { fs, ...textDb, readOnly: true });
  assert.equal(await twice.get("a"), "1");
  await twice.close();
  await db.close();
  await rejectsWith("CLOSED", () => db.checkpoint("/other"));
});

test("checkpoint() of a read-only store and of a store with bufferWrites", async () => {
  const fs = new MemoryStorage();
  let db = await open("/db", { fs, ...textDb, bufferWrites: true });
  await db.put("a", "1");
  await db.put("b", "2");
  const info = await db.checkpoint("/cp1"); // acknowledged buffered writes are in it
  assert.equal(info.sequence, 2);
  await db.close();
  db = await open("/db", { fs, ...textDb, readOnly: true });
  await db.checkpoint("/cp2");
  await db.close();
  for (const dir of ["/cp1", "/cp2"]) {
    const copy = await open(dir, { fs, ...textDb });
    assert.deepEqual(await contents(copy), [["a", "1"], ["b", "2"]]);
    await copy.close();
  }
});

for (const bufferWrites of [false, true]) {
  test(`checkpoints taken at random moments of a random workload hold exactly the state at their sequence${bufferWrites ? " (bufferWrites)" : ""}`, async () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant("put" as const),
        k: fc.integer({ min: 0, max: 40 }),
        v: fc.string({ maxLength: 30 }),
      }),
      fc.record({ t: fc.constant("del" as const), k: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ t: fc.constant("batch" as const), ks: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 5 }) }),
      fc.record({ t: fc.constant("checkpoint" as const), awaitIt: fc.boolean() }),
      fc.record({ t: fc.constant("flush" as const) }),
    );
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const fs = new MemoryStorage();
        const db = await open("/db", { fs, ...TINY, ...textDb, bufferWrites });
        const model: Model = new Map();
        const states = new Map<number, [string, string][]>([[0, []]]);
        const checkpoints: Promise<{ dir: string; sequence: number }>[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.t === "put") {
            await db.put(`k${o.k}`, o.v);
            model.set(`k${o.k}`, o.v);
          } else if (o.t === "del") {
            await db.delete(`k${o.k}`);
            model.delete(`k${o.k}`);
          } else if (o.t === "batch") {
            const b = db.batch();
            o.ks.forEach((k, i) => i % 3 === 2 ? b.delete(`k${k}`) : b.put(`k${k}`, `b${i}`));
            await b.write();
            o.ks.forEach((k, i) => i % 3 === 2 ? model.delete(`k${k}`) : model.set(`k${k}`, `b${i}`));
          } else if (o.t === "flush") {
            await db.flush();
          } else {
            const p = db.checkpoint(`/cp${n++}`);
            checkpoints.push(p);
            if (o.awaitIt) await p; // else writes go on while it runs
          }
          states.set(db.sequence, sorted(model));
        }
        const done = await Promise.all(checkpoints);
        await db.close();
        checked += done.length;
        for (const { dir, sequence } of done) {
          const copy = await open(dir, { fs, ...textDb, readOnly: true });
          const expected = states.get(sequence);
          assert.ok(expected !== undefined, `checkpoint ${dir} at sequence ${sequence}, between two writes`);
          assert.deepEqual(await contents(copy), expected, `checkpoint ${dir} at ${sequence}`);
          await copy.close();
        }
      }),
      { numRuns: fcRuns(40) },
    );
    assert.ok(checked > 20, `${checked} checkpoints checked`);
  });
}

test("a fault or a crash at any storage call of a checkpoint: the source keeps its data, the target is whole or refused", async () => {
  for (const crash of [false, true]) {
    for (let at = 0;; at++) {
      const mem = new MemoryStorage();
      const fs = faultyStorage(mem);
      const db = await open("/db", { fs, ...TINY, ...textDb });
      for (let i = 0; i < 40; i++) await db.put(`k${i}`, `v${i}`, { sync: true });
      const expected = await contents(db);
      fs.failAt(at, crash ? () => mem.crash() : undefined);
      let failed: unknown;
      await db.checkpoint("/cp").catch((err) => failed = err);
      const fired = fs.calls > at;
      const completed = failed === undefined;
      fs.failAt(Infinity);
      if (failed !== undefined) assert.ok(failed instanceof SiltError, `call ${at}: ${failed}`);
      if (!crash || !fired) await db.close().catch(() => {});
      const source = await open("/db", { fs: mem, ...textDb });
      assert.deepEqual(await contents(source), expected, `call ${at}: the source`);
      await source.close();
      try {
        const copy = await open("/cp", { fs: mem, ...textDb, createIfMissing: false });
        assert.deepEqual(await contents(copy), expected, `call ${at}: the checkpoint opened, so it is whole`);
        await copy.close();
      } catch (err) {
        assert.ok(!completed, `call ${at}: a completed checkpoint must open (${err})`);
        if (mem.exists("/cp/INCOMPLETE")) {
          const report = await verify("/cp", { fs: mem });
          assert.ok(report.problems.some((p) => p.file === "INCOMPLETE"), `call ${at}: verify names INCOMPLETE`);
        }
        assert.ok(err instanceof SiltError, `call ${at}: ${err}`);
        assert.ok(["CORRUPTION", "NOT_FOUND"].includes(err.code), `call ${at}: ${err.code} ${err.message}`);
      }
      assert.ok(at < 2000, "the checkpoint never completed");
      if (!fired) {
        assert.ok(completed && at > 20, `a checkpoint takes more than ${at} storage calls`);
        break;
      }
    }
  }
});
