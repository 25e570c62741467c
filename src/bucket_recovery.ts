// Opening a store in a bucket (the bucket's counterpart of recovery.ts):
//
// 1. A writer claims the manifest: it commits manifest n+1 with the writer
//    epoch one higher and a fresh range of file numbers
//    (src/object_store/bucket_manifest.ts). From then on an older writer's
//    manifest commits fail: FENCED.
// 2. It replays every WAL object from the manifest's WAL start on into the
//    memtable, then claims the next free WAL number with a fence (an old
//    writer's objects found in the way are replayed too): the old writer's
//    next WAL object fails: FENCED (src/object_store/wal_objects.ts).
// 3. The replayed writes stay in the memtable (their WAL objects stay until
//    a flush moves the WAL start past them).
//
// A reader (readOnly) reads the newest manifest and replays the WAL
// objects after it, changing nothing.

import { corruption, SiltError } from "./errors.ts";
import { batchHeader } from "./format/batch_format.ts";
import { BucketManifest, latestManifest, readManifest } from "./object_store/bucket_manifest.ts";
import { readCheckpoint } from "./object_store/bucket_checkpoints.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import { fenceWal, type OnBatch, replayWalObjects } from "./object_store/wal_objects.ts";
import type { ResolvedOptions } from "./options.ts";
import { VersionSet } from "./version/version_set.ts";
import { view } from "./wasm/instance.ts";
import { Memtable } from "./wasm/memtable.ts";

/**
 * What opening a store in a bucket found.
 *
 * @example
 * ```ts
 * declare const found: BucketRecovered;
 * console.log(found.epoch, found.nextWal, found.lastSequence);
 * ```
 */
export interface BucketRecovered {
  versions: VersionSet;
  memtable: Memtable;
  /** The first WAL object holding data of the memtable (the manifest's WAL start). */
  memtableLog: number;
  lastSequence: number;
  /** The number the writer's next WAL object takes (a reader: the one it looks for next). */
  nextWal: number;
  /** The writer's epoch (0 for a reader). */
  epoch: number;
  /** The manifest a writer holds. */
  manifest: BucketManifest | undefined;
}

/**
 * Opens the store in `store` as its writer (or, readOnly, as a reader).
 *
 * @example
 * ```ts
 * import type { ResolvedOptions } from "./options.ts";
 * import type { ObjectStore } from "./object_store/object_store.ts";
 * declare const store: ObjectStore, options: ResolvedOptions;
 * const found = await recoverBucket(store, options);
 * ```
 */
export async function recoverBucket(store: ObjectStore, o: ResolvedOptions): Promise<BucketRecovered> {
  const memtable = new Memtable();
  try {
    let lastSequence = 0;
    const apply: OnBatch = (payload, length, where) => {
      const header = batchHeader(view(), payload, length, lastSequence);
      if (typeof header === "string") throw corruption(where.object, where.offset, header);
      if (memtable.applyBatch(payload, length) < 0) {
        throw corruption(where.object, where.offset, "malformed write batch");
      }
      lastSequence = header.sequence + header.count - 1;
    };
    if (o.checkpoint !== undefined) {
      // A checkpoint: exactly its manifest's tables (no WAL objects), at its sequence.
      const cp = await readCheckpoint(store, o.checkpoint);
      const state = await readManifest(store, cp.manifest);
      if (state === undefined) throw corruption(store.location, 0, `checkpoint ${cp.id} pins a missing manifest`);
      const versions = VersionSet.ofBucketState(store.location, state);
      const sequence = Math.max(cp.sequence, versions.current.largestSequence);
      return { versions, memtable, memtableLog: 0, lastSequence: sequence, nextWal: 0, epoch: 0, manifest: undefined };
    }
    if (o.readOnly) {
      const state = await latestManifest(store);
      if (state === undefined) {
        throw new SiltError("NOT_FOUND", `${store.location} holds no database (no manifest)`, { file: store.location });
      }
      const versions = VersionSet.ofBucketState(store.location, state);
      const nextWal = await replayWalObjects(store, state.walStart, apply);
      return {
        versions,
        memtable,
        memtableLog: state.walStart,
        // Not the manifest's last sequence: it may count writes whose WAL objects are not stored
        // yet, and a reader's view must not grow under a snapshot when they arrive. The horizon is
        // safe: every write up to it was stored before this manifest (src/bucket_follower.ts).
        lastSequence: Math.max(lastSequence, versions.current.largestSequence, state.horizon),
        nextWal,
        epoch: 0,
        manifest: undefined,
      };
    }
    if (o.errorIfExists && (await latestManifest(store)) !== undefined) {
      throw new SiltError("EXISTS", `${store.location} already holds a database (errorIfExists is set)`, {
        file: store.location,
      });
    }
    const manifest = await BucketManifest.claim(store, "writer", o.createIfMissing, o.gcMinAge);
    const state = manifest.state;
    // The replayed batches follow one another; the manifest's last sequence may be past some of
    // them (a flush records the last sequence handed out, unflushed writes included).
    // An object of a newer writer on the way (it opened meanwhile and fenced first): FENCED.
    let next = await replayWalObjects(store, state.walStart, apply, manifest.epoch);
    next = await fenceWal(store, next, manifest.epoch, apply);
    return {
      versions: VersionSet.ofBucket(manifest),
      memtable,
      memtableLog: state.walStart,
      lastSequence: Math.max(lastSequence, state.lastSequence),
      nextWal: next,
      epoch: manifest.epoch,
      manifest,
    };
  } catch (err) {
    memtable.free();
    throw err;
  }
}
