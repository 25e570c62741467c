// A reader's open scans are a linked list through their resources
// (src/read/open_scans.ts): added and removed in any order, and all released
// at the database's close, including scans never read and scans whose
// release removes them while the list is walked.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MemoryStorage, open } from "../mod.ts";
import { OpenScans, TrackedScan } from "../src/read/open_scans.ts";
import { fcRuns } from "./_harness.ts";

class Probe extends TrackedScan {
  released = 0;
  constructor(readonly id: number, readonly list: OpenScans) {
    super();
  }
  release(): void {
    this.released++;
    this.list.remove(this);
  }
}

test("open scans: adds and removes in any order match a set; releaseAll releases each open one once", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { maxLength: 200 }), (steps) => {
      const list = new OpenScans();
      const probes = Array.from({ length: 16 }, (_, i) => new Probe(i, list));
      const model = new Set<number>();
      for (const [add, i] of steps) {
        if (add) {
          list.add(probes[i]);
          model.add(i);
        } else {
          list.remove(probes[i]);
          model.delete(i);
        }
        assert.equal(list.size, model.size);
      }
      list.releaseAll();
      assert.equal(list.size, 0);
      for (const p of probes) assert.equal(p.released, model.has(p.id) ? 1 : 0, `probe ${p.id}`);
    }),
    { numRuns: fcRuns(200) },
  );
});

test("close releases every open scan: read part way, not read at all, or ended; each then fails with CLOSED", async () => {
  const db = await open("/db", {
    fs: new MemoryStorage(),
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    memtableSize: 4096,
  });
  for (let i = 0; i < 500; i++) await db.put(`k${String(i).padStart(4, "0")}`, `v${i}`);
  const partly = db.scanSync();
  partly.next();
  const unread = db.scanSync({ gte: "k0100" });
  const reverse = db.keysSync({ reverse: true });
  reverse.next();
  const ended = db.scanSync({ limit: 2 });
  assert.equal(ended.toArray().length, 2);
  const later = db.valuesSync({ lt: "k0010" });
  later.next();
  later.close();
  assert.equal(db.stats().scans, 3);
  await db.close();
  // What a scan had already copied out is still handed over; its next read of the store is refused.
  const isClosed = (err: { code?: string }) => err.code === "CLOSED";
  assert.throws(() => unread.next(), isClosed);
  for (const scan of [partly, reverse] as Iterator<unknown>[]) {
    let buffered = 0;
    assert.throws(() => {
      for (;;) {
        if (scan.next().done) assert.fail("a scan of a closed database ended instead of failing");
        buffered++;
      }
    }, isClosed);
    assert.ok(buffered < 64, `${buffered} entries came after close`);
  }
  assert.deepEqual(ended.next(), { done: true, value: undefined });
});

test("a scan that ends in its first fill holds nothing: it is not an open scan, reads what was written, and after close is CLOSED", async () => {
  const fs = new MemoryStorage();
  const options = { fs, keyEncoding: "utf8", valueEncoding: "utf8" } as const;
  let db = await open("/db", options);
  for (let i = 0; i < 100; i++) await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`);
  // All in the memtable: a seek of 3 and a scan of a range of 5 end in the first fill.
  const short = db.scanSync({ gte: "k010", limit: 3 });
  const range = db.keysSync({ gte: "k020", lt: "k025" });
  assert.equal(db.stats().scans, 0);
  assert.deepEqual(short.toArray(), [["k010", "v10"], ["k011", "v11"], ["k012", "v12"]]);
  assert.deepEqual(range.toArray(), ["k020", "k021", "k022", "k023", "k024"]);
  // More than the first fill: open until read to its end.
  const long = db.keysSync();
  assert.equal(db.stats().scans, 1);
  assert.equal(long.toArray().length, 100);
  assert.equal(db.stats().scans, 0);
  // In a table not yet read: the first fill stops for its block, the scan stays open until it ends.
  await db.flush();
  await db.close();
  db = await open("/db", options);
  const cold = db.scanSync({ gte: "k050", limit: 2 });
  assert.equal(db.stats().scans, 1);
  assert.deepEqual(cold.toArray(), [["k050", "v50"], ["k051", "v51"]]);
  assert.equal(db.stats().scans, 0);
  const warm = db.scanSync({ gte: "k060", limit: 2 });
  assert.equal(db.stats().scans, 0);
  const unread = db.valuesSync({ gte: "k070", limit: 2 });
  assert.deepEqual(warm.next(), { done: false, value: ["k060", "v60"] });
  await db.close();
  const isClosed = (err: { code?: string }) => err.code === "CLOSED";
  assert.throws(() => unread.next(), isClosed);
  // A batch begun is handed over, as for any scan.
  assert.deepEqual(warm.next(), { done: false, value: ["k061", "v61"] });
  assert.deepEqual(warm.next(), { done: true, value: undefined });
});
