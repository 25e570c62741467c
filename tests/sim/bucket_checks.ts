// The checks of the bucket simulation that look at a whole run (or at the
// store as it is), against the ground truth (tests/sim/bucket_truth.ts):
//
// - each writer's WAL objects hold exactly its writes, in order: every
//   acknowledged write, no refused one (FENCED, or refused after a
//   failure), doubtful ones (a failed upload, a process that died) either
//   way; nothing that no one wrote;
// - no writer acknowledges a write issued after a newer writer finished
//   opening (it must be FENCED);
// - the newest manifest's tables exist, and so do the WAL objects from its
//   WAL start on (nothing a live manifest needs is deleted);
// - WAL objects are created in number order.

import { numberOfKey, tableKey, WAL_DIR, walKey } from "../../src/object_store/bucket_layout.ts";
import type { WriterActor } from "./bucket_actors.ts";
import { type Batch, Truth } from "./bucket_truth.ts";
import type { World } from "./bucket_world.ts";

const same = (a: Batch, b: Batch) => JSON.stringify(a) === JSON.stringify(b);

/** A writer's committed batches against its writes; the fencing rule. */
export function checkWriter(world: World, writer: WriterActor): void {
  const stored: Batch[] = (world.truth.walOf.get(writer.name) ?? []).flatMap((o) => o.batches);
  const writes = writer.writes;
  const m = stored.length;
  const n = writes.length;
  // can[i * (n + 1) + j]: stored[i..] are exactly some of writes[j..], in order, with every acked one.
  const can = new Uint8Array((m + 1) * (n + 1));
  const at = (i: number, j: number) => i * (n + 1) + j;
  can[at(m, n)] = 1;
  for (let j = n - 1; j >= 0; j--) can[at(m, j)] = can[at(m, j + 1)] && writes[j].status !== "acked" ? 1 : 0;
  for (let i = m - 1; i >= 0; i--) {
    for (let j = n - 1; j >= 0; j--) {
      const w = writes[j];
      const take = same(stored[i], w.changes) && can[at(i + 1, j + 1)] === 1;
      const skip = can[at(i, j + 1)] === 1;
      can[at(i, j)] = (w.status === "refused" ? skip : w.status === "acked" ? take : skip || take) ? 1 : 0;
    }
  }
  for (const [i, w] of writes.entries()) {
    if (w.status === "acked" && writer.epoch !== undefined && w.newestOpen > writer.epoch) {
      world.fail(
        `${writer.name} (epoch ${writer.epoch}) acknowledged write #${i}, issued after a writer of epoch ${w.newestOpen} ` +
          `had opened: it should have been FENCED (${JSON.stringify(w.changes)})`,
      );
    }
  }
  world.report.acked += writes.filter((w) => w.status === "acked").length;
  if (can[at(0, 0)] === 1) return;
  const problems: string[] = [];
  for (const [j, w] of writes.entries()) {
    const found = stored.some((b) => same(b, w.changes));
    if (w.status === "acked" && !found) problems.push(`acknowledged write #${j} is in none of its WAL objects`);
    if (w.status === "refused" && found) problems.push(`refused write #${j} (${w.how}) is in a WAL object`);
  }
  for (const [i, b] of stored.entries()) {
    if (!writes.some((w) => w.status !== "refused" && same(b, w.changes))) {
      problems.push(`batch ${i} of its WAL objects is no write of its own: ${JSON.stringify(b)}`);
    }
  }
  const show = (xs: unknown[]) => xs.map((x, i) => `      ${i}: ${JSON.stringify(x)}`).join("\n");
  world.fail(
    `${writer.name}'s WAL objects do not hold its writes in order (${problems.join("; ") || "order"}):\n` +
      `    writes:\n${show(writes.map((w) => [w.status, w.changes]))}\n    stored:\n${show(stored)}`,
  );
}

/** What the newest manifest names exists: its tables, and the WAL objects from its WAL start on. */
export function checkStore(world: World): void {
  const { truth, store } = world;
  for (const a of truth.anomalies) world.fail(a);
  const latest = truth.latestManifest();
  if (latest === undefined) return;
  const keys = new Set(store.keys());
  for (const t of Truth.tablesOf(latest.state)) {
    if (!keys.has(tableKey(t))) {
      world.fail(`table ${t} of the newest manifest (${latest.number}) was deleted`);
    }
  }
  let last = 0;
  for (const k of keys) last = Math.max(last, numberOfKey(WAL_DIR, k) ?? 0);
  for (let w = latest.state.walStart; w <= last; w++) {
    if (!keys.has(walKey(w))) {
      world.fail(
        `WAL object ${w} was deleted, but the newest manifest (${latest.number}) replays from ${latest.state.walStart}`,
      );
    }
  }
}
