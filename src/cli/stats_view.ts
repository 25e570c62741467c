// The stats of a store for a person (the stats command, the shell, the main
// job) and as JSON (keys as text or hex).

import type { BucketState } from "../object_store/bucket_manifest.ts";
import type { RequestCounters } from "../object_store/resilient_store.ts";
import type { DbStats } from "../stats.ts";
import { formatRequests, manifestFacts, manifestJson } from "./bucket.ts";
import { formatBytes, formatCount, formatTable, jsonField, showBytes } from "./display.ts";

/**
 * What stats adds for a store in a bucket: where it is, its newest manifest
 * and the requests made to the bucket since the store was opened.
 *
 * @example
 * ```ts
 * import type { BucketState } from "../object_store/bucket_manifest.ts";
 * import type { RequestCounters } from "../object_store/resilient_store.ts";
 * declare const manifest: BucketState, counters: RequestCounters;
 * const view: BucketView = { location: "s3://data/db1/", manifest, requests: counters };
 * ```
 */
export interface BucketView {
  location: string;
  manifest: BucketState;
  requests: RequestCounters;
}

const KEY_WIDTH = 24;

function shortKey(key: Uint8Array | undefined): string {
  if (key === undefined) return "-";
  const shown = showBytes(key, false);
  return shown.length > KEY_WIDTH ? `${shown.slice(0, KEY_WIDTH - 1)}…` : shown;
}

/**
 * The stats as text: a table per level, then memory, amplification, cache,
 * bloom, log, compaction and stall figures; for a store in a bucket, the
 * manifest and the requests instead of the log.
 *
 * @example
 * ```ts
 * import type { Db } from "../db.ts";
 * declare const db: Db;
 * console.log(formatStats(db.stats()));
 * ```
 */
export function formatStats(s: DbStats, bucket?: BucketView): string {
  const io = new Map(s.compaction.io.map((x) => [x.level, x]));
  const rows = s.levels.filter((l) => l.files > 0 || l.level === 0).map((l) => {
    const x = io.get(l.level);
    return [
      `L${l.level}`,
      formatCount(l.files),
      formatBytes(l.bytes),
      formatCount(l.entries),
      shortKey(l.smallestKey),
      shortKey(l.largestKey),
      x ? formatBytes(x.read) : "-",
      x ? formatBytes(x.written) : "-",
    ];
  });
  const table = formatTable(
    ["level", "files", "size", "entries", "smallest key", "largest key", "read", "written"],
    rows,
  );
  const cache = s.blockCache;
  const lines = [
    `sequence       ${formatCount(s.sequence)}`,
    `memtable       ${formatCount(s.memtable.entries)} entries, ${formatBytes(s.memtable.bytes)} (${
      formatBytes(s.memtable.memoryUsage)
    } reserved); ` +
    `${s.immutable.count} waiting to flush (${formatBytes(s.immutable.bytes)})`,
    `amplification  write ${s.writeAmplification.toFixed(2)}, read ${s.readAmplification} sorted runs, space ${
      s.spaceAmplification.toFixed(2)
    }`,
    `block cache    ${formatBytes(cache.bytes)} of ${formatBytes(cache.capacity)}, ${formatCount(cache.hits)} hits, ` +
    `${formatCount(cache.misses)} misses (${(cache.hitRate * 100).toFixed(1)}% hit rate)`,
    `bloom filters  ${formatCount(s.bloom.useful)} of ${formatCount(s.bloom.checked)} lookups answered without a read`,
    ...(bucket
      ? [
        `bucket         ${bucket.location}`,
        `manifest       ${manifestFacts(bucket.manifest)}`,
        `requests       ${formatRequests(bucket.requests)}`,
      ]
      : [
        `log            ${s.wal.file}, ${formatBytes(s.wal.bytesWritten)} written, ${formatCount(s.wal.syncs)} syncs`,
      ]),
    `compaction     ${s.compaction.policy} (${s.compaction.mode}): ${formatCount(s.compaction.count)} compactions, ` +
    `${formatCount(s.compaction.trivialMoves)} trivial moves, ${(s.compaction.ms / 1000).toFixed(2)} s, ` +
    `${formatCount(s.compaction.entriesDropped)} entries dropped (${
      formatCount(s.compaction.entriesExpired)
    } expired, ` +
    `${formatCount(s.compaction.entriesFiltered)} filtered); ${formatCount(s.flushes)} flushes`,
    `stalls         ${(s.stallMs / 1000).toFixed(2)} s waiting, ${formatCount(s.slowdowns)} slowdowns`,
    `memory         ${formatBytes(s.coreMemory)} of core memory; ${s.snapshots} snapshots, ${s.scans} scans open`,
  ];
  if (s.backgroundError) lines.push(`background error: ${s.backgroundError} (writes are stopped until resume())`);
  return `${table}\n${lines.join("\n")}\n`;
}

/**
 * The stats as plain JSON data: key ranges as {smallestKey} / {smallestKeyHex};
 * for a store in a bucket, `bucket: { location, manifest, requests }`.
 *
 * @example
 * ```ts
 * import type { Db } from "../db.ts";
 * declare const db: Db;
 * console.log(JSON.stringify(statsJson(db.stats()), null, 2));
 * ```
 */
export function statsJson(s: DbStats, bucket?: BucketView): unknown {
  return {
    ...s,
    ...(bucket
      ? {
        bucket: {
          location: bucket.location,
          manifest: manifestJson(bucket.manifest),
          requests: { ...bucket.requests },
        },
      }
      : {}),
    levels: s.levels.map((l) => {
      const { smallestKey, largestKey, ...rest } = l;
      return {
        ...rest,
        ...(smallestKey ? jsonField("smallestKey", smallestKey, false) : {}),
        ...(largestKey ? jsonField("largestKey", largestKey, false) : {}),
      };
    }),
  };
}
