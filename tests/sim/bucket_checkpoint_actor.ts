// A process of the bucket simulation that takes checkpoints
// (src/object_store/bucket_checkpoints.ts) of the newest manifest, as a
// writer's db.checkpoint() does after its flush, opens them later with
// open({ readOnly, checkpoint }) and deletes some. While collectors,
// writers and compactors go on (and processes die at any request), a
// checkpoint it took must always open with exactly what its manifest's
// tables hold: a table missing, or another state, is a violation.

import type { BucketState } from "../../src/object_store/bucket_manifest.ts";
import { latestManifest } from "../../src/object_store/bucket_manifest.ts";
import { createCheckpoint, removeCheckpoint } from "../../src/object_store/bucket_checkpoints.ts";
import { SiltError } from "../../mod.ts";
import { Base } from "./bucket_actor.ts";
import { byBytes } from "./bucket_truth.ts";
import { codeOf, storeFailure, type World } from "./bucket_world.ts";

/** What a checkpoint's manifest holds: the newest version of each key in its tables. */
function stateOf(world: World, manifest: BucketState): [string, string][] {
  const newest = new Map<string, { seq: number; value: string | null }>();
  for (const files of manifest.levels) {
    for (const f of files) {
      for (const e of world.truth.tableEntries(f.number)) {
        const known = newest.get(e.key);
        if (known === undefined || e.seq > known.seq) newest.set(e.key, { seq: e.seq, value: e.value });
      }
    }
  }
  const out: [string, string][] = [];
  for (const [k, { value }] of newest) if (value !== null) out.push([k, value]);
  return out.sort(([a], [b]) => byBytes(a, b));
}

/** Takes, opens and deletes checkpoints (see above). */
export class CheckpointActor extends Base {
  readonly kind = "checkpointer";
  readonly #made: { id: string; manifest: number; state: [string, string][] }[] = [];

  constructor(world: World, safe = false) {
    super(world, "checkpointer", safe);
  }

  start(): Promise<void> {
    this.world.step(`${this.name}: start`);
    return Promise.resolve();
  }

  act(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const r = w.random();
      if (this.#made.length === 0 || r < 0.4) return await this.#take();
      const i = w.int(0, this.#made.length - 1);
      if (r < 0.85) return await this.#check(this.#made[i]);
      const [cp] = this.#made.splice(i, 1); // whatever the outcome: a failed delete may have landed
      w.step(`${this.name}: delete checkpoint ${cp.id}`);
      const out = await this.io(removeCheckpoint(this.client, cp.id));
      if (!out.ok && !storeFailure(out.error)) w.fail(`${this.name}: deleting ${cp.id} failed: ${out.error}`);
    });
  }

  async #take(): Promise<void> {
    const w = this.world;
    const latest = await this.io(latestManifest(this.client));
    if (!latest.ok) {
      if (storeFailure(latest.error)) return;
      return w.fail(`${this.name}: reading the newest manifest failed: ${(latest.error as Error)?.message}`);
    }
    const manifest = latest.value;
    if (manifest === undefined) return;
    const out = await this.io(
      createCheckpoint(this.client, { manifest: manifest.number, sequence: 0, gracePeriod: w.config.gcMinAge }),
    );
    if (!out.ok) {
      // The store's faults, or the refusal of a manifest replaced too long before (then it removed its object).
      if (storeFailure(out.error) || (out.error instanceof SiltError && /replaced/.test(out.error.message))) return;
      return w.fail(`${this.name}: a checkpoint of manifest ${manifest.number} failed: ${out.error}`);
    }
    const state = stateOf(w, manifest);
    this.#made.push({ id: out.value.id, manifest: manifest.number, state });
    w.step(`${this.name}: checkpoint ${out.value.id} of manifest ${manifest.number} (${state.length} keys)`);
  }

  async #check(cp: { id: string; manifest: number; state: [string, string][] }): Promise<void> {
    const w = this.world;
    w.step(`${this.name}: open checkpoint ${cp.id} (manifest ${cp.manifest})`);
    const opened = await this.io(this.open({ readOnly: true, checkpoint: cp.id }));
    if (!opened.ok) {
      if (storeFailure(opened.error)) return;
      return w.fail(`${this.name}: checkpoint ${cp.id} does not open: ${codeOf(opened.error)} ${opened.error}`);
    }
    const db = opened.value;
    try {
      const scan = await this.io(db.scan().toArray());
      if (!scan.ok) {
        if (storeFailure(scan.error)) return;
        return w.fail(`${this.name}: reading checkpoint ${cp.id} failed: ${codeOf(scan.error)} ${scan.error}`);
      }
      w.report.reads++;
      if (JSON.stringify(scan.value) !== JSON.stringify(cp.state)) {
        w.fail(
          `${this.name}: checkpoint ${cp.id} (manifest ${cp.manifest}) is not what its tables held:\n` +
            `      got      ${JSON.stringify(scan.value)}\n      expected ${JSON.stringify(cp.state)}`,
        );
      }
    } finally {
      await db.close().catch(() => {});
    }
  }
}
