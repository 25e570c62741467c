// The simulation of a store in a bucket (tests/sim/bucket_harness.ts) over
// many seeds: writers, readers, a collector and (in half the seeds, whose
// writers leave compaction to them) compactors, each on its own client of
// one in-memory object store with injected faults, killed at every request
// position across seeds; two writers racing, two compactors racing. What is checked, and the
// defects it found: tests/sim/bucket_harness.ts, tests/bucket_regressions.test.ts.
//
//   SEED=n                      replays seed n
//   SILTDB_BUCKET_SOAK=n        runs n seeds (a soak; scripts/bucket_soak.mjs runs them in parallel)
//   SILTDB_BUCKET_SEEDS=n       the default count (300)
//   SILTDB_BUCKET_BASE=n        the first seed (default: random, printed)
// A failure names its seed and how to replay it; a soak goes on past failures and lists them all.

import { test } from "node:test";
import { currentRuntime } from "./_harness.ts";
import { runBucketSeed } from "./sim/bucket_harness.ts";
import { zeroReport } from "./sim/bucket_world.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const number = (name: string): number | undefined => {
  const n = Number(env[name]);
  return env[name] !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
};

const replay = number("SEED");
const soak = number("SILTDB_BUCKET_SOAK");
const count = replay !== undefined ? 1 : soak ?? number("SILTDB_BUCKET_SEEDS") ?? 300;
const base = replay ?? number("SILTDB_BUCKET_BASE") ?? Math.floor(Math.random() * 1e9);

test(`bucket simulation: ${count} seed${count === 1 ? "" : "s"} from ${base} (${currentRuntime}): crashes at every request, faults, racing writers`, async () => {
  const { seed: _, ...totals } = zeroReport(0);
  const failures: string[] = [];
  const positions = new Map<number, number>();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    try {
      const report = await runBucketSeed(base + i, undefined, positions);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += report[k];
    } catch (err) {
      if (soak === undefined) throw err;
      failures.push(String((err as Error)?.message ?? err));
      console.log(`FAILED ${(err as Error)?.message ?? err}\n`); // the first line names the seed and its replay
    }
    if (count >= 1000 && (i + 1) % 500 === 0) {
      console.log(`bucket sim: ${i + 1} of ${count} seeds, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  console.log(
    `bucket sim: ${count} seeds from ${base} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${
      JSON.stringify(totals)
    }, violations: ${failures.length}`,
  );
  let covered = 0; // every request position from 1 to covered had a process die at it
  while (positions.has(covered + 1)) covered++;
  console.log(`bucket sim: processes died at every request position from 1 to ${covered}`);
  if (soak !== undefined) {
    const result = {
      seeds: count,
      ...totals,
      violations: failures.length,
      crashPositions: Object.fromEntries(positions),
    };
    console.log(`BUCKET_SOAK_RESULT ${JSON.stringify(result)}`);
  }
  if (failures.length > 0) {
    throw new Error(
      `${failures.length} of ${count} seeds failed:\n${failures.map((f) => f.split("\n")[0]).join("\n")}`,
    );
  }
});

test("regression (bucket sim seed 1000069): flush() waiting for a full flush queue when the database closes ends with CLOSED instead of looping on microtasks (the seed hung)", async () => {
  // On the old code this seed never finished: the scheduler, closed, returned from waitForFlushes() at once
  // and flush() asked again, forever, starving every timer of the process.
  const report = await runBucketSeed(1000069);
  if (report.ops === 0) throw new Error("seed 1000069 ran no operation");
});
