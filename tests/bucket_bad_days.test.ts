// Bad days of a store in a bucket: objects deleted behind siltdb's back,
// truncated or with a flipped byte (tables, WAL objects, manifests), and a
// bucket that is not there. Each is a typed error naming the object (and
// the offset, for damage inside one), never wrong data; the other keys and
// the process's other stores are unaffected.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Db, open, type SiltError } from "../mod.ts";
import { latestManifest } from "../src/object_store/bucket_manifest.ts";
import { manifestKey, tableKey } from "../src/object_store/bucket_layout.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { rejectsWith } from "./_harness.ts";

const noWait = { sleep: () => Promise.resolve() };
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const s3 = await testS3();

/** A store with 200 keys in tables (one per flush of 50) and 20 more only in WAL objects. */
async function filled(name: string): Promise<{ store: MemoryObjectStore; url: string }> {
  const store = new MemoryObjectStore({ name, retry: noWait });
  const url = `memory://${name}/`;
  const db = await open(url, { objectStore: store, ...utf8, gcMinAge: 3_600_000, l0CompactionTrigger: 100 });
  for (let t = 0; t < 4; t++) {
    for (let i = 0; i < 50; i++) await db.put(`k${String(t * 50 + i).padStart(3, "0")}`, `v${t * 50 + i}`);
    await db.flush();
  }
  for (let i = 200; i < 220; i++) await db.put(`k${i}`, `v${i}`);
  await db.close();
  return { store, url };
}

function reader(store: MemoryObjectStore, url: string): Promise<Db<string, string>> {
  return open(url, { objectStore: store, ...utf8, readOnly: true, refreshInterval: 0 }) as Promise<Db<string, string>>;
}

async function tableHolding(store: MemoryObjectStore, key: string): Promise<number> {
  const state = (await latestManifest(store))!;
  const user = (internal: Uint8Array) => new TextDecoder().decode(internal.subarray(0, internal.length - 8));
  const file = state.levels.flat().find((f) => user(f.smallest) <= key && key <= user(f.largest));
  return file!.number;
}

async function replace(store: MemoryObjectStore, key: string, change: (data: Uint8Array) => Uint8Array) {
  const got = (await store.get(key))!;
  await store.put(key, change(got.data.slice()));
}

test("a table object deleted behind siltdb's back: CORRUPTION naming it; other tables still read", async () => {
  const { store, url } = await filled("deleted");
  const n = await tableHolding(store, "k010");
  await store.delete(tableKey(n));
  const db = await reader(store, url);
  const err = await rejectsWith("CORRUPTION", () => db.get("k010"), /the table object is missing/);
  assert.equal((err as SiltError).file, `${url}${tableKey(n)}`);
  assert.equal(await db.get("k205"), "v205", "the WAL's writes");
  await rejectsWith("CORRUPTION", () => db.scan().toArray(), new RegExp(tableKey(n).replace(".", "\\.")));
  await db.close();
});

test("a truncated table object and a flipped byte in a block: CORRUPTION naming the object (and the block)", async () => {
  const { store, url } = await filled("damaged");
  const cut = await tableHolding(store, "k010");
  await replace(store, tableKey(cut), (d) => d.subarray(0, d.length - 17));
  const flipped = await tableHolding(store, "k120");
  await replace(store, tableKey(flipped), (d) => {
    d[100] ^= 0x40; // inside the first data block
    return d;
  });
  const db = await reader(store, url);
  const short = await rejectsWith("CORRUPTION", () => db.get("k010"), /./);
  assert.equal((short as SiltError).file, `${url}${tableKey(cut)}`);
  const bad = await rejectsWith("CORRUPTION", () => db.scan({ gte: "k100", lt: "k150" }).toArray(), /checksum/);
  assert.equal((bad as SiltError).file, `${url}${tableKey(flipped)}`);
  assert.equal((bad as SiltError).offset, 0);
  assert.equal(await db.get("k199"), "v199", "an intact table");
  await db.close();
});

test("a flipped byte in a WAL object or in the newest manifest: open fails with CORRUPTION naming it", async () => {
  const wal = await filled("wal");
  const state = (await latestManifest(wal.store))!;
  const walKeys = wal.store.keys().filter((k) => k.startsWith("wal/") && Number(k.slice(4)) >= state.walStart);
  assert.ok(walKeys.length > 0);
  await replace(wal.store, walKeys[0], (d) => {
    d[d.length - 3] ^= 0x01;
    return d;
  });
  const walErr = await rejectsWith("CORRUPTION", () => reader(wal.store, wal.url), /./);
  assert.equal((walErr as SiltError).file, `${wal.url}${walKeys[0]}`);
  await rejectsWith("CORRUPTION", () => open(wal.url, { objectStore: wal.store, ...utf8 }), /wal\//);

  const man = await filled("manifest");
  const newest = (await latestManifest(man.store))!.number;
  await replace(man.store, manifestKey(newest), (d) => {
    d[d.length - 5] ^= 0x10;
    return d;
  });
  const manErr = await rejectsWith("CORRUPTION", () => reader(man.store, man.url), /./);
  assert.equal((manErr as SiltError).file, `${man.url}${manifestKey(newest)}`);
});

test(
  "s3: open() of a bucket that does not exist is NOT_FOUND naming it",
  { skip: typeof s3 === "string" ? s3 : false },
  async () => {
    if (typeof s3 === "string") return;
    const { options } = await newBucket(s3);
    const url = "s3://siltdb-no-such-bucket-here/db";
    const err = await rejectsWith("NOT_FOUND", () => open(url, { objectStore: options }), /siltdb-no-such-bucket-here/);
    assert.ok(!err.message.includes(options.secretAccessKey!));
    await rejectsWith(
      "NOT_FOUND",
      () => open(url, { objectStore: options, readOnly: true }),
      /siltdb-no-such-bucket-here/,
    );
  },
);
