// Helpers of the benchmarks that repeat rounds of child processes
// (txn_bench.ts, kv_bench.ts): the machine and its load, waiting for a
// quieter moment, time-boxed loops, and medians and ranges over repeats.

import { spawnSync } from "node:child_process";
import os from "node:os";
import process from "node:process";

/** The CPU, its cores and the memory, e.g. "AMD EPYC (2 cores), 24 GiB". */
export function machine(): string {
  return `${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} cores), ${
    Math.round(os.totalmem() / 2 ** 30)
  } GiB`;
}

/** The load averages (1, 5, 15 minutes), as `uptime` prints them. */
export function loadNow(): [number, number, number] {
  const [a, b, c] = os.loadavg();
  return [round2(a), round2(b), round2(c)];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Waits until the 1-minute load average is below `threshold`, checking every
 * 10 s, for at most `maxSeconds`; returns the load it started at and how
 * long it waited. Other work shares this machine: a round started under
 * load is recorded with that load rather than skipped.
 */
export async function waitForQuiet(
  threshold: number,
  maxSeconds: number,
  log: (line: string) => void,
): Promise<{ waitedSeconds: number; load: [number, number, number] }> {
  const started = Date.now();
  let load = loadNow();
  let told = false;
  while (load[0] >= threshold && (Date.now() - started) / 1000 < maxSeconds) {
    if (!told) log(`  load ${load.join(" ")} ≥ ${threshold}: waiting up to ${maxSeconds} s for a quieter moment`);
    told = true;
    await new Promise((r) => setTimeout(r, 10_000));
    load = loadNow();
  }
  return { waitedSeconds: Math.round((Date.now() - started) / 1000), load };
}

/** The version line of a runtime binary (`node --version`, `deno --version`, `bun --version`). */
export function binaryVersion(bin: string, name: string): string | undefined {
  const out = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (out.status !== 0) return undefined;
  const first = out.stdout.trim().split("\n")[0];
  return first.startsWith(name) ? first.split(" (")[0] : `${name} ${first}`;
}

/** Which runtime runs this code. */
export const runtime: "node" | "deno" | "bun" = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** The version of the running runtime, e.g. "node v24.21.0". */
export function runtimeVersion(): string {
  if (runtime === "deno") {
    return `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`;
  }
  if (runtime === "bun") return `bun ${(process.versions as Record<string, string>).bun}`;
  return `node ${process.version}`;
}

/** One measured workload. */
export interface Measured {
  ops: number;
  ms: number;
  opsPerSec: number;
  [extra: string]: number;
}

/**
 * Runs `op(i)` one at a time, awaited: first for `warmupMs` (not counted),
 * then until `seconds` have passed; ops/s over the measured part.
 */
export async function timeBoxed(
  seconds: number,
  warmupMs: number,
  op: (i: number) => unknown,
): Promise<Measured> {
  let i = 0;
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await op(i++);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let ops = 0;
  do {
    await op(i++);
    ops++;
  } while (performance.now() < deadline);
  const ms = performance.now() - started;
  return { ops, ms, opsPerSec: (ops / ms) * 1000 };
}

/**
 * `writers` concurrent loops of `op(writer)` until `seconds` have passed
 * (after `warmupMs` of the same, not counted); `op` resolves with how many
 * attempts its commit took (1 = at the first try). Gives commits/s and
 * retries per commit.
 */
export async function contended(
  writers: number,
  seconds: number,
  warmupMs: number,
  op: (writer: number) => Promise<number>,
): Promise<Measured> {
  const run = async (ms: number) => {
    const deadline = performance.now() + ms;
    let commits = 0;
    let attempts = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < deadline) {
        const took = await op(w); // (attempts += await …) would read attempts before the await
        attempts += took;
        commits++;
      }
    }));
    return { commits, attempts, ms: performance.now() - started };
  };
  await run(warmupMs);
  const { commits, attempts, ms } = await run(seconds * 1000);
  return {
    ops: commits,
    ms,
    opsPerSec: (commits / ms) * 1000,
    attempts,
    retriesPerCommit: commits === 0 ? 0 : (attempts - commits) / commits,
  };
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** The smallest and largest finite value. */
export function span(values: number[]): [number, number] {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length === 0 ? [NaN, NaN] : [Math.min(...v), Math.max(...v)];
}

/**
 * The child's side of runChild: when this process was started with
 * `--engine <name>`, runs that engine and prints its result (or, when it
 * cannot run, `{ error }` with exit code 2) as the last stdout line, and
 * resolves true; otherwise resolves false (this is the parent).
 *
 * @example
 * ```ts
 * declare function runEngine(name: string): Promise<unknown>;
 * if (!(await runAsChild(runEngine))) console.log("the parent: start the children");
 * ```
 */
export async function runAsChild(run: (engine: string) => Promise<unknown>): Promise<boolean> {
  const engineArg = process.argv.indexOf("--engine");
  if (engineArg < 0) return false;
  // Progress goes to stderr as it happens; the result (or why the engine cannot run) is the last stdout line.
  try {
    console.log(JSON.stringify(await run(process.argv[engineArg + 1])));
  } catch (err) {
    console.log(JSON.stringify({ error: String((err as Error)?.message ?? err).split("\n")[0] }));
    process.exitCode = 2;
  }
  return true;
}

/**
 * Runs one child process and returns the JSON object on the last line of
 * its stdout (its progress goes to stderr), or why it could not run.
 */
export function runChild(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs: number,
): { ok: true; value: Record<string, unknown> } | { ok: false; why: string } {
  const child = spawnSync(cmd, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env,
    maxBuffer: 1 << 26,
    timeout: timeoutMs,
  });
  const last = (child.stdout ?? "").trim().split("\n").at(-1) ?? "";
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(last);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && typeof parsed.error === "string") return { ok: false, why: parsed.error };
  if (child.error !== undefined) return { ok: false, why: String(child.error.message).split("\n")[0] };
  if (child.status !== 0 || parsed === undefined) {
    return { ok: false, why: `exit ${child.status ?? child.signal}${last ? `: ${last.slice(0, 160)}` : ""}` };
  }
  return { ok: true, value: parsed };
}

/**
 * Runs `repeats` rounds over the engines, each after waitForQuiet, the
 * order rotated by one engine per round (so that no engine always runs
 * first), each engine by `run` (a child process: runChild). An engine that
 * cannot run is left out of the rounds after (its reason in `unavailable`,
 * as `run` worded it). Each round records its date, load, wait and per
 * engine the result with the load before and after it.
 *
 * @example
 * ```ts
 * const { rounds, unavailable } = await rotatingRounds(["a", "b"], 3, 1.5, 300, (name) =>
 *   runChild("node", ["bench.ts", "--engine", name], {}, 600_000));
 * ```
 */
export async function rotatingRounds(
  ids: string[],
  repeats: number,
  quietLoad: number,
  maxWaitSeconds: number,
  run: (id: string) => { ok: true; value: Record<string, unknown> } | { ok: false; why: string },
): Promise<{ rounds: Record<string, unknown>[]; unavailable: Record<string, string> }> {
  const rounds: Record<string, unknown>[] = [];
  const unavailable: Record<string, string> = {};
  for (let r = 0; r < repeats; r++) {
    const quiet = await waitForQuiet(quietLoad, maxWaitSeconds, console.log);
    const order = ids.map((_, i) => ids[(i + r) % ids.length]).filter((e) => unavailable[e] === undefined);
    console.log(`round ${r + 1}/${repeats}: load ${quiet.load.join(" ")}, order ${order.join(", ")}`);
    const engines: Record<string, unknown> = {};
    for (const id of order) {
      const loadBefore = loadNow();
      const out = run(id);
      if (!out.ok) {
        unavailable[id] = out.why;
        console.log(`  ${id}: cannot run here (${unavailable[id]})`);
        continue;
      }
      engines[id] = { ...out.value, loadBefore, loadAfter: loadNow() };
    }
    rounds.push({
      round: r + 1,
      date: new Date().toISOString(),
      load: quiet.load,
      waitedSeconds: quiet.waitedSeconds,
      engines,
    });
  }
  return { rounds, unavailable };
}
