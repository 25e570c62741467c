// A seek or point read inside a data block finds its restart through the
// block's prefix array (core/index_prefixes.ts, built when the block enters
// the block cache) and compares whole keys only among restarts whose
// prefixes tie, then walks to the first entry at or after its target. Keys
// here are short strings over two letters, so that one key is often a prefix
// of the next, keys share prefixes of every length with each other and with
// the targets, and a key has many versions (older ones kept by snapshots):
// reads and seeks must land where the sorted model says, at every snapshot,
// in both directions.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryStorage, open } from "../mod.ts";
import { fcRuns } from "./_harness.ts";

const keyArb = fc.string({ unit: fc.constantFrom("a", "b"), minLength: 1, maxLength: 7 });
const valueArb = fc.string({ unit: fc.constantFrom("x", "y", "z"), maxLength: 3 });

test("seeks and reads inside blocks land where the sorted model says, at every snapshot, for keys that prefix each other", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.tuple(keyArb, fc.option(valueArb, { nil: undefined })), { minLength: 1, maxLength: 60 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(keyArb, { minLength: 1, maxLength: 30 }),
      async (rounds, targets) => {
        const db = await open("/db", {
          fs: new MemoryStorage(),
          keyEncoding: "utf8",
          valueEncoding: "utf8",
          blockSize: 256, // a few restarts per block, many blocks
        });
        const model = new Map<string, string>();
        const snaps: { snap: ReturnType<typeof db.snapshot>; state: Map<string, string> }[] = [];
        for (const writes of rounds) {
          for (const [k, v] of writes) {
            if (v === undefined) {
              await db.delete(k);
              model.delete(k);
            } else {
              await db.put(k, v);
              model.set(k, v);
            }
          }
          snaps.push({ snap: db.snapshot(), state: new Map(model) });
        }
        await db.flush(); // every version a snapshot sees is now in a table
        const views = [...snaps, { snap: undefined, state: model }];
        for (const { snap, state } of views) {
          const reader = snap ?? db;
          const sorted = [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          for (const t of targets) {
            assert.equal(reader.getSync(t), state.get(t), `get ${t}`);
            const after = sorted.filter(([k]) => k >= t).slice(0, 3);
            assert.deepEqual(reader.scanSync({ gte: t, limit: 3 }).toArray(), after, `seek ${t}`);
            const before = sorted.filter(([k]) => k < t).slice(-3).reverse();
            assert.deepEqual(reader.scanSync({ lt: t, limit: 3, reverse: true }).toArray(), before, `seek before ${t}`);
          }
        }
        for (const { snap } of snaps) snap.release();
        await db.close();
      },
    ),
    { numRuns: fcRuns(150) },
  );
});
