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
//                SILTDB_COMP_WARMUP_MS (2,000) on the reopened store: steady state, with an
//                8 MiB block cache far smaller than the data, so most gets read a block from
//                storage (and decompress it). Both stores of a kind are read by one child
//                process in alternating slices of 250 ms, so that the noise of a shared
//                machine falls on both alike (fills run in a child process each); which
//                store is opened first, and reads first, alternates by round.
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
  waitForQuiet,
} from "./_runs.ts";

const env = process.env;
const N = Number(env.SILTDB_COMP_N ?? 200_000);
const REPEATS = Number(env.SILTDB_COMP_REPEATS ?? 3);
const SECONDS = Number(env.SILTDB_COMP_SECONDS ?? 5);
const WARMUP_MS = Number(env.SILTDB_COMP_WARMUP_MS ?? 2000);
const SLICE_MS = 250;
const KINDS = ["json", "random"] as const;
const CODECS = ["lz4", "none"] as const;

function sstBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith(".sst")).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

// ---- children ------------------------------------------------------------------------

/** fill|<kind>|<codec>|<dir>: fillrandom into a new store at dir, then flush and compact it. */
async function fill(kind: string, compression: "lz4" | "none", dir: string): Promise<Record<string, number>> {
  const { open } = await import("../mod.ts");
  const pool = values(kind);
  const order = permutation(N, 42);
  const db = await open(dir, { compression, blockCacheSize: 8 << 20 });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await db.put(keyOf(order[i]), pool[order[i] % pool.length]);
  const fillMs = performance.now() - t0;
  await db.flush();
  await db.compact();
  await db.close();
  let rawBytes = 0;
  for (let i = 0; i < N; i++) rawBytes += 16 + pool[i % pool.length].length;
  return { fillrandom: (N / fillMs) * 1000, tableBytes: sstBytes(dir), rawBytes };
}

/**
 * read|<kind>|<dir lz4>|<dir none>: readrandom on both stores (each with its
 * own 8 MiB cache), in alternating slices of SLICE_MS so that the machine's
 * noise falls on both alike.
 */
async function read(kind: string, first: number, dirs: string[]): Promise<Record<string, number>> {
  const { open } = await import("../mod.ts");
  const pool = values(kind);
  // Opened (and warmed) in the order the round gives: the first store opened reads a little faster.
  const order = dirs.map((_, i) => (i + first) % dirs.length);
  const openOne = (dir: string) => open(dir, { blockCacheSize: 8 << 20 });
  const stores = new Array<Awaited<ReturnType<typeof openOne>>>(dirs.length);
  for (const i of order) stores[i] = await openOne(dirs[i]);
  const random = uniform(99);
  const spent = stores.map(() => 0);
  const ops = stores.map(() => 0);
  const slice = async (i: number, ms: number, count: boolean) => {
    const db = stores[i];
    const started = performance.now();
    let n = 0;
    do {
      const k = Math.floor(random() * N);
      const got = await db.get(keyOf(k));
      if (got === undefined || got.length !== pool[k % pool.length].length) throw new Error(`wrong value for key ${k}`);
      n++;
    } while (performance.now() - started < ms);
    if (count) {
      spent[i] += performance.now() - started;
      ops[i] += n;
    }
  };
  for (const i of order) await slice(i, WARMUP_MS, false);
  const misses = stores.map((db) => db.stats().blockCache.misses);
  for (let round = 0; spent.some((ms) => ms < SECONDS * 1000); round++) {
    for (let j = 0; j < stores.length; j++) await slice((j + round) % stores.length, SLICE_MS, true);
  }
  const result: Record<string, number> = {};
  stores.forEach((db, i) => {
    result[`readrandom${i}`] = (ops[i] / spent[i]) * 1000;
    result[`blocksPerGet${i}`] = (db.stats().blockCache.misses - misses[i]) / ops[i];
  });
  await Promise.all(stores.map((db) => db.close()));
  return result;
}

function runEngine(engine: string): Promise<Record<string, number>> {
  const [phase, kind, ...rest] = engine.split("|");
  return phase === "fill" ? fill(kind, rest[0] as "lz4" | "none", rest[1]) : read(kind, Number(rest[0]), rest.slice(1));
}

// ---- parent -----------------------------------------------------------------------------

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const log = (line: string) => console.error(line);
  log(`compression bench: ${N} keys, ${REPEATS} rounds, ${runtimeVersion()}, ${machine()}`);
  const rounds: { load: number[]; results: Record<string, Record<string, number>> }[] = [];
  const args = runtime === "node" ? [...process.execArgv, self] : runtime === "deno" ? ["run", "-A", self] : [self];
  const child = (engine: string) => {
    const out = runChild(process.execPath, [...args, "--engine", engine], env, 30 * 60_000);
    if (!out.ok) throw new Error(`${engine}: ${out.why}`);
    return out.value as Record<string, number>;
  };
  for (let round = 0; round < REPEATS; round++) {
    const { load } = await waitForQuiet(
      Number(env.SILTDB_BENCH_QUIET_LOAD ?? 1.5),
      Number(env.SILTDB_BENCH_MAX_WAIT ?? 120),
      log,
    );
    const results: Record<string, Record<string, number>> = {};
    for (const kind of KINDS) {
      const dirs = CODECS.map(() => mkdtempSync(join(os.tmpdir(), "siltdb-comp-")));
      try {
        const codecs = round % 2 === 0 ? [0, 1] : [1, 0]; // which codec fills first alternates
        for (const c of codecs) results[`${kind}:${CODECS[c]}`] = child(`fill|${kind}|${CODECS[c]}|${dirs[c]}`);
        const r = child(`read|${kind}|${round % 2}|${dirs.join("|")}`);
        CODECS.forEach((codec, c) => {
          Object.assign(results[`${kind}:${codec}`], {
            readrandom: r[`readrandom${c}`],
            blocksPerGet: r[`blocksPerGet${c}`],
          });
          const x = results[`${kind}:${codec}`];
          log(
            `  round ${round + 1} ${`${kind}:${codec}`.padEnd(11)} fillrandom ${
              Math.round(x.fillrandom)
            } ops/s, readrandom ${Math.round(x.readrandom)} ops/s (${
              x.blocksPerGet.toFixed(2)
            } blocks read per get), tables ${(x.tableBytes / 2 ** 20).toFixed(1)} MiB`,
          );
        });
      } finally {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    }
    rounds.push({ load, results });
  }
  const pick = (config: string, field: string) => rounds.map((r) => r.results[config][field]);
  const lines = [
    `| data | compression | table MiB | raw/table | fillrandom ops/s | readrandom ops/s |`,
    `|---|---|---|---|---|---|`,
  ];
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
    const per = (field: string) =>
      rounds.map((r) => r.results[`${kind}:lz4`][field] / r.results[`${kind}:none`][field]);
    const show = (v: number[]) => `${median(v).toFixed(2)} (${span(v).map((x) => x.toFixed(2)).join("–")})`;
    ratios[kind] = {
      "none/lz4 table bytes": show(
        rounds.map((r) => r.results[`${kind}:none`].tableBytes / r.results[`${kind}:lz4`].tableBytes),
      ),
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
    JSON.stringify(
      {
        date: new Date().toISOString(),
        runtime: runtimeVersion(),
        machine: machine(),
        n: N,
        rounds,
        ratios,
        loadNow: loadNow(),
      },
      null,
      2,
    ) + "\n",
  );
}

if (!(await runAsChild(runEngine))) await main();
