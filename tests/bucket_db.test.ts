// A store in a bucket (open("s3://…") or an ObjectStore as the objectStore
// option): the same API on WAL objects, table objects and the manifest
// protocol. On the in-memory store with injected faults, and on a real S3
// server (Ceph radosgw, tests/_s3.ts): random operations against a Map
// model across flushes, compactions, reopens and writers replaced without
// a close; fencing (an old writer's writes fail FENCED, none of them is
// ever seen, nothing the new writer acknowledged is lost); readers; lost
// answers and 503s; a store that is down, then resume().

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Db, MemoryStorage, open, type OpenOptions } from "../mod.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import type { ObjectStore } from "../src/object_store/object_store.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { rejectsWith, rng } from "./_harness.ts";

const noWait = { sleep: () => Promise.resolve() };
const s3 = await testS3();
const skipS3 = typeof s3 === "string" ? s3 : false;
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

type Target = { url: string; options: OpenOptions };

function memoryTarget(store: ObjectStore = new MemoryObjectStore({ retry: noWait })): Promise<Target> {
  return Promise.resolve({ url: "memory://test", options: { objectStore: store, gcMinAge: 0 } });
}

async function s3Target(): Promise<Target> {
  if (typeof s3 === "string") throw new Error(s3);
  const { url, options } = await newBucket(s3);
  return { url, options: { objectStore: options, gcMinAge: 0 } };
}

async function openDb(t: Target, extra: OpenOptions = {}): Promise<Db<string, string>> {
  return await open(t.url, { ...t.options, ...utf8, memtableSize: 2048, l0CompactionTrigger: 3, ...extra }) as Db<
    string,
    string
  >;
}

async function assertModel(db: Db<string, string>, model: Map<string, string>, where: string) {
  const entries = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(await db.scan().toArray(), entries, `${where}: scan`);
  for (const [k, v] of entries.slice(0, 20)) assert.equal(await db.get(k), v, `${where}: get ${k}`);
  assert.equal(await db.get("never-written"), undefined);
  assert.equal(await db.count(), model.size, `${where}: count`);
}

function randomOps(kind: string, target: () => Promise<Target>, skip: string | false, seeds: number[]) {
  for (const seed of seeds) {
    test(
      `${kind}: random writes, reads, flushes, compactions, reopens and replaced writers match a Map (seed ${seed})`,
      {
        skip,
      },
      async () => {
        const next = rng(seed);
        const t = await target();
        const model = new Map<string, string>();
        let db = await openDb(t);
        try {
          for (let step = 0; step < 120; step++) {
            const r = next();
            const k = `k${Math.floor(next() * 60)}`;
            if (r < 0.45) {
              const v = `v${step}-${"x".repeat(Math.floor(next() * 80))}`;
              await db.put(k, v);
              model.set(k, v);
            } else if (r < 0.55) {
              await db.delete(k);
              model.delete(k);
            } else if (r < 0.65) {
              const batch = db.batch();
              for (let i = 0; i < 5; i++) {
                const bk = `k${Math.floor(next() * 60)}`;
                if (next() < 0.8) {
                  batch.put(bk, `b${step}-${i}`);
                  model.set(bk, `b${step}-${i}`);
                } else {
                  batch.delete(bk);
                  model.delete(bk);
                }
              }
              await batch.write();
            } else if (r < 0.75) {
              assert.equal(await db.get(k), model.get(k), `step ${step}: get ${k}`);
            } else if (r < 0.8) {
              await db.flush();
            } else if (r < 0.83) {
              await db.compact();
            } else if (r < 0.87) {
              await db.close();
              db = await openDb(t);
            } else if (r < 0.9) {
              // A writer replaced without a close (its process died): a new one opens and fences it.
              const old = db;
              db = await openDb(t);
              await rejectsWith("FENCED", async () => {
                await old.put("fenced", "never");
                await old.flush();
              });
              await old.close().catch(() => {});
            } else {
              const snap = db.snapshot();
              const before = await snap.scan().toArray();
              await db.put(k, "after-snapshot");
              model.set(k, "after-snapshot");
              assert.deepEqual(await snap.scan().toArray(), before, `step ${step}: a snapshot does not move`);
              snap.release();
            }
          }
          await assertModel(db, model, "end");
          await db.close();
          const again = await openDb(t);
          await assertModel(again, model, "after reopen");
          assert.equal(await again.get("fenced"), undefined, "nothing a fenced writer wrote is ever seen");
          await again.close();
        } finally {
          await db.close().catch(() => {});
        }
      },
    );
  }
}

randomOps("memory", () => memoryTarget(), false, [1, 2, 3, 4]);
randomOps("s3 (Ceph radosgw)", s3Target, skipS3, [5]);

test("memory: a reader sees the writer's state as of its open, then follows it (refresh)", async () => {
  const t = await memoryTarget();
  const w = await openDb(t);
  await w.put("a", "1");
  await w.flush();
  await w.put("b", "2");
  const r = await openDb(t, { readOnly: true });
  assert.equal(await r.get("a"), "1");
  assert.equal(await r.get("b"), "2", "a reader replays the WAL objects after the manifest");
  await rejectsWith("READ_ONLY", () => r.put("c", "3"));
  await rejectsWith("UNSUPPORTED", () => r.getSync("a"), /asynchronously/);
  await rejectsWith("UNSUPPORTED", () => r.scanSync().toArray(), /asynchronously/);
  const snap = r.snapshot();
  await w.put("c", "3");
  await w.flush(); // the WAL start moves: the reader rebuilds its memtable from the tables
  await w.put("d", "4");
  await w.delete("a");
  assert.equal(await r.get("c"), undefined, "not before a refresh");
  await r.refresh();
  assert.deepEqual(await r.scan().toArray(), [["b", "2"], ["c", "3"], ["d", "4"]]);
  assert.deepEqual(await snap.scan().toArray(), [["a", "1"], ["b", "2"]], "a snapshot keeps its view");
  snap.release();
  await r.close();
  await w.close();
});

test("memory: a reader refreshes by itself every refreshInterval", async () => {
  const t = await memoryTarget();
  const w = await openDb(t);
  await w.put("a", "1");
  const r = await openDb(t, { readOnly: true, refreshInterval: 20 });
  await w.put("b", "2");
  for (let i = 0; i < 100 && (await r.get("b")) === undefined; i++) await new Promise((ok) => setTimeout(ok, 10));
  assert.equal(await r.get("b"), "2");
  await r.close();
  await w.close();
});

test("memory: lost answers and 503s on WAL, table and manifest puts lose and duplicate nothing", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const t = await memoryTarget(store);
  const db = await openDb(t);
  const model = new Map<string, string>();
  for (let i = 0; i < 200; i++) {
    if (i % 7 === 0) store.injectFault({ op: "put", key: /^wal\//, kind: "lost" });
    if (i % 11 === 0) store.injectFault({ op: "put", kind: "503", times: 2 });
    if (i % 13 === 0) store.injectFault({ op: "get", kind: "500" });
    if (i % 17 === 0) store.injectFault({ op: "put", key: /^(manifest|sst)\//, kind: "lost" });
    const k = `k${i % 50}`;
    await db.put(k, `v${i}`);
    model.set(k, `v${i}`);
    if (i % 40 === 39) await db.flush();
  }
  await assertModel(db, model, "with faults");
  await db.close();
  const again = await openDb(t);
  await assertModel(again, model, "reopened");
  await again.close();
});

test("memory: a store that is down refuses writes (IO_ERROR), reads go on from memory; resume() once it is back", async () => {
  const store = new MemoryObjectStore({ retry: { ...noWait, attempts: 3 } });
  const t = await memoryTarget(store);
  const db = await openDb(t);
  await db.put("a", "1");
  store.injectFault({ op: "put", kind: "503", times: 3 });
  await rejectsWith("IO_ERROR", () => db.put("b", "2"), /failed after 3 tries/);
  await rejectsWith("IO_ERROR", () => db.put("c", "3"), /refuses writes/);
  assert.equal(await db.get("a"), "1");
  await db.resume();
  await db.put("d", "4");
  await db.close();
  const again = await openDb(t);
  assert.equal(await again.get("a"), "1");
  assert.equal(await again.get("d"), "4");
  assert.equal(await again.get("c"), undefined, "a refused write is not there");
  await again.close();
});

test("memory: concurrent writers are group-committed into few WAL objects", async () => {
  const store = new MemoryObjectStore({ retry: noWait, latencyMs: 5 });
  const t = await memoryTarget(store);
  const db = await openDb(t, { memtableSize: 1 << 20 });
  await Promise.all(Array.from({ length: 500 }, (_, i) => db.put(`k${i}`, "v")));
  const walObjects = store.keys().filter((k) => k.startsWith("wal/")).length;
  assert.ok(walObjects < 20, `500 concurrent puts in ${walObjects} WAL objects`);
  assert.equal(await db.count(), 500);
  await db.close();
});

test("s3: two writers: the first is fenced, the second keeps every acknowledged write", { skip: skipS3 }, async () => {
  const t = await s3Target();
  const a = await openDb(t);
  for (let i = 0; i < 20; i++) await a.put(`a${i}`, "1");
  const b = await openDb(t);
  await rejectsWith("FENCED", () => a.put("late", "x"));
  for (let i = 0; i < 20; i++) await b.put(`b${i}`, "2");
  await b.flush();
  await a.close().catch(() => {});
  await b.close();
  const c = await openDb(t);
  assert.equal(await c.count({ prefix: "a" }), 20);
  assert.equal(await c.count({ prefix: "b" }), 20);
  assert.equal(await c.get("late"), undefined);
  await c.close();
});

test("memory: stats() and metrics() count the store's requests, bytes and waiting; a directory has no bucket figures", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const db = await openDb(await memoryTarget(store));
  for (let i = 0; i < 50; i++) await db.put(`k${i}`, "v".repeat(100));
  await db.flush();
  assert.equal(await db.get("k7"), "v".repeat(100));
  const b = db.stats().bucket!;
  assert.equal(b.location, "memory://store/");
  assert.ok(b.manifest >= 2);
  assert.equal(b.requests, store.counters);
  assert.ok(b.requests!.puts >= 3 && b.requests!.gets >= 1 && b.requests!.bytesWritten > 5000);
  assert.equal(b.diskCache, undefined);
  const metrics = db.metrics();
  assert.match(metrics, new RegExp(`^siltdb_object_requests_total\\{op="put"\\} ${store.counters.puts}$`, "m"));
  assert.match(metrics, /^siltdb_object_wait_seconds_total [\d.e-]+$/m);
  assert.match(metrics, /^# TYPE siltdb_manifest gauge$/m);
  await db.close();
  const local = await open("memory-dir", { fs: new MemoryStorage() });
  assert.equal(local.stats().bucket, undefined);
  assert.doesNotMatch(local.metrics(), /object_requests/);
  await local.close();
});

test("memory: a scan reads a table ahead (a few GETs for hundreds of blocks); a point read fetches one block", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const url = "memory://ahead/";
  const db = await open(url, { objectStore: store, ...utf8, l0CompactionTrigger: 100 });
  for (let i = 0; i < 20_000; i += 100) {
    const batch = db.batch();
    for (let j = i; j < i + 100; j++) batch.put(`k${String(j).padStart(6, "0")}`, "v".repeat(100));
    await batch.write();
  }
  await db.flush();
  await db.close();
  const reader = await open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 });
  const before = store.counters.gets;
  assert.equal(await reader.get("k012345"), "v".repeat(100));
  assert.equal(store.counters.gets - before, 2, "the table's tail, then one block");
  const scanFrom = store.counters.gets;
  assert.equal(await reader.count(), 20_000);
  let n = 0;
  for await (const [k] of reader.scan({ gte: "k000000" })) {
    if (n === 0) assert.equal(k, "k000000");
    n++;
  }
  assert.equal(n, 20_000);
  const gets = store.counters.gets - scanFrom;
  assert.ok(gets <= 20, `a count and a full scan of ~560 blocks took ${gets} GETs`);
  await reader.close();
});

// Found by tests/bucket_process.test.ts: a new writer's open() chased an old writer that kept writing
// (its fence lost every race for the next WAL number). Every writer of a bucket now looks at the
// manifest each refreshInterval, so the old one learns of the new epoch and stops within that time.
test("memory: a new writer's open fences an old writer that keeps writing, before it stops", async () => {
  const store = new MemoryObjectStore({ latencyMs: 1 });
  const t = await memoryTarget(store);
  const old = await openDb(t, { memtableSize: 64 << 20 }); // no flush: only the WAL can fence it
  const CAP = 1000; // puts per loop, then the old writer stops by itself
  let acks = 0;
  const outcome: string[] = [];
  const loop = async (j: number) => {
    for (let n = 0; n < CAP; n++) {
      try {
        await old.put(`old-${j}-${n}`, "v".repeat(100));
      } catch (err) {
        outcome.push((err as { code?: string }).code ?? String(err));
        return;
      }
      acks++;
    }
    outcome.push("stopped by itself");
  };
  const loops = Promise.all([0, 1, 2, 3].map(loop));
  while (acks < 50) await new Promise((ok) => setTimeout(ok, 1));
  const fresh = await openDb(t, { memtableSize: 64 << 20 });
  await loops;
  assert.deepEqual(
    [...new Set(outcome)],
    ["FENCED"],
    `the old writer wrote ${acks} puts; the new writer's open resolved only after it stopped`,
  );
  assert.equal(await fresh.count({ prefix: "old-" }), acks, "every acknowledged write of the old writer is there");
  await fresh.close();
  await old.close().catch(() => {});
});
