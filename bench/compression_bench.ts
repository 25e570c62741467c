// Block compression (issue 20): siltdb with compression "lz4" against
// "none", same data, same run, each configuration in its own child process
// on a fresh store in a temporary directory; rounds repeat with the order
// rotating, and every round records the machine's load.
//
//   npm run bench:compression          (node --import tsx bench/compression_bench.ts)
//
// Data: N keys (db_bench's 16-digit keys, default 200,000), each with a
// value of 200 to 2,000 bytes (uniform) from a pool of 4,096 generated from
// a fixed seed, of one of two kinds:
//   json    JSON orders as a web shop's API returns them: field names, words of a
//           small vocabulary, ids, counts, prices and dates (jsonValue below)
//   random  random bytes (incompressible)
// Workloads, per configuration:
//   fillrandom   N awaited puts in random order into an empty store (ops/s)
//   size         table bytes on disk after flush() and a full compact(), against the raw
//                bytes of the keys and values (and against compression "none")
//   readrandom   awaited gets of random keys for SILTDB_COMP_SECONDS (5) after a warm-up of
//                SILTDB_COMP_WARMUP_MS (2,000) on the reopened store: steady state, with the
//                default 8 MiB block cache far smaller than the data, so most gets read a
//                block from storage (and decompress it)
// Every get of a key is checked against its value.
//
// Environment: SILTDB_COMP_N, SILTDB_COMP_REPEATS (3), SILTDB_COMP_SECONDS,
// SILTDB_COMP_WARMUP_MS, SILTDB_BENCH_QUIET_LOAD (1.5), SILTDB_BENCH_MAX_WAIT (120).
// Results: a table (medians, ranges over the rounds, lz4/none ratios) and
// bench/results/compression-<runtime>.json.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { values } from "./_compression_data.ts";
import { keyOf, permutation, uniform } from "./_shared.ts";
import {
  loadNow,
  machine,
  median,
  runAsChild,
  runChild,
  runtime,
  runtimeVersion,
  span,
  timeBoxed,
  waitForQuiet,
} from "./_runs.ts";

const env = process.env;
const N = Number(env.SILTDB_COMP_N ?? 200_000);
const REPEATS = Number(env.SILTDB_COMP_REPEATS ?? 3);
const SECONDS = Number(env.SILTDB_COMP_SECONDS ?? 5);
const WARMUP_MS = Number(env.SILTDB_COMP_WARMUP_MS ?? 2000);
const CONFIGS = ["json:lz4", "json:none", "random:lz4", "random:none"] as const;

function sstBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith(".sst")).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

// ---- child: one configuration ------------------------------------------------------

async function runConfig(config: string): Promise<Record<string, number>> {
  const [kind, compression] = config.split(":") as [string, "lz4" | "none"];
  const { open } = await import("../mod.ts");
  const pool = values(kind);
  const valueOf = (i: number) => pool[i % pool.length];
  const order = permutation(N, 42);
  const dir = mkdtempSync(join(os.tmpdir(), "siltdb-comp-"));
  const options = { compression, blockCacheSize: 8 << 20 };
  try {
    let db = await open(dir, options);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await db.put(keyOf(order[i]), valueOf(order[i]));
    const fillMs = performance.now() - t0;
    await db.flush();
    await db.compact();
    await db.close();
    const tableBytes = sstBytes(dir);
    let rawBytes = 0;
    for (let i = 0; i < N; i++) rawBytes += 16 + valueOf(i).length;
    db = await open(dir, options);
    const random = uniform(99);
    const read = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      const k = Math.floor(random() * N);
      const got = await db.get(keyOf(k));
      if (got === undefined || got.length !== valueOf(k).length) throw new Error(`wrong value for key ${k}`);
    });
    const cache = db.stats().blockCache;
    await db.close();
    return {
      fillrandom: (N / fillMs) * 1000,
      readrandom: read.opsPerSec,
      tableBytes,
      rawBytes,
      cacheHitRate: cache.hits / Math.max(1, cache.hits + cache.misses),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- parent -----------------------------------------------------------------------------

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const log = (line: string) => console.error(line);
  log(`compression bench: ${N} keys, ${REPEATS} rounds, ${runtimeVersion()}, ${machine()}`);
  const rounds: { load: number[]; results: Record<string, Record<string, number>> }[] = [];
  for (let round = 0; round < REPEATS; round++) {
    const { load } = await waitForQuiet(Number(env.SILTDB_BENCH_QUIET_LOAD ?? 1.5), Number(env.SILTDB_BENCH_MAX_WAIT ?? 120), log);
    const results: Record<string, Record<string, number>> = {};
    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]);
    for (const config of order) {
      const args = runtime === "node" ? [...process.execArgv, self] : runtime === "deno" ? ["run", "-A", self] : [self];
      const out = runChild(process.execPath, [...args, "--engine", config], env, 30 * 60_000);
      if (!out.ok) throw new Error(`${config}: ${out.why}`);
      results[config] = out.value as Record<string, number>;
      const r = results[config];
      log(
        `  round ${round + 1} ${config.padEnd(11)} fillrandom ${Math.round(r.fillrandom)} ops/s, readrandom ${
          Math.round(r.readrandom)
        } ops/s (cache hits ${(r.cacheHitRate * 100).toFixed(0)}%), tables ${(r.tableBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
    rounds.push({ load, results: results });
  }
  const pick = (config: string, field: string) => rounds.map((r) => r.results[config][field]);
  const lines = [`| data | compression | table MiB | raw/table | fillrandom ops/s | readrandom ops/s |`, `|---|---|---|---|---|---|`];
  const fmt = (v: number[], f: (n: number) => string) => `${f(median(v))} (${span(v).map(f).join("–")})`;
  const ratios: Record<string, Record<string, string>> = {};
  for (const kind of ["json", "random"]) {
    for (const codec of ["lz4", "none"]) {
      const c = `${kind}:${codec}`;
      const raw = pick(c, "rawBytes")[0];
      lines.push(
        `| ${kind} | ${codec} | ${fmt(pick(c, "tableBytes"), (n) => (n / 2 ** 20).toFixed(1))} | ${
          (raw / median(pick(c, "tableBytes"))).toFixed(2)
        } | ${fmt(pick(c, "fillrandom"), (n) => String(Math.round(n)))} | ${
          fmt(pick(c, "readrandom"), (n) => String(Math.round(n)))
        } |`,
      );
    }
    // Ratios per round (lz4 over none in the same round), then their median and range.
    const per = (field: string) => rounds.map((r) => r.results[`${kind}:lz4`][field] / r.results[`${kind}:none`][field]);
    const show = (v: number[]) => `${median(v).toFixed(2)} (${span(v).map((x) => x.toFixed(2)).join("–")})`;
    ratios[kind] = {
      "none/lz4 table bytes": show(rounds.map((r) => r.results[`${kind}:none`].tableBytes / r.results[`${kind}:lz4`].tableBytes)),
      "lz4/none fillrandom": show(per("fillrandom")),
      "lz4/none readrandom": show(per("readrandom")),
    };
  }
  console.log(lines.join("\n"));
  for (const [kind, r] of Object.entries(ratios)) {
    console.log(`${kind}: ${Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  console.log(`loads at round starts: ${rounds.map((r) => r.load.join(" ")).join(" | ")}`);
  const dir = join(dirname(self), "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `compression-${runtime}.json`),
    JSON.stringify({ date: new Date().toISOString(), runtime: runtimeVersion(), machine: machine(), n: N, rounds, ratios, loadNow: loadNow() }, null, 2) + "\n",
  );
}

if (!(await runAsChild(runConfig))) await main();
