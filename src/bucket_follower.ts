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
import { corruption, SiltError } from "./errors.ts";
import { batchHeader } from "./format/batch_format.ts";
import { type MemtableHandle, retireMemtable } from "./memtable.ts";
import { manifestKey } from "./object_store/bucket_layout.ts";
import { latestManifest } from "./object_store/bucket_manifest.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import { type OnBatch, probeWalObjects, replayWalObjects } from "./object_store/wal_objects.ts";
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
  /**
   * Called when snapshots held the view back so long (past gcMinAge) that
   * the WAL objects after it were collected: they must be released (their
   * reads then fail with RELEASED) for the view to move on.
   */
  releaseSnapshots: () => void = () => {};
  /**
   * The grace period to plan with when the manifest records none (this
   * database's gcMinAge). Snapshots may hold the view back for half the
   * writer's grace period: once the state it shows was replaced that long
   * ago (by the store's clock, as the collector sees it), what it reads may
   * soon be collected, so they are released.
   */
  gracePeriod = Infinity;
  /** Called when a refresh moved the reader on (new writes, or a new memtable). */
  onAdvance: () => void = () => {};

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
    if (await this.#follow()) return;
    this.releaseSnapshots();
    await this.#follow();
  }

  /** One refresh; false when snapshots hold the view back and what follows it was collected. */
  async #follow(): Promise<boolean> {
    // The manifests are listed while the next WAL objects are fetched by number: with no new state,
    // new writes are seen in one round trip. With a new state to install (or one held back), the
    // WAL objects are listed after it was read: its horizon covers every write stored before it,
    // and the fetch may have been made before some of them.
    const [found, probed] = await Promise.all([
      latestManifest(this.#store, this.#manifestNumber),
      probeWalObjects(this.#store, this.#nextWal),
    ]);
    const newest = found !== undefined && found.number > this.#manifestNumber ? found : undefined;
    const latest = newest !== undefined && newest.horizon <= this.oldestSnapshot() ? newest : undefined;
    const heldBack = newest !== undefined && latest === undefined;
    if (heldBack) {
      const replaced = await this.#store.head(manifestKey(this.#manifestNumber + 1));
      const limit = (newest.gracePeriod || this.gracePeriod) / 2;
      if (replaced === undefined || Date.now() - replaced.lastModified >= limit) return false;
    }
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
      next = await replayWalObjects(this.#store, from, apply, undefined, newest === undefined ? probed : undefined);
    } catch (err) {
      if (fresh) target.free();
      // Held back by a snapshot past gcMinAge: the WAL objects after its view, below the newest WAL
      // start, may be collected; the view can only move on without it.
      if (heldBack && err instanceof SiltError && err.code === "CORRUPTION" && from < newest.walStart) return false;
      throw err;
    }
    // Install: the version first, then the memtable, in one synchronous step.
    if (latest !== undefined) {
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
    // Every write up to the horizon is in the tables or the WAL objects replayed (the writer made it
    // visible only once stored, before this manifest): reads start there at least, since a
    // compaction may have dropped what an older sequence would see (a tombstone with what it hid).
    const before = this.sequence;
    this.sequence = Math.max(this.sequence, last, this.#versions.current.largestSequence, this.#versions.horizon);
    if (this.sequence !== before || fresh) this.onAdvance();
    return true;
  }
}
