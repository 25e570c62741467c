// A new store in a bucket made from a checkpoint of another
// (open(url, { cloneFrom: { url, checkpoint } })): the checkpoint's tables
// are copied into the new store (GET from the source, PUT under the same
// numbers), then its first manifest is created, listing them (create-only
// PUT, written last). A crash before that manifest leaves a target with no
// manifest: it is not a store (NOT_FOUND), and the next clone copies again.
// Copying instead of referencing the source's tables keeps the two stores
// independent: each one's collector deletes only its own objects.

import { corruption } from "../errors.ts";
import { manifestKey, tableKey } from "./bucket_layout.ts";
import { type BucketState, emptyState, encodeManifest, latestManifest, readManifest } from "./bucket_manifest.ts";
import { readCheckpoint } from "./bucket_checkpoints.ts";
import type { ObjectStore } from "./object_store.ts";

/**
 * Makes `target` a copy of checkpoint `id` of `source`, unless `target`
 * holds a database already (then it is left as it is). Resolves to true
 * when it cloned.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const source: ObjectStore, target: ObjectStore;
 * await cloneCheckpoint(source, "001733500000000-0a1b2c3d", target);
 * ```
 */
export async function cloneCheckpoint(source: ObjectStore, id: string, target: ObjectStore): Promise<boolean> {
  if ((await latestManifest(target)) !== undefined) return false;
  const cp = await readCheckpoint(source, id);
  const state = await readManifest(source, cp.manifest);
  if (state === undefined) {
    throw corruption(`${source.location}${manifestKey(cp.manifest)}`, 0, `checkpoint ${id} pins a missing manifest`);
  }
  for (const files of state.levels) {
    for (const f of files) {
      const got = await source.get(tableKey(f.number));
      if (got === undefined) throw corruption(`${source.location}${tableKey(f.number)}`, 0, "the table is missing");
      await target.put(tableKey(f.number), got.data);
    }
  }
  const first: BucketState = {
    ...emptyState(),
    number: 1,
    levels: state.levels,
    nextFileNumber: state.nextFileNumber,
    lastSequence: Math.max(cp.sequence, state.lastSequence),
    horizon: state.horizon,
  };
  const out = await target.put(manifestKey(1), encodeManifest(first), { ifNoneMatch: "*" });
  return out.written; // lost: another process cloned (or created) it first
}
