// A reader of a store in a bucket following its writer: every
// refreshInterval (and at db.refresh()) it looks for a newer manifest and
// for WAL objects stored since, and brings its view up to date — the
// version of the newest manifest, and a memtable holding the writes of the
// WAL objects from that manifest's WAL start on. Each step installs a
// consistent prefix of the writer's history: WAL objects are replayed in
// order, so the reader's last sequence is that of the last write replayed
// (or of the newest table), never one whose write it has not seen. Scans
// and snapshots keep the view they started on (its memtable and version are
// referenced), so they stay consistent while the reader moves on.

import { keepAlive } from "./_runtime.ts";
import { corruption } from "./errors.ts";
import { batchHeader } from "./format/batch_format.ts";
import { type MemtableHandle, retireMemtable } from "./memtable.ts";
import { latestManifest } from "./object_store/bucket_manifest.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import { type OnBatch, replayWalObjects } from "./object_store/wal_objects.ts";
import type { VersionSet } from "./version/version_set.ts";
import { view } from "./wasm/instance.ts";
import { Memtable } from "./wasm/memtable.ts";

/**
 * Where a reader starts: what opening found.
 *
 * @example
 * ```ts
 * import { Memtable } from "./wasm/memtable.ts";
 * const start: FollowerStart = { memtable: new Memtable(), walStart: 1, nextWal: 7, lastSequence: 120, manifestNumber: 4 };
 * ```
 */
export interface FollowerStart {
  memtable: Memtable;
  walStart: number;
  nextWal: number;
  lastSequence: number;
  manifestNumber: number;
}

/**
 * A reader's view of a store in a bucket, kept up to date.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store/object_store.ts";
 * import type { VersionSet } from "./version/version_set.ts";
 * declare const store: ObjectStore, versions: VersionSet, start: FollowerStart;
 * const follower = new BucketFollower(store, versions, start, 1000, (err) => console.warn(err));
 * await follower.refresh(); // the newest manifest and WAL objects
 * follower.close();
 * ```
 */
export class BucketFollower {
  /** The memtable reads search (the writes of the WAL objects replayed). */
  mem: MemtableHandle;
  /** The last sequence the reader has seen. */
  sequence: number;
  readonly #store: ObjectStore;
  readonly #versions: VersionSet;
  #walStart: number;
  #nextWal: number;
  #manifestNumber: number;
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /**
   * The oldest sequence a snapshot of this reader reads (Infinity with
   * none). A manifest whose compactions kept less than that sees (its
   * horizon is above it) is not installed until those snapshots are
   * released; new writes still arrive through the WAL objects.
   */
  oldestSnapshot: () => number = () => Infinity;

  constructor(
    store: ObjectStore,
    versions: VersionSet,
    start: FollowerStart,
    intervalMs: number,
    onError: (err: unknown) => void,
  ) {
    this.#store = store;
    this.#versions = versions;
    this.mem = { mt: start.memtable, firstLog: start.walStart, refs: 0, retired: false };
    this.#walStart = start.walStart;
    this.#nextWal = start.nextWal;
    this.#manifestNumber = start.manifestNumber;
    this.sequence = Math.max(start.lastSequence, versions.current.largestSequence);
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.refresh().catch(onError), intervalMs);
      keepAlive(this.#timer, false);
    }
  }

  /** Brings the view up to date; calls made while one runs share it. */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => this.#running = undefined);
    return this.#running;
  }

  /** Stops following (the memtable is freed by the database's close). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  async #refresh(): Promise<void> {
    const newest = await latestManifest(this.#store, this.#manifestNumber);
    const latest = newest !== undefined && newest.horizon <= this.oldestSnapshot() ? newest : undefined;
    let target = this.mem.mt;
    let from = this.#nextWal;
    let last = this.sequence;
    const fresh = latest !== undefined && latest.walStart !== this.#walStart;
    if (fresh) {
      // The writer flushed: its tables hold what the memtable held; start one from the new WAL start.
      target = new Memtable();
      from = latest.walStart;
      last = 0;
    }
    const apply: OnBatch = (payload, length, where) => {
      const header = batchHeader(view(), payload, length, last);
      if (typeof header === "string") throw corruption(where.object, where.offset, header);
      if (target.applyBatch(payload, length) < 0) throw corruption(where.object, where.offset, "malformed write batch");
      last = header.sequence + header.count - 1;
    };
    let next: number;
    try {
      next = await replayWalObjects(this.#store, from, apply);
    } catch (err) {
      if (fresh) target.free();
      throw err;
    }
    // Install: the version first, then the memtable, in one synchronous step.
    if (latest !== undefined && latest.number > this.#manifestNumber) {
      this.#versions.installBucketState(latest);
      this.#manifestNumber = latest.number;
    }
    if (fresh) {
      const old = this.mem;
      this.mem = { mt: target, firstLog: latest.walStart, refs: 0, retired: false };
      this.#walStart = latest.walStart;
      retireMemtable(old);
    }
    this.#nextWal = next;
    this.sequence = Math.max(this.sequence, last, this.#versions.current.largestSequence);
  }
}
