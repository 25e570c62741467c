// The manifest of a store in a bucket, and the protocol that makes one
// writer (and one compactor) hold it:
//
// - Each commit is a new immutable object manifest/<n+1> holding the whole
//   state (the table files per level, the first WAL object not yet in
//   tables, the last sequence, the reserved file numbers, the epochs),
//   created with a create-only PUT: of two committers of n+1 exactly one
//   wins. The loser reads the winner's manifest: if it names a newer epoch
//   for its role, it is FENCED (it refuses every write from then on);
//   otherwise (the other role committed: a writer's flush, a compactor's
//   compaction) it applies its edit on top and tries n+2.
// - Opening a writer (or a compactor) claims the role: it commits a
//   manifest with the role's epoch one higher and reserves a fresh range of
//   file numbers (nextFileNumber moves past it), so that table numbers never
//   collide between holders, old or new. A holder reserves another range
//   with a commit once half of what it holds is used.
// - Each holder records its floor with every commit: the lowest table
//   number it may still commit (its uploads in flight; numbers only grow).
//   The collector never deletes an unlisted table at or above a floor.
// - The writer records the oldest sequence its snapshots read
//   (writerSnapshot); a compaction keeps every version that sequence sees
//   and records it as the horizon, which tells readers whether their own
//   snapshots may still move to the new state (src/bucket_follower.ts).
//
// The object is the log format of a MANIFEST file (header, then one sealed
// edit record with the whole state; src/format/log_format.ts), so the same
// checksums guard it.

import { corruption, SiltError } from "../errors.ts";
import { logFileHeader, RECORD_HEADER_SIZE, RECORD_OVERHEAD, RECORD_TYPE_EDIT } from "../format/log_format.ts";
import { bytesFile } from "../storage/bytes_file.ts";
import { compareInLevel, NUM_LEVELS } from "../version/version.ts";
import { decodeEdit, encodeEdit, type FileMeta, type VersionEdit } from "../version/version_edit.ts";
import { replayLog } from "../wal/log_reader.ts";
import { allocBuffer, bytes, freeBuffer } from "../wasm/instance.ts";
import { sealRecord } from "../wasm/records.ts";
import { MANIFEST_DIR, manifestKey, numberOfKey, probeKey } from "./bucket_layout.ts";
import { listAll, newPutId, type ObjectStore } from "./object_store.ts";

/**
 * The state a manifest object holds.
 *
 * @example
 * ```ts
 * declare const state: BucketState;
 * console.log(`manifest ${state.number}: writer epoch ${state.writerEpoch}, WAL from ${state.walStart}`);
 * ```
 */
export interface BucketState {
  /** The manifest's number. */
  number: number;
  /** Table files per level (each level in its order). */
  levels: FileMeta[][];
  /** The first WAL object whose writes are not all in tables. */
  walStart: number;
  /** Every table number in use is below this; a writer takes its numbers from a range below it. */
  nextFileNumber: number;
  lastSequence: number;
  writerEpoch: number;
  compactorEpoch: number;
  /** Unlisted tables numbered from here on may be the writer's uploads in flight (0: no writer yet). */
  writerFloor: number;
  /** The same for the compactor (0: no compactor yet). */
  compactorFloor: number;
  /** The end (exclusive) of the numbers the writer reserved: its in-flight numbers are [writerFloor, writerLimit). */
  writerLimit: number;
  /** The same for the compactor. */
  compactorLimit: number;
  /** The oldest sequence the writer's snapshots read, as of its last commit. */
  writerSnapshot: number;
  /** The largest oldest-snapshot sequence a compaction of these tables used. */
  horizon: number;
  /** The writer's gcMinAge (ms; 0: not recorded): no collector deletes sooner, readers plan with it. */
  gracePeriod: number;
}

/** Who holds a manifest: the writer or the compactor. */
export type ManifestRole = "writer" | "compactor";

/** File numbers a holder reserves at a time. */
export const FILE_NUMBER_RANGE = 1_000_000;

/**
 * The state of a bucket that holds no manifest yet (manifest 0): no tables,
 * no epochs, no floors.
 *
 * @example
 * ```ts
 * const first = { ...emptyState(), number: 1, lastSequence: 42 }; // a store's first manifest, made from elsewhere
 * ```
 */
export function emptyState(): BucketState {
  return {
    number: 0,
    levels: Array.from({ length: NUM_LEVELS }, () => []),
    walStart: 1,
    nextFileNumber: 1,
    lastSequence: 0,
    writerEpoch: 0,
    compactorEpoch: 0,
    writerFloor: 0,
    compactorFloor: 0,
    writerLimit: 0,
    compactorLimit: 0,
    writerSnapshot: 0,
    horizon: 0,
    gracePeriod: 0,
  };
}

/**
 * A manifest object's bytes: the log file header and one sealed edit record
 * holding the whole state.
 *
 * @example
 * ```ts
 * declare const state: BucketState;
 * const data = encodeManifest(state);
 * decodeManifest("memory://x/manifest/1", state.number, data); // the same state
 * ```
 */
export function encodeManifest(state: BucketState): Uint8Array {
  const payload = encodeEdit({
    logNumber: state.walStart,
    nextFileNumber: state.nextFileNumber,
    lastSequence: state.lastSequence,
    writerEpoch: state.writerEpoch,
    compactorEpoch: state.compactorEpoch,
    writerFloor: state.writerFloor,
    compactorFloor: state.compactorFloor,
    writerLimit: state.writerLimit,
    compactorLimit: state.compactorLimit,
    writerSnapshot: state.writerSnapshot,
    horizon: state.horizon,
    gracePeriod: state.gracePeriod,
    added: state.levels.flatMap((files, level) => files.map((file) => ({ level, file }))),
  });
  const header = logFileHeader();
  const size = RECORD_OVERHEAD + payload.length;
  const ptr = allocBuffer(size);
  try {
    bytes().set(payload, ptr + RECORD_HEADER_SIZE);
    sealRecord(ptr, payload.length, RECORD_TYPE_EDIT);
    const out = new Uint8Array(header.length + size);
    out.set(header);
    out.set(bytes().subarray(ptr, ptr + size), header.length);
    return out;
  } finally {
    freeBuffer(ptr);
  }
}

/**
 * The state in manifest object `number` (`path` names it in errors);
 * CORRUPTION if it is damaged or is not one whole record.
 *
 * @example
 * ```ts
 * declare const data: Uint8Array;
 * const state = decodeManifest("s3://bucket/db/manifest/00000000000000000007", 7, data);
 * ```
 */
export function decodeManifest(path: string, number: number, data: Uint8Array): BucketState {
  let edit: VersionEdit | undefined;
  const replay = replayLog(bytesFile(path, data), path, (payload, length, offset) => {
    if (edit !== undefined) throw corruption(path, offset, "a manifest object holds more than one record");
    edit = decodeEdit(bytes().slice(payload, payload + length), path, offset);
  }, RECORD_TYPE_EDIT);
  if (edit === undefined || replay.tornBytes > 0) throw corruption(path, replay.validEnd, "incomplete manifest object");
  const state = emptyState();
  state.number = number;
  for (const { level, file } of edit.added ?? []) {
    if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) {
      throw corruption(path, 0, `the manifest names level ${level}`);
    }
    state.levels[level].push(file);
  }
  state.levels.forEach((files, level) => files.sort((a, b) => compareInLevel(level, a, b)));
  state.walStart = edit.logNumber ?? 1;
  state.nextFileNumber = edit.nextFileNumber ?? 1;
  state.lastSequence = edit.lastSequence ?? 0;
  state.writerEpoch = edit.writerEpoch ?? 0;
  state.compactorEpoch = edit.compactorEpoch ?? 0;
  state.writerFloor = edit.writerFloor ?? 0;
  state.compactorFloor = edit.compactorFloor ?? 0;
  state.writerLimit = edit.writerLimit ?? 0;
  state.compactorLimit = edit.compactorLimit ?? 0;
  state.writerSnapshot = edit.writerSnapshot ?? 0;
  state.horizon = edit.horizon ?? 0;
  state.gracePeriod = edit.gracePeriod ?? 0;
  return state;
}

/**
 * The newest manifest, looking from number `from` on (undefined when the
 * bucket holds none). A manifest listed but gone when read (a collector
 * deleted an old one) is looked for again.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const latest = await latestManifest(store);
 * console.log(latest?.number ?? "an empty bucket");
 * ```
 */
export async function latestManifest(store: ObjectStore, from = 0): Promise<BucketState | undefined> {
  for (;;) {
    let newest: number | undefined;
    const after = from > 0 ? manifestKey(from - 1) : undefined;
    for await (const o of listAll(store, MANIFEST_DIR)) {
      if (after !== undefined && o.key <= after) continue;
      const n = numberOfKey(MANIFEST_DIR, o.key);
      if (n !== undefined && (newest === undefined || n > newest)) newest = n;
    }
    if (newest === undefined) return undefined;
    const state = await readManifest(store, newest);
    if (state !== undefined) return state;
  }
}

/**
 * Manifest n, or undefined when there is none.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const m7 = await readManifest(store, 7);
 * ```
 */
export async function readManifest(store: ObjectStore, n: number): Promise<BucketState | undefined> {
  const got = await store.get(manifestKey(n));
  return got && decodeManifest(`${store.location}${manifestKey(n)}`, n, got.data);
}

/**
 * The state after `edit` (files deleted and added; counters that only grow
 * take the larger value; the writer's snapshot is replaced when given).
 */
function applyEdit(base: BucketState, edit: VersionEdit): BucketState {
  const levels = base.levels.map((files) => [...files]);
  for (const d of edit.deleted ?? []) levels[d.level] = levels[d.level].filter((f) => f.number !== d.number);
  for (const { level, file } of edit.added ?? []) levels[level].push(file);
  levels.forEach((files, level) => files.sort((a, b) => compareInLevel(level, a, b)));
  return {
    number: base.number + 1,
    levels,
    walStart: Math.max(base.walStart, edit.logNumber ?? 0),
    nextFileNumber: Math.max(base.nextFileNumber, edit.nextFileNumber ?? 0),
    lastSequence: Math.max(base.lastSequence, edit.lastSequence ?? 0),
    writerEpoch: Math.max(base.writerEpoch, edit.writerEpoch ?? 0),
    compactorEpoch: Math.max(base.compactorEpoch, edit.compactorEpoch ?? 0),
    writerFloor: Math.max(base.writerFloor, edit.writerFloor ?? 0),
    compactorFloor: Math.max(base.compactorFloor, edit.compactorFloor ?? 0),
    writerLimit: Math.max(base.writerLimit, edit.writerLimit ?? 0),
    compactorLimit: Math.max(base.compactorLimit, edit.compactorLimit ?? 0),
    writerSnapshot: edit.writerSnapshot ?? base.writerSnapshot,
    horizon: Math.max(base.horizon, edit.horizon ?? 0),
    gracePeriod: edit.gracePeriod ?? base.gracePeriod,
  };
}

/**
 * True when an unlisted table numbered `n` may still be committed by the
 * writer or the compactor of `state` (at or above one's floor).
 *
 * @example
 * ```ts
 * declare const state: BucketState;
 * if (!mayBeInFlight(state, 42)) console.log("table 42 is an orphan once old enough");
 * ```
 */
export function mayBeInFlight(state: BucketState, n: number): boolean {
  return (n >= state.writerFloor && n < state.writerLimit) || (n >= state.compactorFloor && n < state.compactorLimit);
}

/**
 * UNSUPPORTED unless the store honours create-only PUTs: a second
 * If-None-Match: * PUT of one key must be refused. (Stores without
 * conditional writes answer 501, which the S3 transport turns into
 * UNSUPPORTED; some accept the header and ignore it, which only this shows.)
 * Fencing rests on it, so a writer or compactor checks before claiming.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * await checkCreateOnly(store); // UNSUPPORTED: "… ignores If-None-Match …"
 * ```
 */
export async function checkCreateOnly(store: ObjectStore): Promise<void> {
  const key = probeKey(newPutId());
  try {
    const first = await store.put(key, new Uint8Array(0), { ifNoneMatch: "*" });
    const second = await store.put(key, new Uint8Array(0), { ifNoneMatch: "*" });
    if (!first.written || second.written) {
      throw new SiltError(
        "UNSUPPORTED",
        `${store.location} ignores If-None-Match: * on PUT (a second create-only PUT of ${key} was ` +
          `${
            second.written ? "accepted" : "refused, and so was the first"
          }): siltdb needs create-only writes to fence ` +
          `writers, and cannot keep a store here`,
        { file: `${store.location}${key}` },
      );
    }
  } finally {
    await store.delete(key).catch(() => {});
  }
}

/** A range of file numbers a holder reserved: `next` up to (not including) `end`. */
interface NumberRange {
  next: number;
  end: number;
}

/**
 * A role held on a store's manifest: the one writer, or the one compactor.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const manifest = await BucketManifest.claim(store, "writer", true);
 * const n = manifest.takeFileNumber(); // a table number no other holder uses
 * await manifest.commit({ added: [], logNumber: 5 }); // FENCED if a newer writer has claimed the store
 * manifest.releaseFileNumbers([n]);
 * ```
 */
export class BucketManifest {
  readonly store: ObjectStore;
  readonly role: ManifestRole;
  /** The epoch this holder claimed. */
  readonly epoch: number;
  /** The state as of the last manifest read or committed. */
  state: BucketState;
  readonly #ranges: NumberRange[];
  /** Numbers taken and not released: their tables may be uploaded and not yet committed. */
  readonly #taken = new Set<number>();
  #fenced: SiltError | undefined;
  /**
   * When (this process's clock, ms) the last claim, commit or refresh that
   * found this holder's epoch current was sent: no newer holder had claimed
   * the store before then.
   */
  verifiedAt: number;

  private constructor(store: ObjectStore, role: ManifestRole, state: BucketState, range: NumberRange) {
    this.store = store;
    this.role = role;
    this.state = state;
    this.epoch = role === "writer" ? state.writerEpoch : state.compactorEpoch;
    this.#ranges = [range];
    this.verifiedAt = Date.now();
  }

  /**
   * Claims the role: commits a manifest with the role's epoch one higher
   * and a fresh range of file numbers. With `create`, an empty bucket gets
   * its first manifest; without, it is NOT_FOUND.
   */
  static async claim(
    store: ObjectStore,
    role: ManifestRole,
    create: boolean,
    gracePeriod?: number,
  ): Promise<BucketManifest> {
    await checkCreateOnly(store);
    for (;;) {
      const latest = await latestManifest(store);
      if (latest === undefined && !create) {
        throw new SiltError("NOT_FOUND", `${store.location} holds no database (no manifest)`, { file: store.location });
      }
      const base = latest ?? emptyState();
      const next = applyEdit(base, {});
      const range = { next: base.nextFileNumber, end: base.nextFileNumber + FILE_NUMBER_RANGE };
      next.nextFileNumber = range.end;
      if (role === "writer") {
        if (gracePeriod !== undefined) next.gracePeriod = gracePeriod;
        next.writerEpoch = base.writerEpoch + 1;
        next.writerFloor = range.next;
        next.writerLimit = range.end;
      } else {
        next.compactorEpoch = base.compactorEpoch + 1;
        next.compactorFloor = range.next;
        next.compactorLimit = range.end;
      }
      const out = await store.put(manifestKey(next.number), encodeManifest(next), { ifNoneMatch: "*" });
      if (out.written) return new BucketManifest(store, role, next, range);
    }
  }

  /** Where the store is, for messages. */
  get location(): string {
    return this.store.location;
  }

  /** The FENCED error, once this holder was fenced. */
  get fenced(): SiltError | undefined {
    return this.#fenced;
  }

  /** A new table number from the ranges this holder reserved (IO_ERROR when they are used up). */
  takeFileNumber(): number {
    while (this.#ranges.length > 0 && this.#ranges[0].next >= this.#ranges[0].end) this.#ranges.shift();
    const range = this.#ranges[0];
    if (range === undefined) {
      throw new SiltError(
        "IO_ERROR",
        `${this.store.location}: the file numbers this ${this.role} reserved are used up (its next commit reserves more)`,
      );
    }
    const n = range.next++;
    this.#taken.add(n);
    return n;
  }

  /** Numbers whose tables are committed or deleted: they no longer hold the floor down. */
  releaseFileNumbers(numbers: Iterable<number>): void {
    for (const n of numbers) this.#taken.delete(n);
  }

  /**
   * The lowest number this holder may still commit after `edit`: the least
   * taken, not released and not committed by the edit, else the next to take.
   */
  #floor(edit: VersionEdit): number {
    const committed = new Set((edit.added ?? []).map((a) => a.file.number));
    let floor = this.#ranges.find((r) => r.next < r.end)?.next ?? this.state.nextFileNumber;
    for (const n of this.#taken) if (!committed.has(n)) floor = Math.min(floor, n);
    return floor;
  }

  /** True when less than half a range of numbers is left: the next commit reserves another. */
  get #wantsNumbers(): boolean {
    return this.#ranges.reduce((left, r) => left + Math.max(0, r.end - r.next), 0) < FILE_NUMBER_RANGE / 2;
  }

  /**
   * Commits `edit` on top of the newest manifest and resolves with the
   * state it made (with this holder's floor, and another range of numbers
   * when it needs one). FENCED (for good) when a newer holder of this role
   * has committed; IO_ERROR when the edit deletes a file that is gone
   * (another holder's compaction took it first).
   */
  async commit(edit: VersionEdit): Promise<BucketState> {
    if (this.#fenced) throw this.#fenced;
    const sent = Date.now();
    let base = this.state;
    for (;;) {
      const epoch = this.role === "writer" ? base.writerEpoch : base.compactorEpoch;
      if (epoch !== this.epoch) throw this.#fence(base);
      for (const d of edit.deleted ?? []) {
        if (!base.levels[d.level].some((f) => f.number === d.number)) {
          throw new SiltError(
            "IO_ERROR",
            `${this.store.location}: table ${d.number} of L${d.level} is no longer in the manifest (${base.number}): ` +
              `the edit is void`,
            { file: `${this.store.location}${manifestKey(base.number)}` },
          );
        }
      }
      const next = applyEdit(base, edit);
      const reserve = this.#wantsNumbers
        ? { next: base.nextFileNumber, end: base.nextFileNumber + FILE_NUMBER_RANGE }
        : undefined;
      const limit = Math.max(reserve?.end ?? 0, ...this.#ranges.map((r) => r.end));
      if (reserve !== undefined) next.nextFileNumber = Math.max(next.nextFileNumber, reserve.end);
      if (this.role === "writer") {
        next.writerFloor = this.#floor(edit);
        next.writerLimit = limit;
      } else {
        next.compactorFloor = this.#floor(edit);
        next.compactorLimit = limit;
      }
      const out = await this.store.put(manifestKey(next.number), encodeManifest(next), { ifNoneMatch: "*" });
      if (out.written) {
        if (reserve !== undefined) this.#ranges.push(reserve);
        this.state = next;
        this.verifiedAt = Math.max(this.verifiedAt, sent);
        return next;
      }
      // The winner of number next.number, or a newer one. A listing may not show it yet (S3 lists
      // eventually); a GET of that number sees it at once.
      const newer = (await latestManifest(this.store, next.number)) ?? (await readManifest(this.store, next.number));
      if (newer === undefined) {
        throw new SiltError(
          "CORRUPTION",
          `${this.store.location}: manifest ${next.number} exists but cannot be found`,
          {
            file: `${this.store.location}${manifestKey(next.number)}`,
          },
        );
      }
      base = newer;
    }
  }

  /**
   * Reads the newest manifest into `state`; FENCED when a newer holder of
   * this role has claimed the store. `exact`: also GETs the numbers after
   * the newest one listed (a listing may not show the newest manifests yet;
   * a GET sees them at once), one request more.
   */
  async refresh(options: { exact?: boolean } = {}): Promise<BucketState> {
    if (this.#fenced) throw this.#fenced;
    const sent = Date.now();
    let newer = await latestManifest(this.store, this.state.number);
    if (options.exact) {
      for (let n = (newer ?? this.state).number + 1;; n++) {
        const next = await readManifest(this.store, n);
        if (next === undefined) break;
        newer = next;
      }
    }
    if (newer !== undefined) {
      if ((this.role === "writer" ? newer.writerEpoch : newer.compactorEpoch) !== this.epoch) throw this.#fence(newer);
      this.state = newer;
    }
    this.verifiedAt = Math.max(this.verifiedAt, sent);
    return this.state;
  }

  #fence(by: BucketState): SiltError {
    const epoch = this.role === "writer" ? by.writerEpoch : by.compactorEpoch;
    this.#fenced ??= new SiltError(
      "FENCED",
      `${this.store.location}: another ${this.role} (epoch ${epoch}, manifest ${by.number}) has opened the store ` +
        `since this one (epoch ${this.epoch}); this ${this.role} refuses every write from now on`,
      { file: `${this.store.location}${manifestKey(by.number)}` },
    );
    return this.#fenced;
  }
}
