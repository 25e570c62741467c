// The garbage collector of a store in a bucket: deletes the objects nothing
// needs any more, but only once they are older than a grace period
// (gcMinAge), because other processes may still need them for a while — a
// reader on another machine reading a manifest it fetched a moment ago, a
// snapshot it holds, a compactor between its upload and its commit:
//
//   sst/<n>.sst     no version this writer holds lists it, and no job of it writes it
//   wal/<n>         numbered below the manifest's WAL start: its writes are in tables
//   manifest/<n>    not among the newest few manifests
//
// Sweeps run in the background, one at a time and at most once per
// interval; a deletion that fails is retried by the next sweep.

import { MANIFEST_DIR, numberOfKey, TABLE_DIR, WAL_DIR } from "./bucket_layout.ts";
import { listAll, type ObjectStore } from "./object_store.ts";

/** What is live, as the scheduler sees it (src/background/obsolete_files.ts's LiveFiles). */
export interface LiveObjects {
  /** Table numbers listed by any version in use. */
  tables: ReadonlySet<number>;
  /** Table numbers being written. */
  keep: ReadonlySet<number>;
  /** WAL objects below this hold nothing that is not in tables. */
  logNumber: number;
  /** The current manifest (undefined: keep every manifest). */
  manifestNumber: number | undefined;
}

/** Manifests kept whatever their age (the newest ones). */
const KEEP_MANIFESTS = 8;

/**
 * Options of the collector.
 *
 * @example
 * ```ts
 * const options: CollectorOptions = { minAgeMs: 10 * 60_000 };
 * ```
 */
export interface CollectorOptions {
  /** Objects younger than this are never deleted (milliseconds). Default 5 minutes. */
  minAgeMs?: number;
  /** At most one sweep per this many milliseconds. Default minAgeMs / 10, at least 1 s. */
  intervalMs?: number;
  /** The clock (the simulation passes its own). */
  now?: () => number;
  /** Told of each table deleted (for the caches to forget it). */
  onTableDeleted?: (n: number) => void;
}

/**
 * Deletes obsolete objects of a bucket after a grace period.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const collector = new BucketCollector(store, { minAgeMs: 60_000 });
 * collector.collect({ tables: new Set([7, 9]), keep: new Set(), logNumber: 12, manifestNumber: 30 });
 * await collector.idle();
 * ```
 */
export class BucketCollector {
  readonly #store: ObjectStore;
  readonly #minAge: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #onTableDeleted: (n: number) => void;
  #sweeping: Promise<void> | undefined;
  #last = -Infinity;
  /** Objects deleted since open. */
  deleted = 0;

  constructor(store: ObjectStore, options: CollectorOptions = {}) {
    this.#store = store;
    this.#minAge = options.minAgeMs ?? 5 * 60_000;
    this.#interval = options.intervalMs ?? Math.max(1000, this.#minAge / 10);
    this.#now = options.now ?? Date.now;
    this.#onTableDeleted = options.onTableDeleted ?? (() => {});
  }

  /** Starts a sweep against what is live now, unless one runs or ran lately. Returns [] (tables go later). */
  collect(live: LiveObjects): number[] {
    if (this.#sweeping !== undefined || this.#now() - this.#last < this.#interval) return [];
    this.#last = this.#now();
    const snapshot: LiveObjects = { ...live, tables: new Set(live.tables), keep: new Set(live.keep) };
    this.#sweeping = this.#sweep(snapshot).catch(() => {}).finally(() => this.#sweeping = undefined);
    return [];
  }

  /** Resolves when no sweep runs. */
  async idle(): Promise<void> {
    await this.#sweeping;
  }

  async #sweep(live: LiveObjects): Promise<void> {
    const oldEnough = this.#now() - this.#minAge;
    const doomed: { key: string; table?: number }[] = [];
    for await (const o of listAll(this.#store, TABLE_DIR)) {
      const n = numberOfKey(TABLE_DIR, o.key);
      if (n === undefined || o.lastModified > oldEnough) continue;
      if (!live.tables.has(n) && !live.keep.has(n)) doomed.push({ key: o.key, table: n });
    }
    for await (const o of listAll(this.#store, WAL_DIR)) {
      const n = numberOfKey(WAL_DIR, o.key);
      if (n !== undefined && n < live.logNumber && o.lastModified <= oldEnough) doomed.push({ key: o.key });
    }
    if (live.manifestNumber !== undefined) {
      for await (const o of listAll(this.#store, MANIFEST_DIR)) {
        const n = numberOfKey(MANIFEST_DIR, o.key);
        if (n !== undefined && n <= live.manifestNumber - KEEP_MANIFESTS && o.lastModified <= oldEnough) {
          doomed.push({ key: o.key });
        }
      }
    }
    for (const { key, table } of doomed) {
      await this.#store.delete(key);
      this.deleted++;
      if (table !== undefined) this.#onTableDeleted(table);
    }
  }
}
