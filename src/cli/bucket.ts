// What the commands that take a store in a bucket share: where the store is
// (a directory, or s3://bucket/prefix with the endpoint and credentials from
// the AWS_* environment variables), the S3 store a command makes itself (so
// that it can show its request counters), and how the counters and the
// manifest's facts are shown. A command on a bucket (get, scan, compactor,
// gc...) opens it with bucketStore() and ends with formatRequests().
//
// The secret key is read from the environment by the store and never shown.

import type { BucketState } from "../object_store/bucket_manifest.ts";
import type { RequestCounters } from "../object_store/resilient_store.ts";
import { S3ObjectStore } from "../object_store/s3_object_store.ts";
import { UsageError } from "./args.ts";
import { formatBytes, formatCount } from "./display.ts";

/** The commands that take an s3:// URL, for messages. */
export const BUCKET_COMMANDS = "get, scan, stats, verify, dump-manifest, export, load, compactor and gc";

/** What the environment must hold for a store in a bucket, for help texts. */
export const BUCKET_HELP = `<store> is a directory, or s3://bucket/prefix: a store in an S3-compatible
bucket, reached with the standard AWS environment variables:
AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL; default AWS), AWS_REGION (or
AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN (the secret is never printed).`;

/**
 * True for an s3:// URL; a UsageError for memory:// (such a store lives inside
 * one process, so no command can reach it) and for a URL of another scheme.
 *
 * @example
 * ```ts
 * isBucketUrl("s3://data/db1"); // true
 * isBucketUrl("./data");        // false
 * ```
 */
export function isBucketUrl(location: string): boolean {
  if (location.startsWith("s3://")) return true;
  if (location.startsWith("memory://")) {
    throw new UsageError(
      `${location}: a memory:// store lives inside the process that made it; give a directory or s3://bucket/prefix`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location);
  if (scheme) throw new UsageError(`${location}: ${scheme[1]}:// is not a store location; give a directory or s3://`);
  return false;
}

/**
 * A UsageError unless `location` is local (a directory, or a file with
 * `what`): for the commands that do not take a bucket.
 *
 * @example
 * ```ts
 * requireDirectory("./data", "put"); // fine; "s3://data/db" throws a UsageError
 * ```
 */
export function requireDirectory(location: string, command: string, what = "a directory"): void {
  if (isBucketUrl(location)) {
    throw new UsageError(`${command} works on ${what}; the commands that take s3:// URLs are ${BUCKET_COMMANDS}`);
  }
}

/**
 * A UsageError unless `location` is an s3:// URL: for the commands that only
 * work on a bucket.
 *
 * @example
 * ```ts
 * requireBucket("s3://data/db", "gc"); // fine; "./data" throws a UsageError
 * ```
 */
export function requireBucket(location: string, command: string): void {
  if (!isBucketUrl(location)) throw new UsageError(`${command} works on a store in a bucket: give s3://bucket/prefix`);
}

/**
 * The store at an s3:// URL, configured from the AWS_* environment
 * variables. The command keeps it to show its counters; pass it to open() as
 * the objectStore option.
 *
 * @example
 * ```ts
 * import { open } from "../open.ts";
 * const store = bucketStore("s3://data/db1");
 * const db = await open("s3://data/db1", { objectStore: store, readOnly: true });
 * await db.close();
 * console.log(formatRequests(store.counters));
 * ```
 */
export function bucketStore(url: string): S3ObjectStore {
  return new S3ObjectStore(url);
}

/**
 * The request counters of a store for a person.
 *
 * @example
 * ```ts
 * const store = bucketStore("s3://data/db1");
 * formatRequests(store.counters); // "3 GET, 0 HEAD, 0 PUT, 2 LIST, 0 DELETE; 4.1 KiB read, 0 B written; 0 retries; 0.02 s waiting"
 * ```
 */
export function formatRequests(c: RequestCounters): string {
  return `${formatCount(c.gets)} GET, ${formatCount(c.heads)} HEAD, ${formatCount(c.puts)} PUT, ` +
    `${formatCount(c.lists)} LIST, ${formatCount(c.deletes)} DELETE; ` +
    `${formatBytes(c.bytesRead)} read, ${formatBytes(c.bytesWritten)} written; ` +
    `${formatCount(c.retries)} ${c.retries === 1 ? "retry" : "retries"}; ${(c.waitMs / 1000).toFixed(2)} s waiting`;
}

/**
 * The table count of each non-empty level of a manifest, e.g. "L0 2, L1 5" ("no tables" when none).
 *
 * @example
 * ```ts
 * import type { BucketState } from "../object_store/bucket_manifest.ts";
 * declare const state: BucketState;
 * tablesPerLevel(state); // "L0 2, L1 5"
 * ```
 */
export function tablesPerLevel(state: BucketState): string {
  const used = state.levels.map((files, level) => [level, files.length] as const).filter(([, n]) => n > 0);
  return used.length > 0 ? used.map(([level, n]) => `L${level} ${n}`).join(", ") : "no tables";
}

/**
 * The facts of a manifest on one line: its number, the epochs, the WAL start and the tables per level.
 *
 * @example
 * ```ts
 * import type { BucketState } from "../object_store/bucket_manifest.ts";
 * declare const state: BucketState;
 * manifestFacts(state); // "7: writer epoch 2, compactor epoch 0, WAL from 12, last sequence 1,000; tables L0 2, L1 5"
 * ```
 */
export function manifestFacts(state: BucketState): string {
  return `${state.number}: writer epoch ${state.writerEpoch}, compactor epoch ${state.compactorEpoch}, ` +
    `WAL from ${state.walStart}, last sequence ${formatCount(state.lastSequence)}; tables ${tablesPerLevel(state)}`;
}

/**
 * A manifest's facts as JSON.
 *
 * @example
 * ```ts
 * import type { BucketState } from "../object_store/bucket_manifest.ts";
 * declare const state: BucketState;
 * console.log(JSON.stringify(manifestJson(state)));
 * ```
 */
export function manifestJson(state: BucketState): Record<string, number | number[]> {
  return {
    number: state.number,
    writerEpoch: state.writerEpoch,
    compactorEpoch: state.compactorEpoch,
    walStart: state.walStart,
    lastSequence: state.lastSequence,
    nextFileNumber: state.nextFileNumber,
    tablesPerLevel: state.levels.map((files) => files.length),
  };
}
