// TTL: puts with { ttl } / { expireAt } against a sorted-Map model with a
// fake clock, through flushes, compactions (tiny memtables), snapshots,
// reopen, reverse scans and counts; an expired newest version hides the
// older ones on every read path and through every compaction; the
// compaction's expired-entry counter; bad input; the compaction worker
// judging expiry by the job's time.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Compactor, type Db, MemoryStorage, open, repair, type Snapshot, verify } from "../mod.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import { BrowserDb } from "../src/browser/client.ts";
import { serve } from "../src/browser/worker_server.ts";
import type { PortLike } from "../src/browser/protocol.ts";
import { OpfsFake } from "./_opfs_fake.ts";
import { SiltLevel } from "../level.ts";
import { compareBytes, fcRuns, rejectsWith, tempDir, TINY, utf8 } from "./_harness.ts";

type Cell = { v: string; exp?: number };
type Model = Map<string, Cell>;
type Op =
  | { t: "put"; k: string; v: string; ttl?: number; batch: boolean }
  | { t: "putAt"; k: string; v: string; at: number }
  | { t: "del"; k: string }
  | { t: "advance"; ms: number }
  | { t: "read"; k: string; reverse: boolean; lo?: string }
  | { t: "snapshot" }
  | { t: "snapRead"; i: number; reverse: boolean }
  | { t: "release"; i: number }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "reopen" };

const KEYS = ["a", "ab", "b", "ba", "c", "cc", "d", "zz"];
const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));
const key = fc.constantFrom(...KEYS);
const value = fc.string({ maxLength: 40 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("put" as const),
      k: key,
      v: value,
      ttl: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      batch: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("putAt" as const),
      k: key,
      v: value,
      at: fc.integer({ min: -50, max: 300 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 120 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("read" as const),
      k: key,
      reverse: fc.boolean(),
      lo: fc.option(key, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("snapRead" as const), i: fc.nat(3), reverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("release" as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
);

/** The model's live entries at now, in key order (reversed on request), from lo on. */
function live(m: Model, now: number, reverse = false, lo?: string): [string, string][] {
  const out = [...m].filter(([k, c]) =>
    (c.exp === undefined || now < c.exp) && (lo === undefined || byBytes(k, lo) >= 0)
  )
    .sort(([a], [b]) => byBytes(a, b)).map(([k, c]) => [k, c.v] as [string, string]);
  return reverse ? out.reverse() : out;
}

const OPTIONS = { ...TINY, keyEncoding: "utf8", valueEncoding: "utf8" } as const;

async function checkReads(db: Db<string, string>, m: Model, now: number, k: string, reverse: boolean, lo?: string) {
  const want = live(m, now).find(([x]) => x === k)?.[1];
  assert.equal(await db.get(k), want, `get ${k} at ${now}`);
  assert.equal(db.getSync(k), want, `getSync ${k} at ${now}`);
  assert.equal(await db.has(k), want !== undefined, `has ${k}`);
  assert.equal((await db.getEntry(k)).value, want, `getEntry ${k}`);
  assert.deepEqual(
    await db.getMany([k, "a", "zz"]),
    [k, "a", "zz"].map((x) => live(m, now).find(([y]) => y === x)?.[1]),
  );
  const entries = live(m, now, reverse, lo);
  assert.deepEqual(await db.scan({ reverse, gte: lo }).toArray(), entries, `scan reverse=${reverse} gte=${lo}`);
  assert.deepEqual(db.scanSync({ reverse, gte: lo }).toArray(), entries);
  assert.equal(await db.count({ gte: lo }), entries.length, "count");
}

test("ttl model: puts with ttl/expireAt, deletes and a fake clock, through flushes, compactions, snapshots and reopen", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 80, size: "max" }), async (ops) => {
      let now = 10_000;
      const fs = new MemoryStorage();
      const opts = { ...OPTIONS, fs, clock: () => now };
      let db = await open("/db", opts);
      const model: Model = new Map();
      const snaps: { snap: Snapshot<string, string>; model: Model }[] = [];
      try {
        for (const o of ops) {
          if (o.t === "put") {
            const options = o.ttl === undefined ? undefined : { ttl: o.ttl };
            if (o.batch) await db.batch().put(o.k, o.v, options).write();
            else await db.put(o.k, o.v, options);
            model.set(o.k, { v: o.v, exp: o.ttl === undefined ? undefined : now + o.ttl });
          } else if (o.t === "putAt") {
            const at = Math.max(0, now + o.at);
            await db.put(o.k, o.v, { expireAt: o.at % 2 === 0 ? new Date(at) : at });
            model.set(o.k, { v: o.v, exp: at });
          } else if (o.t === "del") {
            await db.delete(o.k);
            model.delete(o.k);
          } else if (o.t === "advance") {
            now += o.ms;
          } else if (o.t === "read") {
            await checkReads(db, model, now, o.k, o.reverse, o.lo);
          } else if (o.t === "snapshot") {
            snaps.push({ snap: db.snapshot(), model: new Map(model) });
          } else if (o.t === "snapRead" && snaps.length > 0) {
            const s = snaps[o.i % snaps.length];
            // A snapshot reads the versions of its sequence, judged at the clock's time now.
            assert.deepEqual(await s.snap.scan({ reverse: o.reverse }).toArray(), live(s.model, now, o.reverse));
            for (const k of KEYS) assert.equal(await s.snap.get(k), live(s.model, now).find(([x]) => x === k)?.[1]);
            assert.equal(await s.snap.count(), live(s.model, now).length);
          } else if (o.t === "release" && snaps.length > 0) {
            snaps.splice(o.i % snaps.length, 1)[0].snap.release();
          } else if (o.t === "flush") {
            await db.flush();
          } else if (o.t === "compact") {
            await db.compact();
          } else if (o.t === "reopen") {
            for (const s of snaps.splice(0)) s.snap.release();
            await db.close();
            db = await open("/db", opts);
          }
        }
        for (const reverse of [false, true]) {
          assert.deepEqual(await db.scan({ reverse }).toArray(), live(model, now, reverse));
        }
        for (const s of snaps) assert.deepEqual(await s.snap.scan().toArray(), live(s.model, now));
        // Everything compacted away at the end still reads the same, also after a reopen.
        await db.compact();
        for (const s of snaps) assert.deepEqual(await s.snap.scan().toArray(), live(s.model, now));
        for (const s of snaps.splice(0)) s.snap.release();
        await db.compact();
        assert.deepEqual(await db.scan().toArray(), live(model, now));
        await db.close();
        db = await open("/db", opts);
        assert.deepEqual(await db.scan({ reverse: true }).toArray(), live(model, now, true));
      } finally {
        for (const s of snaps) s.snap.release();
        await db.close();
      }
    }),
    { numRuns: fcRuns(60) },
  );
});

test("an expired newest version hides the older ones on every read path and through every compaction", async () => {
  let now = 1_000;
  const fs = new MemoryStorage();
  const db = await open("/db", { ...OPTIONS, fs, clock: () => now });
  await db.put("k", "old");
  await db.flush();
  await db.compact(); // "old" at the bottom level
  await db.put("k", "new", { ttl: 10 });
  await db.put("k2", "x", { ttl: 10 });
  assert.equal(await db.get("k"), "new");
  now += 10; // expiry is exclusive: at expireAt the key is gone
  const gone = async (stage: string) => {
    assert.equal(await db.get("k"), undefined, stage);
    assert.equal(db.getSync("k"), undefined, stage);
    assert.equal(await db.has("k"), false, stage);
    assert.deepEqual(await db.keys().toArray(), [], stage);
    assert.deepEqual(await db.keys({ reverse: true }).toArray(), [], stage);
    assert.equal(await db.count(), 0, stage);
  };
  await gone("memtable");
  await db.flush();
  await gone("L0");
  const before = db.stats().compaction.entriesExpired;
  await db.compact();
  await gone("compacted");
  assert.equal(db.stats().compaction.entriesExpired - before, 2, "two expired entries dropped");
  assert.match(db.metrics(), new RegExp(`^siltdb_compaction_expired_entries_total ${before + 2}$`, "m"));
  await db.close();
  const again = await open("/db", { ...OPTIONS, fs, clock: () => now });
  assert.equal(await again.get("k"), undefined);
  await again.close();
});

test("a snapshot keeps the older version for itself; the expired newer one still reads as deleted everywhere", async () => {
  let now = 1_000;
  const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), clock: () => now });
  await db.put("k", "v1");
  const snap = db.snapshot();
  await db.put("k", "v2", { ttl: 5 });
  now += 5;
  await db.flush();
  await db.compact();
  assert.equal(await snap.get("k"), "v1");
  assert.equal(await db.get("k"), undefined);
  snap.release();
  await db.compact();
  assert.equal(await db.get("k"), undefined);
  await db.close();
});

test("expiry survives reopen, and a put without ttl makes a key permanent again", async () => {
  let now = 5_000;
  const fs = new MemoryStorage();
  let db = await open("/db", { ...OPTIONS, fs, clock: () => now });
  await db.put("a", "1", { ttl: 100 });
  await db.put("b", "2", { expireAt: new Date(5_050) });
  await db.put("c", "3", { ttl: 100 });
  await db.put("c", "3");
  await db.close();
  db = await open("/db", { ...OPTIONS, fs, clock: () => now });
  assert.deepEqual(await db.keys().toArray(), ["a", "b", "c"]);
  now = 5_050;
  assert.deepEqual(await db.keys().toArray(), ["a", "c"]);
  now = 5_100;
  assert.deepEqual(await db.keys().toArray(), ["c"]);
  await db.close();
});

test("bad ttl / expireAt: INVALID_ARGUMENT naming it, nothing written", async () => {
  const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage() });
  const bad: [unknown, RegExp][] = [
    [{ ttl: 0 }, /ttl/],
    [{ ttl: -5 }, /ttl/],
    [{ ttl: Number.NaN }, /ttl.*NaN/],
    [{ ttl: Infinity }, /ttl/],
    [{ ttl: "100" }, /ttl.*string/],
    [{ ttl: 10, expireAt: 5 }, /ttl and expireAt/],
    [{ expireAt: new Date("not a date") }, /expireAt.*invalid Date/],
    [{ expireAt: "tomorrow" }, /expireAt/],
    [{ expireAt: -1 }, /expireAt/],
    [{ tll: 5 }, /unknown put option "tll"/],
  ];
  for (const [options, message] of bad) {
    const err = await rejectsWith("INVALID_ARGUMENT", () => db.put("k", "v", options as never));
    assert.match(err.message, message);
    const batchErr = await rejectsWith("INVALID_ARGUMENT", () => db.batch().put("k", "v", options as never));
    assert.match(
      batchErr.message,
      options !== null && "tll" in (options as object) ? /unknown batch put option/ : message,
    );
  }
  assert.equal(await db.get("k"), undefined);
  await rejectsWith("INVALID_ARGUMENT", () => open("/db2", { fs: new MemoryStorage(), clock: 5 as never }), /clock/);
  await db.close();
});

test("on disk, the compaction worker drops expired entries by the time of the job (the database's clock)", async () => {
  const { dir, cleanup } = tempDir();
  let now = 1_000_000;
  try {
    const db = await open(dir, { ...OPTIONS, clock: () => now });
    assert.equal(db.stats().compaction.mode, "worker");
    for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(3, "0")}`, "v".repeat(30), { ttl: 1000 });
    for (let i = 0; i < 10; i++) await db.put(`p${i}`, "keep");
    await db.flush();
    now += 1000; // the worker's own Date.now is far past every expiry either way; the fake clock decides
    await db.compact();
    assert.equal(db.stats().compaction.mode, "worker");
    assert.ok(db.stats().compaction.entriesExpired >= 50, `expired ${db.stats().compaction.entriesExpired}`);
    assert.deepEqual(await db.keys().toArray(), Array.from({ length: 10 }, (_, i) => `p${i}`));
    await db.close();
    // With the clock before the expiry, a compaction keeps them all.
    now = 2_000_000;
    const db2 = await open(dir, { ...OPTIONS, clock: () => now });
    for (let i = 0; i < 20; i++) await db2.put(`q${i}`, "v", { ttl: 10 ** 9 });
    await db2.flush();
    await db2.compact();
    assert.equal(await db2.count({ gte: "q", lt: "r" }), 20);
    await db2.close();
  } finally {
    cleanup();
  }
});

test("in a bucket (in-memory object store): expiry on reads, in the writer's compactions and in a remote compactor's", async () => {
  let now = 50_000;
  const clock = () => now;
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
  const url = "memory://ttl/";
  const db = await open(url, { objectStore: store, ...OPTIONS, clock, gcMinAge: 0 }) as Db<string, string>;
  for (let i = 0; i < 20; i++) await db.put(`e${i}`, "x".repeat(50), { ttl: 100 });
  await db.put("keep", "1");
  await db.flush();
  now += 100;
  assert.deepEqual(await db.keys().toArray(), ["keep"]);
  await db.compact();
  assert.equal(db.stats().compaction.entriesExpired, 20);
  assert.deepEqual(await db.keys().toArray(), ["keep"]);
  await db.close();

  const remote = await open(url, { objectStore: store, ...OPTIONS, clock, compaction: "remote", gcMinAge: 0 }) as Db<
    string,
    string
  >;
  for (let i = 0; i < 20; i++) await remote.put(`r${i}`, "y".repeat(50), { expireAt: now + 10 });
  await remote.flush();
  const compactor = await Compactor.open(url, { objectStore: store, clock, l0CompactionTrigger: 2 });
  now += 10;
  while (await compactor.compactOnce());
  assert.equal(compactor.stats.entriesExpired, 20);
  await remote.refresh();
  assert.deepEqual(await remote.keys().toArray(), ["keep"]);
  await compactor.stop();
  await remote.close();
});

test("browser RPC: put and batch put options pass through to the worker", async () => {
  const fake = new OpfsFake();
  const channel = new MessageChannel();
  serve(channel.port2 as unknown as PortLike, { root: () => Promise.resolve(fake.root), locks: fake.locks });
  const db = new BrowserDb<string, string>("ttl", channel.port1 as unknown as PortLike, () => {});
  await db.connect({ keyEncoding: "utf8", valueEncoding: "utf8" });
  await db.put("gone", "1", { expireAt: Date.now() - 1 });
  await db.put("stays", "2", { ttl: 3_600_000 });
  await db.batch().put("gone2", "3", { expireAt: new Date(Date.now() - 1) }).put("stays2", "4", { ttl: 3_600_000 })
    .write();
  assert.deepEqual(await db.keys().toArray(), ["stays", "stays2"]);
  assert.equal(await db.get("gone"), undefined);
  await rejectsWith("INVALID_ARGUMENT", () => db.put("k", "v", { ttl: -1 }), /ttl/);
  await rejectsWith("INVALID_ARGUMENT", () => db.batch().put("k", "v", { ttl: 0 }).write(), /ttl/);
  assert.equal(await db.get("k"), undefined);
  await db.close();
  channel.port1.close();
});

test("transactions: tx.put with ttl / expireAt, and reads of expired keys inside a transaction", async () => {
  let now = 7_000;
  const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), clock: () => now });
  await db.put("old", "1", { ttl: 10 });
  await db.transaction((tx) => {
    tx.put("a", "x", { ttl: 100 });
    tx.put("b", "y", { expireAt: now - 1 }); // already expired: recorded as the delete it reads as
    assert.equal(tx.getSync("a"), "x");
    assert.equal(tx.getSync("b"), undefined);
    assert.throws(() => tx.put("c", "z", { ttl: 0 }), /transaction put option ttl/);
  });
  assert.deepEqual(await db.keys().toArray(), ["a", "old"]);
  now += 10;
  await db.transaction(async (tx) => {
    assert.equal(await tx.get("old"), undefined);
    const seen: string[] = [];
    for await (const [k] of tx.scan()) seen.push(k);
    assert.deepEqual(seen, ["a"]);
    assert.equal(await tx.count(), 1);
    assert.deepEqual(await tx.getMany(["a", "old"]), ["x", undefined]);
  });
  now += 90;
  assert.deepEqual(await db.keys().toArray(), []);
  await db.close();
});

test("the abstract-level adapter reads an expired key as deleted (get, getMany, iterators, keys)", async () => {
  let now = 3_000;
  const level = new SiltLevel<string, string>("/db", { fs: new MemoryStorage(), clock: () => now });
  await level.open();
  await level.put("a", "1");
  await level.siltdb!.put("a", "2", { ttl: 10 });
  await level.siltdb!.put("b", "3", { ttl: 10 });
  await level.put("c", "4");
  assert.equal(await level.get("a"), "2");
  now += 10;
  assert.equal(await level.get("a"), undefined);
  assert.deepEqual(await level.getMany(["a", "b", "c"]), [undefined, undefined, "4"]);
  assert.deepEqual(await level.keys().all(), ["c"]);
  assert.deepEqual(await level.iterator({ reverse: true }).all(), [["c", "4"]]);
  await level.close();
});

test("verify and repair understand expiring puts: a clean store verifies, repair keeps them (and they still expire)", async () => {
  const { dir, cleanup } = tempDir();
  let now = 9_000;
  try {
    const db = await open(dir, { ...OPTIONS, clock: () => now });
    for (let i = 0; i < 30; i++) await db.put(`k${i}`, "v".repeat(20), { ttl: i < 15 ? 50 : 10 ** 9 });
    await db.flush();
    for (let i = 30; i < 40; i++) await db.put(`k${i}`, "w", { expireAt: 9_050 }); // still in the log
    await db.close();
    const report = await verify(dir);
    assert.ok(report.ok, JSON.stringify(report.files.filter((f) => f.problems > 0)));
    await repair(dir);
    const again = await open(dir, { ...OPTIONS, clock: () => now });
    assert.equal(await again.count(), 40);
    now = 9_050;
    assert.equal(await again.count(), 15);
    await again.close();
  } finally {
    cleanup();
  }
});

test("the change feed reports a put with a ttl as a put of the user's value, live and when caught up from the memtable", async () => {
  const db = await open("/db", { ...OPTIONS, memtableSize: 1 << 20, fs: new MemoryStorage() });
  const controller = new AbortController();
  const live = db.changes({ signal: controller.signal })[Symbol.asyncIterator]();
  await db.put("a", "1", { ttl: 60_000 });
  await db.batch().put("b", "2", { expireAt: Date.now() + 60_000 }).delete("c").write();
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push((await live.next()).value);
  const shape = (c: { type: string; key: unknown; value: unknown }) => [c.type, c.key, c.value];
  assert.deepEqual(seen.map(shape), [["put", "a", "1"], ["put", "b", "2"], ["del", "c", undefined]]);
  const stop = new AbortController();
  const caughtUp = db.changes({ since: 1, signal: stop.signal })[Symbol.asyncIterator]();
  const again = [];
  for (let i = 0; i < 3; i++) again.push((await caughtUp.next()).value);
  assert.deepEqual(again.map(shape), seen.map(shape));
  controller.abort();
  stop.abort();
  await db.close();
});
