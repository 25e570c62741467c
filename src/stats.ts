// The figures of db.stats(): levels, memtables, caches, the log, stalls,
// compaction I/O, and the amplification figures computed from them (write:
// bytes written to storage per user byte; space: table bytes per byte of the
// last level; read: the sorted runs a point read may consult). db.metrics()
// renders them in the Prometheus format (src/metrics.ts).

import type { Scheduler } from "./background/scheduler.ts";
import type { MemtableHandle } from "./memtable.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Reader } from "./read/reader.ts";
import { type Levels, sortedRuns, totalBytes, userKeyRange } from "./version/version.ts";
import type { VersionSet } from "./version/version_set.ts";
import { logFileName } from "./version/file_names.ts";
import { coreMemoryBytes } from "./wasm/instance.ts";
import type { Admission } from "./write/admission.ts";
import type { DiskCacheStats } from "./object_store/disk_cache.ts";
import type { RequestCounters } from "./object_store/resilient_store.ts";
import type { WritePipeline } from "./write/commit.ts";

/** Figures from {@linkcode Db.stats}. */
export interface DbStats {
  /** Sequence number of the last write visible to reads. */
  sequence: number;
  /** The active memtable. */
  memtable: {
    /** Entries, every version and tombstone counted. */
    entries: number;
    /** Bytes of entries (towers, keys, values). */
    bytes: number;
    /** Bytes of linear memory reserved. */
    memoryUsage: number;
  };
  /** Memtables waiting to be flushed. */
  immutable: { count: number; bytes: number };
  /** Table files per level (L0 first). */
  levels: {
    level: number;
    files: number;
    bytes: number;
    entries: number;
    /** Smallest user key in the level's tables (a copy); undefined for an empty level. */
    smallestKey: Uint8Array | undefined;
    /** Largest user key in the level's tables (a copy); undefined for an empty level. */
    largestKey: Uint8Array | undefined;
  }[];
  /** Flushes done since open. */
  flushes: number;
  /** The data block cache. */
  blockCache: { hits: number; misses: number; hitRate: number; bytes: number; capacity: number };
  /** Point reads the bloom filters answered without reading a block, of those that consulted one. */
  bloom: { useful: number; checked: number };
  /** The write-ahead log. */
  wal: {
    /** Current log file name. */
    file: string;
    /** Bytes logged since open. */
    bytesWritten: number;
    /** fdatasync calls since open (sync writes share them). */
    syncs: number;
  };
  /** Time writes waited for room (flush or compaction), and were slowed down (ms). */
  stallMs: number;
  /** Writes delayed because L0 reached l0SlowdownTrigger. */
  slowdowns: number;
  /** The background error that stops writes until resume(), if any. */
  backgroundError: string | undefined;
  /** Compactions. */
  compaction: {
    policy: "leveled" | "tiered";
    mode: "inline" | "worker";
    count: number;
    trivialMoves: number;
    ms: number;
    entriesDropped: number;
    /** True while a flush or compaction runs or waits (what db.waitForCompactions() waits for). */
    pending: boolean;
    /**
     * Expired entries (puts with a ttl or expireAt) that compactions turned
     * into tombstones or dropped, since this process opened the database
     * (RocksDB's statistics are per process too).
     */
    entriesExpired: number;
    /** Entries the compactionFilter dropped or changed, since open. */
    entriesFiltered: number;
    /** Bytes read from and written to each level by flushes and compactions. */
    io: { level: number; read: number; written: number }[];
  };
  /** Bytes written to storage (log + flushes + compactions) per byte written by the user. */
  writeAmplification: number;
  /** Table bytes per byte of the last level (about the live data once compacted). */
  spaceAmplification: number;
  /** Sorted runs a read may consult: L0 files plus non-empty deeper levels. */
  sortedRuns: number;
  /**
   * Read amplification as LevelDB counts it: the sorted runs a point read
   * may consult (every L0 file, plus one table per non-empty deeper level).
   * With siltdb's levels this is the same figure as `sortedRuns`, under the
   * name dashboards expect.
   */
  readAmplification: number;
  /** Live snapshots. */
  snapshots: number;
  /** Open scans. */
  scans: number;
  /** Bytes of linear memory of the core module (shared by all databases in this thread). */
  coreMemory: number;
  /** A store in a bucket: its manifest, requests, disk cache and collector (undefined for a directory). */
  bucket: BucketStats | undefined;
}

/**
 * The figures of a store in a bucket, in {@linkcode DbStats}.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("s3://my-bucket/app/db");
 * const b = db.stats().bucket!;
 * console.log(b.requests?.gets, b.requests?.waitMs, b.diskCache?.hits);
 * await db.close();
 * ```
 */
export interface BucketStats {
  /** s3://bucket/prefix/ (or memory://name/). */
  location: string;
  /** The manifest this database's state is from. */
  manifest: number;
  /** Requests made, bytes moved and time spent waiting on the store (when the store counts them). */
  requests: RequestCounters | undefined;
  /** The local disk cache of table blocks (cacheDir), when there is one. */
  diskCache: DiskCacheStats | undefined;
  /** Objects the collector has deleted since open. */
  objectsDeleted: number;
}

/** Where the figures come from. */
export interface StatsContext {
  options: ResolvedOptions;
  versions: VersionSet;
  scheduler: Scheduler;
  admission: Admission;
  reader: Reader;
  /** Undefined when read-only. */
  pipeline: WritePipeline | undefined;
  activeMemtable(): MemtableHandle;
  visibleSequence(): number;
  /** A store in a bucket: its figures. */
  bucket?(): BucketStats;
}

/**
 * The figures of one database now.
 *
 * @example
 * ```ts
 * declare const ctx: StatsContext; // what src/open.ts wires
 * const stats = collectStats(ctx);
 * console.log(stats.levels[0].files, stats.writeAmplification);
 * ```
 */
export function collectStats(ctx: StatsContext): DbStats {
  const { scheduler, reader, pipeline } = ctx;
  const cache = reader.readState.cache.stats();
  const lookups = cache.hits + cache.misses;
  const mem = ctx.activeMemtable().mt;
  const bg = scheduler.stats;
  const levels = ctx.versions.current.levels;
  const userBytes = pipeline?.userBytes ?? 0;
  const runs = sortedRuns(levels).length;
  return {
    sequence: ctx.visibleSequence(),
    memtable: { entries: mem.count, bytes: mem.bytesUsed, memoryUsage: mem.memoryUsage },
    immutable: {
      count: scheduler.immutables.length,
      bytes: scheduler.immutables.reduce((n, h) => n + h.mt.bytesUsed, 0),
    },
    levels: levels.map((files, level) => {
      const range = files.length > 0 ? userKeyRange(files) : undefined;
      return {
        level,
        files: files.length,
        bytes: totalBytes(files),
        entries: files.reduce((n, f) => n + f.entries, 0),
        smallestKey: range?.[0].slice(),
        largestKey: range?.[1].slice(),
      };
    }),
    flushes: bg.flushes,
    blockCache: {
      hits: cache.hits,
      misses: cache.misses,
      hitRate: lookups ? cache.hits / lookups : 0,
      bytes: cache.bytes,
      capacity: cache.capacity,
    },
    bloom: reader.readState.bloomStats(),
    wal: {
      file: logFileName(pipeline?.logNumber ?? 0),
      bytesWritten: pipeline?.logBytesWritten ?? 0,
      syncs: pipeline?.logSyncs ?? 0,
    },
    stallMs: ctx.admission.stallMs,
    slowdowns: ctx.admission.slowdowns,
    backgroundError: scheduler.error?.message,
    compaction: {
      policy: ctx.options.compaction,
      mode: scheduler.executor.mode,
      count: bg.count,
      trivialMoves: bg.trivialMoves,
      ms: bg.ms,
      entriesDropped: bg.entriesDropped,
      pending: scheduler.pendingWork,
      entriesExpired: bg.entriesExpired,
      entriesFiltered: bg.entriesFiltered,
      io: bg.io.map((x) => ({ ...x })),
    },
    writeAmplification: userBytes > 0
      ? ((pipeline?.logBytesWritten ?? 0) + bg.flushBytes +
        bg.io.reduce((n, x) => n + (x.level > 0 ? x.written : 0), 0)) / userBytes
      : 0,
    spaceAmplification: spaceAmplification(levels),
    sortedRuns: runs,
    readAmplification: runs,
    snapshots: reader.snapshotCount,
    scans: reader.scanCount,
    coreMemory: coreMemoryBytes(),
    bucket: ctx.bucket?.(),
  };
}

/** Table bytes per byte of the deepest non-empty level (1 when everything is in one level). */
function spaceAmplification(levels: Levels): number {
  const bytes = levels.map(totalBytes);
  const total = bytes.reduce((a, b) => a + b, 0);
  const last = [...bytes].reverse().find((b) => b > 0) ?? 0;
  return last > 0 ? total / last : 0;
}
