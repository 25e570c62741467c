// The manifest protocol of a store in a bucket (src/object_store/bucket_manifest.ts):
// create-only commits make one holder of each role; a newer writer fences
// the older one; a writer's and a compactor's commits interleave without
// losing either's edit; lost answers and retries change nothing; the same
// on a real S3 server (Ceph radosgw).

import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { ObjectStore } from "../src/object_store/object_store.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import { S3ObjectStore } from "../src/object_store/s3_object_store.ts";
import {
  BucketManifest,
  decodeManifest,
  encodeManifest,
  FILE_NUMBER_RANGE,
  latestManifest,
} from "../src/object_store/bucket_manifest.ts";
import type { FileMeta } from "../src/version/version_edit.ts";
import { internalKey, KIND_PUT } from "../src/format/internal_key.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { rejectsWith, utf8 } from "./_harness.ts";

const noWait = { sleep: () => Promise.resolve() };
const s3 = await testS3();

function table(number: number, lo: string, hi: string): FileMeta {
  return {
    number,
    size: 1000 + number,
    smallest: internalKey(utf8(lo), number, KIND_PUT),
    largest: internalKey(utf8(hi), number, KIND_PUT),
    smallestSequence: number,
    largestSequence: number,
    entries: 10,
  };
}

const stores: [string, () => Promise<ObjectStore>, string | false][] = [
  ["memory", () => Promise.resolve(new MemoryObjectStore({ retry: noWait })), false],
  [
    "s3 (Ceph radosgw)",
    async () => {
      if (typeof s3 === "string") throw new Error(s3);
      const { url, options } = await newBucket(s3);
      return new S3ObjectStore(url, options);
    },
    typeof s3 === "string" ? s3 : false,
  ],
];

for (const [kind, make, skip] of stores) {
  test(`${kind}: a manifest object round-trips the whole state`, { skip }, async () => {
    const store = await make();
    const writer = await BucketManifest.claim(store, "writer", true);
    await writer.commit({ added: [{ level: 0, file: table(writer.takeFileNumber(), "a", "m") }], logNumber: 3 });
    const latest = await latestManifest(store);
    assert.deepEqual(latest, writer.state);
    assert.deepEqual(decodeManifest("x", latest!.number, encodeManifest(latest!)), latest);
  });

  test(`${kind}: a new writer fences the old one; each writer's file numbers are its own`, { skip }, async () => {
    const store = await make();
    await rejectsWith("NOT_FOUND", () => BucketManifest.claim(store, "writer", false), /no database/);
    const old = await BucketManifest.claim(store, "writer", true);
    assert.equal(old.epoch, 1);
    const oldNumber = old.takeFileNumber();
    await old.commit({ added: [{ level: 0, file: table(oldNumber, "a", "b") }] });
    const fresh = await BucketManifest.claim(store, "writer", false);
    assert.equal(fresh.epoch, 2);
    const freshNumber = fresh.takeFileNumber();
    assert.ok(freshNumber >= oldNumber + FILE_NUMBER_RANGE, "disjoint file number ranges");
    assert.equal(fresh.state.writerFloor, freshNumber, "the new writer's floor is its first number");
    await rejectsWith("FENCED", () => old.commit({ logNumber: 9 }), /another writer \(epoch 2/);
    await rejectsWith("FENCED", () => old.commit({ logNumber: 10 }), /refuses every write/);
    await fresh.commit({ added: [{ level: 0, file: table(freshNumber, "c", "d") }] });
    const latest = await latestManifest(store);
    assert.deepEqual(latest!.levels[0].map((f) => f.number).sort(), [oldNumber, freshNumber].sort());
  });

  test(`${kind}: a writer's and a compactor's commits interleave, none lost; a void edit is refused`, {
    skip,
  }, async () => {
    const store = await make();
    const writer = await BucketManifest.claim(store, "writer", true);
    const numbers = Array.from({ length: 5 }, () => writer.takeFileNumber());
    let n = numbers[0];
    for (let i = 0; i < 3; i++) await writer.commit({ added: [{ level: 0, file: table(n++, "a", "z") }] });
    const compactor = await BucketManifest.claim(store, "compactor", false);
    const inputs = compactor.state.levels[0];
    const output = compactor.takeFileNumber();
    assert.ok(output > numbers[4] && !numbers.includes(output), "the compactor's numbers are its own");
    // Both commit from what they last saw: the compactor's commit lands between the writer's.
    await writer.commit({ added: [{ level: 0, file: table(n++, "k", "m") }], logNumber: 7 });
    await compactor.commit({
      deleted: inputs.map((f) => ({ level: 0, number: f.number })),
      added: [{ level: 1, file: table(output, "a", "z") }],
    });
    await writer.commit({ added: [{ level: 0, file: table(n++, "x", "y") }], logNumber: 8 });
    const latest = await latestManifest(store);
    assert.deepEqual(latest!.levels[0].map((f) => f.number).sort(), [n - 2, n - 1]);
    assert.deepEqual(latest!.levels[1].map((f) => f.number), [output]);
    assert.equal(latest!.walStart, 8);
    assert.equal(latest!.writerEpoch, 1);
    assert.equal(latest!.compactorEpoch, 1);
    await rejectsWith(
      "IO_ERROR",
      () => compactor.commit({ deleted: [{ level: 0, number: inputs[0].number }] }),
      /no longer/,
    );
  });
}

test("memory: lost answers and 503s on manifest commits change nothing: one manifest per commit", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  const writer = await BucketManifest.claim(store, "writer", true);
  store.injectFault({ op: "put", key: /^manifest\//, kind: "lost" });
  await writer.commit({ logNumber: 2 });
  store.injectFault({ op: "put", key: /^manifest\//, kind: "503", times: 2 });
  await writer.commit({ logNumber: 3 });
  assert.deepEqual(store.keys().filter((k) => k.startsWith("manifest/")).length, 3);
  assert.equal((await latestManifest(store))!.walStart, 3);
});

test("memory: a store that ignores If-None-Match is refused with UNSUPPORTED naming it, before any claim", async () => {
  const inner = new MemoryObjectStore({ retry: noWait });
  // A store that accepts the condition and ignores it (as some S3 look-alikes do).
  const careless: ObjectStore = {
    location: "memory://careless/",
    get: (key, range) => inner.get(key, range),
    head: (key) => inner.head(key),
    put: (key, data, options) => inner.put(key, data, { ...options, ifNoneMatch: undefined }),
    list: (prefix, options) => inner.list(prefix, options),
    delete: (key) => inner.delete(key),
  };
  await rejectsWith(
    "UNSUPPORTED",
    () => BucketManifest.claim(careless, "writer", true),
    /memory:\/\/careless\/ ignores If-None-Match/,
  );
  await rejectsWith(
    "UNSUPPORTED",
    () => open("memory://careless/", { objectStore: careless }),
    /needs create-only writes/,
  );
  assert.deepEqual(inner.keys(), [], "no manifest written, the probe removed");
});
