// Compaction benchmarks (issue 5), each configuration in a child process of
// the same runtime, one after the other:
//
//   latency    sustained fillrandom of SILTDB_BENCH_N (2,000,000) keys with a
//              1 MiB memtable, compactions inline vs in a worker: throughput
//              and p50/p99/p999 latency of awaited puts
//   policies   fillrandom then overwrite of SILTDB_BENCH_N (5,000,000) keys,
//              default options, leveled vs tiered: write, space and read
//              amplification, throughput, peak RSS
//
//   node --import tsx bench/compaction_bench.ts latency|policies
//   deno run -A bench/compaction_bench.ts latency|policies
//   bun bench/compaction_bench.ts latency|policies
//
// Results: a table on stdout and bench/results/compaction-<suite>-<runtime>.json.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { keyOf, permutation } from "./_shared.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const suite = process.argv[2] === "policies" ? "policies" : "latency";
const N = Number(process.env.SILTDB_BENCH_N ?? (suite === "latency" ? 2_000_000 : 5_000_000));

interface Config {
  name: string;
  options: Record<string, unknown>;
  overwrite: boolean;
}

const configs: Config[] = suite === "latency"
  ? [
    { name: "inline", options: { memtableSize: 1 << 20, compactionMode: "inline" }, overwrite: false },
    { name: "worker", options: { memtableSize: 1 << 20, compactionMode: "worker" }, overwrite: false },
  ]
  : [
    { name: "leveled", options: { compaction: "leveled" }, overwrite: true },
    { name: "tiered", options: { compaction: "tiered" }, overwrite: true },
  ];

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function child(config: Config): Promise<Record<string, unknown>> {
  const { open } = await import("../mod.ts");
  const dir = mkdtempSync(join(os.tmpdir(), `compaction-bench-${config.name}-`));
  let peakRss = 0;
  const sample = () => peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sampler = setInterval(sample, 100);
  const values = Array.from(
    { length: 1024 },
    (_, i) => Uint8Array.from({ length: 100 }, (_, j) => (i * 31 + j * 7) & 0xff),
  );
  try {
    const db = await open(dir, { keyEncoding: "utf8", ...config.options });
    const phases: Record<string, unknown> = {};
    const pass = async (name: string, order: Int32Array) => {
      const latencies = new Float64Array(N);
      const started = performance.now();
      for (let i = 0; i < N; i++) {
        const t = performance.now();
        await db.put(keyOf(order[i]), values[i & 1023]);
        latencies[i] = performance.now() - t;
      }
      const ms = performance.now() - started;
      latencies.sort();
      sample();
      const stats = db.stats();
      phases[name] = {
        opsPerSec: (N / ms) * 1000,
        p50us: percentile(latencies, 0.5) * 1000,
        p99us: percentile(latencies, 0.99) * 1000,
        p999us: percentile(latencies, 0.999) * 1000,
        maxMs: latencies[N - 1],
        writeAmplification: stats.writeAmplification,
        sortedRuns: stats.sortedRuns,
        stallMs: stats.stallMs,
      };
      console.error(
        `  ${config.name} ${name}: ${Math.round((N / ms) * 1000).toLocaleString("en-US")} puts/s, p99 ${
          (percentile(latencies, 0.99) * 1000).toFixed(0)
        } µs`,
      );
    };
    await pass("fillrandom", permutation(N, 42));
    if (config.overwrite) await pass("overwrite", permutation(N, 7));
    // Let background compaction settle (as after a quiet period), then measure the tree.
    const settle = performance.now();
    await db.flush();
    let last = -1;
    while (db.stats().compaction.count !== last) {
      last = db.stats().compaction.count;
      await new Promise((r) => setTimeout(r, 500));
    }
    const stats = db.stats();
    const tableBytes = stats.levels.reduce((n, l) => n + l.bytes, 0);
    const logicalBytes = N * (16 + 100);
    const dirBytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    await db.close();
    sample();
    return {
      config: config.name,
      phases,
      settleMs: performance.now() - settle,
      final: {
        writeAmplification: stats.writeAmplification,
        spaceAmplification: tableBytes / logicalBytes,
        directoryBytes: dirBytes,
        sortedRuns: stats.sortedRuns,
        levels: stats.levels.map((l) => l.files),
        compactions: stats.compaction.count,
        compactionMs: stats.compaction.ms,
        stallMs: stats.stallMs,
      },
      peakRssMiB: peakRss / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}

function childCommand(name: string): [string, string[]] {
  const script = new URL(import.meta.url).pathname;
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, suite, "--config", name]];
  if (runtime === "bun") return [process.execPath, [script, suite, "--config", name]];
  return [process.execPath, ["--import", "tsx", script, suite, "--config", name]];
}

const configArg = process.argv.indexOf("--config");
if (configArg >= 0) {
  const config = configs.find((c) => c.name === process.argv[configArg + 1])!;
  console.log(JSON.stringify(await child(config)));
} else {
  console.log(
    `compaction bench (${suite}): ${N.toLocaleString("en-US")} keys, ${runtime}, ${
      os.cpus()[0]?.model
    } (${os.cpus().length} cores)`,
  );
  const results: Record<string, unknown>[] = [];
  for (const config of configs) {
    const [cmd, args] = childCommand(config.name);
    const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 });
    if (r.status !== 0) {
      console.log(`${config.name}: failed (exit ${r.status})`);
      continue;
    }
    results.push(JSON.parse(r.stdout.trim().split("\n").at(-1)!));
  }
  for (const r of results) console.log(JSON.stringify(r, null, 1));
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    new URL(`compaction-${suite}-${runtime}.json`, out),
    JSON.stringify({ runtime, suite, n: N, date: new Date().toISOString(), results }, null, 2) + "\n",
  );
}
