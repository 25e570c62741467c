// Regression tests of defects the bucket simulation (tests/bucket_sim.test.ts)
// found in the store in a bucket, each minimal, each checked to fail on the
// code before its fix.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Compactor, open, verifyBucket } from "../mod.ts";
import { BucketCollector } from "../src/object_store/bucket_collector.ts";
import { BucketManifest, type BucketState, latestManifest, readManifest } from "../src/object_store/bucket_manifest.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import type { ObjectStore } from "../src/object_store/object_store.ts";
import { rejectsWith } from "./_harness.ts";

/** One sweep of `collector` against `manifest`, as `siltdb gc` or a writer's own collector makes it. */
async function sweep(collector: BucketCollector, manifest: BucketState): Promise<void> {
  collector.collect({
    tables: new Set(manifest.levels.flat().map((f) => f.number)),
    keep: new Set(),
    logNumber: manifest.walStart,
  });
  await collector.idle();
}

test("regression (bucket sim seed 7): a commit that loses its manifest number to a writer not yet listed is FENCED, not CORRUPTION", async () => {
  // Listing lag: a new manifest stays out of listings for a while (S3 lists eventually; GETs are exact).
  let now = 1_000_000;
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() }, listLagMs: 5000, now: () => now });
  const old = await BucketManifest.claim(store, "writer", true);
  now += 10_000; // manifest 1 is listed from now on
  await BucketManifest.claim(store, "writer", false); // manifest 2, not listed yet
  await rejectsWith("FENCED", () => old.commit({ logNumber: 2 }));
});

test("regression (bucket sim seed 18): a collector keeps what a manifest replaced less than gcMinAge ago names (a reader may be reading it)", async () => {
  let now = Date.UTC(2030, 0, 1);
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() }, now: () => now });
  // The store's grace period is 60 s (the writer's own collector deletes nothing: the store's clock is ahead).
  const options = { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8", gcMinAge: 60_000 } as const;
  const writer = await open("memory://gc/", options);
  await writer.put("a", "1");
  await writer.flush(); // table 1, and the WAL start moves past wal/1 and wal/2
  now += 120_000; // both are two minutes old
  const reader = await open("memory://gc/", { ...options, readOnly: true, refreshInterval: 0 });
  await writer.put("b", "2");
  await writer.compact(); // a new manifest: one table replaces table 1, the WAL start moves again
  now += 1;
  // A collector (as `siltdb gc` or the writer's own would) sweeps against the newest manifest, a moment later.
  const latest = (await latestManifest(store))!;
  const collector = new BucketCollector(store, { minAgeMs: 60_000, intervalMs: 0, now: () => now });
  await sweep(collector, latest);
  // The reader opened on the manifest before, a moment ago: what it names is still there.
  assert.equal(await reader.get("a"), "1");
  await reader.refresh();
  assert.equal(await reader.get("b"), "2");
  now += 60_000; // once the replaced manifest is gcMinAge old, its objects go
  await sweep(collector, latest);
  assert.ok(collector.deleted > 0, "the objects of the replaced manifest are deleted after gcMinAge");
  await reader.close();
  await writer.close();
});

test("regression (bucket sim seed 9): a reader's snapshot keeps its view across refreshes", {}, async () => {
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
  const options = { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8" } as const;
  const writer = await open("memory://snap/", options);
  await writer.put("k", "1");
  const reader = await open("memory://snap/", { ...options, readOnly: true, refreshInterval: 0 });
  const snap = reader.snapshot();
  assert.equal(await snap.get("k"), "1");
  await writer.put("k", "2");
  await writer.compact(); // the writer knows no snapshot of the reader: "1" is dropped
  await reader.refresh();
  assert.equal(await reader.get("k"), "2");
  assert.equal(await snap.get("k"), "1", "the snapshot shows what it showed before the refresh");
  snap.release();
  await reader.close();
  await writer.close();
});

test(
  "regression (bucket sim seeds 25 and 59): a point lookup through more tables than maxOpenFiles, or more blocks than the block cache holds, finishes",
  {},
  async () => {
    for (const cache of [{ maxOpenFiles: 1 }, { blockCacheSize: 0, bloomBitsPerKey: 0 }]) {
      const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
      const db = await open("memory://lookup/", {
        objectStore: store,
        keyEncoding: "utf8",
        valueEncoding: "utf8",
        l0CompactionTrigger: 8,
        ...cache,
      });
      await db.put("k", "1");
      await db.flush(); // table 1 holds k
      await db.put("a", "2");
      await db.put("z", "3");
      await db.flush(); // table 2 spans a..z: a lookup of k reads it (a block of it without a bloom filter), then table 1
      assert.equal(await db.get("k"), "1", JSON.stringify(cache));
      await db.close();
    }
  },
);

test("regression (bucket sim seed 1925): of two writers opening at once, the older is FENCED, even if the newer fences the WAL first", async () => {
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
  const options = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
  // The older writer claims the store (epoch 1), then is slow: its WAL requests wait until the newer one has opened.
  let reachedWal!: () => void;
  const atWal = new Promise<void>((resolve) => reachedWal = resolve);
  let letGo!: () => void;
  const newerOpened = new Promise<void>((resolve) => letGo = resolve);
  const slow = async <T>(key: string, request: () => Promise<T>): Promise<T> => {
    if (key.startsWith("wal/")) {
      reachedWal();
      await newerOpened;
    }
    return await request();
  };
  const olderStore: ObjectStore = {
    location: store.location,
    get: (k, r) => slow(k, () => store.get(k, r)),
    head: (k) => slow(k, () => store.head(k)),
    put: (k, d, o) => slow(k, () => store.put(k, d, o)),
    list: (p, o) => slow(p, () => store.list(p, o)),
    delete: (k) => slow(k, () => store.delete(k)),
  };
  const olderOpening = open("memory://race/", { ...options, objectStore: olderStore });
  olderOpening.catch(() => {});
  await atWal;
  const newer = await open("memory://race/", { ...options, objectStore: store }); // epoch 2: replays, fences wal/1
  letGo();
  // The older one meets the newer one's fence (epoch 2) at wal/1: it must not fence wal/2 and write on.
  await rejectsWith("FENCED", async () => {
    const older = await olderOpening;
    await older.put("older", "x");
  });
  await newer.put("newer", "1");
  assert.equal(await newer.get("newer"), "1");
  await newer.close();
});

test(
  "regression (bucket sim seed 1077): a fenced writer idle for longer than gcMinAge cannot write into a WAL number the collector freed",
  {},
  async () => {
    let now = Date.UTC(2030, 0, 1);
    const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() }, now: () => now });
    const options = { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8", gcMinAge: 2 ** 40 } as const;
    const old = await open("memory://stale/", options);
    await old.put("a", "1");
    const current = await open("memory://stale/", options); // fences the old writer: its next WAL object is this fence
    for (let i = 0; i < 2; i++) {
      now += 120_000;
      await current.put(`b${i}`, "2");
      await current.flush(); // the WAL start moves past the fence
    }
    now += 120_000;
    const latest = (await latestManifest(store))!;
    const collector = new BucketCollector(store, { minAgeMs: 60_000, intervalMs: 0, now: () => now });
    await sweep(collector, latest);
    await rejectsWith("FENCED", () => old.put("late", "x"));
    await old.close().catch(() => {});
    await current.close();
  },
);

test(
  "regression (bucket sim seed 40008432): after a manifest commit that landed but could not be confirmed, resume() plans no compaction on the version before it",
  {},
  async () => {
    const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve(), attempts: 3 } });
    const db = await open("memory://void/", {
      objectStore: store,
      keyEncoding: "utf8",
      valueEncoding: "utf8",
      l0CompactionTrigger: 2,
    });
    db.on("error", () => {});
    await db.put("a", "1");
    await db.flush();
    await db.put("b", "2");
    // The compaction the next flush starts commits manifest 4: it lands, but its answer is lost and cannot be checked.
    store.injectFault({ op: "put", key: /^manifest\/0+4$/, kind: "lost" });
    store.injectFault({ op: "head", key: /^manifest\/0+4$/, kind: "503", times: 3 });
    await db.flush();
    await db.put("c", "3");
    for (let i = 0; i < 100 && db.stats().backgroundError === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.match(db.stats().backgroundError ?? "", /HEAD manifest\/0+4 failed/);
    await db.resume();
    await db.put("d", "4");
    await db.compact();
    assert.equal(db.stats().backgroundError, undefined);
    assert.deepEqual(await db.scan().toArray(), [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"]]);
    await db.close();
  },
);

for (const lag of [0, 60_000]) {
  test(
    "regression (bucket sim with compaction, seeds 528412154 and, with listing lag, 80006862): a flush whose manifest " +
      `commit landed unconfirmed is not flushed again by resume() (no duplicate entries); listing lag ${lag} ms`,
    {},
    async () => {
      let now = 1_000_000;
      const store = new MemoryObjectStore({
        retry: { sleep: () => Promise.resolve(), attempts: 3 },
        listLagMs: lag, // with lag: the landed manifest stays out of listings; only a GET of its number sees it
        now: () => now,
      });
      const db = await open("memory://twice/", {
        objectStore: store,
        keyEncoding: "utf8",
        valueEncoding: "utf8",
        l0CompactionTrigger: 8,
      });
      db.on("error", () => {});
      await db.put("a", "1");
      await db.flush();
      const before = (await readLatest(store)).number;
      await db.put("b", "2");
      await db.put("c", "3");
      // The flush's manifest commit lands, but its answer is lost and cannot be checked.
      const next = new RegExp(`^manifest/0*${before + 1}$`);
      store.injectFault({ op: "put", key: next, kind: "lost" });
      store.injectFault({ op: "head", key: next, kind: "503", times: 3 });
      await rejectsWith("IO_ERROR", () => db.flush(), /HEAD manifest/);
      const landed = await readLatest(store);
      assert.equal(landed.number, before + 1, "the flush's commit landed");
      assert.equal(landed.levels[0].length, 2);
      await db.resume();
      assert.equal((await readLatest(store)).levels[0].length, 2, "the memtable is in a table once");
      await db.compact();
      now += lag; // every manifest is listed from now on
      const report = await verifyBucket("memory://twice/", { objectStore: store });
      assert.deepEqual(report.problems, [], "the compacted table holds each entry once");
      assert.equal(db.stats().levels.reduce((n, l) => n + l.entries, 0), 3);
      assert.deepEqual(await db.scan().toArray(), [["a", "1"], ["b", "2"], ["c", "3"]]);
      await db.close();
    },
  );
}

/** The newest manifest, found by GETs of the numbers past the newest listed (listings may lag). */
async function readLatest(store: ObjectStore): Promise<BucketState> {
  let latest = await latestManifest(store);
  for (let n = (latest?.number ?? 0) + 1;; n++) {
    const next = await readManifest(store, n);
    if (next === undefined) return latest!;
    latest = next;
  }
}

test(
  "regression (bucket sim with compaction, seed 101364 of an earlier run): resume() while a WAL upload is in flight freezes the memtable (no internal error), and that upload's write lands",
  {},
  async () => {
    const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve(), attempts: 3 } });
    const gate = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      return { promise, resolve };
    };
    const gates = { "wal/": gate(), "manifest/": gate() };
    const held = new Set<string>();
    const gated: ObjectStore = {
      location: store.location,
      get: (key, range) => store.get(key, range),
      head: (key) => store.head(key),
      list: (prefix, options) => store.list(prefix, options),
      delete: (key) => store.delete(key),
      put: async (key, data, options) => {
        for (const [prefix, gate] of Object.entries(gates)) {
          if (key.startsWith(prefix) && held.has(prefix)) await gate.promise;
        }
        return store.put(key, data, options);
      },
    };
    const db = await open("memory://inflight/", { objectStore: gated, keyEncoding: "utf8", valueEncoding: "utf8" });
    db.on("error", () => {});
    await db.put("a", "1");
    held.add("manifest/");
    held.add("wal/");
    const flushing = db.flush(); // its table is stored; its manifest commit waits
    const writing = db.put("b", "2"); // its WAL object waits: an upload in flight
    await new Promise((resolve) => setTimeout(resolve, 10));
    store.injectFault({ op: "put", key: /^manifest\//, kind: "503", times: 3 });
    gates["manifest/"].resolve();
    await rejectsWith("IO_ERROR", () => flushing, /PUT manifest/);
    await db.resume(); // the upload of "b" is still in flight
    gates["wal/"].resolve();
    await writing;
    assert.deepEqual(await db.scan().toArray(), [["a", "1"], ["b", "2"]]);
    await db.flush();
    await db.close();
    const again = await open("memory://inflight/", { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.deepEqual(await again.scan().toArray(), [["a", "1"], ["b", "2"]]);
    await again.close();
  },
);

test("regression (bucket sim with WAL probes, seed 317784944): readers see every stored WAL object at once, even when listings lag", async () => {
  let now = 1_000_000;
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() }, listLagMs: 60_000, now: () => now });
  const options = { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8" } as const;
  const writer = await open("memory://lag/", options);
  await writer.put("a", "1");
  await writer.flush();
  now += 60_000; // everything so far is listed
  await writer.put("b", "2"); // its WAL object is not listed for a minute
  const reader = await open("memory://lag/", { ...options, readOnly: true, refreshInterval: 0 });
  assert.deepEqual(await reader.scan().toArray(), [["a", "1"], ["b", "2"]], "a reader opening sees it");
  await writer.put("c", "3");
  await reader.refresh();
  assert.equal(await reader.get("c"), "3", "a refresh sees it");
  await writer.flush(); // a new manifest (not listed yet) and a new WAL start
  await writer.put("d", "4");
  now += 60_000; // the manifest is listed; the WAL object of "d" is not
  await reader.refresh(); // a new state: the WAL objects from its WAL start, listed and then by number
  assert.deepEqual(await reader.scan().toArray(), [["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"]]);
  await writer.put("e", "5");
  await reader.refresh();
  assert.equal(await reader.get("e"), "5", "and goes on from there");
  await reader.close();
  await writer.close();
});

test("regression (bucket sim seed 94002917): a tiered merge back into L0 writes one table, so compactions run out of work", async () => {
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() } });
  const url = "memory://tiered/";
  const writer = await open(url, {
    objectStore: store,
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    compaction: "remote",
    memtableSize: 1 << 20,
    l0SlowdownTrigger: 1000,
    l0StopTrigger: 1000,
  });
  const model = new Map<string, string>();
  let n = 0;
  // Level-0 tables, each newer one under half the one before: no size ratio holds, so the newest are merged
  // until trigger - 1 runs remain, back into L0 (older L0 tables are left), bigger than targetFileSize.
  for (const size of [3000, 800, 300, 120, 50, 20, 8]) {
    for (let i = 0; i < size; i++) {
      const k = `k${String((n++ * 37) % 3000).padStart(5, "0")}`;
      await writer.put(k, `v${n}`.padEnd(60, "-"));
      model.set(k, `v${n}`.padEnd(60, "-"));
    }
    await writer.flush();
  }
  const compactor = await Compactor.open(url, {
    objectStore: store,
    compaction: "tiered",
    l0CompactionTrigger: 4,
    targetFileSize: 4096,
    blockSize: 256,
  });
  let rounds = 0;
  while (rounds < 20 && await compactor.compactOnce() !== undefined) rounds++;
  assert.ok(rounds < 20, `the compactor still had work after ${rounds} rounds`);
  await writer.refresh();
  assert.ok(writer.stats().levels[0].files < 4, "fewer runs than the trigger are left");
  assert.deepEqual(await writer.scan().toArray(), [...model].sort(([a], [b]) => (a < b ? -1 : 1)));
  await compactor.stop();
  await writer.close();
});
