// A scan makes one source per sorted run and frees them when it ends; the
// core keeps freed run sources, with their block iterators and target
// buffer, for the next scan (core/sources.ts). A reused source must start as
// a new one: no key, block, table or position left from the scan before —
// over many runs, long keys (whose buffers are not kept) and short ones, both
// directions, scans left open, ended early or run to their end.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryStorage, open } from "../mod.ts";
import { fcRuns } from "./_harness.ts";

/** Short keys sharing prefixes, and keys long enough (1-3 KiB) to grow a source's buffers past what is kept. */
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3000 }).map((n) => `k${String(n).padStart(5, "0")}`) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1000, max: 3000 }))
      .map(([n, len]) => `k${String(n).padStart(5, "0")}${"L".repeat(len)}`),
  },
);

const scanArb = fc.record({
  from: keyArb,
  to: fc.option(keyArb, { nil: undefined }),
  reverse: fc.boolean(),
  limit: fc.integer({ min: 1, max: 40 }),
  take: fc.integer({ min: 0, max: 45 }), // entries read before the scan is left (it may stay open)
});

test("scans over many runs, one after another and overlapping, read what a sorted map holds", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(keyArb, fc.boolean()), { minLength: 60, maxLength: 250, size: "max" }),
      fc.array(scanArb, { minLength: 10, maxLength: 40, size: "max" }),
      async (writes, scans) => {
        const db = await open("/db", {
          fs: new MemoryStorage(),
          keyEncoding: "utf8",
          valueEncoding: "utf8",
          memtableSize: 8192,
          l0CompactionTrigger: 1000,
          l0SlowdownTrigger: 1000,
          l0StopTrigger: 1000,
          compactionMode: "inline",
        });
        const model = new Map<string, string>();
        let i = 0;
        for (const [key, remove] of writes) {
          if (remove) {
            await db.delete(key);
            model.delete(key);
          } else {
            const value = `v${i}`;
            await db.put(key, value);
            model.set(key, value);
          }
          if (++i % 11 === 0) await db.flush(); // many L0 tables: a source each
        }
        assert.ok(db.stats().levels[0].files >= 3, "several L0 tables, a source each");
        const sorted = [...model.keys()].sort();
        const leftOpen: Iterator<[string, string]>[] = [];
        for (const s of scans) {
          const lower = s.reverse ? undefined : s.from;
          const upper = s.reverse ? s.from : s.to;
          const want = sorted
            .filter((k) => (lower === undefined || k >= lower) && (upper === undefined || k < upper))
            .map((k) => [k, model.get(k)!] as [string, string]);
          if (s.reverse) want.reverse();
          const expected = want.slice(0, Math.min(s.limit, s.take));
          const iterator = db.scanSync({ gte: lower, lt: upper, reverse: s.reverse, limit: s.limit })[
            Symbol.iterator
          ]();
          const got: [string, string][] = [];
          for (let n = 0; n < s.take; n++) {
            const step = iterator.next();
            if (step.done) break;
            got.push(step.value as [string, string]);
          }
          assert.deepEqual(got, expected, JSON.stringify({ lower, upper, reverse: s.reverse, limit: s.limit }));
          if (s.take % 3 === 0) leftOpen.push(iterator); // left open while later scans reuse freed sources
          else iterator.return?.();
        }
        for (const iterator of leftOpen) iterator.return?.();
        await db.close();
      },
    ),
    { numRuns: fcRuns(40) },
  );
});
