// The operations features of issue 20 together, against one sorted-Map
// model with a fake clock: puts with and without a ttl, deletes, range
// deletes and clears, snapshots, flushes, compactions (tiny memtables, so
// range tombstones and expiring puts meet in tables and compactions), reopen,
// checkpoints taken at random moments — on compressed and uncompressed
// tables. Each feature has its own model test; this one walks the paths where
// they cross (an expiring put under a range tombstone, a range tombstone over
// an expired key, both carried through compactions into a checkpoint).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryStorage, open, type Snapshot } from "../mod.ts";
import { compareBytes, fcRuns, TINY, utf8 } from "./_harness.ts";

type Cell = { v: string; exp?: number };
type Model = Map<string, Cell>;
type Op =
  | { t: "put"; k: string; v: string; ttl?: number }
  | { t: "del"; k: string }
  | { t: "range"; a: string; b: string }
  | { t: "clear"; prefix: string }
  | { t: "advance"; ms: number }
  | { t: "snapshot" }
  | { t: "snapRead"; i: number }
  | { t: "flush" }
  | { t: "compact" }
  | { t: "reopen" }
  | { t: "checkpoint" };

const KEYS = ["a", "ab", "abc", "b", "ba", "bb", "c", "ca", "d", "zz"];
const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));
const key = fc.constantFrom(...KEYS);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("put" as const),
      k: key,
      v: fc.string({ maxLength: 30 }),
      ttl: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("range" as const), a: key, b: key }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("clear" as const), prefix: fc.constantFrom("a", "b", "c", "ab") }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("snapRead" as const), i: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reopen" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("checkpoint" as const) }) },
);

/** The model's live entries at now, in key order (reversed on request). */
function live(m: Model, now: number, reverse = false): [string, string][] {
  const out = [...m].filter(([, c]) => c.exp === undefined || now < c.exp)
    .sort(([a], [b]) => byBytes(a, b)).map(([k, c]) => [k, c.v] as [string, string]);
  return reverse ? out.reverse() : out;
}

async function checkAll(db: Db<string, string> | Snapshot<string, string>, m: Model, now: number, where: string) {
  const want = live(m, now);
  assert.deepEqual(await db.scan().toArray(), want, `${where}: scan`);
  assert.deepEqual(await db.scan({ reverse: true }).toArray(), live(m, now, true), `${where}: reverse scan`);
  for (const k of KEYS) assert.equal(await db.get(k), want.find(([x]) => x === k)?.[1], `${where}: get ${k}`);
  assert.equal(await db.count(), want.length, `${where}: count`);
}

for (const compression of ["lz4", "none"] as const) {
  test(`ttl, range deletes, clears, snapshots, checkpoints and reopen against one model (compression ${compression})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 70, size: "max" }), async (ops) => {
        let now = 50_000;
        const fs = new MemoryStorage();
        const opts = {
          ...TINY,
          keyEncoding: "utf8",
          valueEncoding: "utf8",
          fs,
          compression,
          clock: () => now,
        } as const;
        let db = await open("/db", opts);
        const model: Model = new Map();
        const snaps: { snap: Snapshot<string, string>; model: Model }[] = [];
        const checkpoints: { dir: string; model: Model }[] = [];
        try {
          for (const o of ops) {
            if (o.t === "put") {
              await db.put(o.k, o.v, o.ttl === undefined ? undefined : { ttl: o.ttl });
              model.set(o.k, { v: o.v, exp: o.ttl === undefined ? undefined : now + o.ttl });
            } else if (o.t === "del") {
              await db.delete(o.k);
              model.delete(o.k);
            } else if (o.t === "range") {
              const [lo, hi] = byBytes(o.a, o.b) <= 0 ? [o.a, o.b] : [o.b, o.a];
              await db.deleteRange(lo, hi);
              for (const k of [...model.keys()]) if (byBytes(k, lo) >= 0 && byBytes(k, hi) < 0) model.delete(k);
            } else if (o.t === "clear") {
              await db.clear({ prefix: o.prefix });
              for (const k of [...model.keys()]) if (k.startsWith(o.prefix)) model.delete(k);
            } else if (o.t === "advance") {
              now += o.ms;
            } else if (o.t === "snapshot") {
              snaps.push({ snap: db.snapshot(), model: new Map(model) });
            } else if (o.t === "snapRead" && snaps.length > 0) {
              const s = snaps[o.i % snaps.length];
              await checkAll(s.snap, s.model, now, "snapshot");
            } else if (o.t === "flush") {
              await db.flush();
            } else if (o.t === "compact") {
              await db.compact();
            } else if (o.t === "reopen") {
              for (const s of snaps.splice(0)) s.snap.release();
              await db.close();
              db = await open("/db", opts);
            } else if (o.t === "checkpoint") {
              const dir = `/checkpoint${checkpoints.length}`;
              await db.checkpoint(dir);
              checkpoints.push({ dir, model: new Map(model) });
            }
          }
          await checkAll(db, model, now, "end");
          for (const s of snaps.splice(0)) s.snap.release();
          await db.compact();
          await db.waitForCompactions();
          await checkAll(db, model, now, "after compacting everything");
          for (const c of checkpoints) {
            const copy = await open(c.dir, { ...opts, readOnly: true });
            try {
              await checkAll(copy, c.model, now, `checkpoint ${c.dir}`);
            } finally {
              await copy.close();
            }
          }
        } finally {
          for (const s of snaps) s.snap.release();
          await db.close();
        }
      }),
      { numRuns: fcRuns(40) },
    );
  });
}
