// The seeded simulation of checkpoints and backups (tests/sim/checkpoint_sim.ts).
//
//   SEED=n                       replays seed n
//   SILTDB_CHECKPOINT_SEEDS=n    seeds per run (default 40)

import { test } from "node:test";
import { currentRuntime } from "./_harness.ts";
import { runCheckpointSeed } from "./sim/checkpoint_sim.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const replay = env.SEED !== undefined ? Number(env.SEED) : undefined;
const count = replay !== undefined ? 1 : Number(env.SILTDB_CHECKPOINT_SEEDS ?? 40);
const base = replay ?? Math.floor(Math.random() * 1e9);

test(`checkpoint simulation: ${count} seeds from ${base} (${currentRuntime}): copies taken while writes, crashes and faults go on hold exactly one state or are refused`, async () => {
  const totals: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const report = await runCheckpointSeed(base + i);
    for (const [k, v] of Object.entries(report)) totals[k] = (totals[k] ?? 0) + v;
  }
  console.log(`checkpoint sim: ${count} seeds from ${base}: ${JSON.stringify(totals)}`);
});
