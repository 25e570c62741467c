// The scale benchmark (issue 21): how the cost of each operation grows from
// 100,000 to 10,000,000 keys, for siltdb (default options, and with
// compression "lz4"), classic-level and lmdb in Node, each engine and size
// in its own child process on a fresh store under the OS temporary
// directory (deleted afterwards).
//
//   npm run bench -- --scale            (node --import tsx bench/scale_bench.ts)
//
// Environment: SILTDB_SCALE_SIZES (comma-separated key counts, default
// 100000,1000000,10000000), SILTDB_SCALE_ENGINES (default
// siltdb,siltdb-lz4,classic-level,lmdb: names from bench/engines.ts, opened
// as there), SILTDB_SCALE_SECONDS (seconds per time-boxed read workload,
// default 5), SILTDB_SCALE_WAIT (seconds to wait at most for a 1-minute load
// below 1.5 before each child, default 20).
//
// Workloads (16-byte db_bench keys; 100-byte values that compress to half,
// as db_bench's --compression_ratio=0.5: 50 random bytes written twice, from
// a 1 MB pool made from a fixed seed and taken in turn, as db_bench's
// RandomGenerator does):
//   fillrandom  all N keys in a random order, in batches of 1,000 (db_bench's
//               fillrandom with --batch_size=1000), into an empty store
//   readrandom  awaited get of random existing keys, for SILTDB_SCALE_SECONDS
//   readsync    synchronous get (siltdb getSync, classic-level getSync, lmdb get), as long
//   seekrandom  seek to a random existing key and read the next 10 entries, as long
//   readseq     one full forward scan (N entries)
// Every value read is checked (its length; a scan also its count). The reads
// run right after the load (siltdb's compactions still running); for siltdb
// they run again after db.waitForCompactions() ("settled"). The peers read
// right after their load only: classic-level compacts in the background as
// LevelDB does, and lmdb (a B+ tree) has nothing to settle.
//
// Recorded per engine and size: ops/s per workload, the time of the load,
// peak RSS (getrusage maxRSS: lmdb's includes its memory-mapped file), bytes
// on disk (allocated blocks) after the load, at the end, and settled, bytes
// the process wrote to storage (/proc/self/io write_bytes, every thread of
// the process: the same measure for every engine) per user byte (keys +
// values), siltdb's own stats().writeAmplification, and the machine's load
// before and after each child. Results are appended to
// bench/results/scale-node.json (one object per run); bench/scale_report.ts
// prints the tables and draws bench/results/scale-node.svg.

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadNow, machine, runAsChild, runChild, runtimeVersion, waitForQuiet } from "./_runs.ts";
import { keyOf, permutation, uniform } from "./_shared.ts";
import { type Engine, ENGINES } from "./engines.ts";
import { type ScaleFigures, scaleReport, type ScaleRun } from "./scale_report.ts";

const SIZES = (process.env.SILTDB_SCALE_SIZES ?? "100000,1000000,10000000").split(",").map(Number);
const ENGINE_NAMES = (process.env.SILTDB_SCALE_ENGINES ?? "siltdb,siltdb-lz4,classic-level,lmdb").split(",");
const SECONDS = Number(process.env.SILTDB_SCALE_SECONDS ?? 5);
const MAX_WAIT = Number(process.env.SILTDB_SCALE_WAIT ?? 20);
const VALUE = 100;
const BATCH = 1000;
const RESULTS = new URL("./results/scale-node.json", import.meta.url);

// ---- measures of this process --------------------------------------------------------

/** This process's I/O counters (/proc/self/io; zeros where there is none). */
function io(): { writeBytes: number; cancelledWriteBytes: number; wchar: number; readBytes: number } {
  const text = existsSync("/proc/self/io") ? readFileSync("/proc/self/io", "utf8") : "";
  const field = (name: string) => Number(text.match(new RegExp(`^${name}: (\\d+)`, "m"))?.[1] ?? 0);
  return {
    writeBytes: field("write_bytes"),
    cancelledWriteBytes: field("cancelled_write_bytes"),
    wchar: field("wchar"),
    readBytes: field("read_bytes"),
  };
}

/** Allocated bytes of every file under `dir` (what `du` counts); a file renamed or deleted meanwhile counts 0. */
function diskBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name), { throwIfNoEntry: false });
    if (st === undefined) continue; // a background compaction renamed or deleted it between the two calls
    bytes += st.isDirectory() ? diskBytes(join(dir, name)) : st.blocks * 512;
  }
  return bytes;
}

const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** The value pool: 10,000 values of 100 bytes, each 50 seeded random bytes written twice (compress to half). */
function valuePool(): Uint8Array {
  const pool = new Uint8Array(10_000 * VALUE);
  const random = uniform(301);
  for (let at = 0; at < pool.length; at += VALUE) {
    for (let j = 0; j < VALUE / 2; j++) pool[at + j] = Math.floor(random() * 256);
    pool.copyWithin(at + VALUE / 2, at, at + VALUE / 2);
  }
  return pool;
}

// ---- child: one engine, one size ------------------------------------------------------

interface Reads {
  readrandom: number;
  readsync?: number;
  seekrandom: number;
  readseq: number;
}

async function runEngine(name: string): Promise<ScaleFigures> {
  const n = Number(process.env.SILTDB_SCALE_N);
  if (!(n > 0)) throw new Error("SILTDB_SCALE_N must be a key count");
  const engine: Engine = await ENGINES[name]();
  if (engine.seekValueBytes === undefined || engine.scanValueBytes === undefined) {
    throw new Error(`${name} has no seekValueBytes/scanValueBytes in bench/engines.ts`);
  }
  const label = `${name} ${int(n)}`;
  const log = (line: string) => console.error(`  ${label}: ${line}`);
  const pool = valuePool();
  const valueOf = (i: number) => pool.subarray((i % 10_000) * VALUE, (i % 10_000 + 1) * VALUE);
  const order = permutation(n, 42);
  const root = mkdtempSync(join(os.tmpdir(), `siltdb-scale-${name.replace(/\W/g, "_")}-`));
  const dir = join(root, "db");
  const userBytes = n * (16 + VALUE);
  let opened = false;
  try {
    const io0 = io();
    await engine.open(dir);
    opened = true;
    // fillrandom, in batches of 1,000
    const started = performance.now();
    let nextTenth = 1;
    for (let i = 0; i < n; i += BATCH) {
      const entries: [string, Uint8Array][] = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) entries.push([keyOf(order[j]), valueOf(j)]);
      await engine.batch(entries);
      if (i + BATCH >= (n * nextTenth) / 10) {
        log(`loaded ${nextTenth * 10}% in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        nextTenth++;
      }
    }
    const loadMs = performance.now() - started;
    const ioLoad = io();
    const afterLoad = {
      diskBytes: diskBytes(dir),
      writeBytes: ioLoad.writeBytes - io0.writeBytes,
      stats: siltStats(engine),
    };
    log(
      `fillrandom ${int((n / loadMs) * 1000)} keys/s (${(loadMs / 1000).toFixed(1)} s), ${
        mib(afterLoad.diskBytes)
      } MiB on disk, write amp ${(afterLoad.writeBytes / userBytes).toFixed(2)}`,
    );
    const reads = await readAll(engine, n, log, "after load");
    let settled: ScaleFigures["settled"];
    if (engine.settle !== undefined) {
      const t = performance.now();
      await engine.settle();
      const settleMs = performance.now() - t;
      log(`settled (waitForCompactions) in ${(settleMs / 1000).toFixed(1)} s`);
      const ioSettled = io();
      settled = {
        settleMs,
        diskBytes: diskBytes(dir),
        writeBytes: ioSettled.writeBytes - io0.writeBytes,
        stats: siltStats(engine),
        reads: { ...await readAll(engine, n, log, "settled") },
      };
      log(`settled: ${mib(settled.diskBytes)} MiB on disk`);
    }
    const ioEnd = io();
    const end = { diskBytes: diskBytes(dir), writeBytes: ioEnd.writeBytes - io0.writeBytes };
    opened = false;
    await engine.close();
    return {
      engine: name,
      n,
      userBytes,
      loadMs,
      fillrandom: (n / loadMs) * 1000,
      afterLoad: { ...afterLoad, reads },
      settled,
      end: {
        ...end,
        cancelledWriteBytes: ioEnd.cancelledWriteBytes - io0.cancelledWriteBytes,
        wchar: ioEnd.wchar - io0.wchar,
        readBytes: ioEnd.readBytes - io0.readBytes,
      },
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    // After a failure too: close first, so that no background compaction writes into the directory being removed.
    if (opened) await Promise.resolve(engine.close()).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
}

/** The figures of siltdb's stats() that the report shows (undefined for peers). */
function siltStats(engine: Engine): Record<string, number> | undefined {
  const s = engine.stats?.() as
    | {
      writeAmplification: number;
      spaceAmplification: number;
      sortedRuns: number;
      stallMs: number;
      slowdowns: number;
      compaction: { count: number; trivialMoves: number };
    }
    | undefined;
  if (s === undefined) return undefined;
  return {
    writeAmplification: s.writeAmplification,
    spaceAmplification: s.spaceAmplification,
    sortedRuns: s.sortedRuns,
    stallMs: s.stallMs,
    slowdowns: s.slowdowns,
    compactions: s.compaction.count,
    trivialMoves: s.compaction.trivialMoves,
  };
}

/** The four read workloads, in this order: readsync, readrandom, seekrandom, readseq. */
async function readAll(engine: Engine, n: number, log: (line: string) => void, phase: string): Promise<Reads> {
  const random = uniform(n + (phase === "settled" ? 2 : 1));
  const pick = () => Math.floor(random() * n);
  const wrong = (what: string) => new Error(`${what}: a value read back is not ${VALUE} bytes`);
  const boxed = async (workload: string, op: () => unknown, check: number) => {
    // Time-boxed: the clock is read every `check` operations.
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let ops = 0;
    do {
      for (let i = 0; i < check; i++) await op();
      ops += check;
    } while (performance.now() < deadline);
    const perSec = (ops / (performance.now() - started)) * 1000;
    log(`${phase} ${workload} ${int(perSec)} ops/s`);
    return perSec;
  };
  let readsync: number | undefined;
  if (!engine.skip?.includes("readsync")) {
    // A synchronous loop: no await between the gets.
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let ops = 0;
    do {
      for (let i = 0; i < 1000; i++) {
        if (engine.getSync(keyOf(pick()))?.length !== VALUE) throw wrong("readsync");
      }
      ops += 1000;
    } while (performance.now() < deadline);
    readsync = (ops / (performance.now() - started)) * 1000;
    log(`${phase} readsync ${int(readsync)} ops/s`);
  }
  const readrandom = await boxed("readrandom", async () => {
    if ((await engine.get(keyOf(pick())))?.length !== VALUE) throw wrong("readrandom");
  }, 256);
  const seekrandom = await boxed("seekrandom", async () => {
    const at = pick();
    if ((await engine.seekValueBytes!(keyOf(at), 10)) !== Math.min(10, n - at) * VALUE) throw wrong("seekrandom");
  }, 64);
  const t = performance.now();
  const scan = await engine.scanValueBytes!();
  const readseq = (n / (performance.now() - t)) * 1000;
  if (scan.entries !== n || scan.bytes !== n * VALUE) {
    throw new Error(`readseq: ${scan.entries} entries of ${scan.bytes} bytes, expected ${n} of ${n * VALUE}`);
  }
  log(`${phase} readseq ${int(readseq)} entries/s`);
  return { readrandom, readsync, seekrandom, readseq };
}

// ---- parent: every size, every engine, a child each ------------------------------------

function saveRun(run: ScaleRun): void {
  const runs: ScaleRun[] = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : [];
  const at = runs.findIndex((r) => r.date === run.date);
  if (at >= 0) runs[at] = run;
  else runs.push(run);
  mkdirSync(new URL("./", RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(runs, null, 2) + "\n");
}

async function main(): Promise<void> {
  if (await runAsChild(runEngine)) return;
  const script = fileURLToPath(import.meta.url);
  const run: ScaleRun = {
    date: new Date().toISOString(),
    machine: machine(),
    version: runtimeVersion(),
    sizes: SIZES,
    engines: ENGINE_NAMES,
    secondsPerRead: SECONDS,
    load: loadNow(),
    results: [],
    unavailable: {},
  };
  console.log(
    `scale bench: ${SIZES.map(int).join(", ")} keys; ${ENGINE_NAMES.join(", ")}; ${run.version}, ${run.machine}; ` +
      `${SECONDS} s per read workload; load ${run.load.join(" ")}`,
  );
  const began = Date.now();
  for (const n of SIZES) {
    for (const name of ENGINE_NAMES) {
      if (run.unavailable[name] !== undefined) continue;
      spawnSync("sync"); // the previous child's dirty pages go out before this one starts
      const quiet = await waitForQuiet(1.5, MAX_WAIT, console.log);
      const t = Date.now();
      console.log(`${name}, ${int(n)} keys: started (load ${quiet.load.join(" ")})`);
      const out = runChild(
        process.execPath,
        ["--import", "tsx", script, "--engine", name],
        { ...process.env, SILTDB_SCALE_N: String(n) },
        3 * 3600_000,
      );
      if (!out.ok) {
        run.unavailable[name] = out.why;
        console.log(`${name}, ${int(n)} keys: cannot run (${out.why})`);
        continue;
      }
      const seconds = (Date.now() - t) / 1000;
      run.results.push({
        ...(out.value as unknown as ScaleFigures),
        seconds,
        loadBefore: quiet.load,
        loadAfter: loadNow(),
      });
      console.log(`${name}, ${int(n)} keys: done in ${seconds.toFixed(0)} s`);
      saveRun(run);
    }
  }
  run.seconds = (Date.now() - began) / 1000;
  saveRun(run);
  console.log(`\nscale bench done in ${(run.seconds / 60).toFixed(1)} min; results: bench/results/scale-node.json\n`);
  scaleReport();
}

await main();
