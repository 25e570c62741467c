// Deno KV's API three ways, same workloads, same run: siltdb/kv (Deno KV's
// API on siltdb) in Node, Deno and Bun; Deno KV itself (Deno.openKv, SQLite,
// in Deno); and @deno/kv (the npm build of Deno KV's SQLite backend, a
// native addon, in Node). Each engine runs in its own child process on a
// fresh on-disk store in a temporary directory; rounds repeat with the order
// rotating, and every round records the machine's load.
//
//   npm run bench:kv                     (node --import tsx bench/kv_bench.ts)
//   node --import tsx bench/txn_report.ts (npm run bench:kv runs it: docs/benchmarks.md)
//
// siltdb/kv is loaded from SILTDB_KV_MODULE (a path to kv.ts or dist/kv.js)
// or else from ./kv.ts at the root of this checkout; without either its
// engines are reported as not run.
//
// The store: N entries (default 100,000) at ["u", g, j], g < N / 100,
// j < 100, each an object of 6 fields (about 100 bytes), loaded by atomic
// commits of 500 sets (untimed). Workloads, each one operation at a time,
// awaited, for SILTDB_KV_SECONDS (3) after SILTDB_KV_WARMUP_MS (300):
//   set           kv.set(["s", random id], object): a new key each time
//   get           kv.get of a random loaded key
//   getMany10     kv.getMany of 10 random loaded keys
//   list100       kv.list({ prefix: ["u", g] }) of a random g, read to the end (100 entries)
//   atomic        kv.atomic().check({ key, versionstamp }).set(key, object).commit() on a
//                 random loaded key, with its current versionstamp (always succeeds)
//   sum           kv.atomic().sum(["n", random of 100], 1n).commit()
//   contended     W writers (8) on K keys (10): get, then atomic().check(entry).set(key,
//                 value + 1).commit(), again while { ok: false }: commits/s, retries per commit
// Checked: every list returns 100 entries, every atomic commit succeeds, the
// sums and the contended counters add up to the commits.
//
// Durability as shipped: Deno KV and @deno/kv commit to SQLite in WAL mode
// (synchronous FULL: an fsync per commit, shared by the commits batched
// together); siltdb/kv resolves a commit once fsynced (shared by the commits
// of a moment). siltdb-kv-nosync (openKv(path, { sync: false })) is shown
// apart, as what the fsync costs; it is not compared with the others.
//
// Environment: SILTDB_KV_N, SILTDB_KV_SECONDS, SILTDB_KV_WARMUP_MS,
// SILTDB_KV_REPEATS (3), SILTDB_KV_WRITERS (8), SILTDB_KV_HOT_KEYS (10),
// SILTDB_KV_ENGINES (comma-separated engine@runtime, e.g.
// siltdb-kv@node,deno-kv@deno), SILTDB_BENCH_QUIET_LOAD (1.5),
// SILTDB_BENCH_MAX_WAIT (300); SILTDB_KV_SOURCE names the siltdb/kv copy in the
// report when it is not a git checkout.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { uniform } from "./_shared.ts";
import {
  binaryVersion,
  contended,
  machine,
  type Measured,
  rotatingRounds,
  runAsChild,
  runChild,
  runtime,
  runtimeVersion,
  timeBoxed,
} from "./_runs.ts";

const N = Number(process.env.SILTDB_KV_N ?? 100_000);
const SECONDS = Number(process.env.SILTDB_KV_SECONDS ?? 3);
const WARMUP_MS = Number(process.env.SILTDB_KV_WARMUP_MS ?? 300);
const REPEATS = Number(process.env.SILTDB_KV_REPEATS ?? 3);
const WRITERS = Number(process.env.SILTDB_KV_WRITERS ?? 8);
const HOT = Number(process.env.SILTDB_KV_HOT_KEYS ?? 10);
const QUIET = Number(process.env.SILTDB_BENCH_QUIET_LOAD ?? 1.5);
const MAX_WAIT = Number(process.env.SILTDB_BENCH_MAX_WAIT ?? 300);
const GROUPS = Math.max(1, Math.floor(N / 100));

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_ENGINES = [
  "siltdb-kv@node",
  "siltdb-kv@deno",
  "siltdb-kv@bun",
  "deno-kv@deno",
  "@deno/kv@node",
  "siltdb-kv-nosync@node",
];
const LABELS: Record<string, string> = {
  "siltdb-kv": "siltdb/kv",
  "siltdb-kv-nosync": "siltdb/kv sync: false",
  "deno-kv": "Deno KV",
  "@deno/kv": "@deno/kv",
};
const RUNTIME_NAMES: Record<string, string> = { node: "Node", deno: "Deno", bun: "Bun" };

/** Where siltdb/kv comes from: SILTDB_KV_MODULE, else ./kv.ts of this checkout. */
function kvModule(): string | undefined {
  const given = process.env.SILTDB_KV_MODULE;
  if (given) return resolve(given);
  const own = join(root, "kv.ts");
  return existsSync(own) ? own : undefined;
}

// ---- the API the three share (Deno KV's) -----------------------------------------

type Key = (string | number | bigint | boolean | Uint8Array)[];
interface Entry {
  key: Key;
  value: unknown;
  versionstamp: string | null;
}
interface Atomic {
  check(...checks: { key: Key; versionstamp: string | null }[]): Atomic;
  set(key: Key, value: unknown): Atomic;
  sum(key: Key, n: bigint): Atomic;
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
}
interface Kv {
  get(key: Key): Promise<Entry>;
  getMany(keys: Key[]): Promise<Entry[]>;
  set(key: Key, value: unknown): Promise<{ ok: boolean; versionstamp: string }>;
  list(selector: { prefix: Key }): AsyncIterable<Entry>;
  atomic(): Atomic;
  close(): void | Promise<void>;
}

async function openEngine(engine: string, path: string): Promise<Kv> {
  if (engine === "deno-kv") {
    const deno = (globalThis as unknown as { Deno?: { openKv?(path: string): Promise<Kv> } }).Deno;
    if (deno?.openKv === undefined) throw new Error("Deno KV runs in Deno only, with --unstable-kv");
    return await deno.openKv(`${path}.sqlite3`);
  }
  if (engine === "@deno/kv") {
    if (runtime !== "node") throw new Error("@deno/kv is measured in Node (in Deno it is Deno KV itself)");
    let mod: { openKv(path: string): Promise<Kv> };
    try {
      mod = await import("@deno/kv") as unknown as typeof mod;
      return await mod.openKv(`${path}.sqlite3`);
    } catch (err) {
      throw new Error(
        `@deno/kv cannot load here (${String((err as Error)?.message ?? err).split("\n")[0]}); ` +
          `it ships native builds for linux-x64/arm64 (glibc), darwin and win32-x64 only`,
      );
    }
  }
  if (engine === "siltdb-kv" || engine === "siltdb-kv-nosync") {
    const file = kvModule();
    if (file === undefined) {
      throw new Error("siltdb/kv not found: no ./kv.ts here; set SILTDB_KV_MODULE=/path/to/kv.ts");
    }
    const mod = await import(pathToFileURL(file).href) as {
      openKv(path: string, options?: Record<string, unknown>): Promise<Kv>;
    };
    return await mod.openKv(path, engine === "siltdb-kv-nosync" ? { sync: false } : undefined);
  }
  throw new Error(`unknown engine ${engine}`);
}

// ---- child: one engine, every workload -----------------------------------------------

function record(i: number) {
  return {
    id: i,
    name: `user-${i}`,
    email: `user${i}@example.com`,
    score: (i % 1000) / 10,
    tags: ["alpha", "beta"],
    active: (i & 1) === 0,
  };
}

async function runEngine(engine: string): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(os.tmpdir(), `kv-bench-${engine.replace(/\W/g, "_")}-`));
  const results: Record<string, Measured> = {};
  const checks: string[] = [];
  const say = (w: string, m: Measured, more = "") =>
    console.error(`  ${engine}@${runtime} ${w}: ${Math.round(m.opsPerSec).toLocaleString("en-US")} ops/s${more}`);
  try {
    const kv = await openEngine(engine, join(dir, "kv"));
    // Load: atomic commits of 500 sets, every entry's versionstamp kept.
    const versionstamps: string[] = new Array(GROUPS * 100);
    const loadStarted = performance.now();
    for (let start = 0; start < GROUPS * 100; start += 500) {
      const op = kv.atomic();
      const end = Math.min(GROUPS * 100, start + 500);
      for (let i = start; i < end; i++) op.set(["u", Math.floor(i / 100), i % 100], record(i));
      const res = await op.commit();
      if (!res.ok || res.versionstamp === undefined) throw new Error("a loading commit failed");
      for (let i = start; i < end; i++) versionstamps[i] = res.versionstamp;
    }
    const loadMs = performance.now() - loadStarted;
    console.error(
      `  ${engine}@${runtime} loaded ${(GROUPS * 100).toLocaleString("en-US")} entries in ${loadMs.toFixed(0)} ms`,
    );
    const random = uniform(11);
    const pick = () => Math.floor(random() * GROUPS * 100);
    const keyAt = (i: number): Key => ["u", Math.floor(i / 100), i % 100];

    results.set = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      await kv.set(["s", Math.floor(random() * 2 ** 40)], record(7));
    });
    say("set", results.set);

    let missing = 0;
    results.get = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      if ((await kv.get(keyAt(pick()))).versionstamp === null) missing++;
    });
    say("get", results.get);

    const keys10: Key[] = new Array(10);
    results.getMany10 = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      for (let k = 0; k < 10; k++) keys10[k] = keyAt(pick());
      for (const e of await kv.getMany(keys10)) if (e.versionstamp === null) missing++;
    });
    say("getMany10", results.getMany10);
    if (missing > 0) checks.push(`${missing} loaded keys read as missing`);

    let shortLists = 0;
    results.list100 = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      let n = 0;
      for await (const _ of kv.list({ prefix: ["u", Math.floor(random() * GROUPS)] })) n++;
      if (n !== 100) shortLists++;
    });
    say("list100", results.list100);
    if (shortLists > 0) checks.push(`${shortLists} lists did not return 100 entries`);

    let failed = 0;
    results.atomic = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      const i = pick();
      const key = keyAt(i);
      const res = await kv.atomic().check({ key, versionstamp: versionstamps[i] }).set(key, record(i)).commit();
      if (!res.ok || res.versionstamp === undefined) failed++;
      else versionstamps[i] = res.versionstamp;
    });
    say("atomic", results.atomic);
    if (failed > 0) checks.push(`${failed} check+set commits failed (single writer: none should)`);

    let sums = 0;
    results.sum = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      const res = await kv.atomic().sum(["n", Math.floor(random() * 100)], 1n).commit();
      if (res.ok) sums++;
    });
    say("sum", results.sum);
    let summed = 0n;
    for await (const e of kv.list({ prefix: ["n"] })) summed += (e.value as { value: bigint }).value;
    if (summed !== BigInt(sums)) checks.push(`sums: counters ${summed} != commits ${sums}`);

    for (let k = 0; k < HOT; k++) await kv.set(["c", k], 0);
    const picks = Array.from({ length: WRITERS }, (_, w) => uniform(200 + w));
    let commits = 0;
    results.contended = await contended(WRITERS, SECONDS, WARMUP_MS, async (w) => {
      const key: Key = ["c", Math.floor(picks[w]() * HOT)];
      for (let attempts = 1;; attempts++) {
        const entry = await kv.get(key);
        const res = await kv.atomic().check(entry).set(key, (entry.value as number) + 1).commit();
        if (res.ok) {
          commits++;
          return attempts;
        }
      }
    });
    say(
      "contended",
      results.contended,
      ` (commits/s; ${results.contended.retriesPerCommit.toFixed(2)} retries per commit)`,
    );
    let counted = 0;
    for (let k = 0; k < HOT; k++) counted += (await kv.get(["c", k])).value as number;
    if (counted !== commits) checks.push(`contended: counters ${counted} != commits ${commits}`);
    await kv.close();
    return { version: runtimeVersion(), loadMs, results, checks: checks.length === 0 ? ["all checks passed"] : checks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- parent: rounds of children ------------------------------------------------------

const bin = (name: string) => join(root, "node_modules", ".bin", name);
const RUNTIMES: Record<string, { cmd: string; args: (script: string) => string[] }> = {
  node: { cmd: bin("node"), args: (s) => ["--import", "tsx", s] },
  deno: { cmd: bin("deno"), args: (s) => ["run", "-A", "--unstable-kv", s] },
  bun: { cmd: bin("bun"), args: (s) => [s] },
};

async function main(): Promise<void> {
  if (await runAsChild(runEngine)) return;
  const wanted = process.env.SILTDB_KV_ENGINES?.split(",") ?? DEFAULT_ENGINES;
  const script = fileURLToPath(import.meta.url);
  const versions: Record<string, string | undefined> = {};
  for (const [name, r] of Object.entries(RUNTIMES)) {
    // The project's own runtimes (npm packages node, deno, bun); Node falls back to this one.
    if (!existsSync(r.cmd) && name === "node") r.cmd = process.execPath;
    versions[name] = existsSync(r.cmd) || name === "node" ? binaryVersion(r.cmd, name) : undefined;
  }
  const module = kvModule();
  let kvSource: string | undefined;
  if (module !== undefined) {
    const git = spawnSync("git", ["-C", dirname(module), "log", "-1", "--format=%h %cI %s"], { encoding: "utf8" });
    const dirty = spawnSync("git", ["-C", dirname(module), "status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    kvSource = `${module}${
      git.status === 0
        ? ` (git ${git.stdout.trim().slice(0, 90)}${dirty.stdout.trim() ? ", with uncommitted changes" : ""})`
        : ""
    }`;
  }
  // SILTDB_KV_SOURCE: where that copy of siltdb/kv came from (e.g. a branch and commit), for the report.
  if (process.env.SILTDB_KV_SOURCE) kvSource = `${process.env.SILTDB_KV_SOURCE} (${module ?? "not found"})`;
  const cpu = machine();
  console.log(
    `kv_bench: ${cpu}; ${Object.entries(versions).map(([k, v]) => v ?? `${k} missing`).join(", ")}; ` +
      `${(GROUPS * 100).toLocaleString("en-US")} entries, ${SECONDS} s per workload, ${REPEATS} rounds; ` +
      `siltdb/kv: ${kvSource ?? "not found"}`,
  );
  const started = new Date().toISOString();
  const { rounds, unavailable } = await rotatingRounds(wanted, REPEATS, QUIET, MAX_WAIT, (id) => {
    const at = id.lastIndexOf("@");
    const [engine, rt] = [id.slice(0, at), id.slice(at + 1)];
    const runner = RUNTIMES[rt];
    if (runner === undefined || versions[rt] === undefined) return { ok: false, why: `runtime ${rt} not found` };
    const out = runChild(runner.cmd, [...runner.args(script), "--engine", engine], {
      ...process.env,
      ...(module ? { SILTDB_KV_MODULE: module } : {}),
    }, 900_000);
    return out.ok ? out : { ok: false, why: out.why.slice(0, 240) };
  });
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL("kv.json", out);
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: "kv",
        cpu,
        versions,
        date: started,
        n: GROUPS * 100,
        seconds: SECONDS,
        warmupMs: WARMUP_MS,
        writers: WRITERS,
        hotKeys: HOT,
        quietLoad: QUIET,
        siltdbKv: kvSource ?? null,
        labels: Object.fromEntries(
          wanted.map((id) => {
            const at = id.lastIndexOf("@");
            return [
              id,
              `${LABELS[id.slice(0, at)] ?? id.slice(0, at)} (${RUNTIME_NAMES[id.slice(at + 1)] ?? id.slice(at + 1)})`,
            ];
          }),
        ),
        rounds,
        unavailable,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`results: ${file.pathname}`);
}

await main();
