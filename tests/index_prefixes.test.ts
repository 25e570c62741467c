// Point lookups and scans' seeks find their data block through the index
// block's prefix array (core/index_prefixes.ts): keys sharing long prefixes, keys shorter
// than the shared part, keys before, between and after a table's keys, and
// many versions of one key must all be found as a full search of the index
// finds them.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryStorage, open } from "../mod.ts";
import { compareBytes, fcRuns } from "./_harness.ts";

const enc = new TextEncoder();

/** Keys from a few shapes that share prefixes of every length, some shorter than the shared part. */
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 5000 }).map((n) => `0000000000${String(n).padStart(6, "0")}`),
  fc.integer({ min: 0, max: 300 }).map((n) => `user:${"x".repeat(n % 13)}${n}`),
  fc.stringMatching(/^[ab]{1,12}$/),
  fc.integer({ min: 1, max: 40 }).map((n) => "k".repeat(n)),
);

test("getSync, get and seeks find every key, and no absent one, through tables' index prefixes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(keyArb, fc.nat(3)), { minLength: 1, maxLength: 300 }),
      fc.array(keyArb, { maxLength: 60 }),
      fc.constantFrom(256, 1024),
      async (writes, probes, blockSize) => {
        const db = await open("/db", {
          fs: new MemoryStorage(),
          blockSize,
          memtableSize: 4096,
          compactionMode: "inline",
        });
        const model = new Map<string, string>();
        let i = 0;
        for (const [key, round] of writes) {
          const value = `${key}#${round}#${i++}`;
          await db.put(key, value);
          model.set(key, value);
          if (i % 97 === 0) await db.flush(); // tables of several sizes, some keys in several of them
        }
        await db.flush();
        const decoder = new TextDecoder();
        for (const key of [...model.keys(), ...probes]) {
          const want = model.get(key);
          const got = db.getSync(key);
          assert.equal(got === undefined ? undefined : decoder.decode(got), want, `getSync(${JSON.stringify(key)})`);
          const awaited = await db.get(key);
          assert.equal(
            awaited === undefined ? undefined : decoder.decode(awaited),
            want,
            `get(${JSON.stringify(key)})`,
          );
        }
        // Keys just before and after every stored key (a zero byte appended; the key less its last byte).
        for (const key of model.keys()) {
          const bytes = enc.encode(key);
          for (const near of [new Uint8Array([...bytes, 0]), bytes.subarray(0, Math.max(0, bytes.length - 1))]) {
            const name = decoder.decode(near);
            if (near.length === 0 || compareBytes(near, enc.encode(name)) !== 0) continue; // not valid UTF-8 text
            const got = db.getSync(near);
            const want = model.get(name);
            assert.equal(got === undefined ? undefined : decoder.decode(got), want, `getSync(${JSON.stringify(name)})`);
          }
        }
        // Seeks (a scan's table sources position through the same prefixes), both ways.
        const sorted = [...model.keys()].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
        for (const from of [...probes, ...sorted.slice(0, 40)]) {
          const at = enc.encode(from);
          const after = sorted.filter((k) => compareBytes(enc.encode(k), at) >= 0).slice(0, 3);
          const gotAfter = [...db.scanSync({ gte: from, limit: 3 })].map(([k]) => decoder.decode(k));
          assert.deepEqual(gotAfter, after, `scan gte ${JSON.stringify(from)}`);
          const before = sorted.filter((k) => compareBytes(enc.encode(k), at) < 0).reverse().slice(0, 3);
          const gotBefore = [...db.scanSync({ lt: from, limit: 3, reverse: true })].map(([k]) => decoder.decode(k));
          assert.deepEqual(gotBefore, before, `scan lt ${JSON.stringify(from)} reverse`);
        }
        await db.close();
      },
    ),
    { numRuns: fcRuns(60) },
  );
});
