// Checkpoints of a store in a bucket (SlateDB's checkpoints): an object
// that pins one manifest, so that the collector (bucket_collector.ts) keeps
// that manifest and every table it lists for as long as the object exists.
//
//   <prefix>checkpoint/<id>   created with a create-only PUT, deleted only by deleteCheckpoint
//
//   id: 15 decimal digits of the creation time (milliseconds since 1970),
//       "-", 8 hex digits (random): listings are in creation order
//   content: one line of JSON, UTF-8:
//     {"format":"siltdb-checkpoint","version":1,"id":"…","manifest":42,"sequence":1200,"time":1733500000000}
//
// A checkpoint holds exactly the state of its manifest: its tables (the
// writer flushes first, so that every write acknowledged before the call is
// in them); WAL objects are not part of it. `sequence` is the newest write
// its tables hold.
//
// Creation races with collection only through time: the manifest a
// checkpoint pins is the writer's newest one, and a sweep deletes a
// manifest's tables only once its successor is older than the grace
// period. A sweep that listed the checkpoints before this one was stored
// could take its manifest for retired only if the successor was by then
// older than the grace period. So once the checkpoint is stored, the creator
// compares (on the store's own clock: lastModified of both objects) the
// time its successor was stored, if there is one, with the checkpoint's: a
// successor stored more than half the grace period earlier makes it delete
// the checkpoint and fail (the caller tries again). With gcMinAge 0 nothing
// is protected anyway, and no check is made.

import { SiltError } from "../errors.ts";
import { manifestKey } from "./bucket_layout.ts";
import { readManifest } from "./bucket_manifest.ts";
import { listAll, type ObjectStore } from "./object_store.ts";

/** Where checkpoints are (on disk: do not change). */
export const CHECKPOINT_DIR = "checkpoint/";

/**
 * A checkpoint of a store in a bucket.
 *
 * @example
 * ```ts
 * declare const cp: BucketCheckpoint;
 * console.log(`${cp.id} pins manifest ${cp.manifest} (sequence ${cp.sequence})`);
 * ```
 */
export interface BucketCheckpoint {
  /** Its id (see `open(url, { readOnly: true, checkpoint: id })`). */
  id: string;
  /** The number of the manifest it pins. */
  manifest: number;
  /** The newest write it holds. */
  sequence: number;
  /** When it was made (milliseconds since 1970). */
  time: number;
}

/**
 * The key of checkpoint `id`.
 *
 * @example
 * ```ts
 * checkpointKey("001733500000000-0a1b2c3d"); // "checkpoint/001733500000000-0a1b2c3d"
 * ```
 */
export function checkpointKey(id: string): string {
  return `${CHECKPOINT_DIR}${id}`;
}

/** True for a well-formed checkpoint id. */
function isCheckpointId(id: unknown): id is string {
  return typeof id === "string" && /^\d{15}-[0-9a-f]{8}$/.test(id);
}

function encode(cp: BucketCheckpoint): Uint8Array {
  return new TextEncoder().encode(
    `${JSON.stringify({ format: "siltdb-checkpoint", version: 1, ...cp })}\n`,
  );
}

function decode(location: string, key: string, data: Uint8Array): BucketCheckpoint {
  let m: Record<string, unknown> | undefined;
  try {
    m = JSON.parse(new TextDecoder().decode(data));
  } catch {
    m = undefined;
  }
  const nat = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (
    m?.format !== "siltdb-checkpoint" || m.version !== 1 || !isCheckpointId(m.id) || !nat(m.manifest) ||
    !nat(m.sequence) || !nat(m.time)
  ) {
    throw new SiltError("CORRUPTION", `${location}${key}: not a siltdb checkpoint object`, {
      file: `${location}${key}`,
    });
  }
  return { id: m.id, manifest: m.manifest as number, sequence: m.sequence as number, time: m.time as number };
}

/**
 * Stores a checkpoint pinning manifest `manifest` (the writer's newest); see
 * the header for the check that no sweep may have taken it for retired.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const cp = await createCheckpoint(store, { manifest: 42, sequence: 1200, gracePeriod: 300_000 });
 * ```
 */
export async function createCheckpoint(
  store: ObjectStore,
  at: { manifest: number; sequence: number; gracePeriod: number },
): Promise<BucketCheckpoint> {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"));
  const time = Math.floor(Date.now()); // whole milliseconds (a virtual clock may give fractions)
  const cp = {
    id: `${String(time).padStart(15, "0")}-${random.join("")}`,
    manifest: at.manifest,
    sequence: at.sequence,
    time,
  };
  const key = checkpointKey(cp.id);
  const out = await store.put(key, encode(cp), { ifNoneMatch: "*" });
  if (!out.written) throw new SiltError("IO_ERROR", `${store.location}: checkpoint ${cp.id} exists already`);
  // Times of the store's own clock: when the checkpoint was stored, and when the manifest was replaced.
  const stored = (await store.head(key))?.lastModified ?? Infinity;
  const successor = at.gracePeriod > 0 ? await store.head(manifestKey(at.manifest + 1)) : undefined;
  const replacedLongAgo = successor !== undefined && successor.lastModified <= stored - at.gracePeriod / 2;
  if (replacedLongAgo || (await readManifest(store, at.manifest)) === undefined) {
    await store.delete(key).catch(() => {});
    throw new SiltError(
      "IO_ERROR",
      `${store.location}: manifest ${at.manifest} was replaced too long before its checkpoint was stored; try again`,
    );
  }
  return cp;
}

/**
 * Checkpoint `id`; NOT_FOUND when there is none (INVALID_ARGUMENT for a malformed id).
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const cp = await readCheckpoint(store, "001733500000000-0a1b2c3d");
 * console.log(cp.manifest);
 * ```
 */
export async function readCheckpoint(store: ObjectStore, id: string): Promise<BucketCheckpoint> {
  if (!isCheckpointId(id)) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `checkpoint id must look like 001733500000000-0a1b2c3d, got ${JSON.stringify(id)}`,
    );
  }
  const got = await store.get(checkpointKey(id));
  if (got === undefined) {
    throw new SiltError("NOT_FOUND", `${store.location} has no checkpoint ${id}`, {
      file: `${store.location}${checkpointKey(id)}`,
    });
  }
  return decode(store.location, checkpointKey(id), got.data);
}

/**
 * Every checkpoint of the store, oldest first (objects that are not
 * checkpoints are skipped).
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * for (const cp of await checkpointsOf(store)) console.log(cp.id, cp.manifest);
 * ```
 */
export async function checkpointsOf(store: ObjectStore): Promise<BucketCheckpoint[]> {
  const out: BucketCheckpoint[] = [];
  for await (const o of listAll(store, CHECKPOINT_DIR)) {
    const id = o.key.slice(CHECKPOINT_DIR.length);
    if (!isCheckpointId(id)) continue;
    const got = await store.get(o.key);
    if (got !== undefined) out.push(decode(store.location, o.key, got.data));
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Deletes checkpoint `id` (NOT_FOUND if there is none): its manifest and
 * tables are collected like any other once nothing else needs them.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * await removeCheckpoint(store, "001733500000000-0a1b2c3d");
 * ```
 */
export async function removeCheckpoint(store: ObjectStore, id: string): Promise<void> {
  await readCheckpoint(store, id);
  await store.delete(checkpointKey(id));
}
