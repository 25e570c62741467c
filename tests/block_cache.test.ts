// The core block cache (core/block_cache.ts): a model test against a Map
// (inserts, lookups, pins, forgetting files, clearing) that checks what is
// cached is the block inserted under that key, the byte bound, and that
// pinned blocks stay readable; and CLOCK keeping recently used blocks.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bytes, core } from "../src/wasm/instance.ts";

/** A block of size bytes whose content names its key. */
function block(file: number, offset: number, size: number): number {
  const ptr = core.bufferAlloc(size);
  const mem = bytes();
  for (let i = 0; i < size; i++) mem[ptr + i] = (file * 31 + offset * 7 + i) & 0xff;
  return ptr;
}

function holds(cache: number, entry: number, file: number, offset: number): boolean {
  const ptr = core.bcBlock(cache, entry);
  const size = core.bcBlockSize(cache, entry);
  const mem = bytes();
  for (let i = 0; i < size; i++) if (mem[ptr + i] !== ((file * 31 + offset * 7 + i) & 0xff)) return false;
  return true;
}

type Op =
  | { op: "insert"; file: number; offset: number; size: number }
  | { op: "lookup"; file: number; offset: number; pin: boolean }
  | { op: "unpin" }
  | { op: "forget"; file: number }
  | { op: "clear" };

const key = fc.record({
  file: fc.integer({ min: 1, max: 6 }),
  offset: fc.integer({ min: 0, max: 40 }).map((o) => o * 4096),
});
const ops = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: key.chain((k) =>
        fc.integer({ min: 1, max: 3000 }).map((size) => ({ op: "insert" as const, ...k, size }))
      ),
    },
    { weight: 5, arbitrary: key.chain((k) => fc.boolean().map((pin) => ({ op: "lookup" as const, ...k, pin }))) },
    { weight: 2, arbitrary: fc.constant({ op: "unpin" as const }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((file) => ({ op: "forget" as const, file })) },
    { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  ) as fc.Arbitrary<Op>,
  { maxLength: 400 },
);

test("the block cache returns what was inserted, stays within its bound, and keeps pinned blocks readable", () => {
  fc.assert(
    fc.property(ops, fc.integer({ min: 0, max: 40_000 }), (list, capacity) => {
      const rs = core.rsNew(capacity);
      const cache = core.rsCache(rs);
      const pinned: { entry: number; file: number; offset: number }[] = [];
      let held = 0;
      try {
        for (const o of list) {
          if (o.op === "insert") {
            if (core.bcLookup(cache, o.file, o.offset) !== 0) continue; // as callers do: insert only on a miss
            const entry = core.bcInsert(cache, o.file, o.offset, block(o.file, o.offset, o.size), o.size);
            assert.ok(holds(cache, entry, o.file, o.offset));
            assert.equal(core.bcLookup(cache, o.file, o.offset), entry, "the block just inserted is cached");
          } else if (o.op === "lookup") {
            const entry = core.bcLookup(cache, o.file, o.offset);
            if (entry !== 0) {
              assert.ok(holds(cache, entry, o.file, o.offset), "a hit returns the block of that key");
              if (o.pin) {
                core.bcPin(cache, entry);
                pinned.push({ entry, file: o.file, offset: o.offset });
              }
            }
          } else if (o.op === "unpin") {
            const p = pinned.shift();
            if (p) core.bcUnpin(cache, p.entry);
          } else if (o.op === "forget") {
            core.bcForgetFile(cache, o.file);
            for (let off = 0; off <= 40 * 4096; off += 4096) assert.equal(core.bcLookup(cache, o.file, off), 0);
          } else {
            core.bcClear(cache);
          }
          for (const p of pinned) assert.ok(holds(cache, p.entry, p.file, p.offset), "a pinned block stays intact");
          // An insert evicts down to the bound, over it only by pinned blocks and the block inserted; nothing
          // else adds bytes (an unpinned block waits for the next insert to be evicted).
          const now = core.bcBytes(cache);
          if (o.op === "insert") {
            const pinnedBytes = pinned.reduce((n, p) => n + core.bcBlockSize(cache, p.entry), 0);
            assert.ok(now <= capacity + pinnedBytes + o.size, `${now} bytes held, capacity ${capacity}`);
          } else {
            assert.ok(now <= held, `${o.op} added bytes: ${held} -> ${now}`);
          }
          held = now;
        }
      } finally {
        for (const p of pinned) core.bcUnpin(cache, p.entry);
        core.rsFree(rs);
      }
    }),
    { numRuns: 300 },
  );
});

test("CLOCK keeps blocks that are read again over blocks read once", () => {
  const rs = core.rsNew(64 * 4096);
  const cache = core.rsCache(rs);
  try {
    // A hot set of 16 blocks read between every insert of a stream of cold ones.
    for (let i = 0; i < 16; i++) core.bcInsert(cache, 1, i * 4096, block(1, i * 4096, 4096), 4096);
    for (let i = 0; i < 2000; i++) {
      for (let h = 0; h < 16; h++) core.bcLookup(cache, 1, h * 4096);
      if (core.bcLookup(cache, 2, i * 4096) === 0) core.bcInsert(cache, 2, i * 4096, block(2, i * 4096, 4096), 4096);
    }
    let hot = 0;
    for (let h = 0; h < 16; h++) if (core.bcLookup(cache, 1, h * 4096) !== 0) hot++;
    assert.equal(hot, 16, "every hot block survived 2,000 cold inserts");
    assert.ok(core.bcBytes(cache) <= 64 * 4096);
  } finally {
    core.rsFree(rs);
  }
});
