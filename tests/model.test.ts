// Model-based tests: random operation sequences run against siltdb and
// against a sorted Map model, with snapshots, reopen and simulated crashes.
// After a crash, the recovered store must equal the model after some prefix
// of the acknowledged writes that includes every synced write.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryStorage, open, type OpenOptions, type ScanOptions, type Snapshot, type UnsyncedFate } from "../mod.ts";
import { compareBytes, fcRuns, rng, tempDir, TINY, utf8 } from "./_harness.ts";

type State = Map<string, string>;
type Write = { t: "put"; k: string; v: string } | { t: "del"; k: string };
type Bounds = { lo?: [string, boolean]; hi?: [string, boolean]; reverse: boolean; limit?: number };
type Op =
  | { t: "write"; writes: Write[]; batch: boolean; sync: boolean }
  | { t: "get"; k: string }
  | { t: "scan"; b: Bounds }
  | { t: "snapshot" }
  | { t: "snapRead"; i: number; k: string; b: Bounds }
  | { t: "release"; i: number }
  | { t: "reopen" }
  | { t: "crash"; fate: UnsyncedFate; seed: number }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "compactRange"; lo: string; hi: string }
  | { t: "badInput" };

const KEYS = ["", "a", "a\0", "ab", "abcdefgh", "abcdefgh\0", "abcdefghi", "b", "ba", "é", "z".repeat(40), "\u{1F600}"];
const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));

const key = fc.constantFrom(...KEYS);
const value = fc.string({ maxLength: 12 });
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("put" as const), k: key, v: value }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
);
const bounds: fc.Arbitrary<Bounds> = fc.record({
  lo: fc.option(fc.tuple(key, fc.boolean()), { nil: undefined }),
  hi: fc.option(fc.tuple(key, fc.boolean()), { nil: undefined }),
  reverse: fc.boolean(),
  limit: fc.option(fc.nat(6), { nil: undefined }),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant("write" as const), writes: fc.array(write, { minLength: 1, maxLength: 1 }), batch: fc.constant(false), sync: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("write" as const), writes: fc.array(write, { maxLength: 6 }), batch: fc.constant(true), sync: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("get" as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("scan" as const), b: bounds }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("snapRead" as const), i: fc.nat(3), k: key, b: bounds }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("release" as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const), fate: fc.constantFrom<UnsyncedFate>("drop", "keep", "prefix", "zeros"), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("badInput" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compactRange" as const), lo: key, hi: key }) },
);

function modelScan(state: State, b: Bounds): [string, string][] {
  let entries = [...state.entries()].sort(([x], [y]) => byBytes(x, y));
  entries = entries.filter(([k]) => {
    if (b.lo && (b.lo[1] ? byBytes(k, b.lo[0]) < 0 : byBytes(k, b.lo[0]) <= 0)) return false;
    if (b.hi && (b.hi[1] ? byBytes(k, b.hi[0]) > 0 : byBytes(k, b.hi[0]) >= 0)) return false;
    return true;
  });
  if (b.reverse) entries.reverse();
  return b.limit === undefined ? entries : entries.slice(0, b.limit);
}

function scanOptions(b: Bounds): ScanOptions<string> {
  const o: ScanOptions<string> = { reverse: b.reverse };
  if (b.lo) o[b.lo[1] ? "gte" : "gt"] = b.lo[0];
  if (b.hi) o[b.hi[1] ? "lte" : "lt"] = b.hi[0];
  if (b.limit !== undefined) o.limit = b.limit;
  return o;
}

function apply(state: State, writes: Write[]): State {
  const next = new Map(state);
  for (const w of writes) w.t === "put" ? next.set(w.k, w.v) : next.delete(w.k);
  return next;
}

const sameState = (a: State, b: State) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

type Tuning = Omit<OpenOptions, "fs" | "keyEncoding" | "valueEncoding">;

/**
 * Runs ops against siltdb and the model. On "disk" (the real file system, a
 * temp dir) a worker can run compactions, and crashes become reopens.
 */
async function runOps(ops: Op[], tuning: Tuning = {}, storage: "memory" | "disk" = "memory"): Promise<void> {
  const memory = storage === "memory" ? new MemoryStorage() : undefined;
  const disk = storage === "disk" ? tempDir() : undefined;
  try {
    await runOpsOn(ops, tuning, memory, disk?.dir ?? "/db");
  } finally {
    disk?.cleanup();
  }
}

async function runOpsOn(ops: Op[], tuning: Tuning, fs: MemoryStorage | undefined, path: string): Promise<void> {
  const options = { ...(fs ? { fs } : {}), keyEncoding: "utf8", valueEncoding: "utf8", ...tuning } as const;
  let db: Db<string, string> = await open(path, options);
  // history[i]: the state after the i-th acknowledged write since the last
  // recovery point; durable: index of the newest write known to be durable.
  let history: State[] = [new Map()];
  let durable = 0;
  let snapshots: { snap: Snapshot<string, string>; state: State }[] = [];
  const current = () => history[history.length - 1];

  for (const o of ops) {
    switch (o.t) {
      case "write": {
        const sync = o.sync;
        if (o.batch) {
          const batch = db.batch();
          for (const w of o.writes) w.t === "put" ? batch.put(w.k, w.v) : batch.delete(w.k);
          await batch.write({ sync });
        } else {
          const w = o.writes[0];
          await (w.t === "put" ? db.put(w.k, w.v, { sync }) : db.delete(w.k, { sync }));
        }
        if (o.writes.length > 0) history.push(apply(current(), o.writes));
        if (sync) durable = history.length - 1;
        break;
      }
      case "get":
        assert.equal(db.getSync(o.k), current().get(o.k), `get ${JSON.stringify(o.k)}`);
        assert.equal(await db.get(o.k), current().get(o.k));
        break;
      case "scan":
        assert.deepEqual(await db.scan(scanOptions(o.b)).toArray(), modelScan(current(), o.b), `scan ${JSON.stringify(o.b)}`);
        break;
      case "snapshot":
        snapshots.push({ snap: db.snapshot(), state: current() });
        break;
      case "snapRead": {
        const s = snapshots[o.i];
        if (!s) break;
        assert.equal(s.snap.getSync(o.k), s.state.get(o.k), "snapshot get");
        assert.deepEqual(s.snap.scanSync(scanOptions(o.b)).toArray(), modelScan(s.state, o.b), "snapshot scan");
        break;
      }
      case "release":
        snapshots[o.i]?.snap.release();
        snapshots = snapshots.filter((_, i) => i !== o.i);
        break;
      case "reopen":
        await db.close();
        db = await open(path, options);
        history = [current()];
        durable = 0;
        snapshots = [];
        break;
      case "crash": {
        if (!fs) { // no crash on a real disk: reopen instead
          await db.close();
          db = await open(path, options);
          history = [current()];
          durable = 0;
          snapshots = [];
          break;
        }
        fs.crash({ unsynced: o.fate, random: rng(o.seed) });
        await db.close().catch(() => {}); // the "dead" process's memory; it touches no file
        db = await open(path, options);
        const recovered = new Map(db.scanSync().toArray());
        const match = history.findLastIndex((s) => sameState(s, recovered));
        assert.ok(match >= durable, `after a crash (${o.fate}) the store matches write ${match}, but write ${durable} was synced`);
        history = [recovered];
        durable = 0;
        snapshots = [];
        break;
      }
      case "flush":
        await db.flush();
        break;
      case "compact":
        await db.compact();
        break;
      case "compactRange":
        await db.compactRange(o.lo, o.hi).catch((err) => {
          if (byBytes(o.lo, o.hi) <= 0) throw err; // start after end is the only expected refusal
        });
        break;
      case "badInput":
        await assert.rejects(db.put(17 as unknown as string, "x"));
        await assert.rejects(db.put("k", { not: "text" } as unknown as string));
        assert.throws(() => db.batch().put("k", "v").delete(null as unknown as string));
        break;
    }
  }
  assert.deepEqual(db.scanSync().toArray(), modelScan(current(), { reverse: false }));
  await db.close();
}

test("random operations agree with a sorted Map model, across reopen and crashes", async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 60 }), (ops) => runOps(ops)), { numRuns: fcRuns(300) });
});

test("with tiny memtables (data across many tables), random operations agree with the model", async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 80 }), (ops) => runOps(ops, TINY)), { numRuns: fcRuns(200) });
});

test("tiered compaction, tiny memtables: random operations agree with the model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 80 }), (ops) => runOps(ops, { ...TINY, compaction: "tiered" })),
    { numRuns: fcRuns(150) },
  );
});

test("compactions in a worker (leveled and tiered, real files) agree with the model", async () => {
  for (const compaction of ["leveled", "tiered"] as const) {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 40, maxLength: 120 }), (ops) =>
        runOps(ops, { ...TINY, compaction, compactionMode: "worker" }, "disk")),
      { numRuns: fcRuns(12) },
    );
  }
});

test("long runs with tiny memtables, reopens and crashes agree with the model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 150, maxLength: 400 }), (ops) => runOps(ops, TINY)),
    { numRuns: fcRuns(20) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 150, maxLength: 400 }), (ops) => runOps(ops, { ...TINY, compaction: "tiered" })),
    { numRuns: fcRuns(10) },
  );
});

test("long random runs with many writes between crashes agree with the model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 150, maxLength: 400 }), (ops) => runOps(ops)),
    { numRuns: fcRuns(30) },
  );
});
