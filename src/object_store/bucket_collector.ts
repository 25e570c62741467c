// The garbage collector of a store in a bucket: deletes the objects nothing
// needs any more, and only once they have been unneeded for a grace period
// (gcMinAge), because other processes may still read them for a while — a
// reader on another machine reading a manifest it fetched a moment ago, a
// snapshot it holds, a compactor between its upload and its commit.
//
// A manifest is retired once its successor is older than the grace period:
// nobody can still be reading a state that was replaced that long ago. What
// the newest manifest and every manifest not yet retired list is live; so is
// what the process running the collector still uses (its versions, its
// uploads), and every unlisted table at or above the writer's or the
// compactor's floor (uploads that may yet be committed; bucket_manifest.ts):
//
//   sst/<n>.sst     live as above, or younger than the grace period: kept
//   wal/<n>         numbered below the WAL start of every manifest not retired,
//                   and older than the grace period: deleted — except fences
//                   (a header alone), which stay: a fenced writer that wakes
//                   up after any time must find its next number taken
//   manifest/<n>    retired and not among the newest few: deleted
//
// A checkpoint (checkpoint/<id>, bucket_checkpoints.ts) pins its manifest:
// that manifest and every table it lists stay while the checkpoint exists.
//
// Sweeps run in the background, one at a time and at most once per
// interval; a deletion that fails is retried by the next sweep. A manifest
// that should be read but cannot be (another collector deleted it) stops the
// sweep: nothing is deleted on a guess.

import { LOG_HEADER_SIZE } from "../format/log_format.ts";
import { MANIFEST_DIR, numberOfKey, TABLE_DIR, WAL_DIR } from "./bucket_layout.ts";
import { type BucketState, mayBeInFlight, readManifest } from "./bucket_manifest.ts";
import { listAll, type ObjectStore } from "./object_store.ts";
import { checkpointsOf } from "./bucket_checkpoints.ts";

/** What is live, as the scheduler sees it (src/background/obsolete_files.ts's LiveFiles). */
export interface LiveObjects {
  /** Table numbers listed by any version in use. */
  tables: ReadonlySet<number>;
  /** Table numbers being written. */
  keep: ReadonlySet<number>;
  /** WAL objects below this hold nothing that is not in tables (for this process). */
  logNumber: number;
}

/** What one sweep found and did. */
export interface SweepReport {
  /** Objects deleted, by folder. */
  deleted: { tables: number; wal: number; manifests: number };
  /** Objects kept only because they are younger than the grace period or may be in flight. */
  waiting: number;
}

/** What a manifest keeps alive. */
interface Needs {
  tables: number[];
  walStart: number;
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
 * collector.collect({ tables: new Set([7, 9]), keep: new Set(), logNumber: 12 });
 * await collector.idle();
 * ```
 */
export class BucketCollector {
  readonly #store: ObjectStore;
  readonly #minAge: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #onTableDeleted: (n: number) => void;
  /** What each manifest read so far keeps alive (manifests never change). */
  readonly #needs = new Map<number, Needs>();
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
    this.#sweeping = this.sweep(snapshot).then(() => {}, () => {}).finally(() => this.#sweeping = undefined);
    return [];
  }

  /** Resolves when no sweep runs. */
  async idle(): Promise<void> {
    await this.#sweeping;
  }

  /**
   * One sweep now (what `siltdb gc` runs): deletes what nothing needs and
   * has not needed for the grace period. `live` adds what this process
   * still uses.
   */
  async sweep(live: LiveObjects = { tables: new Set(), keep: new Set(), logNumber: Infinity }): Promise<SweepReport> {
    const now = this.#now();
    const report: SweepReport = { deleted: { tables: 0, wal: 0, manifests: 0 }, waiting: 0 };
    // Tables and WAL objects are listed before the manifests: one committed meanwhile is named by a manifest listed.
    const tableObjects: { key: string; n: number; lastModified: number }[] = [];
    for await (const o of listAll(this.#store, TABLE_DIR)) {
      const n = numberOfKey(TABLE_DIR, o.key);
      if (n !== undefined) tableObjects.push({ key: o.key, n, lastModified: o.lastModified });
    }
    const walObjects: { key: string; n: number; lastModified: number; size: number }[] = [];
    for await (const o of listAll(this.#store, WAL_DIR)) {
      const n = numberOfKey(WAL_DIR, o.key);
      if (n !== undefined) walObjects.push({ key: o.key, n, lastModified: o.lastModified, size: o.size });
    }
    const manifests: { key: string; n: number; lastModified: number }[] = [];
    for await (const o of listAll(this.#store, MANIFEST_DIR)) {
      const n = numberOfKey(MANIFEST_DIR, o.key);
      if (n !== undefined) manifests.push({ key: o.key, n, lastModified: o.lastModified });
    }
    if (manifests.length === 0) return report; // no database here: nothing is obsolete
    manifests.sort((a, b) => a.n - b.n);
    let newest: BucketState | undefined;
    await this.#needsOf(manifests[manifests.length - 1].n, (s) => newest = s);
    // Never sooner than the writer's own grace period (it is in the manifest): readers plan with it.
    const oldEnough = now - Math.max(this.#minAge, newest?.gracePeriod ?? 0);
    // A manifest is retired once its successor is older than the grace period.
    const retired = (i: number) => i + 1 < manifests.length && manifests[i + 1].lastModified <= oldEnough;
    const tables = new Set([...live.tables, ...live.keep]);
    let walFloor = live.logNumber;
    for (let i = manifests.length - 1; i >= 0 && !retired(i); i--) {
      const needs = await this.#needsOf(manifests[i].n);
      for (const t of needs.tables) tables.add(t);
      walFloor = Math.min(walFloor, needs.walStart);
    }
    const pinned = new Set<number>();
    for (const cp of await checkpointsOf(this.#store)) {
      const state = await readManifest(this.#store, cp.manifest);
      if (state === undefined) continue; // a checkpoint whose creation failed its check: it pins nothing
      pinned.add(cp.manifest);
      for (const files of state.levels) for (const f of files) tables.add(f.number);
    }
    for (const n of this.#needs.keys()) if (n < manifests[0].n) this.#needs.delete(n);
    const doomed: { key: string; kind: "tables" | "wal" | "manifests"; table?: number }[] = [];
    for (const o of tableObjects) {
      if (tables.has(o.n)) continue;
      if (o.lastModified > oldEnough || (newest !== undefined && mayBeInFlight(newest, o.n))) report.waiting++;
      else doomed.push({ key: o.key, kind: "tables", table: o.n });
    }
    for (const o of walObjects) {
      // Fences (a header and nothing else) stay: a fenced writer that wakes up must still find its next number taken.
      if (o.n >= walFloor || o.size <= LOG_HEADER_SIZE) continue;
      if (o.lastModified > oldEnough) report.waiting++;
      else doomed.push({ key: o.key, kind: "wal" });
    }
    manifests.forEach((m, i) => {
      if (retired(i) && i < manifests.length - KEEP_MANIFESTS && !pinned.has(m.n)) {
        doomed.push({ key: m.key, kind: "manifests" });
      }
    });
    for (const { key, kind, table } of doomed) {
      await this.#store.delete(key);
      this.deleted++;
      report.deleted[kind]++;
      if (table !== undefined) this.#onTableDeleted(table);
    }
    return report;
  }

  /** What manifest n keeps alive (read once); a manifest that is gone stops the sweep. */
  async #needsOf(n: number, onState?: (state: BucketState) => void): Promise<Needs> {
    const known = this.#needs.get(n);
    if (known !== undefined && onState === undefined) return known;
    const state = await readManifest(this.#store, n);
    if (state === undefined) {
      throw new Error(`${this.#store.location}: manifest ${n} vanished while the collector read it`);
    }
    onState?.(state);
    const needs = { tables: state.levels.flatMap((files) => files.map((f) => f.number)), walStart: state.walStart };
    this.#needs.set(n, needs);
    return needs;
  }
}
