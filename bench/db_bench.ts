// db_bench-style macro benchmark: siltdb side by side with its peers
// (bench/engines.ts) in the same run, on the same data, each engine in a
// child process of the same runtime so that its peak RSS is its own.
//
//   node --import tsx bench/db_bench.ts        deno run -A --unstable-kv bench/db_bench.ts        bun bench/db_bench.ts
//   (npm run bench runs all three, then bench/report.ts)
//
// Environment: SILTDB_BENCH_N (keys, default 200,000), SILTDB_BENCH_ENGINES
// (comma-separated names from bench/engines.ts; default: every peer of the
// runtime), SILTDB_BENCH_WORKLOADS (a subset of the names below),
// SILTDB_BENCH_ROUNDS (default 1): rounds of every engine, the order rotated
// by one engine per round (bench/_runs.ts rotatingRounds), so that engines
// compared run minutes apart at most; each workload's figure is the median
// over the rounds, and every round's figures are kept (report.ts pairs them
// round by round for the targets' ratios and ranges). SILTDB_BENCH_QUIET_LOAD
// (default: no wait) and SILTDB_BENCH_MAX_WAIT (300 s): wait before each round
// until the 1-minute load average is below the first.
//
// Workloads (LevelDB's db_bench names; 16-byte keys, 100-byte values; N keys):
//   fillseq       N awaited puts, keys in order, into an empty store
//   fillrandom    N awaited puts, random order, into an empty store
//   fillbatch     N puts in batches of 1,000, random order (loads the main store)
//   overwrite     N awaited puts over existing keys, random order
//   fillsync-cC   N/100 durable (sync) puts of new keys by C = 1, 8, 64 concurrent writers
//   readrandom    N awaited gets of existing keys, random order
//   readsync      N synchronous gets (siltdb getSync, classic-level getSync, lmdb get, SQLite)
//   readmissing   N awaited gets of absent keys
//   readhot       N awaited gets within the hottest 1% of keys
//   readseq       one forward scan of everything
//   readreverse   one reverse scan of everything
//   seekrandom    N/10 seeks, each reading the next 10 entries
//   ycsb-a..f     N/2 operations, zipfian keys (YCSB core workloads): A 50% read 50% update,
//                 B 95/5, C 100% read, D 95% read of the latest keys 5% insert,
//                 E 95% scans of 1-100 entries 5% insert (N/20 ops), F 50% read 50% read-modify-write
//   deleterandom  N/10 awaited deletes of existing keys, random order
// Results: progress lines, a table, and bench/results/db_bench-<runtime>.json
// (per engine: results, the medians; rounds, each round's results).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { median, rotatingRounds, runAsChild, runChild } from "./_runs.ts";
import { keyOf, permutation, scrambledZipfian, uniform, zipfianRank } from "./_shared.ts";
import { type Awaitable, defaultEngines, type Engine, ENGINES, runtime, runtimeVersion } from "./engines.ts";

const N = Number(process.env.SILTDB_BENCH_N ?? 200_000);
const ENGINE_NAMES = process.env.SILTDB_BENCH_ENGINES?.split(",") ?? defaultEngines();
export const WORKLOADS = [
  "fillseq",
  "fillrandom",
  "fillbatch",
  "overwrite",
  "fillsync-c1",
  "fillsync-c8",
  "fillsync-c64",
  "readrandom",
  "readsync",
  "readmissing",
  "readhot",
  "readseq",
  "readreverse",
  "seekrandom",
  "ycsb-a",
  "ycsb-b",
  "ycsb-c",
  "ycsb-d",
  "ycsb-e",
  "ycsb-f",
  "deleterandom",
] as const;
type Workload = typeof WORKLOADS[number];
const SELECTED = new Set<string>(process.env.SILTDB_BENCH_WORKLOADS?.split(",") ?? WORKLOADS);
const ROUNDS = Number(process.env.SILTDB_BENCH_ROUNDS ?? 1);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`SILTDB_BENCH_ROUNDS must be a positive integer`);
const QUIET_LOAD = Number(process.env.SILTDB_BENCH_QUIET_LOAD ?? Infinity);
const MAX_WAIT = Number(process.env.SILTDB_BENCH_MAX_WAIT ?? 300);

interface Result {
  opsPerSec: number;
  ms: number;
  ops: number;
}

// ---- child: one engine, every workload ------------------------------------------

async function runEngine(name: string): Promise<Record<string, unknown>> {
  const engine: Engine = await ENGINES[name]();
  const values = Array.from(
    { length: 1024 },
    (_, i) => Uint8Array.from({ length: 100 }, (_, j) => (i * 31 + j * 7) & 0xff),
  );
  const order = permutation(N, 42);
  const results: Record<string, Result> = {};
  let peakRss = 0;
  const sample = () => peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sampler = setInterval(sample, 100);
  const root = mkdtempSync(join(os.tmpdir(), `db-bench-${name.replace(/\W/g, "_")}-`));
  const wanted = (w: Workload) => SELECTED.has(w) && !engine.skip?.includes(w);
  const time = async (workload: Workload, ops: number, body: () => Awaitable<void>) => {
    if (!wanted(workload)) return;
    const started = performance.now();
    await body();
    const ms = performance.now() - started;
    sample();
    results[workload] = { opsPerSec: (ops / ms) * 1000, ms, ops };
    console.error(`  ${runtime} ${name} ${workload}: ${Math.round((ops / ms) * 1000).toLocaleString("en-US")} ops/s`);
  };
  let found = 0;
  const expectFound = (v: unknown) => {
    if (v !== undefined) found++;
  };
  try {
    for (const [workload, ordered] of [["fillseq", true], ["fillrandom", false]] as const) {
      if (!wanted(workload)) continue;
      await engine.open(join(root, workload));
      await time(workload, N, async () => {
        for (let i = 0; i < N; i++) await engine.put(keyOf(ordered ? i : order[i]), values[i & 1023]);
      });
      await engine.close();
    }
    await engine.open(join(root, "main"));
    // The main store is always loaded (other workloads read it), timed as fillbatch.
    const started = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const entries: [string, Uint8Array][] = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) entries.push([keyOf(order[j]), values[j & 1023]]);
      await engine.batch(entries);
    }
    if (wanted("fillbatch")) {
      const ms = performance.now() - started;
      results.fillbatch = { opsPerSec: (N / ms) * 1000, ms, ops: N };
      console.error(`  ${runtime} ${name} fillbatch: ${Math.round((N / ms) * 1000).toLocaleString("en-US")} ops/s`);
    }
    const other = permutation(N, 7);
    await time("overwrite", N, async () => {
      for (let i = 0; i < N; i++) await engine.put(keyOf(other[i]), values[(i + 5) & 1023]);
    });
    const syncOps = Math.max(64, Math.floor(N / 100));
    for (const writers of [1, 8, 64]) {
      await time(`fillsync-c${writers}` as Workload, syncOps, async () => {
        let next = 0;
        const writer = async () => {
          while (next < syncOps) {
            const i = next++;
            await engine.putDurable(`sync-${writers}-${keyOf(i)}`, values[i & 1023]);
          }
        };
        await Promise.all(Array.from({ length: writers }, writer));
      });
    }
    const reads = permutation(N, 99);
    await time("readrandom", N, async () => {
      for (let i = 0; i < N; i++) expectFound(await engine.get(keyOf(reads[i])));
    });
    await time("readsync", N, () => {
      for (let i = 0; i < N; i++) expectFound(engine.getSync(keyOf(reads[i])));
    });
    await time("readmissing", N, async () => {
      for (let i = 0; i < N; i++) {
        if ((await engine.get(`${keyOf(reads[i])}x`)) !== undefined) throw new Error(`${name}: found an absent key`);
      }
    });
    const hot = Math.max(1, Math.floor(N / 100));
    await time("readhot", N, async () => {
      for (let i = 0; i < N; i++) expectFound(await engine.get(keyOf(order[reads[i] % hot])));
    });
    let scanned = 0;
    await time("readseq", N, async () => {
      scanned += await engine.scanCount(false);
    });
    await time("readreverse", N, async () => {
      scanned += await engine.scanCount(true);
    });
    const seeks = Math.max(1, Math.floor(N / 10));
    await time("seekrandom", seeks, async () => {
      for (let i = 0; i < seeks; i++) found += await engine.seek(keyOf(reads[i]), 10);
    });
    await runYcsb(engine, values, time, (v) => expectFound(v));
    const deletes = Math.max(1, Math.floor(N / 10));
    await time("deleterandom", deletes, async () => {
      for (let i = 0; i < deletes; i++) await engine.del(keyOf(reads[i]));
    });
    const stats = engine.stats?.();
    await engine.close();
    const scans = (wanted("readseq") ? 1 : 0) + (wanted("readreverse") ? 1 : 0);
    if (scanned < scans * N) throw new Error(`${name}: scans saw ${scanned} entries, expected at least ${scans * N}`);
    if (wanted("readrandom") && found < N) throw new Error(`${name}: only ${found} reads found their key`);
    return { engine: name, results, peakRssMiB: peakRss / 2 ** 20, stats };
  } finally {
    clearInterval(sampler);
    rmSync(root, { recursive: true, force: true });
  }
}

/** YCSB core workloads A-F over the loaded store (keys 0..N-1), zipfian (D: latest). */
async function runYcsb(
  engine: Engine,
  values: Uint8Array[],
  time: (w: Workload, ops: number, body: () => Awaitable<void>) => Promise<void>,
  found: (v: unknown) => void,
): Promise<void> {
  const ops = Math.max(1, Math.floor(N / 2));
  const zipf = scrambledZipfian(N, 1234);
  const random = uniform(77);
  let inserted = N; // keys N.. are inserted by D and E
  const mix = (name: Workload, count: number, step: (r: number, i: number) => Promise<void>) =>
    time(name, count, async () => {
      for (let i = 0; i < count; i++) await step(random(), i);
    });
  await mix("ycsb-a", ops, async (r, i) => {
    const key = keyOf(zipf());
    if (r < 0.5) found(await engine.get(key));
    else await engine.put(key, values[i & 1023]);
  });
  await mix("ycsb-b", ops, async (r, i) => {
    const key = keyOf(zipf());
    if (r < 0.95) found(await engine.get(key));
    else await engine.put(key, values[i & 1023]);
  });
  await mix("ycsb-c", ops, async () => found(await engine.get(keyOf(zipf()))));
  const latest = zipfianRank(N, 4321);
  await mix("ycsb-d", ops, async (r, i) => {
    if (r < 0.95) found(await engine.get(keyOf(Math.max(0, inserted - 1 - latest()))));
    else await engine.put(keyOf(inserted++), values[i & 1023]);
  });
  const scans = Math.max(1, Math.floor(N / 20));
  await mix("ycsb-e", scans, async (r, i) => {
    if (r < 0.95) await engine.seek(keyOf(zipf()), 1 + Math.floor(random() * 100));
    else await engine.put(keyOf(inserted++), values[i & 1023]);
  });
  await mix("ycsb-f", ops, async (r, i) => {
    const key = keyOf(zipf());
    const value = await engine.get(key);
    found(value);
    if (r >= 0.5) await engine.put(key, values[(i + (value?.[0] ?? 0)) & 1023]);
  });
}

// ---- parent: run each engine in a child, compare ---------------------------------

function childCommand(engine: string): [string, string[]] {
  const script = new URL(import.meta.url).pathname;
  if (runtime === "deno") return [process.execPath, ["run", "-A", "--unstable-kv", script, "--engine", engine]];
  if (runtime === "bun") return [process.execPath, [script, "--engine", engine]];
  return [process.execPath, ["--import", "tsx", script, "--engine", engine]];
}

/** One engine's figures in one child run. */
interface EngineRun {
  results: Record<string, Result>;
  peakRssMiB: number;
  stats?: unknown;
}

/**
 * An engine's rounds in one: per workload the median ops/s over the rounds
 * (the mean of the two middle ones for an even count), the largest peak
 * RSS, the last round's stats, and every round's results in `rounds`.
 */
function combine(runs: EngineRun[]): EngineRun & { rounds: Record<string, Result>[] } {
  const results: Record<string, Result> = {};
  for (const w of new Set(runs.flatMap((r) => Object.keys(r.results)))) {
    const all = runs.map((r) => r.results[w]).filter((r) => r !== undefined);
    const opsPerSec = median(all.map((r) => r.opsPerSec));
    const ops = all[0].ops;
    results[w] = { opsPerSec, ms: (ops / opsPerSec) * 1000, ops };
  }
  return {
    results,
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    stats: runs.at(-1)?.stats,
    rounds: runs.map((r) => r.results),
  };
}

async function main(): Promise<void> {
  if (await runAsChild(runEngine)) return;
  const version = runtimeVersion();
  const cpu = `${os.cpus()[0]?.model} (${os.cpus().length} cores), ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  console.log(
    `db_bench: ${N.toLocaleString("en-US")} keys, ${version}, ${cpu}${ROUNDS > 1 ? `, ${ROUNDS} rounds` : ""}`,
  );
  const { rounds, unavailable } = await rotatingRounds(ENGINE_NAMES, ROUNDS, QUIET_LOAD, MAX_WAIT, (engine) => {
    const [cmd, args] = childCommand(engine);
    return runChild(cmd, args, process.env, 3_600_000);
  });
  const all: Record<string, EngineRun & { rounds: Record<string, Result>[] }> = {};
  for (const engine of ENGINE_NAMES) {
    const runs = rounds.map((r) => (r.engines as Record<string, EngineRun>)[engine]).filter((r) => r !== undefined);
    if (runs.length > 0 && unavailable[engine] === undefined) all[engine] = combine(runs);
  }
  const ran = ENGINE_NAMES.filter((e) => all[e]);
  const fmt = (n: number | undefined) => n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
  console.log(`\n${(ROUNDS > 1 ? "median ops/s" : "ops/s").padEnd(13)} ${ran.map((e) => e.padStart(15)).join(" ")}`);
  for (const w of WORKLOADS) {
    if (!SELECTED.has(w)) continue;
    console.log(`${w.padEnd(13)} ${ran.map((e) => fmt(all[e].results[w]?.opsPerSec).padStart(15)).join(" ")}`);
  }
  console.log(`${"peak RSS MiB".padEnd(13)} ${ran.map((e) => all[e].peakRssMiB.toFixed(0).padStart(15)).join(" ")}`);
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`db_bench-${runtime}${N === 200_000 ? "" : `-${N}`}.json`, out);
  writeFileSync(
    file,
    JSON.stringify(
      { runtime, version, n: N, cpu, date: new Date().toISOString(), rounds: ROUNDS, engines: all, unavailable },
      null,
      2,
    ) + "\n",
  );
  console.log(`results: ${file.pathname}`);
}

await main();
