// The read path under churn: point lookups through the core's one-call path
// and open scans that outlive flushes, compactions, evicted blocks and
// closed tables (maxOpenFiles 1, tiny or no block cache), against a sorted
// Map model.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open } from "../mod.ts";
import { compareBytes, rng, TINY } from "./_harness.ts";

for (const [maxOpenFiles, blockCacheSize] of [[1, 0], [1, 1024], [2, 65536], [500, 0]] as const) {
  test(`open scans and point reads agree with the model while tables close and compactions run (maxOpenFiles ${maxOpenFiles}, cache ${blockCacheSize})`, async () => {
    const random = rng(maxOpenFiles * 7 + blockCacheSize);
    const db = await open("/db", {
      fs: new MemoryStorage(),
      keyEncoding: "utf8",
      valueEncoding: "utf8",
      ...TINY,
      maxOpenFiles,
      blockCacheSize,
    });
    const model = new Map<string, string>();
    const key = () => `k${String(Math.floor(random() * 400)).padStart(4, "0")}`;
    const open_: { it: Iterator<[string, string]>; seen: [string, string][]; expected: [string, string][] }[] = [];
    const sorted = () => [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    try {
      for (let step = 0; step < 4000; step++) {
        const r = random();
        if (r < 0.55) {
          const k = key();
          const v = `v${step}-${"x".repeat(Math.floor(random() * 40))}`;
          await db.put(k, v);
          model.set(k, v);
        } else if (r < 0.65) {
          const k = key();
          await db.delete(k);
          model.delete(k);
        } else if (r < 0.85) {
          const k = key();
          assert.equal(db.getSync(k), model.get(k), `getSync ${k} at step ${step}`);
        } else if (r < 0.9 && open_.length < 6) {
          // A scan that stays open: read a few entries now, the rest much later.
          const it = db.scanSync()[Symbol.iterator]();
          const seen: [string, string][] = [];
          for (let i = 0; i < 3; i++) {
            const n = it.next();
            if (!n.done) seen.push(n.value);
          }
          open_.push({ it, seen, expected: sorted() });
        } else if (open_.length > 0) {
          // Advance one open scan a little, or finish it and compare with the data as of its start.
          const s = open_[Math.floor(random() * open_.length)];
          const steps = random() < 0.3 ? Infinity : 5;
          for (let i = 0; i < steps; i++) {
            const n = s.it.next();
            if (n.done) {
              assert.deepEqual(s.seen, s.expected, "a scan sees the data as of its start");
              open_.splice(open_.indexOf(s), 1);
              break;
            }
            s.seen.push(n.value);
          }
        }
      }
      for (const s of open_) {
        for (let n = s.it.next(); !n.done; n = s.it.next()) s.seen.push(n.value);
        assert.deepEqual(s.seen, s.expected, "a scan sees the data as of its start");
      }
      assert.deepEqual(db.scanSync().toArray(), sorted());
      const stats = db.stats();
      assert.ok(
        stats.flushes > 10 && stats.compaction.count > 3,
        `flushes ${stats.flushes}, compactions ${stats.compaction.count}`,
      );
    } finally {
      await db.close();
    }
  });
}

test("scans decode UTF-8 keys exactly as get and TextDecoder do: ASCII runs, multi-byte and malformed keys mixed", async () => {
  // Scans decode a batch of ASCII keys in one go (textsAt): the keys around a
  // non-ASCII or malformed one must come out the same as one at a time.
  const fs = new MemoryStorage();
  const raw = await open("/db", { fs, ...TINY });
  const random = rng(7);
  const written: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const ascii = `k${String(i).padStart(5, "0")}`;
    let key = new TextEncoder().encode(ascii);
    const r = random();
    if (r < 0.05) key = new TextEncoder().encode(`${ascii}é😀`);
    else if (r < 0.08) key = Uint8Array.from([...key, 0xff, 0xc3]); // malformed UTF-8
    written.push(key);
    await raw.put(key, key);
    if (i % 700 === 0) await raw.flush();
  }
  await raw.close();
  const db = await open("/db", { fs, keyEncoding: "utf8", ...TINY });
  const decoder = new TextDecoder();
  const expected = [...written].sort(compareBytes).map((k) => decoder.decode(k));
  for (const reverse of [false, true]) {
    const want = reverse ? [...expected].reverse() : expected;
    assert.deepEqual([...db.scanSync({ reverse })].map(([k]) => k), want);
    assert.deepEqual([...db.keysSync({ reverse })], want);
    const keys: string[] = [];
    for await (const [k] of db.scan({ reverse })) keys.push(k);
    assert.deepEqual(keys, want);
  }
  await db.close();
});

test("scans hand out values exactly as written: UTF-8 values whose bytes join across neighbours, binary values of every size, each copy its own", async () => {
  // Forward scans have the core lay a fill's values one after the other and
  // copy them out in runs (copiesAt, textsAt): a value ending in 0xc3 next to
  // one starting with 0xa9 reads as "é" if a run is decoded as one text.
  const fs = new MemoryStorage();
  const raw = await open("/db", { fs, memtableSize: 64 << 10 });
  const random = rng(11);
  const model = new Map<string, Uint8Array>();
  for (let i = 0; i < 1500; i++) {
    const key = `k${String(i).padStart(5, "0")}`;
    const r = random();
    let value: Uint8Array;
    if (r < 0.1) value = Uint8Array.from([0x61, 0xc3]); // ends with a lead byte
    else if (r < 0.2) value = Uint8Array.from([0xa9, 0x62]); // starts with a continuation byte
    else if (r < 0.25) value = new TextEncoder().encode(`v${i}é😀`);
    else if (r < 0.3) value = new Uint8Array(1000 + Math.floor(random() * 9000)).map((_, j) => (i + j) & 0x7f);
    else if (r < 0.32) value = new Uint8Array(0);
    else value = new TextEncoder().encode(`value-${i}`.repeat(1 + Math.floor(random() * 12)));
    model.set(key, value);
    await raw.put(key, value);
    if (i % 500 === 499) await raw.flush();
  }
  await raw.close();
  const decoder = new TextDecoder();
  const expected = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const valueEncoding of ["utf8", "binary"] as const) {
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding });
    const want = (v: Uint8Array) => (valueEncoding === "utf8" ? decoder.decode(v) : v);
    for (const reverse of [false, true]) {
      const order = reverse ? [...expected].reverse() : expected;
      const entries = [...db.scanSync({ reverse })];
      assert.deepEqual(entries.map(([k]) => k), order.map(([k]) => k));
      entries.forEach(([k, v], i) => assert.deepEqual(v, want(order[i][1]), `${valueEncoding} value of ${k}`));
      const values = [...db.valuesSync({ reverse, gte: "k00100", limit: 700 })];
      const from = order.findIndex(([k]) => (reverse ? k < "k00100" : k >= "k00100"));
      assert.deepEqual(values, order.slice(reverse ? 0 : from, reverse ? 700 : from + 700).map(([, v]) => want(v)));
    }
    if (valueEncoding === "binary") {
      // Copies share runs, never bytes: writing into one leaves the others and the store as they were.
      const entries = [...db.scanSync()] as [string, Uint8Array][];
      for (const [, v] of entries) v.fill(0xee);
      for (const [k, v] of db.scanSync()) assert.deepEqual(v, model.get(k));
    }
    await db.close();
  }
});

test("entries whose shared, unshared or value lengths need one or two varint bytes read back exactly, by get and by scans", async () => {
  // Blocks read lengths under 128 without the general varint loop
  // (core/block_reader.ts decodeAt, restartKeyAt); lengths from 120 to 140
  // cross that bound in each of the three fields.
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, blockSize: 1024 });
  const random = rng(5);
  const model = new Map<string, Uint8Array>();
  for (let i = 0; i < 600; i++) {
    const stem = "s".repeat(115 + Math.floor(random() * 30)); // shared prefixes of 115-145 bytes
    const key = `${stem}${String(i).padStart(4, "0")}${"u".repeat(Math.floor(random() * 140))}`;
    const value = new Uint8Array(118 + Math.floor(random() * 24)).fill(i & 0xff);
    model.set(key, value);
    await db.put(key, value);
  }
  await db.flush();
  await db.compact();
  const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
  const decoder = new TextDecoder();
  for (const [k, v] of sorted) assert.deepEqual(db.getSync(k), v, k);
  for (const reverse of [false, true]) {
    const got = [...db.scanSync({ reverse })].map(([k, v]) => [decoder.decode(k), v]);
    assert.deepEqual(got, reverse ? [...sorted].reverse() : sorted);
  }
  for (const [k] of sorted.filter((_, i) => i % 37 === 0)) {
    const [first] = db.scanSync({ gte: k, limit: 1 });
    assert.equal(decoder.decode(first[0]), k);
  }
  await db.close();
});

test("a scan past a key with thousands of versions (skipped by a seek after 8) returns what the model holds, with snapshots, deletes and bounds", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 64 << 20 });
  const model = new Map<string, string>();
  const put = async (k: string, v: string) => {
    await db.put(k, v);
    model.set(k, v);
  };
  for (const k of ["a", "b", "c", "d", "e"]) await put(k, `${k}0`);
  const early = db.snapshot();
  const earlyModel = new Map(model);
  for (let i = 1; i <= 3000; i++) {
    await put("b", `b${i}`);
    await put("c", `c${i}`);
    if (i === 1500) await db.delete("d").then(() => model.delete("d"));
    if (i % 1000 === 0) await put("d", `d${i}`);
  }
  const mid = db.snapshot();
  const midModel = new Map(model);
  for (let i = 3001; i <= 3020; i++) await put("c", `c${i}`);
  const sorted = (m: Map<string, string>) => [...m].sort(([x], [y]) => x < y ? -1 : x > y ? 1 : 0);
  assert.deepEqual(db.scanSync().toArray(), sorted(model));
  assert.deepEqual(db.scanSync({ gt: "b" }).toArray(), sorted(model).filter(([k]) => k > "b"));
  assert.deepEqual(db.scanSync({ gte: "b", limit: 2 }).toArray(), sorted(model).filter(([k]) => k >= "b").slice(0, 2));
  assert.deepEqual(early.scanSync().toArray(), sorted(earlyModel));
  assert.deepEqual(mid.scanSync().toArray(), sorted(midModel));
  assert.deepEqual(db.scanSync({ reverse: true }).toArray(), sorted(model).reverse());
  await db.flush(); // versions now in a table too
  for (let i = 3021; i <= 3040; i++) await put("c", `c${i}`);
  assert.deepEqual(db.scanSync().toArray(), sorted(model));
  assert.deepEqual(mid.scanSync().toArray(), sorted(midModel));
  early.release();
  mid.release();
  await db.close();
});
