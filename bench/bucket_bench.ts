// A store in a bucket (issue 18), db_bench-style: the same workloads on
// every backend, each backend in a child process of the same runtime, one
// after the other, repeated (the machine is noisy: figures are reported as
// ranges over the repeats):
//
//   disk         siltdb in a local directory (the ratio's reference)
//   memory-20ms  MemoryObjectStore with 20 ms per request (S3 Express)
//   memory-50ms  MemoryObjectStore with 50 ms per request (S3 Standard)
//   ceph         Ceph radosgw on loopback (scripts/ceph_cluster.mjs; skipped,
//                saying why, when Ceph is not installed)
//
//   npm run bench:bucket
//   node --import tsx bench/bucket_bench.ts     deno run -A bench/bucket_bench.ts     bun bench/bucket_bench.ts
//
// Environment: SILTDB_BENCH_N (keys loaded, default 100,000),
// SILTDB_BENCH_REPEATS (default 3), SILTDB_BENCH_BACKENDS (a subset of the
// names above), SILTDB_BENCH_CPU_PROF (a directory: Node children write
// .cpuprofile files there), SILTDB_TEST_S3_* (an S3 server already running,
// as npm test passes it; otherwise a throw-away Ceph cluster is started and
// stopped by its helper's process id).
//
// Workloads (16-byte keys "%016d", 100-byte values). Every request a store
// in a bucket makes is counted on the ResilientStore each database is
// given (its own `counters`); a reader gets its own store object over the
// same bucket, as a reader on another machine would.
//
//   requests        the store alone: 20 of each request siltdb makes (PUT of a small WAL
//                   object, ranged GET of a 4 KiB block, GET of a 64 KiB table tail, LIST,
//                   HEAD), p50 each: the request latency the targets are measured against
// The put workloads run on a store of their own, with automatic compaction
// held off (l0CompactionTrigger 1000), so that they measure the write path
// (WAL objects, flushes); compaction is measured on its own (compact). The
// rest run on a second store holding N keys.
//
//   put-c1          PUTS awaited puts by one writer: latency p50/p99, puts/s
//   put-c64         PUTS64 awaited puts by 64 concurrent writers, each awaiting its own
//   put-open-20k    64 writers offering 20,000 puts/s in all for 3 s without waiting for
//                   the answers (open loop); latency from each put's planned start
//   put-open-40k    the same at 40,000 puts/s
//   put-burst       64 writers × 1,000 puts issued at once: acknowledged puts/s
//   fillbatch       N puts in awaited batches of 1,000, random order (loads the store)
//   flush           the memtable written as a table
//   compact         db.compact(): every table merged into the last level, in the
//                   writer (inline for a bucket: one GET per input table, one PUT per
//                   output); MiB/s of table bytes read and written. The reads below run
//                   on this settled tree (no compaction under them) on every backend
//   warmup-c64      every key read once by 64 concurrent readers (fills the block cache)
//   readrandom-warm N awaited gets, every block cached (GETs per read should be 0)
//   scan-warm       one full scan, every block cached
//   paired-warm     the warm-get target: the same gets on the bucket store and on the same
//                   store on local disk in the same process, interleaved in chunks of
//                   CHUNK keys (ABBA), ROUNDS times over the N keys: the median over the
//                   chunks of bucket time ÷ disk time, its quartiles, and the same for
//                   ROUNDS full scans (the machine drifts between processes and seconds)
//   reader-lag      a readOnly reader with refreshInterval LAG_MS on the same bucket:
//                   time from the writer's acknowledged put to the reader's get finding it
//   open-reader     the requests of opening a reader (readOnly)
//   readrandom-cold COLD awaited gets by that reader, its caches empty
//   readrandom-miss COLD awaited gets by a reader with a 64 KiB block cache (nearly every
//                   block read misses) whose tables are open (index and filter held):
//                   the GETs of a cold block read. (Not blockCacheSize 0: a lookup that
//                   needs blocks of two tables then never finishes, see docs/benchmarks.md.)
//   scan-cold       a reader just opened scans the first SCAN_COLD keys
//
// The remote compactor (issue 18's `siltdb compactor`), on a third store:
//
//   load-remote     a writer opened with compaction "remote" (and a memtable of N/12
//                   entries, ~1 MiB at 100,000 keys; stall triggers off) loads N keys in random order in batches of 1,000
//                   and flushes: the tree is L0 tables only
//   compact-remote  a Compactor (src/remote_compactor.ts) in the same process, its own
//                   store object, compactOnce() until the policy (leveled, defaults) is
//                   satisfied: MiB read and written, MiB/s, GETs and PUTs per MiB, the
//                   share of the time spent waiting on requests and the CPU time.
//                   Then a reader just opened counts the keys (not timed).
//                   On "disk" (no bucket) the same runs on an in-memory bucket with no
//                   latency: the compactor's CPU-bound speed on this machine.
//
// Results: progress lines, bench/results/bucket-<runtime>.json, then
// bench/bucket_report.ts writes the section "In a bucket" of
// docs/benchmarks.md and bench/results/bucket-<runtime>.svg.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Db, ObjectStore } from "../mod.ts";
import { Compactor, MemoryObjectStore, open, ResilientStore } from "../mod.ts";
import { serveCluster } from "../tests/_s3.ts";
import {
  backendOf,
  closedLoop,
  latencyFigures,
  minus,
  openLoop,
  type Place,
  probeRequests,
  type Requests,
  requestsOf,
  sleep,
} from "./_bucket_measure.ts";
import { keyOf, permutation } from "./_shared.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const N = Number(process.env.SILTDB_BENCH_N ?? 100_000);
const REPEATS = Number(process.env.SILTDB_BENCH_REPEATS ?? 3);
const PUTS = 150;
const PUTS64 = 3_200;
const OPEN_RATES = [20_000, 40_000];
const OPEN_SECONDS = 3;
const BURST = 1_000;
const COLD = 200;
const MISS_CACHE = 64 << 10;
const SCAN_COLD = Math.min(10_000, N);
const LAG_MS = 250;
const LAG_SAMPLES = 20;
const ROUNDS = 10;
const CHUNK = Math.min(5_000, N);
export const BACKENDS = ["disk", "memory-20ms", "memory-50ms", "ceph"] as const;
const SELECTED = process.env.SILTDB_BENCH_BACKENDS?.split(",") ?? [...BACKENDS];

type Kv = Db<string, Uint8Array>;

/** One workload's figures on one backend. */
export interface Figures {
  ops: number;
  ms: number;
  opsPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Requests made during the workload (a store in a bucket). */
  requests?: Requests;
  [more: string]: unknown;
}

/** One backend's run (one child process). */
export interface BackendRun {
  backend: string;
  /** The time of one request injected (memory). */
  requestMs?: number;
  /** The p50 of each kind of request, measured on the store alone (ms). */
  requestLatency?: Record<string, number>;
  workloads: Record<string, Figures>;
  tables: number[];
  peakRssMiB: number;
  /** The machine's 1-minute load average when the child started and when it ended (2 cores). */
  loadAverage: number[];
}

// ---- child: one backend, every workload ----------------------------------------------

const values = Array.from(
  { length: 1024 },
  (_, i) => Uint8Array.from({ length: 100 }, (_, j) => (i * 31 + j * 7) & 0xff),
);

/** Opens a store at a place (its own store object, so its own request counters). */
async function openAt(place: Place, extra: Record<string, unknown> = {}): Promise<{ db: Kv; store?: ResilientStore }> {
  const store = place.store?.();
  const db = await open(place.url, {
    keyEncoding: "utf8",
    ...(store ? { objectStore: store as ObjectStore } : {}),
    ...extra,
  });
  return { db: db as Kv, store };
}

type Time = (
  workload: string,
  ops: number,
  store: ResilientStore | undefined,
  body: () => Promise<Partial<Figures> | void>,
) => Promise<void>;

/**
 * The put workloads, on a store of their own. Its automatic compactions are
 * held off (l0CompactionTrigger 1000): these figures are the write path's
 * (WAL objects, flushes); compaction is measured on its own below.
 */
async function writes(place: Place, time: Time): Promise<void> {
  const { db, store } = await openAt(place, { l0CompactionTrigger: 1000 });
  await time("put-c1", PUTS, store, async () => {
    return latencyFigures(await closedLoop(1, PUTS, (i) => db.put(`c1-${keyOf(i)}`, values[i & 1023])));
  });
  await time("put-c64", PUTS64, store, async () => {
    return latencyFigures(await closedLoop(64, PUTS64, (i) => db.put(`c64-${keyOf(i)}`, values[i & 1023])));
  });
  for (const rate of OPEN_RATES) {
    await time(`put-open-${rate / 1000}k`, rate * OPEN_SECONDS, store, async () => {
      const { latencies, ms } = await openLoop(
        rate,
        OPEN_SECONDS,
        (i) => db.put(`o${rate}-${i % 64}-${keyOf(i)}`, values[i & 1023]),
      );
      return { ...latencyFigures(latencies), ms, offeredPerSec: rate };
    });
  }
  await time("put-burst", 64 * BURST, store, async () => {
    const latencies = new Float64Array(64 * BURST);
    const started = performance.now();
    await Promise.all(Array.from(
      { length: 64 * BURST },
      (_, i) =>
        db.put(`b${i % 64}-${keyOf(i)}`, values[i & 1023]).then(() =>
          void (latencies[i] = performance.now() - started)
        ),
    ));
    return latencyFigures(latencies);
  });
  await db.close();
}

/** The q-quantile of xs (nearest rank). */
function quantile(xs: number[], q: number): number {
  const sorted = xs.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * The same awaited gets, in chunks of CHUNK keys, each chunk read from the
 * two stores one right after the other (the order swapped every chunk, ABBA,
 * so that neither store always goes first), ROUNDS times over all N keys;
 * and a full scan of each, alternated the same way each round. Resolves
 * with the [bucket, disk] ms of each chunk and of each scan.
 */
async function alternate(
  bucket: Kv,
  disk: Kv,
  reads: Int32Array,
): Promise<{ gets: [number, number][]; scans: [number, number][] }> {
  const gets: [number, number][] = [];
  const scans: [number, number][] = [];
  const timeGets = async (db: Kv, from: number, to: number) => {
    const started = performance.now();
    for (let i = from; i < to; i++) await db.get(keyOf(reads[i]));
    return performance.now() - started;
  };
  const timeScan = async (db: Kv) => {
    const started = performance.now();
    for await (const _ of db.keys({ gte: keyOf(0), lte: keyOf(N - 1) })) { /* count nothing: the time */ }
    return performance.now() - started;
  };
  let turn = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let from = 0; from < N; from += CHUNK) {
      const to = Math.min(N, from + CHUNK);
      if (turn++ % 2 === 0) {
        const b = await timeGets(bucket, from, to);
        gets.push([b, await timeGets(disk, from, to)]);
      } else {
        const d = await timeGets(disk, from, to);
        gets.push([await timeGets(bucket, from, to), d]);
      }
    }
    if (round % 2 === 0) {
      const b = await timeScan(bucket);
      scans.push([b, await timeScan(disk)]);
    } else {
      const d = await timeScan(disk);
      scans.push([await timeScan(bucket), d]);
    }
  }
  return { gets, scans };
}

/**
 * Warm reads of the bucket store against the same keys on local disk in the
 * same process, interleaved (this machine's speed drifts between processes
 * and from second to second: another job shares its two cores): a disk
 * store loaded and compacted the same way, every block of both cached. The
 * ratio is the median over the chunks of (bucket time ÷ disk time) of the
 * same keys read back to back, with its quartiles and the ratio of the
 * totals.
 */
async function pairedWarm(bucket: Kv, order: Int32Array, reads: Int32Array): Promise<Partial<Figures>> {
  const dir = mkdtempSync(join(os.tmpdir(), "bucket-bench-paired-"));
  try {
    const disk = await open(join(dir, "db"), { keyEncoding: "utf8" }) as Kv;
    for (let i = 0; i < N; i += 1000) {
      const batch = disk.batch();
      for (let j = i; j < Math.min(N, i + 1000); j++) batch.put(keyOf(order[j]), values[j & 1023]);
      await batch.write();
    }
    await disk.flush();
    await disk.compact();
    for (let i = 0; i < N; i++) await disk.get(keyOf(reads[i]));
    const { gets, scans } = await alternate(bucket, disk, reads);
    await disk.close();
    const ratios = gets.map(([b, d]) => b / d);
    const scanRatios = scans.map(([b, d]) => b / d);
    const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
    const figures = {
      chunks: gets.length,
      getRatio: quantile(ratios, 0.5),
      getRatioP25: quantile(ratios, 0.25),
      getRatioP75: quantile(ratios, 0.75),
      getRatioTotal: sum(gets.map(([b]) => b)) / sum(gets.map(([, d]) => d)),
      bucketGetUs: (1000 * sum(gets.map(([b]) => b))) / (ROUNDS * N),
      diskGetUs: (1000 * sum(gets.map(([, d]) => d))) / (ROUNDS * N),
      scanRatio: quantile(scanRatios, 0.5),
      scanRatioP25: quantile(scanRatios, 0.25),
      scanRatioP75: quantile(scanRatios, 0.75),
    };
    console.error(
      `  ${runtime} interleaved warm reads, bucket ÷ disk time: get ${figures.getRatio.toFixed(2)} (quartiles ${
        figures.getRatioP25.toFixed(2)
      }–${figures.getRatioP75.toFixed(2)}; ${figures.bucketGetUs.toFixed(2)} vs ${
        figures.diskGetUs.toFixed(2)
      } µs a get), scan ${figures.scanRatio.toFixed(2)}`,
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** fillbatch, flush, compact, then the reads, on a store of N keys; resolves with its tables per level. */
async function loadAndRead(place: Place, time: Time, inBucket: boolean): Promise<number[]> {
  const { db: writer, store: ws } = await openAt(place);
  const order = permutation(N, 42);
  await time("fillbatch", N, ws, async () => {
    for (let i = 0; i < N; i += 1000) {
      const batch = writer.batch();
      for (let j = i; j < Math.min(N, i + 1000); j++) batch.put(keyOf(order[j]), values[j & 1023]);
      await batch.write();
    }
  });
  await time("flush", 1, ws, () => writer.flush());
  // Bytes compactions read, and wrote below L0 (a flush writes to L0).
  const io = () => {
    const levels = writer.stats().compaction.io;
    return {
      read: levels.reduce((n, l) => n + l.read, 0),
      written: levels.reduce((n, l) => n + (l.level > 0 ? l.written : 0), 0),
    };
  };
  const ioBefore = io();
  await time("compact", 1, ws, async () => {
    const started = performance.now();
    await writer.compact();
    const ms = performance.now() - started;
    const after = io();
    const mibRead = (after.read - ioBefore.read) / 2 ** 20;
    const mibWritten = (after.written - ioBefore.written) / 2 ** 20;
    return { ms, mibRead, mibWritten, mibPerSec: mibRead / (ms / 1000) };
  });
  const reads = permutation(N, 99);
  let found = 0;
  const expect = (v: unknown) => void (v !== undefined && found++);
  await time("warmup-c64", N, ws, async () => {
    await closedLoop(64, N, async (i) => expect(await writer.get(keyOf(reads[i]))));
  });
  await time("readrandom-warm", N, ws, async () => {
    for (let i = 0; i < N; i++) expect(await writer.get(keyOf(reads[i])));
  });
  let scanned = 0;
  await time("scan-warm", N, ws, async () => {
    for await (const _ of writer.keys({ gte: keyOf(0), lte: keyOf(N - 1) })) scanned++;
  });
  if (inBucket) {
    await time("paired-warm", N, ws, () => pairedWarm(writer, order, reads));
    const { db: reader, store: rs } = await openAt(place, { readOnly: true, refreshInterval: LAG_MS });
    await time("reader-lag", LAG_SAMPLES, rs, async () => {
      const lags: number[] = [];
      for (let i = 0; i < LAG_SAMPLES; i++) {
        await sleep(Math.random() * LAG_MS);
        const key = `lag-${keyOf(i)}`;
        await writer.put(key, values[i]);
        const acked = performance.now();
        while ((await reader.get(key)) === undefined) await sleep(1);
        lags.push(performance.now() - acked);
      }
      return { ...latencyFigures(lags), refreshIntervalMs: LAG_MS };
    });
    await reader.close();
  }
  const tables = writer.stats().levels.map((l) => l.files);
  await writer.close();
  const readOnly = { readOnly: true, refreshInterval: 0 };
  const cold = await openAt(place, readOnly);
  await time("open-reader", 1, cold.store, () => Promise.resolve()); // the requests of the open above
  await time("readrandom-cold", COLD, cold.store, async () => {
    return latencyFigures(await closedLoop(1, COLD, async (i) => expect(await cold.db.get(keyOf(reads[i])))));
  });
  await cold.db.close();
  const missing = await openAt(place, { ...readOnly, blockCacheSize: MISS_CACHE });
  for (let i = 0; i < COLD; i++) expect(await missing.db.get(keyOf(reads[COLD + i]))); // opens every table
  await time("readrandom-miss", COLD, missing.store, async () => {
    return latencyFigures(await closedLoop(1, COLD, async (i) => expect(await missing.db.get(keyOf(reads[i])))));
  });
  await missing.db.close();
  const scanner = await openAt(place, readOnly);
  await time("scan-cold", SCAN_COLD, scanner.store, async () => {
    for await (const _ of scanner.db.keys({ gte: keyOf(0), limit: SCAN_COLD })) scanned++;
  });
  await scanner.db.close();
  if (found < 2 * N + 3 * COLD) throw new Error(`only ${found} reads found their key`);
  if (scanned < N + SCAN_COLD) throw new Error(`scans saw ${scanned} entries`);
  return tables;
}

/**
 * The remote compactor: a writer opened with compaction "remote" loads N
 * keys (flushes leave L0 tables only: it never compacts), then a Compactor
 * with its own store object compacts until the policy is satisfied.
 */
async function remoteCompaction(place: Place, time: Time): Promise<void> {
  const { db: writer, store: ws } = await openAt(place, {
    compaction: "remote",
    // About a dozen L0 tables whatever N (1 MiB memtables at 100,000 keys).
    memtableSize: Math.max(64 << 10, Math.round((N * 126) / 12)),
    // No stall: the compactor runs after the load.
    l0SlowdownTrigger: 10_000,
    l0StopTrigger: 10_000,
  });
  const order = permutation(N, 7);
  await time("load-remote", N, ws, async () => {
    for (let i = 0; i < N; i += 1000) {
      const batch = writer.batch();
      for (let j = i; j < Math.min(N, i + 1000); j++) batch.put(keyOf(order[j]), values[(j * 7) & 1023]);
      await batch.write();
    }
    await writer.flush();
  });
  const l0Before = writer.stats().levels[0].files;
  const cstore = place.store!();
  const compactor = await Compactor.open(place.url, { objectStore: cstore as ObjectStore });
  await time("compact-remote", 1, cstore, async () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let rounds = 0;
    while (await compactor.compactOnce()) rounds++;
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const s = compactor.stats;
    const mibRead = s.bytesRead / 2 ** 20;
    const mibWritten = s.bytesWritten / 2 ** 20;
    await compactor.stop();
    await writer.close();
    // The compacted store holds every key: a reader just opened counts them (its own
    // requests, after the time taken above).
    const check = await openAt(place, { readOnly: true, refreshInterval: 0 });
    let seen = 0;
    for await (const _ of check.db.keys()) seen++;
    const tablesAfter = check.db.stats().levels.map((l) => l.files);
    await check.db.close();
    if (seen !== N) throw new Error(`after the remote compaction a reader sees ${seen} keys, not ${N}`);
    console.error(`  ${runtime} remote compaction: ${l0Before} L0 tables, then levels ${tablesAfter.join(", ")}`);
    return {
      ms,
      l0Before,
      tablesAfter,
      rounds,
      compactions: s.compactions,
      trivialMoves: s.trivialMoves,
      mibRead,
      mibWritten,
      mibPerSec: (mibRead + mibWritten) / (ms / 1000),
      cpuMs: (used.user + used.system) / 1000,
    };
  });
}

async function runBackend(name: string): Promise<BackendRun> {
  const backend = backendOf(name);
  const loadAtStart = os.loadavg()[0];
  let peakRss = 0;
  const sample = () => peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sampler = setInterval(sample, 100);
  const workloads: Record<string, Figures> = {};
  /** Times body, with the requests `store` made meanwhile. */
  const time: Time = async (workload, ops, store, body) => {
    const before = requestsOf(store?.counters);
    const started = performance.now();
    const extra = (await body()) ?? {};
    const ms = extra.ms ?? performance.now() - started;
    sample();
    const requests = workload === "open-reader"
      ? requestsOf(store?.counters)
      : minus(requestsOf(store?.counters), before);
    const figures: Figures = { ops, ms, opsPerSec: (ops / ms) * 1000, ...extra, requests };
    workloads[workload] = figures;
    const latency = figures.p50Ms === undefined
      ? ""
      : `, p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms!.toFixed(2)} ms`;
    const perOp = requests
      ? `, per op: ${
        (["gets", "puts", "lists"] as const).map((k) => `${(requests[k] / ops).toFixed(3)} ${k}`).join(" ")
      }`
      : "";
    console.error(
      `  ${runtime} ${name} ${workload}: ${
        Math.round(figures.opsPerSec).toLocaleString("en-US")
      } ops/s${latency}${perOp}`,
    );
  };
  try {
    const probe = (await backend.place("probe")).store?.();
    const requestLatency = probe && (await probeRequests(probe));
    if (requestLatency) console.error(`  ${runtime} ${name} requests, p50 ms: ${JSON.stringify(requestLatency)}`);
    await writes(await backend.place("puts"), time);
    const tables = await loadAndRead(await backend.place("reads"), time, probe !== undefined);
    // On disk: the compactor on an in-memory bucket with no latency (its speed without waiting).
    const bucket = probe === undefined ? new MemoryObjectStore({ name: "compact", latencyMs: 0 }) : undefined;
    await remoteCompaction(
      bucket
        ? { url: bucket.location, store: () => new ResilientStore(bucket.location, bucket) }
        : await backend.place("compact"),
      time,
    );
    return {
      backend: name,
      requestMs: backend.requestMs,
      requestLatency,
      workloads,
      tables,
      peakRssMiB: peakRss / 2 ** 20,
      loadAverage: [loadAtStart, os.loadavg()[0]],
    };
  } finally {
    clearInterval(sampler);
    backend.cleanup();
  }
}

// ---- parent: the S3 server, each backend in a child, repeats --------------------------

function childCommand(backend: string): [string, string[]] {
  const script = fileURLToPath(import.meta.url);
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, "--backend", backend]];
  if (runtime === "bun") return [process.execPath, [script, "--backend", backend]];
  const prof = process.env.SILTDB_BENCH_CPU_PROF;
  const profArgs = prof
    ? ["--cpu-prof", "--cpu-prof-dir", prof, "--cpu-prof-name", `${backend}-${Date.now()}.cpuprofile`]
    : [];
  return [process.execPath, [...profArgs, "--import", "tsx", script, "--backend", backend]];
}

/** An S3 server: the one named in SILTDB_TEST_S3_*, or a throw-away Ceph cluster and how to stop it. */
async function s3Server(): Promise<{ env: Record<string, string>; stop(): void } | string> {
  if (process.env.SILTDB_TEST_S3_ENDPOINT) return { env: {}, stop() {} };
  try {
    // The helper stops the cluster (by the process ids it started) on SIGTERM, or once this process is gone.
    const { s3, helper } = await serveCluster();
    return {
      env: {
        SILTDB_TEST_S3_ENDPOINT: s3.endpoint,
        SILTDB_TEST_S3_REGION: s3.region,
        SILTDB_TEST_S3_ACCESS_KEY_ID: s3.accessKeyId,
        SILTDB_TEST_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      stop: () => void helper.kill("SIGTERM"),
    };
  } catch (err) {
    return String((err as Error).message);
  }
}

async function main(): Promise<void> {
  const backendArg = process.argv.indexOf("--backend");
  if (backendArg >= 0) {
    // Progress goes to stderr; the result is the last stdout line.
    console.log(JSON.stringify(await runBackend(process.argv[backendArg + 1])));
    return;
  }
  const version = runtime === "deno"
    ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
    : runtime === "bun"
    ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
    : `node ${process.version}`;
  const cpu = `${os.cpus()[0]?.model} (${os.cpus().length} cores), ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  console.log(`bucket bench: ${N.toLocaleString("en-US")} keys, ${REPEATS} repeats, ${version}, ${cpu}`);
  const unavailable: Record<string, string> = {};
  let server: Awaited<ReturnType<typeof s3Server>> | undefined;
  if (SELECTED.includes("ceph")) {
    const started = Date.now();
    server = await s3Server();
    if (typeof server === "string") unavailable.ceph = server;
    else console.log(`S3 server ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const runs: BackendRun[][] = [];
  try {
    for (let repeat = 1; repeat <= REPEATS; repeat++) {
      const round: BackendRun[] = [];
      for (const backend of SELECTED) {
        if (unavailable[backend]) continue;
        console.log(`=== repeat ${repeat}/${REPEATS}: ${backend}`);
        const [cmd, args] = childCommand(backend);
        const env = { ...process.env, ...(typeof server === "object" ? server.env : {}), SILTDB_BENCH_N: String(N) };
        const child = spawnSync(cmd, args, {
          encoding: "utf8",
          env,
          stdio: ["ignore", "pipe", "inherit"],
          maxBuffer: 1 << 26,
        });
        const last = (child.stdout ?? "").trim().split("\n").at(-1) ?? "";
        if (child.status !== 0 || !last.startsWith("{")) {
          console.log(`${backend}: failed (exit ${child.status ?? child.signal})`);
          unavailable[backend] = `failed (exit ${child.status ?? child.signal})`;
          continue;
        }
        round.push(JSON.parse(last));
      }
      runs.push(round);
    }
  } finally {
    if (typeof server === "object") server.stop();
  }
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`bucket-${runtime}.json`, out);
  writeFileSync(
    file,
    JSON.stringify({ runtime, version, n: N, cpu, date: new Date().toISOString(), runs, unavailable }, null, 2) + "\n",
  );
  console.log(`results: ${fileURLToPath(file)}`);
  if (!process.env.SILTDB_BENCH_NO_DOCS) {
    const { report } = await import("./bucket_report.ts");
    report(runtime);
  }
}

await main();
