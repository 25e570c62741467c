// Model-based tests: random operation sequences run against siltdb and
// against a sorted Map model, with snapshots, reopen and simulated crashes.
// After a crash, the recovered store must equal the model after some prefix
// of the acknowledged writes that includes every synced write. The
// operations cover the whole read and write API: point reads (get, getMany,
// has), scans (entries, keys, values; ranges with prefixes, reverse, limit
// including -1), count, clear and deleteRange, on the database and on
// snapshots.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Db,
  MemoryStorage,
  open,
  type OpenOptions,
  type RangeOptions,
  type ScanOptions,
  type Snapshot,
  type UnsyncedFate,
} from "../mod.ts";
import { compareBytes, fcRuns, rng, tempDir, TINY, utf8 } from "./_harness.ts";

type State = Map<string, string>;
type Write = { t: "put"; k: string; v: string } | { t: "del"; k: string };
type Bounds = { lo?: [string, boolean]; hi?: [string, boolean]; prefix?: string; reverse: boolean; limit?: number };
type Read = "entries" | "keys" | "values" | "count";
type Op =
  | { t: "write"; writes: Write[]; batch: boolean; sync: boolean }
  | { t: "get"; k: string }
  | { t: "getMany"; ks: string[] }
  | { t: "has"; k: string }
  | { t: "scan"; b: Bounds; read: Read; sync: boolean }
  | { t: "clear"; b: Bounds; sync: boolean }
  | { t: "deleteRange"; lo: string; hi: string; sync: boolean }
  | { t: "snapshot" }
  | { t: "snapRead"; i: number; k: string; ks: string[]; b: Bounds; read: Read }
  | { t: "release"; i: number }
  | { t: "reopen" }
  | { t: "crash"; fate: UnsyncedFate; seed: number }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "compactRange"; lo: string; hi: string }
  | { t: "badInput" };

const KEYS = ["", "a", "a\0", "ab", "abcdefgh", "abcdefgh\0", "abcdefghi", "b", "ba", "é", "z".repeat(40), "\u{1F600}"];
/** Prefixes: of several keys, of one, of none, the empty one, and multi-byte ones (the largest code point included). */
const PREFIXES = ["", "a", "ab", "abcdefgh", "abcdefghi", "b", "c", "z", "zz", "é", "\u{1F600}", "\u{10FFFF}"];
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
  prefix: fc.option(fc.constantFrom(...PREFIXES), { nil: undefined, freq: 3 }),
  reverse: fc.boolean(),
  limit: fc.option(fc.oneof(fc.nat(6), fc.constant(-1)), { nil: undefined }),
});
const read = fc.constantFrom<Read>("entries", "keys", "values", "count");
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("write" as const),
      writes: fc.array(write, { minLength: 1, maxLength: 1 }),
      batch: fc.constant(false),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("write" as const),
      writes: fc.array(write, { maxLength: 6 }),
      batch: fc.constant(true),
      sync: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("get" as const), k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("getMany" as const), ks: fc.array(key, { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("has" as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("scan" as const), b: bounds, read, sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("clear" as const), b: bounds, sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("deleteRange" as const), lo: key, hi: key, sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("snapRead" as const),
      i: fc.nat(3),
      k: key,
      ks: fc.array(key, { maxLength: 4 }),
      b: bounds,
      read,
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("release" as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("crash" as const),
      fate: fc.constantFrom<UnsyncedFate>("drop", "keep", "prefix", "zeros"),
      seed: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("badInput" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compactRange" as const), lo: key, hi: key }) },
);

const startsWith = (k: string, prefix: string) => {
  const [kb, pb] = [utf8(k), utf8(prefix)];
  return pb.length <= kb.length && pb.every((byte, i) => kb[i] === byte);
};

function modelScan(state: State, b: Bounds): [string, string][] {
  let entries = [...state.entries()].sort(([x], [y]) => byBytes(x, y));
  entries = entries.filter(([k]) => {
    if (b.lo && (b.lo[1] ? byBytes(k, b.lo[0]) < 0 : byBytes(k, b.lo[0]) <= 0)) return false;
    if (b.hi && (b.hi[1] ? byBytes(k, b.hi[0]) > 0 : byBytes(k, b.hi[0]) >= 0)) return false;
    if (b.prefix !== undefined && !startsWith(k, b.prefix)) return false;
    return true;
  });
  if (b.reverse) entries.reverse();
  return b.limit === undefined || b.limit === -1 ? entries : entries.slice(0, b.limit);
}

function rangeOptions(b: Bounds): RangeOptions<string> {
  const o: RangeOptions<string> = {};
  if (b.lo) o[b.lo[1] ? "gte" : "gt"] = b.lo[0];
  if (b.hi) o[b.hi[1] ? "lte" : "lt"] = b.hi[0];
  if (b.prefix !== undefined) o.prefix = b.prefix;
  return o;
}

function scanOptions(b: Bounds): ScanOptions<string> {
  const o: ScanOptions<string> = { ...rangeOptions(b), reverse: b.reverse };
  if (b.limit !== undefined) o.limit = b.limit;
  return o;
}

type Reader = Pick<Db<string, string>, "scan" | "scanSync" | "keys" | "keysSync" | "values" | "valuesSync" | "count">;

/** Reads the range with scan, keys, values or count (async or sync) and checks it against the model. */
async function checkRead(
  reader: Reader,
  state: State,
  b: Bounds,
  read: Read,
  sync: boolean,
  what: string,
): Promise<void> {
  const expected = modelScan(state, b);
  const message = `${what} ${read} ${JSON.stringify(b)}`;
  switch (read) {
    case "entries":
      assert.deepEqual(
        sync ? reader.scanSync(scanOptions(b)).toArray() : await reader.scan(scanOptions(b)).toArray(),
        expected,
        message,
      );
      break;
    case "keys":
      assert.deepEqual(
        sync ? reader.keysSync(scanOptions(b)).toArray() : await reader.keys(scanOptions(b)).toArray(),
        expected.map(([k]) => k),
        message,
      );
      break;
    case "values":
      assert.deepEqual(
        sync ? [...reader.valuesSync(scanOptions(b))] : await reader.values(scanOptions(b)).toArray(),
        expected.map(([, v]) => v),
        message,
      );
      break;
    case "count":
      assert.equal(
        await reader.count(rangeOptions(b)),
        modelScan(state, { ...b, reverse: false, limit: undefined }).length,
        message,
      );
      break;
  }
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
      case "getMany":
        assert.deepEqual(await db.getMany(o.ks), o.ks.map((k) => current().get(k)), `getMany ${JSON.stringify(o.ks)}`);
        assert.deepEqual(db.getManySync(o.ks), o.ks.map((k) => current().get(k)));
        break;
      case "has":
        assert.equal(await db.has(o.k), current().has(o.k), `has ${JSON.stringify(o.k)}`);
        assert.equal(db.hasSync(o.k), current().has(o.k));
        break;
      case "scan":
        await checkRead(db, current(), o.b, o.read, o.sync, "scan");
        break;
      case "clear":
      case "deleteRange": {
        const doomed = o.t === "clear"
          ? modelScan(current(), o.b).map(([k]) => k)
          : [...current().keys()].filter((k) => byBytes(k, o.lo) >= 0 && byBytes(k, o.hi) < 0);
        if (o.t === "deleteRange" && byBytes(o.lo, o.hi) > 0) {
          // start after end: refused, nothing written
          await assert.rejects(db.deleteRange(o.lo, o.hi, { sync: o.sync }), { code: "INVALID_ARGUMENT" });
          break;
        }
        await (o.t === "clear"
          ? db.clear({ ...scanOptions(o.b), sync: o.sync })
          : db.deleteRange(o.lo, o.hi, { sync: o.sync }));
        history.push(apply(current(), doomed.map((k) => ({ t: "del", k }))));
        if (o.sync) durable = history.length - 1;
        break;
      }
      case "snapshot":
        snapshots.push({ snap: db.snapshot(), state: current() });
        break;
      case "snapRead": {
        const s = snapshots[o.i];
        if (!s) break;
        assert.equal(s.snap.getSync(o.k), s.state.get(o.k), "snapshot get");
        assert.equal(s.snap.hasSync(o.k), s.state.has(o.k), "snapshot has");
        assert.deepEqual(await s.snap.getMany(o.ks), o.ks.map((k) => s.state.get(k)), "snapshot getMany");
        assert.deepEqual(s.snap.scanSync(scanOptions(o.b)).toArray(), modelScan(s.state, o.b), "snapshot scan");
        await checkRead(s.snap, s.state, o.b, o.read, o.ks.length % 2 === 0, "snapshot");
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
        assert.ok(
          match >= durable,
          `after a crash (${o.fate}) the store matches write ${match}, but write ${durable} was synced`,
        );
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
        // Refused before anything is read or written: the checks after the loop see the model's state.
        await assert.rejects(db.clear({ limit: -2 }), /INVALID_ARGUMENT|limit/);
        await assert.rejects(db.clear({ prefix: 1 as unknown as string }), /prefix/);
        await assert.rejects(db.deleteRange("a", {} as unknown as string), /deleteRange end/);
        await assert.rejects(db.getMany("ab" as unknown as string[]), /must be an array/);
        assert.throws(() => db.keysSync({ signal: "x" as unknown as AbortSignal }), /signal/);
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
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 80 }), (ops) => runOps(ops, TINY)), {
    numRuns: fcRuns(200),
  });
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
      fc.asyncProperty(
        fc.array(op, { minLength: 40, maxLength: 120 }),
        (ops) => runOps(ops, { ...TINY, compaction, compactionMode: "worker" }, "disk"),
      ),
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
    fc.asyncProperty(
      fc.array(op, { minLength: 150, maxLength: 400 }),
      (ops) => runOps(ops, { ...TINY, compaction: "tiered" }),
    ),
    { numRuns: fcRuns(10) },
  );
});

test("long random runs with many writes between crashes agree with the model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 150, maxLength: 400 }), (ops) => runOps(ops)),
    { numRuns: fcRuns(30) },
  );
});
