// The deterministic simulation (tests/sim/harness.ts) over many seeds.
//
//   SEED=n npm test         replays seed n (in each runtime)
//   SILTDB_SOAK=n           runs n seeds in this runtime instead of the default
//   SILTDB_SIM_SEEDS=n      the default count per runtime (700: over 2,000 per npm test)
//   SILTDB_SIM_BASE=n       the first seed (default: random, printed)
// A failure names its seed and how to replay it.

import { test } from "node:test";
import { currentRuntime } from "./_harness.ts";
import { runSeed } from "./sim/harness.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const number = (name: string): number | undefined => {
  const n = Number(env[name]);
  return env[name] !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
};

const replay = number("SEED");
const count = replay !== undefined ? 1 : number("SILTDB_SOAK") ?? number("SILTDB_SIM_SEEDS") ?? 700;
const base = replay ?? number("SILTDB_SIM_BASE") ?? Math.floor(Math.random() * 1e9);

test(`simulation: ${count} seed${count === 1 ? "" : "s"} from ${base} (${currentRuntime}): crashes and faults at every kind of storage call lose no acknowledged write; transactions, checked batches and change feeds keep their promises`, async () => {
  const totals: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const report = await runSeed(base + i);
    for (const [k, v] of Object.entries(report)) if (k !== "seed") totals[k] = (totals[k] ?? 0) + (v as number);
    if (count >= 1000 && (i + 1) % 1000 === 0) {
      console.log(`sim: ${i + 1} of ${count} seeds, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  console.log(
    `sim: ${count} seeds from ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${
      JSON.stringify(totals)
    }, lost: 0`,
  );
});
