// listCheckpoints() and deleteCheckpoint(): the checkpoints of a store in a
// bucket, from any process (db.checkpoint() makes them; the objects and
// what they pin: src/object_store/bucket_checkpoints.ts).

import { invalidArgument } from "./errors.ts";
import { type BucketCheckpoint, checkpointsOf, removeCheckpoint } from "./object_store/bucket_checkpoints.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import { type ObjectStoreOptions, storeAt } from "./object_store/s3_object_store.ts";
import { resolveOptions } from "./options.ts";

/**
 * Options of {@linkcode listCheckpoints} and {@linkcode deleteCheckpoint}.
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "siltdb";
 * const options: CheckpointOptions = { objectStore: new MemoryObjectStore() };
 * ```
 */
export interface CheckpointOptions {
  /** The bucket's S3 settings (else the AWS_* environment variables), or an ObjectStore. */
  objectStore?: ObjectStoreOptions | ObjectStore;
}

function storeOf(url: string, options: CheckpointOptions | undefined): ObjectStore {
  if (typeof url !== "string" || url === "") throw invalidArgument("the store's URL must be a non-empty string");
  return storeAt(url, resolveOptions({ objectStore: options?.objectStore }).objectStore);
}

/**
 * The checkpoints of the store at `url`, oldest first.
 *
 * @example
 * ```ts
 * import { listCheckpoints } from "siltdb";
 * for (const cp of await listCheckpoints("s3://my-bucket/app/db")) {
 *   console.log(cp.id, cp.manifest, cp.sequence, new Date(cp.time).toISOString());
 * }
 * ```
 */
export async function listCheckpoints(url: string, options?: CheckpointOptions): Promise<BucketCheckpoint[]> {
  return await checkpointsOf(storeOf(url, options));
}

/**
 * Deletes checkpoint `id` of the store at `url` (NOT_FOUND when there is
 * none): its manifest and tables are collected like any other once nothing
 * else needs them.
 *
 * @example
 * ```ts
 * import { deleteCheckpoint } from "siltdb";
 * await deleteCheckpoint("s3://my-bucket/app/db", "001733500000000-0a1b2c3d");
 * ```
 */
export async function deleteCheckpoint(url: string, id: string, options?: CheckpointOptions): Promise<void> {
  await removeCheckpoint(storeOf(url, options), id);
}
