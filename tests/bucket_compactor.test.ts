// Compaction of a store in a bucket in another process (runCompactor /
// Compactor, src/remote_compactor.ts): a writer opened with compaction
// "remote" only flushes; the compactor merges and commits through the
// manifest, and neither loses the other's edits. Snapshots of the writer
// and of readers stay consistent across remote compactions; a newer
// compactor fences an older one; a compactor that dies before its commit
// loses nothing, and its orphans are collected (collectGarbage). On the
// in-memory store and on radosgw (tests/_s3.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { collectGarbage, Compactor, type Db, open, type OpenOptions } from "../mod.ts";
import { BucketCollector } from "../src/object_store/bucket_collector.ts";
import { BucketManifest, latestManifest } from "../src/object_store/bucket_manifest.ts";
import { tableKey } from "../src/object_store/bucket_layout.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import type { ObjectStore } from "../src/object_store/object_store.ts";
import { S3ObjectStore } from "../src/object_store/s3_object_store.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { rejectsWith, rng } from "./_harness.ts";

const noWait = { sleep: () => Promise.resolve() };
const s3 = await testS3();
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const small = { l0CompactionTrigger: 2, targetFileSize: 8192 } as const;
// A writer that runs ahead of its compactor: its L0 may grow that far before writes wait.
const patient = { l0SlowdownTrigger: 500, l0StopTrigger: 1000 } as const;

type Make = () => Promise<{ url: string; store: ObjectStore }>;
const targets: [string, Make, string | false][] = [
  ["memory", () => Promise.resolve({ url: "memory://c/", store: new MemoryObjectStore({ retry: noWait }) }), false],
  ["radosgw", async () => {
    if (typeof s3 === "string") throw new Error(s3);
    const { url, options } = await newBucket(s3);
    return { url, store: new S3ObjectStore(url, options) };
  }, typeof s3 === "string" ? s3 : false],
];

function openWriter(url: string, store: ObjectStore, extra: OpenOptions = {}): Promise<Db<string, string>> {
  return open(url, {
    objectStore: store,
    ...utf8,
    ...small,
    ...patient,
    memtableSize: 2048,
    compaction: "remote",
    gcMinAge: 0,
    ...extra,
  }) as Promise<
    Db<string, string>
  >;
}

async function l0Count(store: ObjectStore): Promise<number> {
  return (await latestManifest(store))!.levels[0].length;
}

async function drain(compactor: Compactor): Promise<number> {
  let n = 0;
  while (await compactor.compactOnce()) n++;
  return n;
}

for (const [kind, make, skip] of targets) {
  test(`${kind}: a remote writer only flushes; the compactor merges; writer, reader and a new writer see every write`, {
    skip,
  }, async () => {
    const { url, store } = await make();
    const db = await openWriter(url, store);
    const model = new Map<string, string>();
    const next = rng(7);
    for (let i = 0; i < 400; i++) {
      const k = `k${String(Math.floor(next() * 150)).padStart(3, "0")}`;
      const v = `v${i}-${"x".repeat(Math.floor(next() * 60))}`;
      await db.put(k, v);
      model.set(k, v);
    }
    await db.flush();
    await rejectsWith("UNSUPPORTED", () => db.compact(), /compactor/);
    assert.ok((await l0Count(store)) >= 3, "the writer compacted nothing itself");
    const compactor = await Compactor.open(url, { objectStore: store, ...small });
    assert.equal(compactor.epoch, 1);
    assert.ok((await drain(compactor)) > 0);
    assert.ok(compactor.stats.compactions > 0 && compactor.stats.bytesWritten > 0);
    assert.ok((await l0Count(store)) < 2);
    await db.refresh(); // the writer installs the compactor's work
    assert.equal(db.stats().levels[0].files, await l0Count(store));
    const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(await db.scan().toArray(), sorted);
    const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
    assert.deepEqual(await reader.scan().toArray(), sorted);
    await reader.close();
    await db.close();
    const again = await openWriter(url, store);
    assert.deepEqual(await again.scan().toArray(), sorted);
    await again.close();
    await compactor.stop();
  });

  test(`${kind}: writes, flushes and remote compactions interleave; no edit of either is lost`, { skip }, async () => {
    const { url, store } = await make();
    const db = await openWriter(url, store, { l0SlowdownTrigger: 4, l0StopTrigger: 6 });
    const compactor = await Compactor.open(url, { objectStore: store, ...small, pollInterval: 5 });
    const running = compactor.run();
    const model = new Map<string, string>();
    const next = rng(11);
    for (let i = 0; i < 600; i++) {
      const k = `k${Math.floor(next() * 200)}`;
      if (next() < 0.15) {
        await db.delete(k);
        model.delete(k);
      } else {
        const v = `v${i}-${"y".repeat(Math.floor(next() * 50))}`;
        await db.put(k, v);
        model.set(k, v);
      }
      if (i % 97 === 0) await db.refresh();
    }
    await db.flush();
    await compactor.stop();
    await running;
    assert.ok(compactor.stats.compactions + compactor.stats.trivialMoves > 0, "the compactor worked meanwhile");
    await drain(compactor);
    await db.refresh();
    const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(await db.scan().toArray(), sorted);
    await db.close();
    const again = await openWriter(url, store);
    assert.deepEqual(await again.scan().toArray(), sorted);
    assert.equal(await again.count(), model.size);
    await again.close();
  });
}

test("memory: a writer's snapshot and a reader's snapshot keep what they saw across remote compactions", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const url = "memory://snap/";
  const db = await openWriter(url, store);
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, `old${i}`);
  await db.flush();
  const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
  const mine = db.snapshot();
  const theirs = reader.snapshot();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, `new${round}-${i}`);
    await db.flush();
  }
  const compactor = await Compactor.open(url, { objectStore: store, ...small });
  assert.ok((await drain(compactor)) > 0);
  await db.refresh();
  await reader.refresh();
  for (const i of [0, 37, 99]) {
    assert.equal(await mine.get(`k${i}`), `old${i}`, "the writer's snapshot");
    assert.equal(await theirs.get(`k${i}`), `old${i}`, "the reader's snapshot");
    assert.equal(await db.get(`k${i}`), `new2-${i}`);
  }
  assert.equal((await mine.scan().toArray()).length, 100);
  mine.release();
  theirs.release();
  await reader.refresh(); // now the reader moves to the compacted state
  assert.equal(await reader.get("k5"), "new2-5");
  assert.equal(reader.stats().levels[0].files, await l0Count(store));
  await reader.close();
  await db.close();
  await compactor.stop();
});

test("memory: a newer compactor fences the older one; options are checked", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const url = "memory://fence/";
  await rejectsWith("NOT_FOUND", () => Compactor.open(url, { objectStore: store }), /no database/);
  const db = await openWriter(url, store);
  for (let i = 0; i < 200; i++) await db.put(`k${i}`, "v".repeat(40));
  await db.flush();
  const first = await Compactor.open(url, { objectStore: store, ...small });
  const second = await Compactor.open(url, { objectStore: store, ...small });
  assert.equal(second.epoch, first.epoch + 1);
  await rejectsWith("FENCED", () => first.compactOnce(), /another compactor \(epoch 2/);
  await rejectsWith("FENCED", () => first.run(), /another compactor/);
  assert.ok((await drain(second)) > 0);
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => Compactor.open(url, { objectStore: store, pollInterval: -1 }),
    /pollInterval/,
  );
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => Compactor.open(url, { objectStore: store, nope: 1 } as never),
    /unknown compactor option "nope"/,
  );
  await rejectsWith("INVALID_ARGUMENT", () => open("/tmp/siltdb-not-a-bucket", { compaction: "remote" }), /bucket/);
  await db.close();
});

test("memory: a compactor that dies before its commit loses nothing; its orphans are collected", async () => {
  const store = new MemoryObjectStore({ retry: { ...noWait, attempts: 2 } });
  const url = "memory://dead/";
  const db = await openWriter(url, store);
  const model = new Map<string, string>();
  for (let i = 0; i < 300; i++) {
    await db.put(`k${i % 120}`, `v${i}`);
    model.set(`k${i % 120}`, `v${i}`);
  }
  await db.flush();
  const dead = await Compactor.open(url, { objectStore: store, ...small });
  // Its outputs are uploaded, then every manifest PUT fails: the process "dies" there.
  store.injectFault({ op: "put", key: /^manifest\//, kind: "503", times: 2 });
  await rejectsWith("IO_ERROR", () => dead.compactOnce(), /./);
  const tablesBefore = store.keys().filter((k) => k.startsWith("sst/")).length;
  const live = new Set((await latestManifest(store))!.levels.flat().map((f) => f.number));
  assert.ok(tablesBefore > live.size, "orphans of the dead compactor are in the bucket");
  const fresh = await Compactor.open(url, { objectStore: store, ...small });
  await drain(fresh);
  await db.refresh();
  const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : 1));
  assert.deepEqual(await db.scan().toArray(), sorted);
  await collectGarbage(url, { objectStore: store, gcMinAge: 0 });
  // (The writer's own collector, with a grace period of 0 too, may have deleted some of them first.)
  const after = (await latestManifest(store))!;
  const listed = new Set(after.levels.flat().map((f) => f.number));
  const remaining = store.keys().filter((k) => k.startsWith("sst/")).map((k) => Number(k.slice(4, 24)));
  assert.deepEqual(remaining.filter((n) => !listed.has(n)), [], "only listed tables remain");
  assert.ok(remaining.length < tablesBefore, "orphans and merged inputs deleted");
  assert.deepEqual(await db.scan().toArray(), sorted);
  const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
  assert.deepEqual(await reader.scan().toArray(), sorted);
  await reader.close();
  await db.close();
});

test("memory: the collector keeps what a reader may still read for gcMinAge, and uploads that may be committed", async () => {
  let now = 1_000_000;
  const store = new MemoryObjectStore({ retry: noWait, now: () => now });
  const url = "memory://gc/";
  const db = await openWriter(url, store, { gcMinAge: 60_000 });
  for (let i = 0; i < 200; i++) await db.put(`k${i}`, "v".repeat(30));
  await db.flush();
  const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
  const compactor = await Compactor.open(url, { objectStore: store, ...small });
  now += 1000;
  await drain(compactor);
  const gc = (age: number) => new BucketCollector(store, { minAgeMs: age, now: () => now }).sweep();
  // The reader still holds the pre-compaction state: within the grace period nothing it reads goes.
  now += 30_000;
  assert.equal((await gc(60_000)).deleted.tables, 0);
  assert.equal(await reader.get("k7"), "v".repeat(30));
  now += 60_000;
  const report = await gc(60_000);
  assert.ok(report.deleted.tables > 0, "merged inputs go once replaced for the grace period");
  await reader.refresh();
  assert.equal(await reader.get("k7"), "v".repeat(30));
  await reader.close();
  await db.close();
  await compactor.stop();
});

test("memory: an unlisted table at or above a live holder's floor is kept however old; below it, collected", async () => {
  let now = 1_000_000;
  const store = new MemoryObjectStore({ retry: noWait, now: () => now });
  const writer = await BucketManifest.claim(store, "writer", true);
  await writer.commit({ logNumber: 1 });
  const compactor = await BucketManifest.claim(store, "compactor", false);
  const inFlight = compactor.takeFileNumber();
  await store.put(tableKey(inFlight), new Uint8Array(100)); // uploaded, its commit not yet made
  now += 3_600_000;
  const sweep = () => new BucketCollector(store, { minAgeMs: 60_000, now: () => now }).sweep();
  const kept = await sweep();
  assert.equal(kept.deleted.tables, 0);
  assert.equal(kept.waiting, 1);
  assert.ok(store.keys().includes(tableKey(inFlight)));
  // The compactor gives the number up (its job failed) and commits: its floor moves past it.
  compactor.releaseFileNumbers([inFlight]);
  await compactor.commit({});
  now += 3_600_000;
  assert.equal((await sweep()).deleted.tables, 1);
  assert.ok(!store.keys().includes(tableKey(inFlight)));
});

test("memory: a reader busy with reads still moves to a compacted state; reads in flight restart, never wrong", async () => {
  const store = new MemoryObjectStore({ retry: noWait, latencyMs: 1 });
  const url = "memory://busy/";
  const db = await openWriter(url, store);
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, `old${i}`);
  await db.flush();
  const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
  let stop = false;
  let reads = 0;
  const workers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = w; !stop; i = (i + 7) % 100) {
      const got = await reader.get(`k${i}`);
      assert.ok(got === `old${i}` || got === `new${i}`, `k${i}: ${got}`);
      // Reads served from the caches finish in microtasks: let the store's timers run.
      if (++reads % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  });
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, `new${i}`);
  await db.flush();
  const compactor = await Compactor.open(url, { objectStore: store, ...small });
  assert.ok((await drain(compactor)) > 0);
  await reader.refresh();
  assert.equal(reader.stats().levels[0].files, await l0Count(store), "installed while reads were in flight");
  stop = true;
  await Promise.all(workers);
  assert.ok(reads > 0);
  for (const i of [0, 50, 99]) assert.equal(await reader.get(`k${i}`), `new${i}`);
  await reader.close();
  await db.close();
});
