// A reader of the bucket simulation (readOnly, refreshInterval 0): opens on
// the newest state it can list, reads, refreshes, keeps snapshots, scans
// across a refresh; every read must show one committed state, never older
// than one it showed before (tests/sim/bucket_world.ts's View).

import type { Db } from "../../mod.ts";
import type { ScanRange } from "./bucket_truth.ts";
import { codeOf, EPOCH, View, type World } from "./bucket_world.ts";
import { Base } from "./bucket_actor.ts";

/**
 * Whether readers keep their snapshots across refresh() (they do: a reader
 * does not move to a state compacted past its snapshots; the regression test
 * "a reader's snapshot keeps its view across refreshes"). False releases
 * them before each refresh.
 */
export const READER_SNAPSHOTS_SURVIVE_REFRESH = true;

/** A reader (readOnly, refreshInterval 0): opens on the newest state, reads, refreshes, keeps snapshots. */
export class ReaderActor extends Base {
  readonly kind = "reader";
  readonly keys: string[];
  view: View | undefined;
  /** Each with the manifest the reader's state was from when it was taken. */
  #snapshots: { snap: ReturnType<Db<string, string>["snapshot"]>; view: View; manifest: number }[] = [];

  constructor(world: World, keys: string[], safe = false) {
    super(world, "reader", safe);
    this.keys = keys;
  }

  start(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const t0 = w.clock.now;
      // Listing lag: a manifest is surely listed once it is listLagMs old.
      const hadManifest = w.truth.manifests.some((m) => m.time <= t0 - w.config.listLagMs);
      w.step(`${this.name}: open`);
      const out = await this.io(this.open({ readOnly: true, refreshInterval: 0 }));
      if (!out.ok) {
        this.alive = false;
        if (!hadManifest && codeOf(out.error) === "NOT_FOUND") return;
        return this.readFailed(out.error, "open", t0);
      }
      this.db = out.value;
      this.view = new View(w, this.name, w.truth.positionAt(t0 - w.config.listLagMs), true, t0);
      if (w.chance(0.5)) await this.#scan({});
    });
  }

  act(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const r = w.int(0, 99);
      if (r < 25) return this.#get();
      if (r < 42) return this.#scan(this.range(this.keys));
      if (r < 47) return this.#scanAcross();
      if (r < 75) return this.#refresh();
      if (r < 92) return this.#snapshotOp();
      if (r < 95) return this.close();
      await w.clock.sleep(w.int(1, 500));
    });
  }

  /**
   * How old what the reader reads may be: since its view was loaded, or since
   * the manifest its tables come from was replaced, if earlier (a reader held
   * back by its snapshots, or refreshing seldom, reads an older state's tables).
   */
  #stateSince(loadedAt: number): number {
    return Math.min(loadedAt, this.world.truth.replacedAt(this.db!.stats().bucket!.manifest));
  }

  async #get(): Promise<void> {
    const k = this.world.pick(this.keys);
    const out = await this.io(this.db!.get(k));
    if (!out.ok) return this.readFailed(out.error, `get(${k})`, this.#stateSince(this.view!.loadedAt));
    this.view!.got(k, out.value ?? null);
  }

  async #scan(r: ScanRange): Promise<void> {
    const out = await this.io(this.db!.scan(r).toArray());
    if (!out.ok) return this.readFailed(out.error, `scan ${JSON.stringify(r)}`, this.#stateSince(this.view!.loadedAt));
    this.view!.scanned(out.value, r);
  }

  /** A scan that goes on across a refresh: it shows the view it started on. */
  async #scanAcross(): Promise<void> {
    const r = this.range(this.keys);
    const view = this.view!.fork(`${this.name}'s scan across a refresh`);
    this.world.step(`${this.name}: a scan ${JSON.stringify(r)} across a refresh`);
    // As old as the state the scan starts on: its tables may come from a manifest replaced before
    // the view was loaded (a reader held back by its snapshots), as for get and scan.
    const since = this.#stateSince(view.loadedAt);
    const got = await this.across(this.db!.scan(r), since, () => this.#refresh());
    if (got !== undefined) view.scanned(got, r);
  }

  async #refresh(): Promise<void> {
    const w = this.world;
    if (!READER_SNAPSHOTS_SURVIVE_REFRESH) {
      for (const s of this.#snapshots.splice(0)) s.snap.release();
    }
    const t0 = w.clock.now;
    const out = await this.io(this.db!.refresh());
    if (!out.ok) return this.readFailed(out.error, "refresh()", t0);
    this.view!.moved(w.truth.positionAt(t0 - w.config.listLagMs), t0);
    w.step(`${this.name}: refreshed (from t+${((t0 - EPOCH) / 1000).toFixed(3)}s), positions from ${this.view!.lo}`);
  }

  async #snapshotOp(): Promise<void> {
    const w = this.world;
    if (this.#snapshots.length > 0 && w.chance(0.6)) {
      const i = w.int(0, this.#snapshots.length - 1);
      const s = this.#snapshots[i];
      if (!s.snap.live) {
        // A reader lets go of its snapshots (all at once) when they held its view back for half the
        // grace period after the manifest they read was replaced (src/bucket_follower.ts): a snapshot
        // taken on a view whose manifest was replaced long before may go at once.
        const released = this.#snapshots.filter((x) => !x.snap.live);
        const oldest = Math.min(...released.map((x) => w.truth.replacedAt(x.manifest)));
        const age = w.clock.now - oldest;
        if (age < w.config.gcMinAge / 2 - w.config.listLagMs) {
          w.fail(
            `${this.name}: snapshots were released, but the manifests they read were replaced only ` +
              `${oldest === Infinity ? "never" : `${Math.round(age)} ms before`} (gcMinAge ${w.config.gcMinAge} ms)`,
          );
        }
        this.#snapshots = this.#snapshots.filter((x) => x.snap.live);
        return;
      }
      if (w.chance(0.3)) {
        s.snap.release();
        this.#snapshots.splice(i, 1);
        return;
      }
      const r = this.range(this.keys);
      const out = await this.io(s.snap.scan(r).toArray());
      if (!out.ok) {
        return this.readFailed(
          out.error,
          `a snapshot's scan ${JSON.stringify(r)}`,
          Math.min(s.view.loadedAt, w.truth.replacedAt(s.manifest)),
        );
      }
      s.view.scanned(out.value, r);
      return;
    }
    this.#snapshots.push({
      snap: this.db!.snapshot(),
      view: this.view!.fork(`${this.name}'s snapshot`),
      manifest: this.db!.stats().bucket!.manifest,
    });
    w.step(`${this.name}: snapshot, positions from ${this.view!.lo}`);
  }
}
