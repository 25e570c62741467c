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
// and, whatever the holder says is live, nothing a manifest names that is
// the newest or was replaced less than gcMinAge ago: a reader elsewhere may
// have read it a moment before it was replaced, and reads what it names
// (its tables, the WAL objects from its WAL start on). An object's own age
// does not tell: a table written an hour ago may have left the manifest a
// second ago.
//
// Sweeps run in the background, one at a time and at most once per
// interval; a deletion that fails is retried by the next sweep.

import { MANIFEST_DIR, numberOfKey, TABLE_DIR, WAL_DIR } from "./bucket_layout.ts";
import { readManifest } from "./bucket_manifest.ts";
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
  /** What each manifest read names (manifests never change). */
  readonly #named = new Map<number, { tables: number[]; walStart: number }>();
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
    const tables: { key: string; n: number }[] = [];
    for await (const o of listAll(this.#store, TABLE_DIR)) {
      const n = numberOfKey(TABLE_DIR, o.key);
      if (n !== undefined && o.lastModified <= oldEnough) tables.push({ key: o.key, n });
    }
    const wal: { key: string; n: number }[] = [];
    for await (const o of listAll(this.#store, WAL_DIR)) {
      const n = numberOfKey(WAL_DIR, o.key);
      if (n !== undefined && o.lastModified <= oldEnough) wal.push({ key: o.key, n });
    }
    // Listed after the tables: a table committed meanwhile is named by one of them.
    const manifests: { n: number; key: string; lastModified: number }[] = [];
    for await (const o of listAll(this.#store, MANIFEST_DIR)) {
      const n = numberOfKey(MANIFEST_DIR, o.key);
      if (n !== undefined) manifests.push({ n, key: o.key, lastModified: o.lastModified });
    }
    manifests.sort((a, b) => a.n - b.n);
    const listed = new Set(manifests.map((m) => m.n));
    for (const n of this.#named.keys()) if (!listed.has(n)) this.#named.delete(n);
    // What the newest manifest and those replaced less than minAge ago name stays.
    const named = new Set([...live.tables, ...live.keep]);
    let logNumber = live.logNumber;
    for (let i = 0; i < manifests.length; i++) {
      const replacedAt = manifests[i + 1]?.lastModified;
      if (replacedAt !== undefined && replacedAt <= oldEnough) continue;
      const state = await this.#namedBy(manifests[i].n);
      if (state === undefined) return; // gone meanwhile (another collector): sweep another time
      for (const t of state.tables) named.add(t);
      logNumber = Math.min(logNumber, state.walStart);
    }
    const doomed: { key: string; table?: number }[] = [];
    for (const { key, n } of tables) if (!named.has(n)) doomed.push({ key, table: n });
    for (const { key, n } of wal) if (n < logNumber) doomed.push({ key });
    if (live.manifestNumber !== undefined) {
      for (const { n, key, lastModified } of manifests) {
        if (n <= live.manifestNumber - KEEP_MANIFESTS && lastModified <= oldEnough) doomed.push({ key });
      }
    }
    for (const { key, table } of doomed) {
      await this.#store.delete(key);
      this.deleted++;
      if (table !== undefined) this.#onTableDeleted(table);
    }
  }

  /** The tables and the WAL start manifest n names (undefined if it is gone). */
  async #namedBy(n: number): Promise<{ tables: number[]; walStart: number } | undefined> {
    let named = this.#named.get(n);
    if (named === undefined) {
      const state = await readManifest(this.#store, n);
      if (state === undefined) return undefined;
      named = { tables: state.levels.flat().map((f) => f.number), walStart: state.walStart };
      this.#named.set(n, named);
    }
    return named;
  }
}
