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
// - WAL objects are created in number order;
// - every manifest, whoever made it (a writer's flush or compaction, a
//   compactor's compaction rebased on flushes), holds the history: each
//   version in its tables is a committed write (by its sequence), and its
//   tables with the WAL objects from its WAL start show every committed
//   write (no flush lost, no compaction dropping a newest version); a
//   holder commits only with its own epoch, and names no deleted table;
// - every object deleted was free to go: no manifest that named it (a
//   table; a WAL object at or past its WAL start) was the newest, or
//   replaced less than gcMinAge before; fences are never deleted.

import {
  MANIFEST_DIR,
  numberOfKey,
  TABLE_DIR,
  tableKey,
  WAL_DIR,
  walKey,
} from "../../src/object_store/bucket_layout.ts";
import type { WriterActor } from "./bucket_actors.ts";
import { type Batch, EPOCH, type ManifestObject, Truth, type Value } from "./bucket_truth.ts";
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
  checkManifests(world);
  checkDeletes(world);
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

/** How far checkManifests and checkDeletes have gone, per world. */
const progress = new WeakMap<World, { manifests: number; deletes: number; tables: Set<number> }>();

function progressOf(world: World) {
  let p = progress.get(world);
  if (p === undefined) progress.set(world, p = { manifests: 0, deletes: 0, tables: new Set() });
  return p;
}

const at = (t: number) => `t+${((t - EPOCH) / 1000).toFixed(3)}s`;

/** Each table version is a committed write: the entry at its sequence in the history. */
function checkTableEntries(world: World, n: number, m: ManifestObject): void {
  const { truth } = world;
  for (const e of truth.tableEntries(n)) {
    const p = truth.batchOfSequence(e.seq);
    const entry = p === undefined ? undefined : truth.batches[p][e.seq - truth.sequences[p]];
    if (entry === undefined || entry[0] !== e.key || entry[1] !== e.value) {
      world.fail(
        `table ${n} (uploaded by ${truth.tables.get(n)?.client}; in manifest ${m.number} by ${m.client}) holds ` +
          `${JSON.stringify(e.key)} = ${JSON.stringify(e.value)} at sequence ${e.seq}, which is no committed write` +
          (p === undefined ? "" : ` (batch ${p} holds ${JSON.stringify(entry)} there)`),
      );
    }
  }
}

/**
 * Every manifest created since the last call, against the history: its
 * tables hold committed writes only, and with the WAL objects from its WAL
 * start they show every committed write.
 */
export function checkManifests(world: World): void {
  const { truth } = world;
  const done = progressOf(world);
  for (; done.manifests < truth.manifests.length; done.manifests++) {
    const m = truth.manifests[done.manifests];
    const tables = Truth.tablesOf(m.state);
    const newest = new Map<string, { seq: number; value: Value; table: number }>();
    for (const n of tables) {
      if (!truth.tables.has(n)) continue; // an anomaly already
      if (!done.tables.has(n)) {
        checkTableEntries(world, n, m);
        done.tables.add(n);
      }
      for (const e of truth.tableEntries(n)) {
        const seen = newest.get(e.key);
        if (seen === undefined || e.seq > seen.seq) newest.set(e.key, { seq: e.seq, value: e.value, table: n });
      }
    }
    const from = truth.positionBefore(m.state.walStart);
    for (const k of truth.keys()) {
      const t = newest.get(k);
      const w = truth.lastChangeFrom(k, from);
      const shown = t === undefined && w === undefined
        ? null
        : w === undefined || (t !== undefined && t.seq > w.s)
        ? t!.value
        : w.v;
      const expected = truth.valueAt(k, truth.committed);
      if (shown !== expected) {
        world.fail(
          `manifest ${m.number} (by ${m.client}, WAL from ${m.state.walStart}, tables ${JSON.stringify(tables)}) ` +
            `with the WAL objects from its WAL start shows ${JSON.stringify(k)} = ${JSON.stringify(shown)}, but ` +
            `${JSON.stringify(expected)} was committed: its tables' newest version is ${
              t === undefined ? "none" : `sequence ${t.seq} (table ${t.table})`
            }, the last write of the key before wal/${m.state.walStart} is ${
              JSON.stringify(lastBefore(truth, k, from))
            } (a flush lost, or a compaction dropped a newest version)`,
        );
      }
    }
  }
}

/** Key k's last committed change before history position p, with its sequence. */
function lastBefore(truth: Truth, k: string, p: number): { v: Value; seq: number } | undefined {
  for (let q = p - 1; q >= 0; q--) {
    const batch = truth.batches[q];
    for (let i = batch.length - 1; i >= 0; i--) {
      if (batch[i][0] === k) return { v: batch[i][1], seq: truth.sequences[q] + i };
    }
  }
  return undefined;
}

/**
 * Every delete since the last call was allowed: what it deleted was named by
 * no manifest (a table by its tables, a WAL object at or past its WAL start,
 * a manifest by itself) that was the newest then, or replaced less than
 * gcMinAge before (less is never allowed: every collector waits at least
 * that); no fence is deleted.
 */
export function checkDeletes(world: World): void {
  const { truth } = world;
  const done = progressOf(world);
  const minAge = world.config.gcMinAge;
  const indexOf = new Map<number, number>(); // manifest number -> its index in truth.manifests
  truth.manifests.forEach((m, i) => indexOf.set(m.number, i));
  for (; done.deletes < truth.deleted.length; done.deletes++) {
    const d = truth.deleted[done.deletes];
    const table = numberOfKey(TABLE_DIR, d.key);
    const wal = numberOfKey(WAL_DIR, d.key);
    const manifest = numberOfKey(MANIFEST_DIR, d.key);
    if (table === undefined && wal === undefined && manifest === undefined) continue;
    if (wal !== undefined && truth.wal.find((o) => o.number === wal)?.fenceEpoch !== undefined) {
      world.fail(`${d.client} deleted wal/${wal} at ${at(d.time)}: a fence (fences are never deleted)`);
    }
    for (let i = 0; i < d.manifests; i++) {
      const m = truth.manifests[i];
      const names = table !== undefined
        ? m.state.levels.some((l) => l.some((f) => f.number === table))
        : wal !== undefined
        ? m.state.walStart <= wal
        : m.number === manifest;
      if (!names) continue;
      const j = indexOf.get(m.number + 1);
      const successor = j !== undefined && j < d.manifests ? truth.manifests[j] : undefined;
      if (successor === undefined || d.time - successor.time < minAge) {
        world.fail(
          `${d.client} deleted ${d.key} at ${at(d.time)}, but manifest ${m.number} (by ${m.client}) names it and ${
            successor === undefined
              ? "was the newest"
              : `was replaced only ${d.time - successor.time} ms before (gcMinAge ${minAge} ms)`
          }`,
        );
      }
    }
  }
}
