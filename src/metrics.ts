// The figures of db.stats() in the Prometheus text exposition format,
// version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
//
//   # HELP siltdb_flushes_total Memtables flushed to level-0 tables since open.
//   # TYPE siltdb_flushes_total counter
//   siltdb_flushes_total 12
//
// Every metric is named siltdb_<name>; counters (figures that only grow
// while the database is open) end in _total; per-level figures carry a
// level label; bytes are in bytes and durations in seconds. Each metric has
// one HELP and one TYPE line, before its samples.

import type { DbStats } from "./stats.ts";

/** One metric family: its name, help text, type and samples. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels?: Record<string, string>; value: number }[];
}

/**
 * The Prometheus text (format 0.0.4) of a database's stats: what
 * `db.metrics()` (src/db.ts) returns. Ends with a newline.
 *
 * Metrics (all prefixed `siltdb_`): `sequence`, `memtable_entries`,
 * `memtable_bytes`, `memtable_memory_bytes`, `immutable_memtables`,
 * `immutable_memtable_bytes`, `level_files{level}`, `level_bytes{level}`,
 * `level_entries{level}`, `level_read_bytes_total{level}`,
 * `level_written_bytes_total{level}`, `flushes_total`,
 * `block_cache_hits_total`, `block_cache_misses_total`,
 * `block_cache_hit_ratio`, `block_cache_bytes`, `block_cache_capacity_bytes`,
 * `bloom_checked_total`, `bloom_useful_total`, `wal_written_bytes_total`,
 * `wal_syncs_total`, `stall_seconds_total`, `slowdowns_total`,
 * `compactions_total`, `compaction_seconds_total`,
 * `compaction_trivial_moves_total`, `compaction_dropped_entries_total`,
 * `compaction_expired_entries_total`, `compaction_filtered_entries_total`,
 * `compaction_info{policy,mode}`, `write_amplification`,
 * `space_amplification`, `read_amplification`, `sorted_runs`, `snapshots`,
 * `scans`, `core_memory_bytes`, `background_error`; for a store in a
 * bucket also `object_requests_total{op}`, `object_retries_total`,
 * `object_read_bytes_total`, `object_written_bytes_total`,
 * `object_wait_seconds_total`, `objects_deleted_total`, `manifest`, and with
 * a disk cache `disk_cache_hits_total`, `disk_cache_misses_total`,
 * `disk_cache_bytes`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * import { formatMetrics } from "./metrics.ts";
 * const db = await open("./data");
 * console.log(formatMetrics(db.stats())); // what db.metrics() returns:
 * // # HELP siltdb_sequence Sequence number of the last write visible to reads.
 * // # TYPE siltdb_sequence gauge
 * // siltdb_sequence 0
 * // ...
 * await db.close();
 * ```
 */
export function formatMetrics(stats: DbStats): string {
  const perLevel = (pick: (l: DbStats["levels"][number]) => number) =>
    stats.levels.map((l) => ({ labels: { level: String(l.level) }, value: pick(l) }));
  const perLevelIo = (pick: (io: DbStats["compaction"]["io"][number]) => number) =>
    stats.compaction.io.map((io) => ({ labels: { level: String(io.level) }, value: pick(io) }));
  const one = (value: number) => [{ value }];
  const families: Family[] = [
    {
      name: "sequence",
      type: "gauge",
      help: "Sequence number of the last write visible to reads.",
      samples: one(stats.sequence),
    },
    {
      name: "memtable_entries",
      type: "gauge",
      help: "Entries in the active memtable (every version and tombstone).",
      samples: one(stats.memtable.entries),
    },
    {
      name: "memtable_bytes",
      type: "gauge",
      help: "Bytes of entries in the active memtable.",
      samples: one(stats.memtable.bytes),
    },
    {
      name: "memtable_memory_bytes",
      type: "gauge",
      help: "Bytes of linear memory reserved by the active memtable.",
      samples: one(stats.memtable.memoryUsage),
    },
    {
      name: "immutable_memtables",
      type: "gauge",
      help: "Memtables waiting to be flushed.",
      samples: one(stats.immutable.count),
    },
    {
      name: "immutable_memtable_bytes",
      type: "gauge",
      help: "Bytes of entries in memtables waiting to be flushed.",
      samples: one(stats.immutable.bytes),
    },
    { name: "level_files", type: "gauge", help: "Table files per level.", samples: perLevel((l) => l.files) },
    { name: "level_bytes", type: "gauge", help: "Bytes of table files per level.", samples: perLevel((l) => l.bytes) },
    {
      name: "level_entries",
      type: "gauge",
      help: "Entries in the table files per level.",
      samples: perLevel((l) => l.entries),
    },
    {
      name: "level_read_bytes_total",
      type: "counter",
      help: "Bytes read from each level by compactions since open.",
      samples: perLevelIo((io) => io.read),
    },
    {
      name: "level_written_bytes_total",
      type: "counter",
      help: "Bytes written to each level by flushes (level 0) and compactions since open.",
      samples: perLevelIo((io) => io.written),
    },
    {
      name: "flushes_total",
      type: "counter",
      help: "Memtables flushed to level-0 tables since open.",
      samples: one(stats.flushes),
    },
    {
      name: "block_cache_hits_total",
      type: "counter",
      help: "Data block lookups found in the block cache.",
      samples: one(stats.blockCache.hits),
    },
    {
      name: "block_cache_misses_total",
      type: "counter",
      help: "Data block lookups that read storage.",
      samples: one(stats.blockCache.misses),
    },
    {
      name: "block_cache_hit_ratio",
      type: "gauge",
      help: "Block cache hits per lookup since open (0 to 1).",
      samples: one(stats.blockCache.hitRate),
    },
    {
      name: "block_cache_bytes",
      type: "gauge",
      help: "Bytes of blocks in the block cache.",
      samples: one(stats.blockCache.bytes),
    },
    {
      name: "block_cache_capacity_bytes",
      type: "gauge",
      help: "Capacity of the block cache in bytes.",
      samples: one(stats.blockCache.capacity),
    },
    {
      name: "bloom_checked_total",
      type: "counter",
      help: "Point reads that consulted a bloom filter.",
      samples: one(stats.bloom.checked),
    },
    {
      name: "bloom_useful_total",
      type: "counter",
      help: "Point reads a bloom filter answered without reading a block.",
      samples: one(stats.bloom.useful),
    },
    {
      name: "wal_written_bytes_total",
      type: "counter",
      help: "Bytes written to the write-ahead log since open.",
      samples: one(stats.wal.bytesWritten),
    },
    {
      name: "wal_syncs_total",
      type: "counter",
      help: "fdatasync calls on the write-ahead log since open.",
      samples: one(stats.wal.syncs),
    },
    {
      name: "stall_seconds_total",
      type: "counter",
      help: "Seconds writes waited for room (flush or compaction) or were slowed down.",
      samples: one(stats.stallMs / 1000),
    },
    {
      name: "slowdowns_total",
      type: "counter",
      help: "Writes delayed because level 0 reached l0SlowdownTrigger.",
      samples: one(stats.slowdowns),
    },
    {
      name: "compactions_total",
      type: "counter",
      help: "Compactions run since open (trivial moves not counted).",
      samples: one(stats.compaction.count),
    },
    {
      name: "compaction_seconds_total",
      type: "counter",
      help: "Seconds spent in compactions and trivial moves since open.",
      samples: one(stats.compaction.ms / 1000),
    },
    {
      name: "compaction_trivial_moves_total",
      type: "counter",
      help: "Tables moved to the next level without being rewritten.",
      samples: one(stats.compaction.trivialMoves),
    },
    {
      name: "compaction_dropped_entries_total",
      type: "counter",
      help: "Entries compactions dropped (versions and tombstones no snapshot can see).",
      samples: one(stats.compaction.entriesDropped),
    },
    {
      name: "compaction_expired_entries_total",
      type: "counter",
      help: "Expired entries (puts with a ttl) compactions turned into tombstones or dropped.",
      samples: one(stats.compaction.entriesExpired),
    },
    {
      name: "compaction_filtered_entries_total",
      type: "counter",
      help: "Entries the compaction filter dropped or changed.",
      samples: one(stats.compaction.entriesFiltered),
    },
    {
      name: "compaction_info",
      type: "gauge",
      help: "Compaction policy and where compactions run (always 1).",
      samples: [{ labels: { policy: stats.compaction.policy, mode: stats.compaction.mode }, value: 1 }],
    },
    {
      name: "write_amplification",
      type: "gauge",
      help: "Bytes written to storage (log, flushes, compactions) per byte written by the user.",
      samples: one(stats.writeAmplification),
    },
    {
      name: "space_amplification",
      type: "gauge",
      help: "Table bytes per byte of the deepest non-empty level.",
      samples: one(stats.spaceAmplification),
    },
    {
      name: "read_amplification",
      type: "gauge",
      help: "Sorted runs a point read may consult (level-0 files plus non-empty deeper levels).",
      samples: one(stats.readAmplification),
    },
    {
      name: "sorted_runs",
      type: "gauge",
      help: "Sorted runs: level-0 files plus non-empty deeper levels.",
      samples: one(stats.sortedRuns),
    },
    { name: "snapshots", type: "gauge", help: "Live snapshots.", samples: one(stats.snapshots) },
    { name: "scans", type: "gauge", help: "Open scans.", samples: one(stats.scans) },
    {
      name: "core_memory_bytes",
      type: "gauge",
      help: "Bytes of linear memory of the WebAssembly core (shared by the databases of a thread).",
      samples: one(stats.coreMemory),
    },
    {
      name: "background_error",
      type: "gauge",
      help: "1 while a background error stops writes (until resume()), else 0.",
      samples: one(stats.backgroundError === undefined ? 0 : 1),
    },
    ...bucketFamilies(stats),
  ];
  let out = "";
  for (const f of families) {
    const name = `siltdb_${f.name}`;
    out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
    for (const s of f.samples) out += `${name}${formatLabels(s.labels)} ${formatValue(s.value)}\n`;
  }
  return out;
}

/** The metrics of a store in a bucket (none for a directory). */
function bucketFamilies(stats: DbStats): Family[] {
  const b = stats.bucket;
  if (b === undefined) return [];
  const one = (value: number) => [{ value }];
  const families: Family[] = [
    { name: "manifest", type: "gauge", help: "The manifest the state is from.", samples: one(b.manifest) },
    {
      name: "objects_deleted_total",
      type: "counter",
      help: "Objects the collector deleted since open.",
      samples: one(b.objectsDeleted),
    },
  ];
  const r = b.requests;
  if (r !== undefined) {
    families.push(
      {
        name: "object_requests_total",
        type: "counter",
        help: "Requests to the object store, by operation (every attempt counts).",
        samples: (["get", "head", "put", "list", "delete"] as const).map((op) => ({
          labels: { op },
          value: r[`${op}s`],
        })),
      },
      { name: "object_retries_total", type: "counter", help: "Requests sent again.", samples: one(r.retries) },
      {
        name: "object_read_bytes_total",
        type: "counter",
        help: "Bytes of object data received.",
        samples: one(r.bytesRead),
      },
      {
        name: "object_written_bytes_total",
        type: "counter",
        help: "Bytes of object data sent.",
        samples: one(r.bytesWritten),
      },
      {
        name: "object_wait_seconds_total",
        type: "counter",
        help: "Seconds spent waiting on the object store, over every request.",
        samples: one(r.waitMs / 1000),
      },
    );
  }
  const c = b.diskCache;
  if (c !== undefined) {
    families.push(
      {
        name: "disk_cache_hits_total",
        type: "counter",
        help: "Reads answered by the disk cache.",
        samples: one(c.hits),
      },
      {
        name: "disk_cache_misses_total",
        type: "counter",
        help: "Cacheable reads that went to the store.",
        samples: one(c.misses),
      },
      { name: "disk_cache_bytes", type: "gauge", help: "Bytes held by the disk cache.", samples: one(c.bytes) },
    );
  }
  return families;
}

/**
 * A sample value as Prometheus writes it: a decimal number, `NaN`, `+Inf` or `-Inf`.
 *
 * @example
 * ```ts
 * formatValue(1.5); // "1.5"
 * formatValue(Infinity); // "+Inf"
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * The label set of a sample, `{name="value",...}`, values escaped
 * (backslash, double quote, line feed); "" without labels.
 *
 * @example
 * ```ts
 * formatLabels({ level: "0" }); // '{level="0"}'
 * formatLabels(undefined); // ""
 * ```
 */
export function formatLabels(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

/** A HELP text escaped as the format requires (backslash, line feed). */
function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
