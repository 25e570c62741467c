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
//   manifest with the role's epoch one higher, and for a writer a fresh
//   range of file numbers, so that table numbers never collide between an
//   old writer and a new one.
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
import { MANIFEST_DIR, manifestKey, numberOfKey } from "./bucket_layout.ts";
import { listAll, type ObjectStore } from "./object_store.ts";

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
}

/** Who holds a manifest: the writer or the compactor. */
export type ManifestRole = "writer" | "compactor";

/** File numbers a writer reserves at a time. */
export const FILE_NUMBER_RANGE = 1_000_000;

function emptyState(): BucketState {
  return {
    number: 0,
    levels: Array.from({ length: NUM_LEVELS }, () => []),
    walStart: 1,
    nextFileNumber: 1,
    lastSequence: 0,
    writerEpoch: 0,
    compactorEpoch: 0,
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

/** The state after `edit` (files deleted and added; counters that only grow take the larger value). */
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
  };
}

/**
 * A role held on a store's manifest: the one writer, or the one compactor.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const manifest = await BucketManifest.claim(store, "writer", true);
 * await manifest.commit({ added: [], logNumber: 5 }); // FENCED if a newer writer has claimed the store
 * ```
 */
export class BucketManifest {
  readonly store: ObjectStore;
  readonly role: ManifestRole;
  /** The epoch this holder claimed. */
  readonly epoch: number;
  /** The state as of the last manifest read or committed. */
  state: BucketState;
  /** For a writer: the first file number of the range it reserved (its numbers go up from here). */
  readonly firstFileNumber: number;
  /** How many file numbers a writer reserves at a time. */
  readonly fileNumberRange: number = FILE_NUMBER_RANGE;
  #fenced: SiltError | undefined;

  private constructor(store: ObjectStore, role: ManifestRole, state: BucketState, firstFileNumber: number) {
    this.store = store;
    this.role = role;
    this.state = state;
    this.epoch = role === "writer" ? state.writerEpoch : state.compactorEpoch;
    this.firstFileNumber = firstFileNumber;
  }

  /**
   * Claims the role: commits a manifest with the role's epoch one higher
   * (for a writer, with a fresh range of file numbers). With `create`, an
   * empty bucket gets its first manifest; without, it is NOT_FOUND.
   */
  static async claim(store: ObjectStore, role: ManifestRole, create: boolean): Promise<BucketManifest> {
    for (;;) {
      const latest = await latestManifest(store);
      if (latest === undefined && !create) {
        throw new SiltError("NOT_FOUND", `${store.location} holds no database (no manifest)`, { file: store.location });
      }
      const base = latest ?? emptyState();
      const next = applyEdit(base, {});
      const firstFileNumber = base.nextFileNumber;
      if (role === "writer") {
        next.writerEpoch = base.writerEpoch + 1;
        next.nextFileNumber = base.nextFileNumber + FILE_NUMBER_RANGE;
      } else {
        next.compactorEpoch = base.compactorEpoch + 1;
      }
      const out = await store.put(manifestKey(next.number), encodeManifest(next), { ifNoneMatch: "*" });
      if (out.written) return new BucketManifest(store, role, next, firstFileNumber);
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

  /**
   * Commits `edit` on top of the newest manifest and resolves with the
   * state it made. FENCED (for good) when a newer holder of this role has
   * committed; IO_ERROR when the edit deletes a file that is gone (another
   * holder's compaction took it first).
   */
  async commit(edit: VersionEdit): Promise<BucketState> {
    if (this.#fenced) throw this.#fenced;
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
      const out = await this.store.put(manifestKey(next.number), encodeManifest(next), { ifNoneMatch: "*" });
      if (out.written) {
        this.state = next;
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

  /** Reads the newest manifest into `state`. */
  async refresh(): Promise<BucketState> {
    const newer = await latestManifest(this.store, this.state.number);
    if (newer !== undefined) this.state = newer;
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
