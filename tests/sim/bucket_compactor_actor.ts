// A compactor of the bucket simulation in a process of its own (as
// `siltdb compactor` would run), for the seeds whose writers open with
// compaction "remote": src/remote_compactor.ts's Compactor on its own
// client, dying at the request the seed picked like every process. It runs
// either on its own (Compactor.run(): a round, then pollInterval of sleep
// when there is nothing to do, on the virtual clock) or one compactOnce()
// per operation the harness gives it. A newer compactor fences it: FENCED
// is allowed only when a compactor of a newer epoch has claimed the store.
// A compaction may fail on a missing input only once the manifest it read
// is older than gcMinAge (its round took that long). What it commits is
// checked with every other manifest (tests/sim/bucket_checks.ts).

import { type CompactionEvent, Compactor } from "../../mod.ts";
import { codeOf, missingObject, storeFailure, type World } from "./bucket_world.ts";
import { Base } from "./bucket_actor.ts";

const URL = "memory://sim/";

/** How a compactor is driven: run() on its own, or one compactOnce() per operation. */
export type CompactorMode = "run" | "step";

/** A compactor process: claims the compactor role, compacts, is fenced by a newer one. */
export class CompactorActor extends Base {
  readonly kind = "compactor";
  readonly mode: CompactorMode;
  compactor: Compactor | undefined;
  epoch: number | undefined;
  readonly #pollInterval: number;
  /** When its last round began (its look at the manifest): the state its compaction reads was the newest then. */
  #roundAt = 0;
  #fenced = false;

  constructor(world: World, mode?: CompactorMode, safe = false) {
    super(world, "compactor", safe);
    this.mode = mode ?? (world.chance(0.6) ? "run" : "step");
    this.#pollInterval = world.pick([20, 200, 1000, 5000]);
  }

  /** True while it compacts on its own (run mode, alive, not fenced). */
  get running(): boolean {
    return this.mode === "run" && this.alive && !this.client.crashed && !this.#fenced;
  }

  #dead(): boolean {
    return this.client.crashed || !this.alive;
  }

  start(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const t0 = w.clock.now;
      const hadManifest = w.truth.manifests.some((m) => m.time <= t0 - w.config.listLagMs);
      w.step(`${this.name}: open (${this.mode}, pollInterval ${this.#pollInterval} ms)`);
      const opening = Compactor.open(URL, {
        objectStore: this.client,
        ...w.config.compactor,
        pollInterval: this.#pollInterval,
        onCompaction: (e) => this.#compacted(e),
        onRetry: (err) => this.#failed(err, "a round (retried)"),
      });
      opening.then((c) => {
        if (this.#dead()) void c.stop();
      }, () => {});
      const out = await this.io(opening);
      if (!out.ok) {
        this.alive = false;
        if (storeFailure(out.error) || (!hadManifest && codeOf(out.error) === "NOT_FOUND")) {
          w.step(`${this.name}: open failed: ${(out.error as Error)?.message}`);
          return;
        }
        return w.fail(`${this.name}: open failed: ${codeOf(out.error)} ${(out.error as Error)?.message ?? out.error}`);
      }
      const compactor = out.value;
      this.compactor = compactor;
      this.epoch = compactor.epoch;
      const claimed = w.truth.compactorEpochOf.get(this.name);
      if (claimed !== compactor.epoch) {
        w.fail(`${this.name} opened as compactor epoch ${compactor.epoch}, but its claim named ${claimed}`);
      }
      w.report.compactors++;
      w.step(`${this.name}: opened, compactor epoch ${compactor.epoch}`);
      // Each round (its own, or run()'s) begins with a look at the manifest.
      const once = compactor.compactOnce.bind(compactor);
      compactor.compactOnce = () => {
        this.#roundAt = w.clock.now;
        return once();
      };
      if (this.mode === "run") {
        compactor.run().then(
          () => w.step(`${this.name}: run() ended`),
          (err) => {
            if (this.#dead()) return;
            this.#failed(err, "run()");
            this.alive = false; // the process exits
          },
        );
      }
    });
  }

  act(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const r = w.int(0, 99);
      if (this.mode === "step" && this.compactor !== undefined && !this.#fenced) {
        if (r < 60) return void await this.#once();
        if (r < 75) return void await this.drain(w.int(2, 10));
      }
      if (r >= 90) return this.close();
      await w.clock.sleep(w.int(1, 500));
    });
  }

  /** One compactOnce(): the event, or undefined (nothing to do, or it failed as allowed). */
  async #once(): Promise<CompactionEvent | undefined> {
    const out = await this.io(this.compactor!.compactOnce());
    if (out.ok) return out.value;
    this.#failed(out.error, "compactOnce()");
    return undefined;
  }

  /** compactOnce() until nothing is left to do, at most `most` times; true when nothing is left. */
  async drain(most: number): Promise<boolean> {
    this.world.step(`${this.name}: compact until nothing is left (at most ${most})`);
    for (let i = 0; i < most; i++) {
      if (this.#fenced || this.compactor === undefined) return false;
      const out = await this.io(this.compactor.compactOnce());
      if (!out.ok) {
        this.#failed(out.error, "compactOnce()");
        return false;
      }
      if (out.value === undefined) return true;
    }
    return false;
  }

  #compacted(e: CompactionEvent): void {
    if (this.#dead()) return;
    this.world.step(
      `${this.name}: ${e.trivialMove ? "moved" : "compacted"} ${e.inputFiles} tables L${e.fromLevel} -> L${e.toLevel}` +
        ` (${e.outputFiles} out, ${e.entriesDropped} entries dropped)`,
    );
  }

  /** A failure: FENCED (a newer compactor must exist), the store's faults, or a missing input only once it is old. */
  #failed(err: unknown, what: string): void {
    if (this.#dead()) return;
    const w = this.world;
    if (codeOf(err) === "FENCED") {
      if (!this.#fenced) {
        this.#fenced = true;
        w.report.compactorFencings++;
        const newest = Math.max(0, ...w.truth.compactorEpochOf.values());
        w.step(`${this.name} (compactor epoch ${this.epoch}) is FENCED; the newest compactor epoch is ${newest}`);
        if (this.epoch === undefined || newest <= this.epoch) {
          w.fail(
            `${this.name} (compactor epoch ${this.epoch}) got FENCED with no newer compactor: ${
              (err as Error).message
            }`,
          );
        }
      }
      this.alive = false; // a fenced compactor's process exits
      return;
    }
    if (storeFailure(err)) return;
    if (missingObject(err)) return this.readFailed(err, `${what}: an input of a compaction`, this.#roundAt);
    w.fail(`${this.name}: ${what} failed: ${codeOf(err)} ${(err as Error)?.stack ?? err}`);
  }

  override async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    this.world.step(`${this.name}: stop`);
    await this.compactor?.stop();
  }

  override async reap(): Promise<void> {
    this.alive = false;
    this.client.release();
    await this.compactor?.stop().catch(() => {});
  }
}
