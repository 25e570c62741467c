// `siltdb gc s3://…` and collectGarbage(): one sweep of the collector of a
// store in a bucket (src/object_store/bucket_collector.ts) from any process —
// for stores whose writer runs with its own collection off, or to clean up
// after a writer that is gone. It deletes only what nothing has needed for
// gcMinAge, so it is safe while a writer, readers and a compactor run.

import { invalidArgument } from "./errors.ts";
import { BucketCollector, type SweepReport } from "./object_store/bucket_collector.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import { type ObjectStoreOptions, storeAt } from "./object_store/s3_object_store.ts";
import { resolveOptions } from "./options.ts";

/**
 * Options of {@linkcode collectGarbage}.
 *
 * @example
 * ```ts
 * const options: GarbageOptions = { gcMinAge: 10 * 60_000 };
 * ```
 */
export interface GarbageOptions {
  /** The bucket's S3 settings (else the AWS_* environment variables), or an ObjectStore. */
  objectStore?: ObjectStoreOptions | ObjectStore;
  /** Objects unneeded for less than this many milliseconds are kept. Default 300,000 (5 minutes). */
  gcMinAge?: number;
}

/**
 * Deletes the objects of the store at `url` that nothing has needed for
 * gcMinAge: tables no manifest of that period lists (and no writer or
 * compactor may still commit), WAL objects whose writes are all in tables,
 * retired manifests. Resolves with what it deleted and how many objects
 * wait for their grace period to end.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "siltdb";
 * const report = await collectGarbage("s3://my-bucket/app/db");
 * console.log(report.deleted.tables, "tables deleted;", report.waiting, "objects wait");
 * ```
 */
export async function collectGarbage(url: string, options: GarbageOptions = {}): Promise<SweepReport> {
  if (typeof url !== "string" || url === "") throw invalidArgument("the store's URL must be a non-empty string");
  const o = resolveOptions({ objectStore: options.objectStore, gcMinAge: options.gcMinAge });
  return await new BucketCollector(storeAt(url, o.objectStore), { minAgeMs: o.gcMinAge }).sweep();
}
