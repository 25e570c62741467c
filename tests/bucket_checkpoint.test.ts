// Checkpoints of a store in a bucket: db.checkpoint() pins a manifest that
// the collector keeps; open({ readOnly, checkpoint }) opens exactly it;
// open({ cloneFrom }) makes a new store from it; deleteCheckpoint lets the
// collector have it. On the in-memory object store.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  collectGarbage,
  type Db,
  deleteCheckpoint,
  listCheckpoints,
  MemoryObjectStore,
  type ObjectStore,
  open,
  SiltError,
} from "../mod.ts";
import { rejectsWith } from "./_harness.ts";
import { BucketManifest } from "../src/object_store/bucket_manifest.ts";
import { checkpointsOf, createCheckpoint } from "../src/object_store/bucket_checkpoints.ts";

const noWait = { sleep: () => Promise.resolve() };
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const small = { memtableSize: 2048, l0CompactionTrigger: 2, gcMinAge: 0, ...utf8 } as const;

async function contents(db: Db<string, string>): Promise<[string, string][]> {
  return await db.scan().toArray();
}

async function openAt(store: ObjectStore, extra: Record<string, unknown> = {}): Promise<Db<string, string>> {
  return await open("memory://cp/", { objectStore: store, ...small, ...extra }) as Db<string, string>;
}

test("bucket: a checkpoint opens with exactly its state while the store moves on and the collector runs", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const db = await openAt(store);
  for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, "0")}`, `a${i}`);
  await db.delete("k005");
  const expected = await contents(db);
  const cp = await db.checkpoint();
  assert.ok(cp.id !== undefined && cp.manifest !== undefined);
  assert.ok(cp.linked > 0, "the checkpoint pins tables");
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 200; i++) await db.put(`k${String(i).padStart(3, "0")}`, `r${round}-${i}`);
    await db.compact();
  }
  const report = await collectGarbage("memory://cp/", { objectStore: store, gcMinAge: 0 });
  assert.ok(report.deleted.tables > 0, "the collector deleted the tables nothing pins");
  assert.deepEqual((await listCheckpoints("memory://cp/", { objectStore: store })).map((c) => c.id), [cp.id]);

  const reader = await openAt(store, { readOnly: true, checkpoint: cp.id });
  assert.deepEqual(await contents(reader), expected);
  assert.equal(reader.sequence, cp.sequence);
  await db.put("later", "x");
  await reader.refresh(); // a checkpoint does not move
  assert.equal(await reader.get("later"), undefined);
  await reader.close();

  await deleteCheckpoint("memory://cp/", cp.id!, { objectStore: store });
  await rejectsWith("NOT_FOUND", () => deleteCheckpoint("memory://cp/", cp.id!, { objectStore: store }));
  await collectGarbage("memory://cp/", { objectStore: store, gcMinAge: 0 });
  await rejectsWith("NOT_FOUND", () => openAt(store, { readOnly: true, checkpoint: cp.id }));
  await db.close();
});

test("bucket: a clone starts from the checkpoint and lives on its own", async () => {
  const source = new MemoryObjectStore({ retry: noWait, name: "source" });
  const db = await openAt(source);
  for (let i = 0; i < 150; i++) await db.put(`k${i}`, `v${i}`);
  const cp = await db.checkpoint();
  const expected = await contents(db);
  await db.put("after", "1");
  const target = new MemoryObjectStore({ retry: noWait, name: "target" });
  const cloneFrom = { objectStore: source, checkpoint: cp.id! };
  const clone = await openAt(target, { cloneFrom });
  assert.deepEqual(await contents(clone), expected);
  await clone.put("own", "write");
  await clone.close();
  assert.equal(await db.get("own"), undefined);
  await db.close();
  const again = await openAt(target, { cloneFrom }); // holds a database now: opens as it is
  assert.equal(await again.get("own"), "write");
  await again.close();
  await deleteCheckpoint("memory://cp/", cp.id!, { objectStore: source });
  await collectGarbage("memory://cp/", { objectStore: source, gcMinAge: 0 });
  const still = await openAt(target); // the clone's tables are its own
  assert.deepEqual((await contents(still)).length, expected.length + 1);
  await still.close();
});

test("bucket: bad checkpoint input is refused with typed errors", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const db = await openAt(store);
  await db.put("a", "1");
  await rejectsWith("INVALID_ARGUMENT", () => db.checkpoint("/some/dir"), /without arguments/);
  await rejectsWith("INVALID_ARGUMENT", () => openAt(store, { checkpoint: "x" }), /readOnly/);
  await rejectsWith("INVALID_ARGUMENT", () => openAt(store, { readOnly: true, checkpoint: "nope" }), /checkpoint id/);
  await rejectsWith("NOT_FOUND", () => openAt(store, { readOnly: true, checkpoint: "001733500000000-0a1b2c3d" }));
  await rejectsWith("INVALID_ARGUMENT", () => open("/dir", { checkpoint: "x", readOnly: true }), /bucket/);
  await rejectsWith("INVALID_ARGUMENT", () => openAt(store, { cloneFrom: { objectStore: store } }), /cloneFrom/);
  const reader = await openAt(store, { readOnly: true });
  await rejectsWith("UNSUPPORTED", () => reader.checkpoint(), /writer/);
  await rejectsWith("UNSUPPORTED", () => db.backup("/backups"), /bucket/);
  await reader.close();
  await db.close();
});

/** An ObjectStore whose process dies at its `at`-th request once armed: that request (landing or not) and every later one never answer. */
function dyingStore(inner: ObjectStore): ObjectStore & { arm(at: number, lands: boolean): void; calls: number } {
  let at = Infinity;
  let lands = false;
  let calls = 0;
  let dead = false;
  const never = new Promise<never>(() => {});
  const call = <T>(run: () => Promise<T>): Promise<T> => {
    if (dead) return never;
    if (calls++ === at) {
      dead = true;
      if (lands) void run().catch(() => {});
      return never;
    }
    return run();
  };
  return {
    location: inner.location,
    get: (key, range) => call(() => inner.get(key, range)),
    head: (key) => call(() => inner.head(key)),
    put: (key, data, options) => call(() => inner.put(key, data, options)),
    list: (prefix, options) => call(() => inner.list(prefix, options)),
    delete: (key) => call(() => inner.delete(key)),
    arm(index: number, land: boolean) {
      at = index;
      lands = land;
      calls = 0;
    },
    get calls() {
      return calls;
    },
  } as ObjectStore & { arm(at: number, lands: boolean): void; calls: number };
}

test("bucket: a process killed at any request of a checkpoint leaves the store whole and any checkpoint exact", async () => {
  for (const lands of [false, true]) {
    for (let at = 0;; at++) {
      const store = new MemoryObjectStore({ retry: noWait });
      const dying = dyingStore(store);
      const db = await openAt(dying);
      for (let i = 0; i < 60; i++) await db.put(`k${i}`, `v${i}`);
      const expected = await contents(db);
      dying.arm(at, lands);
      let done = false;
      void db.checkpoint().then(() => done = true, (err) => assert.ok(err instanceof SiltError, String(err)));
      for (let i = 0; i < 50 && !done; i++) await new Promise((r) => setTimeout(r, 0));
      const fired = dying.calls > at;
      // Another process opens the store: every acknowledged write is there.
      const next = await openAt(store);
      assert.deepEqual(await contents(next), expected, `request ${at}: the store`);
      await next.put("next", "writer");
      await next.compact();
      await collectGarbage("memory://cp/", { objectStore: store, gcMinAge: 0 });
      for (const cp of await listCheckpoints("memory://cp/", { objectStore: store })) {
        const reader = await openAt(store, { readOnly: true, checkpoint: cp.id });
        assert.deepEqual(await contents(reader), expected, `request ${at}: checkpoint ${cp.id}`);
        await reader.close();
      }
      await next.close();
      if (!fired) {
        assert.ok(done && at > 2, `a checkpoint takes more than ${at} requests`);
        break;
      }
      assert.ok(at < 500);
    }
  }
});

test("bucket: a checkpoint of a manifest replaced more than half the grace period ago is refused and removed", async () => {
  let now = Date.UTC(2030, 0, 1);
  const store = new MemoryObjectStore({ retry: noWait, now: () => now });
  await BucketManifest.claim(store, "writer", true); // manifest 1
  now += 1000;
  await BucketManifest.claim(store, "writer", false); // manifest 2 replaces it
  now += 10_000; // a fifth of the grace period: still safe
  const ok = await createCheckpoint(store, { manifest: 1, sequence: 0, gracePeriod: 60_000 });
  assert.equal((await checkpointsOf(store)).length, 1);
  now += 30_000; // 40 s after manifest 2: a sweep may have retired manifest 1
  await rejectsWith(
    "IO_ERROR",
    () => createCheckpoint(store, { manifest: 1, sequence: 0, gracePeriod: 60_000 }),
    /replaced/,
  );
  assert.deepEqual((await checkpointsOf(store)).map((c) => c.id), [ok.id], "the refused checkpoint was removed");
  await createCheckpoint(store, { manifest: 2, sequence: 0, gracePeriod: 60_000 }); // the newest: fine
});
