// A collector of the bucket simulation in a process of its own.

import { BucketCollector } from "../../src/object_store/bucket_collector.ts";
import { latestManifest } from "../../src/object_store/bucket_manifest.ts";
import { Truth } from "./bucket_truth.ts";
import { storeFailure, type World } from "./bucket_world.ts";
import { Base } from "./bucket_actor.ts";

/**
 * A collector in a process of its own (as `siltdb gc` would run): each
 * sweep reads the newest manifest and deletes, through BucketCollector,
 * what it does not name and is older than gcMinAge.
 */
export class CollectorActor extends Base {
  readonly kind = "collector";

  constructor(world: World, safe = false) {
    super(world, "collector", safe);
  }

  start(): Promise<void> {
    this.world.step(`${this.name}: start`);
    return Promise.resolve();
  }

  act(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      const latest = await this.io(latestManifest(this.client));
      if (!latest.ok) {
        if (storeFailure(latest.error)) return;
        return w.fail(`${this.name}: reading the newest manifest failed: ${(latest.error as Error)?.message}`);
      }
      const state = latest.value;
      if (state === undefined) return;
      const collector = new BucketCollector(this.client, {
        minAgeMs: w.config.gcMinAge,
        intervalMs: 0,
        now: w.clock.read,
      });
      w.step(`${this.name}: sweep against manifest ${state.number} (WAL from ${state.walStart})`);
      collector.collect({
        tables: new Set(Truth.tablesOf(state)),
        keep: new Set(),
        logNumber: state.walStart,
      });
      await this.io(collector.idle());
    });
  }
}
