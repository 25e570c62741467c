// db_bench-style macro benchmark: siltdb side by side with classic-level
// (LevelDB) and lmdb in the same run, each engine in a child process of the
// same runtime so that its peak RSS is its own.
//
//   node --import tsx bench/db_bench.ts          (npm run bench:db)
//   deno run -A bench/db_bench.ts
//   bun bench/db_bench.ts
//
// Options (environment): SILTDB_BENCH_N (keys, default 1,000,000),
// SILTDB_BENCH_ENGINES (default "siltdb,classic-level,lmdb"; also
// "siltdb-buffered": siltdb with bufferWrites, which acknowledges unsynced
// writes before they reach the OS).
// Workloads (LevelDB's db_bench names; 16-byte keys, 100-byte values):
//   fillseq      N awaited puts, keys in order, into an empty database
//   fillrandom   N awaited puts, keys in random order, into an empty database
//   overwrite    N awaited puts over existing keys, random order
//   fillbatch    N puts in batches of 1000, random order, into an empty database
//   readrandom   N awaited gets of existing keys, random order
//   readsync     N synchronous gets (siltdb getSync, lmdb get)
//   readmissing  N awaited gets of absent keys
//   readseq      one forward scan of everything (for await)
//   readreverse  one reverse scan of everything
//   seekrandom   N/10 seeks (scan from a random key, limit 1)
// lmdb commits each awaited put in its own transaction (with fsync), so its
// put workloads are not comparable and are skipped; it is loaded with fillbatch.
// Results: a table on stdout, and bench/results/db_bench-<runtime>.json.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { keyOf, permutation } from "./_shared.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const N = Number(process.env.SILTDB_BENCH_N ?? 1_000_000);
const ENGINES = (process.env.SILTDB_BENCH_ENGINES ?? "siltdb,classic-level,lmdb").split(",");
const WORKLOADS = ["fillseq", "fillrandom", "overwrite", "fillbatch", "readrandom", "readsync", "readmissing", "readseq", "readreverse", "seekrandom"] as const;
type Workload = typeof WORKLOADS[number];

interface Engine {
  open(dir: string): Promise<void>;
  close(): Promise<void>;
  put(key: string, value: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  getSync?(key: string): Uint8Array | undefined;
  batch(entries: [string, Uint8Array][]): Promise<void>;
  scanCount(reverse: boolean): Promise<number>;
  seek(key: string): Promise<string | undefined>;
  skip?: Workload[];
  stats?(): unknown;
}

async function siltdb(bufferWrites = false): Promise<Engine> {
  const { open } = await import("../mod.ts");
  let db: Awaited<ReturnType<typeof open<{ keyEncoding: "utf8" }>>>;
  return {
    async open(dir) {
      db = await open(dir, { keyEncoding: "utf8", ...(bufferWrites ? { bufferWrites } : {}) });
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v),
    get: (k) => db.get(k),
    getSync: (k) => db.getSync(k),
    async batch(entries) {
      const b = db.batch();
      for (const [k, v] of entries) b.put(k, v);
      await b.write();
    },
    async scanCount(reverse) {
      let n = 0;
      for await (const _ of db.scan({ reverse })) n++;
      return n;
    },
    async seek(key) {
      for await (const [k] of db.scan({ gte: key, limit: 1 })) return k;
      return undefined;
    },
    stats: () => db.stats(),
  };
}

async function classicLevel(): Promise<Engine> {
  const { ClassicLevel } = await import("classic-level");
  let db: InstanceType<typeof ClassicLevel<string, Uint8Array>>;
  return {
    async open(dir) {
      db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
      await db.open();
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v),
    get: (k) => db.get(k),
    async batch(entries) {
      await db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value })));
    },
    async scanCount(reverse) {
      let n = 0;
      for await (const _ of db.iterator({ reverse })) n++;
      return n;
    },
    async seek(key) {
      for await (const [k] of db.iterator({ gte: key, limit: 1 })) return k;
      return undefined;
    },
  };
}

async function lmdb(): Promise<Engine> {
  const { open } = await import("lmdb");
  let db: ReturnType<typeof open<Uint8Array, string>>;
  return {
    skip: ["fillseq", "fillrandom", "overwrite"],
    async open(dir) {
      db = open<Uint8Array, string>({ path: dir, encoding: "binary", keyEncoding: "ordered-binary" });
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v).then(() => {}),
    get: (k) => Promise.resolve(db.get(k)),
    getSync: (k) => db.get(k),
    async batch(entries) {
      db.transactionSync(() => {
        for (const [k, v] of entries) db.putSync(k, v);
      });
    },
    async scanCount(reverse) {
      let n = 0;
      for (const _ of db.getRange({ reverse })) n++;
      return n;
    },
    async seek(key) {
      for (const { key: k } of db.getRange({ start: key, limit: 1 })) return k;
      return undefined;
    },
  };
}

const engines: Record<string, () => Promise<Engine>> = {
  siltdb: () => siltdb(),
  "siltdb-buffered": () => siltdb(true),
  "classic-level": classicLevel,
  lmdb,
};

// ---- child: one engine, every workload ------------------------------------------


async function runEngine(name: string): Promise<Record<string, unknown>> {
  const engine = await engines[name]();
  const values = Array.from({ length: 1024 }, (_, i) => Uint8Array.from({ length: 100 }, (_, j) => (i * 31 + j * 7) & 0xff));
  const order = permutation(N, 42);
  const results: Record<string, { opsPerSec: number; ms: number; ops: number }> = {};
  let peakRss = 0;
  const sample = () => peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const sampler = setInterval(sample, 100);
  const root = mkdtempSync(join(os.tmpdir(), `db-bench-${name}-`));
  const time = async (workload: Workload, ops: number, body: () => Promise<void>) => {
    if (engine.skip?.includes(workload)) return;
    const started = performance.now();
    await body();
    const ms = performance.now() - started;
    sample();
    results[workload] = { opsPerSec: (ops / ms) * 1000, ms, ops };
    console.error(`  ${name} ${workload}: ${Math.round((ops / ms) * 1000).toLocaleString("en-US")} ops/s`);
  };
  try {
    // Fresh databases for the fills.
    for (const [workload, ordered] of [["fillseq", true], ["fillrandom", false]] as const) {
      if (engine.skip?.includes(workload)) continue;
      await engine.open(join(root, workload));
      await time(workload, N, async () => {
        for (let i = 0; i < N; i++) await engine.put(keyOf(ordered ? i : order[i]), values[i & 1023]);
      });
      await engine.close();
    }
    await engine.open(join(root, "main"));
    await time("fillbatch", N, async () => {
      for (let i = 0; i < N; i += 1000) {
        const entries: [string, Uint8Array][] = [];
        for (let j = i; j < Math.min(N, i + 1000); j++) entries.push([keyOf(order[j]), values[j & 1023]]);
        await engine.batch(entries);
      }
    });
    const other = permutation(N, 7);
    await time("overwrite", N, async () => {
      for (let i = 0; i < N; i++) await engine.put(keyOf(other[i]), values[(i + 5) & 1023]);
    });
    const reads = permutation(N, 99);
    let found = 0;
    await time("readrandom", N, async () => {
      for (let i = 0; i < N; i++) if ((await engine.get(keyOf(reads[i]))) !== undefined) found++;
    });
    if (engine.getSync) {
      const getSync = engine.getSync;
      await time("readsync", N, async () => {
        for (let i = 0; i < N; i++) if (getSync(keyOf(reads[i])) !== undefined) found++;
      });
    }
    await time("readmissing", N, async () => {
      for (let i = 0; i < N; i++) if ((await engine.get(`${keyOf(reads[i])}x`)) !== undefined) found = -Infinity;
    });
    let scanned = 0;
    await time("readseq", N, async () => {
      scanned = await engine.scanCount(false);
    });
    await time("readreverse", N, async () => {
      scanned += await engine.scanCount(true);
    });
    const seeks = Math.max(1, Math.floor(N / 10));
    await time("seekrandom", seeks, async () => {
      for (let i = 0; i < seeks; i++) if ((await engine.seek(keyOf(reads[i]))) !== undefined) found++;
    });
    const stats = engine.stats?.();
    await engine.close();
    if (scanned !== 2 * N) throw new Error(`${name}: scans saw ${scanned} entries, expected ${2 * N}`);
    if (found < N) throw new Error(`${name}: only ${found} reads found their key`);
    return { engine: name, results, peakRssMiB: peakRss / 2 ** 20, stats };
  } finally {
    clearInterval(sampler);
    rmSync(root, { recursive: true, force: true });
  }
}

// ---- parent: run each engine in a child, compare ---------------------------------

function childCommand(engine: string): [string, string[]] {
  const script = new URL(import.meta.url).pathname;
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, "--engine", engine]];
  if (runtime === "bun") return [process.execPath, [script, "--engine", engine]];
  return [process.execPath, ["--import", "tsx", script, "--engine", engine]];
}

async function main(): Promise<void> {
  const engineArg = process.argv.indexOf("--engine");
  if (engineArg >= 0) {
    const result = await runEngine(process.argv[engineArg + 1]);
    console.log(JSON.stringify(result));
    return;
  }
  const version = runtime === "deno"
    ? (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
    : runtime === "bun" ? (process.versions as Record<string, string>).bun : process.version;
  console.log(`db_bench: ${N.toLocaleString("en-US")} keys, ${runtime} ${version}, ${os.cpus()[0]?.model} (${os.cpus().length} cores)`);
  const all: Record<string, { results: Record<string, { opsPerSec: number }>; peakRssMiB: number; stats?: unknown }> = {};
  for (const engine of ENGINES) {
    const [cmd, args] = childCommand(engine);
    const child = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 });
    if (child.status !== 0) {
      console.log(`${engine}: failed (exit ${child.status})`);
      continue;
    }
    all[engine] = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
  }
  const fmt = (n: number | undefined) => n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
  const mine = ENGINES.filter((e) => e.startsWith("siltdb") && all[e]);
  const peers = ENGINES.filter((e) => !e.startsWith("siltdb") && all[e]);
  const pairs = mine.flatMap((m) => peers.map((p) => [m, p] as const));
  const label = ([m, p]: readonly [string, string]) => `${m === "siltdb" ? "" : `${m.slice(7)} `}÷ ${p}`;
  console.log(`\n${"workload".padEnd(12)} ${ENGINES.map((e) => e.padStart(15)).join(" ")} ${pairs.map((pair) => label(pair).padStart(20)).join(" ")}`);
  for (const w of WORKLOADS) {
    const cells = ENGINES.map((e) => fmt(all[e]?.results[w]?.opsPerSec).padStart(15));
    const ratios = pairs.map(([m, p]) => {
      const ours = all[m].results[w]?.opsPerSec;
      // readsync compares siltdb getSync with the peer's fastest get.
      const theirs = all[p].results[w]?.opsPerSec ?? (w === "readsync" ? all[p].results.readrandom?.opsPerSec : undefined);
      return (ours && theirs ? `${(ours / theirs).toFixed(2)}x` : "—").padStart(20);
    });
    console.log(`${w.padEnd(12)} ${cells.join(" ")} ${ratios.join(" ")}`);
  }
  console.log(`${"peak RSS MiB".padEnd(12)} ${ENGINES.map((e) => (all[e] ? all[e].peakRssMiB.toFixed(0) : "—").padStart(15)).join(" ")}`);
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    new URL(`db_bench-${runtime}.json`, out),
    JSON.stringify({ runtime, version, n: N, cpu: os.cpus()[0]?.model, date: new Date().toISOString(), engines: all }, null, 2) + "\n",
  );
}

await main();
