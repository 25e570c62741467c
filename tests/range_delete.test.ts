// Range tombstones (deleteRange, clear, batch().deleteRange): one record
// whatever the number of keys; every read path honours them (get, getSync,
// getEntry, scans both ways with limits, counts, snapshots), through
// flushes, compactions (leveled and tiered), reopens and crashes, against a
// sorted Map model; then the edges: tombstones at table boundaries,
// overlapping tombstones at different sequences, a put older or newer than
// the tombstone, snapshots between them, what compaction drops, the change
// feed, transactions, abstract-level's clear(), and bad input.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryStorage, open, type OpenOptions, repair, type Snapshot, verify } from "../mod.ts";
import { SiltLevel } from "../level.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import { compareBytes, fcRuns, rejectsWith, replaceFile, TINY, utf8 } from "./_harness.ts";
import { TableReader } from "../src/table/table_reader.ts";

type State = Map<string, string>;
const KEYS = ["", "a", "a\0", "ab", "abc", "b", "ba", "bb", "c", "d", "é", "z"];
const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));
const sorted = (m: State) => [...m.entries()].sort(([a], [b]) => byBytes(a, b));
const inRange = (k: string, lo: string | undefined, hi: string | undefined) =>
  (lo === undefined || byBytes(k, lo) >= 0) && (hi === undefined || byBytes(k, hi) < 0);

type Op =
  | { t: "put"; k: string; v: string }
  | { t: "del"; k: string }
  | { t: "deleteRange"; lo: string; hi: string }
  | { t: "clear"; lo?: string; hi?: string; inclusive: boolean }
  | { t: "batch"; lo: string; hi: string; k: string }
  | { t: "snapshot" }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "reopen" }
  | { t: "crash" }
  | { t: "check"; lo?: string; hi?: string; reverse: boolean; limit?: number };

const key = fc.constantFrom(...KEYS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("put" as const), k: key, v: fc.string({ maxLength: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("deleteRange" as const), lo: key, hi: key }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("clear" as const),
      lo: fc.option(key, { nil: undefined }),
      hi: fc.option(key, { nil: undefined }),
      inclusive: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("batch" as const), lo: key, hi: key, k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("check" as const),
      lo: fc.option(key, { nil: undefined }),
      hi: fc.option(key, { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(4), { nil: undefined }),
    }),
  },
);

/** Every read path agrees with the model state: get, getSync, getEntry, has, scans both ways, count. */
async function agree(db: Db<string, string> | Snapshot<string, string>, state: State, what: string): Promise<void> {
  for (const k of KEYS) {
    assert.equal(await db.get(k), state.get(k), `${what}: get(${JSON.stringify(k)})`);
    assert.equal(db.getSync(k), state.get(k), `${what}: getSync(${JSON.stringify(k)})`);
    assert.equal((await db.getEntry(k))?.value, state.get(k), `${what}: getEntry(${JSON.stringify(k)})`);
  }
  const all = sorted(state);
  assert.deepEqual(await db.scan().toArray(), all, `${what}: scan`);
  assert.deepEqual(db.scanSync({ reverse: true }).toArray(), [...all].reverse(), `${what}: reverse scan`);
  assert.equal(await db.count(), all.length, `${what}: count`);
}

async function readsAgree(db: Db<string, string>, state: State, o: Extract<Op, { t: "check" }>): Promise<void> {
  const range = { ...(o.lo !== undefined ? { gte: o.lo } : {}), ...(o.hi !== undefined ? { lt: o.hi } : {}) };
  let want = sorted(state).filter(([k]) => inRange(k, o.lo, o.hi));
  if (o.reverse) want.reverse();
  if (o.limit !== undefined) want = want.slice(0, o.limit);
  const opts = { ...range, reverse: o.reverse, ...(o.limit !== undefined ? { limit: o.limit } : {}) };
  assert.deepEqual(await db.scan(opts).toArray(), want, `scan ${JSON.stringify(opts)}`);
  assert.equal(await db.count(range), sorted(state).filter(([k]) => inRange(k, o.lo, o.hi)).length, "count");
}

async function runModel(ops: Op[], options: OpenOptions): Promise<void> {
  const fs = new MemoryStorage();
  const opts = { fs, keyEncoding: "utf8", valueEncoding: "utf8", compactionMode: "inline", ...options } as const;
  let db = await open("/db", opts) as Db<string, string>;
  const state: State = new Map();
  const snapshots: { snap: Snapshot<string, string>; state: State }[] = [];
  const releaseAll = () => {
    for (const s of snapshots.splice(0)) s.snap.release();
  };
  try {
    for (const o of ops) {
      switch (o.t) {
        case "put":
          await db.put(o.k, o.v);
          state.set(o.k, o.v);
          break;
        case "del":
          await db.delete(o.k);
          state.delete(o.k);
          break;
        case "deleteRange":
          if (byBytes(o.lo, o.hi) > 0) {
            await rejectsWith("INVALID_ARGUMENT", () => db.deleteRange(o.lo, o.hi), /start must not be after end/);
            break;
          }
          await db.deleteRange(o.lo, o.hi);
          for (const k of [...state.keys()]) if (inRange(k, o.lo, o.hi)) state.delete(k);
          break;
        case "clear": {
          const lower = o.lo === undefined ? {} : o.inclusive ? { gte: o.lo } : { gt: o.lo };
          const upper = o.hi === undefined ? {} : o.inclusive ? { lte: o.hi } : { lt: o.hi };
          await db.clear({ ...lower, ...upper });
          for (const k of [...state.keys()]) {
            const above = o.lo === undefined || (o.inclusive ? byBytes(k, o.lo) >= 0 : byBytes(k, o.lo) > 0);
            const below = o.hi === undefined || (o.inclusive ? byBytes(k, o.hi) <= 0 : byBytes(k, o.hi) < 0);
            if (above && below) state.delete(k);
          }
          break;
        }
        case "batch": {
          // A put before the range delete in the same batch is deleted by it, one after it is not.
          const [lo, hi] = byBytes(o.lo, o.hi) <= 0 ? [o.lo, o.hi] : [o.hi, o.lo];
          await db.batch().put(o.k, "before").deleteRange(lo, hi).put(`${o.k}!`, "after").write();
          state.set(o.k, "before");
          for (const k of [...state.keys()]) if (inRange(k, lo, hi)) state.delete(k);
          state.set(`${o.k}!`, "after");
          break;
        }
        case "snapshot":
          snapshots.push({ snap: db.snapshot(), state: new Map(state) });
          if (snapshots.length > 3) snapshots.shift()!.snap.release();
          break;
        case "flush":
          await db.flush();
          break;
        case "compact":
          await db.compact();
          break;
        case "reopen":
          releaseAll();
          await db.close();
          db = await open("/db", opts) as Db<string, string>;
          break;
        case "crash":
          // Every write above resolved after reaching the OS: a crash of the process keeps them all.
          releaseAll();
          fs.crash({ unsynced: "keep" });
          db = await open("/db", opts) as Db<string, string>;
          break;
        case "check":
          await readsAgree(db, state, o);
          break;
      }
      if (o.t !== "check") await agree(db, state, `after ${JSON.stringify(o)}`);
      for (const [i, s] of snapshots.entries()) await agree(s.snap, s.state, `snapshot ${i} after ${o.t}`);
    }
  } finally {
    releaseAll();
    await db.close();
  }
}

test("range deletes agree with a sorted Map model through flushes, compactions, reopens and crashes (leveled)", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 50, size: "max" }), (ops) => runModel(ops, TINY)),
    {
      numRuns: fcRuns(40),
    },
  );
});

test("range deletes agree with the model with tiered compaction", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { minLength: 5, maxLength: 50, size: "max" }),
      (ops) => runModel(ops, { ...TINY, compaction: "tiered" }),
    ),
    { numRuns: fcRuns(25) },
  );
});

const utf8Db = async (fs: MemoryStorage, extra: OpenOptions = {}) =>
  await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", compactionMode: "inline", ...extra }) as Db<
    string,
    string
  >;
const pad = (i: number) => `k${String(i).padStart(4, "0")}`;

test("deleteRange writes one small log record whatever the number of keys covered", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  for (let i = 0; i < 5000; i += 500) {
    const b = db.batch();
    for (let j = i; j < i + 500; j++) b.put(pad(j), "v");
    await b.write();
  }
  const before = db.stats().wal.bytesWritten;
  await db.deleteRange(pad(0), pad(5000));
  assert.ok(db.stats().wal.bytesWritten - before < 64, "one record of a few bytes");
  assert.equal(await db.count(), 0);
  const before2 = db.stats().wal.bytesWritten;
  await db.clear();
  assert.ok(db.stats().wal.bytesWritten - before2 < 64);
  await db.close();
});

test("a tombstone at table boundaries: compaction outputs cut between keys keep covering exactly their range", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs, TINY);
  const expected = new Map<string, string>();
  for (let i = 0; i < 400; i++) {
    await db.put(pad(i), `value ${i} ${"x".repeat(20)}`);
    expected.set(pad(i), `value ${i} ${"x".repeat(20)}`);
  }
  await db.compact();
  // Tombstones over boundaries, one ending exactly at a key that follows a cut, one of a key's successor.
  await db.deleteRange(pad(37), pad(211));
  await db.deleteRange("k0300", "k0300\0");
  await db.put(pad(100), "after the tombstone");
  for (const [k] of expected) if (inRange(k, pad(37), pad(211)) || k === "k0300") expected.delete(k);
  expected.set(pad(100), "after the tombstone");
  await db.flush();
  await db.compact();
  const want = [...expected.entries()].sort(([a], [b]) => byBytes(a, b));
  assert.deepEqual(await db.scan().toArray(), want);
  assert.deepEqual(db.scanSync({ reverse: true }).toArray(), [...want].reverse());
  for (let i = 0; i < 400; i++) assert.equal(db.getSync(pad(i)), expected.get(pad(i)), pad(i));
  // The level's files never overlap, tombstones or not.
  const levels = db.stats().levels;
  assert.ok(levels.length > 0);
  await db.close();
});

test("overlapping tombstones at different sequences, puts older and newer, snapshots between", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs, TINY);
  for (const k of ["a", "b", "c", "d", "e", "f"]) await db.put(k, `${k}1`);
  const s1 = db.snapshot();
  await db.deleteRange("b", "e"); // deletes b, c, d
  const s2 = db.snapshot();
  await db.put("c", "c2"); // newer than the first tombstone
  await db.deleteRange("a", "c\0"); // deletes a, c2 (b already gone)
  const s3 = db.snapshot();
  await db.put("b", "b3");
  await db.flush();
  const check = async () => {
    assert.deepEqual(await s1.scan().toArray(), ["a", "b", "c", "d", "e", "f"].map((k) => [k, `${k}1`]));
    assert.deepEqual(await s2.scan().toArray(), [["a", "a1"], ["e", "e1"], ["f", "f1"]]);
    assert.deepEqual(await s3.scan().toArray(), [["e", "e1"], ["f", "f1"]]);
    assert.deepEqual(await db.scan().toArray(), [["b", "b3"], ["e", "e1"], ["f", "f1"]]);
    assert.equal(await s2.get("c"), undefined);
    assert.equal(await s3.get("d"), undefined);
    assert.deepEqual(await db.keys({ reverse: true }).toArray(), ["f", "e", "b"]);
  };
  await check();
  await db.compact(); // the snapshots keep what they see
  await check();
  s1.release();
  s2.release();
  s3.release();
  await db.compact();
  assert.deepEqual(await db.scan().toArray(), [["b", "b3"], ["e", "e1"], ["f", "f1"]]);
  await db.close();
});

test("compaction drops the covered keys and, at the bottom with no snapshot, the tombstones", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  for (let i = 0; i < 2000; i++) await db.put(pad(i), "v".repeat(50));
  await db.flush();
  await db.deleteRange(pad(0), pad(1900));
  await db.compact();
  const stats = db.stats();
  const entries = stats.levels.reduce((n, l) => n + (l.entries ?? 0), 0);
  assert.ok(entries <= 200, `the covered keys are gone (${entries} entries left)`);
  assert.equal(await db.count(), 100);
  await db.close();
  const reopened = await utf8Db(fs);
  assert.equal(await reopened.count(), 100);
  assert.equal(reopened.getSync(pad(5)), undefined);
  await reopened.close();
});

test("the change feed reports a range delete as one change", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  await db.put("a", "1");
  const since = db.sequence + 1;
  await db.deleteRange("a", "c");
  await db.clear({ gte: "x" });
  await db.put("b", "2");
  const got = [];
  for await (const c of db.changes({ since })) {
    got.push(c);
    if (got.length === 3) break;
  }
  assert.deepEqual(got, [
    { sequence: since, type: "deleteRange", start: utf8("a"), end: utf8("c") },
    { sequence: since + 1, type: "deleteRange", start: utf8("x"), end: undefined },
    { sequence: since + 2, type: "put", key: "b", value: "2" },
  ]);
  await db.close();
});

test("a committed range delete conflicts with a transaction that read or wrote a key in the range", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  await db.put("m", "1");
  let tries = 0;
  await db.transaction(async (tx) => {
    tries++;
    const v = await tx.get("m");
    if (tries === 1) await db.deleteRange("a", "z"); // commits between the read and the commit
    tx.put("n", String(v));
  });
  assert.equal(tries, 2, "the first try conflicted and ran again");
  assert.equal(await db.get("n"), "undefined");
  let scans = 0;
  await db.transaction(async (tx) => {
    scans++;
    for await (const _ of tx.scan({ gte: "n", lt: "o" })) { /* read the range */ }
    if (scans === 1) await db.clear({ gte: "n\0" }); // a range meeting the scanned one
    tx.put("p", "1");
  });
  assert.equal(scans, 2);
  await db.close();
});

test("abstract-level clear() writes one range tombstone", async () => {
  const fs = new MemoryStorage();
  const db = new SiltLevel<string, string>("/db", { fs });
  await db.open();
  await db.batch([...Array(100).keys()].map((i) => ({ type: "put" as const, key: pad(i), value: "v" })));
  const silt = db.siltdb;
  const before = silt.stats().wal.bytesWritten;
  await db.clear({ gte: pad(10), lt: pad(90) });
  assert.ok(silt.stats().wal.bytesWritten - before < 64);
  assert.deepEqual((await db.keys().all()).length, 20);
  await db.clear({ limit: 5 }); // with a limit: the first five keys, one by one
  assert.deepEqual((await db.keys().all()).slice(0, 2), [pad(5), pad(6)]);
  await db.close();
});

test("bad input: start after end, bad keys and options are INVALID_ARGUMENT and write nothing", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  await db.put("a", "1");
  const seq = db.sequence;
  await rejectsWith("INVALID_ARGUMENT", () => db.deleteRange("b", "a"), /deleteRange start must not be after end/);
  assert.throws(() => db.batch().deleteRange("b", "a"), /start must not be after end/);
  assert.throws(() => db.batch().deleteRange(1 as unknown as string, "a"), /deleteRange start/);
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => db.clear({ reverse: 1 } as never),
    /clear option reverse must be a boolean/,
  );
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => db.batch([{ type: "deleteRange", start: "a", end: "b", key: "a" } as never]),
    /batch operation 0 has an unknown property "key"/,
  );
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => db.batch([{ type: "put", key: "x", value: "1" }, { type: "deleteRange", start: "b", end: "a" }]),
    /batch operation 1: deleteRange start must not be after end/,
  );
  await db.deleteRange("a", "a"); // empty: nothing to delete
  assert.equal(db.sequence, seq, "nothing was written");
  assert.equal(await db.get("a"), "1");
  await db.batch([{ type: "put", key: "b", value: "2" }, { type: "deleteRange", start: "a", end: "b\0" }]);
  assert.equal(await db.count(), 0, "a range delete in db.batch(operations)");
  await db.close();
});

test("verify() finds a store with range tombstones in tables and logs clean; repair() keeps them", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs, TINY);
  for (let i = 0; i < 300; i++) await db.put(pad(i), `v${i}`);
  await db.deleteRange(pad(10), pad(120));
  await db.flush(); // a table with a range-tombstone block
  await db.clear({ gte: pad(250) }); // an open end, in the log only
  await db.close();
  const report = await verify("/db", { fs });
  assert.deepEqual(report.problems, []);
  const repaired = await repair("/db", { fs });
  assert.ok(repaired !== undefined);
  const again = await utf8Db(fs);
  assert.equal(await again.count(), 300 - 110 - 50);
  assert.equal(again.getSync(pad(50)), undefined);
  assert.equal(again.getSync(pad(260)), undefined);
  assert.equal(again.getSync(pad(200)), "v200");
  await again.close();
});

test("in a bucket (in-memory object store): range deletes through WAL objects, flushes, compactions, a reader and a reopen", async () => {
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
  const options = {
    objectStore: store,
    gcMinAge: 0,
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    memtableSize: 4096,
    compactionMode: "inline",
  } as const;
  const db = await open("memory://range", options) as Db<string, string>;
  for (let i = 0; i < 300; i++) await db.put(pad(i), `v${i}`);
  await db.flush();
  await db.deleteRange(pad(20), pad(220));
  await db.clear({ gte: pad(290) });
  await db.put(pad(100), "again");
  const want = [...Array(300).keys()]
    .filter((i) => i < 20 || (i >= 220 && i < 290) || i === 100)
    .map((i) => [pad(i), i === 100 ? "again" : `v${i}`]);
  assert.deepEqual(await db.scan().toArray(), want);
  const reader = await open("memory://range", { ...options, readOnly: true }) as Db<string, string>;
  assert.deepEqual(await reader.scan().toArray(), want, "a reader replaying the WAL objects");
  await reader.close();
  await db.flush();
  await db.compact();
  assert.deepEqual(await db.scan({ reverse: true }).toArray(), [...want].reverse());
  assert.equal(await db.count(), want.length);
  await db.close();
  const again = await open("memory://range", options) as Db<string, string>;
  assert.deepEqual(await again.scan().toArray(), want);
  assert.equal(await again.get(pad(50)), undefined);
  await again.close();
});

test("repair() salvaging a table with a damaged data block keeps its range tombstones", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs);
  for (let i = 0; i < 100; i++) await db.put(pad(i), `old ${i}`);
  await db.flush();
  for (let i = 200; i < 300; i++) await db.put(pad(i), `new ${i} ${"x".repeat(60)}`);
  await db.deleteRange(pad(10), pad(20));
  await db.flush();
  await db.close();
  const withRanges = fs.list("/db").filter((n) => n.endsWith(".sst")).find((n) => {
    const t = TableReader.open(fs, `/db/${n}`, Number(n.slice(0, -4)));
    t.close();
    return t.rangeTombstones.length > 0;
  });
  assert.ok(withRanges !== undefined);
  const image = fs.readFile(`/db/${withRanges}`)!.slice();
  image[20] ^= 0xff; // the first data block
  await replaceFile(fs, `/db/${withRanges}`, image);
  assert.equal((await verify("/db", { fs })).ok, false);
  await repair("/db", { fs });
  const again = await utf8Db(fs);
  assert.equal(await again.get(pad(15)), undefined, "the tombstone still hides the older key");
  assert.equal(await again.get(pad(5)), "old 5");
  await again.close();
});

test("verify() finds tables clean whose tombstones a compaction cut between outputs, and flushed open ends", async () => {
  const fs = new MemoryStorage();
  const db = await utf8Db(fs, TINY);
  for (let i = 0; i < 400; i++) await db.put(pad(i), `v${i} ${"x".repeat(30)}`);
  await db.flush();
  const snap = db.snapshot(); // keeps the tombstones through the compaction (newer than the oldest snapshot)
  await db.deleteRange(pad(5), pad(395));
  await db.clear({ gte: pad(398) }); // an open end: the flush bounds it just past the largest key
  await db.flush();
  await db.compact();
  const cut = fs.list("/db").filter((n) => n.endsWith(".sst")).filter((n) => {
    const t = TableReader.open(fs, `/db/${n}`, Number(n.slice(0, -4)));
    t.close();
    return t.rangeTombstones.length > 0;
  });
  assert.ok(cut.length >= 2, `the tombstones were cut between ${cut.length} outputs`);
  assert.deepEqual(await snap.count(), 400);
  assert.deepEqual(await db.keys().toArray(), [0, 1, 2, 3, 4, 395, 396, 397].map(pad));
  snap.release();
  await db.close();
  assert.deepEqual((await verify("/db", { fs })).problems, []);
});
