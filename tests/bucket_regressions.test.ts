// Regression tests of defects the bucket simulation (tests/bucket_sim.test.ts)
// found in the store in a bucket, each minimal, each checked to fail on the
// code before its fix. Those marked todo are not fixed yet: they fail, and
// say where the defect is.

import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { BucketCollector } from "../src/object_store/bucket_collector.ts";
import { BucketManifest, latestManifest } from "../src/object_store/bucket_manifest.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import type { ObjectStore } from "../src/object_store/object_store.ts";
import { rejectsWith } from "./_harness.ts";

test("regression (bucket sim seed 7): a commit that loses its manifest number to a writer not yet listed is FENCED, not CORRUPTION", async () => {
  // Listing lag: a new manifest stays out of listings for a while (S3 lists eventually; GETs are exact).
  let now = 1_000_000;
  const store = new MemoryObjectStore({ retry: { sleep: () => Promise.resolve() }, listLagMs: 5000, now: () => now });
  const old = await BucketManifest.claim(store, "writer", true);
  now += 10_000; // manifest 1 is listed from now on
  await BucketManifest.claim(store, "writer", false); // manifest 2, not listed yet
  await rejectsWith("FENCED", () => old.commit({ logNumber: 2 }));
});
