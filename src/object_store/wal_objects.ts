// The write-ahead log of a store in a bucket: numbered WAL objects
// (wal/<n>), each a group of writes in the log format of a .log file (the
// file header, then sealed write-batch records), created with a create-only
// PUT. A writer writes them one after another; an awaited write resolves
// once the object holding it is stored.
//
// Fencing: a new writer, once it holds the manifest (a higher writer epoch),
// replays every WAL object from the manifest's WAL start on, then claims
// the next free number with an empty WAL object (a fence). The old writer's
// next create-only PUT at that number fails: it is FENCED and writes nothing
// more. Every object the old writer managed to create before the fence has
// been replayed by the new writer (a number taken between the listing and
// the fence is replayed too, and the fence moves on), so nothing it
// acknowledged is lost, and nothing it writes after the fence is seen.
//
// Every WAL object names the epoch of the writer that wrote it (a fence in
// FENCE_METADATA, writes in WRITER_METADATA). Two writers opening at once
// may fence the WAL in either order: a writer that meets an object of a
// newer epoch while it replays or fences is the older one, and is FENCED
// (without this, the older one fenced past the newer one's fence and wrote
// on, and the newer one was FENCED by it).

import { corruption, SiltError } from "../errors.ts";
import { logFileHeader, RECORD_TYPE_BATCH } from "../format/log_format.ts";
import { bytesFile } from "../storage/bytes_file.ts";
import { replayLog } from "../wal/log_reader.ts";
import { numberOfKey, WAL_DIR, walKey } from "./bucket_layout.ts";
import { listAll, type ObjectStore, type StoredObject } from "./object_store.ts";

/** The metadata name under which a fence records the epoch of the writer that set it. */
export const FENCE_METADATA = "siltdb-fence-epoch";

/** The metadata name under which a WAL object of writes records the epoch of its writer. */
export const WRITER_METADATA = "siltdb-writer-epoch";

/**
 * Called for each write batch replayed: its payload at `payload` (length
 * bytes, linear memory, valid during the call) and where it is, for messages.
 */
export type OnBatch = (payload: number, length: number, where: { object: string; offset: number }) => void;

/**
 * Replays the WAL objects numbered from `from` on, in order, up to the
 * first number missing (listed, then fetched by number past the listing,
 * which may lag); resolves with the number after the last one. A number
 * missing between two listed ones is CORRUPTION (an object deleted behind
 * siltdb's back), as is a damaged object. With `writerEpoch` (a writer opening), an object of a newer writer
 * is FENCED. `probed` (probeWalObjects from `from`, made earlier): its
 * objects are replayed first, and the rest listed only if it found no end.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const next = await replayWalObjects(store, 5, (payload, length) => console.log(length));
 * ```
 */
export async function replayWalObjects(
  store: ObjectStore,
  from: number,
  onBatch: OnBatch,
  writerEpoch?: number,
  probed?: WalProbe,
): Promise<number> {
  // Replays object n as fetched; false when there is no such object. A newer writer's object is FENCED.
  const replay = (n: number, got: StoredObject | undefined): boolean => {
    const epoch = replayStored(store, n, got, onBatch);
    if (epoch === undefined) return false;
    if (writerEpoch !== undefined) checkNotNewer(store, n, epoch, writerEpoch);
    return true;
  };
  let next = from;
  if (probed !== undefined && probed.from === from) {
    for (const got of probed.objects) replay(next++, got);
    if (probed.ended) return next;
  }
  const numbers = await listWalObjects(store, next);
  // The objects are fetched a few at a time ahead of the one replayed (replays apply in order).
  const fetches = new Map<number, Promise<StoredObject | undefined>>();
  const fetch = (i: number) => {
    if (i >= numbers.length || fetches.has(i)) return;
    const got = store.get(walKey(numbers[i]));
    got.catch(() => {}); // awaited in its turn; not a rejection nobody handles if the replay stops before
    fetches.set(i, got);
  };
  for (let i = 0; i < numbers.length; i++) {
    const n = numbers[i];
    for (let ahead = i; ahead < i + PARALLEL_GETS; ahead++) fetch(ahead);
    const got = await fetches.get(i)!;
    fetches.delete(i);
    if (n !== next) {
      throw corruption(`${store.location}${walKey(next)}`, 0, `WAL object ${next} is missing (${n} follows)`);
    }
    if (!replay(n, got)) {
      throw corruption(`${store.location}${walKey(n)}`, 0, "the WAL object vanished while it was read");
    }
    next = n + 1;
  }
  // A listing may not show the newest objects yet (S3 lists eventually); a GET sees an object as
  // soon as it is stored: go on by number up to the first one missing.
  while (replay(next, await store.get(walKey(next)))) next++;
  return next;
}

/** The numbers of the WAL objects from `from` on, as listed at one moment, in order. */
async function listWalObjects(store: ObjectStore, from: number): Promise<number[]> {
  const numbers: number[] = [];
  for await (const o of listAll(store, WAL_DIR, from > 0 ? walKey(from - 1) : undefined)) {
    const n = numberOfKey(WAL_DIR, o.key);
    if (n !== undefined && n >= from) numbers.push(n);
  }
  return numbers.sort((a, b) => a - b);
}

/** The WAL objects from `from` on that probeWalObjects fetched, with or without their end. */
export interface WalProbe {
  from: number;
  /** Objects from, from + 1, … as stored. */
  objects: StoredObject[];
  /** True when the number after the last object was missing: there is no object past them. */
  ended: boolean;
}

/**
 * GETs WAL objects `from` and `from + 1` at once, without a listing: how a
 * reader that knows where the WAL goes on sees new writes in one round trip
 * (numbers are taken in order, so the first one missing is the end; S3 GETs
 * see an object as soon as it is stored, where listings may lag). Past two
 * objects, or the second without the first, replayWalObjects lists the rest.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const probe = await probeWalObjects(store, 12); // { from: 12, objects: [wal/12], ended: true }
 * ```
 */
export async function probeWalObjects(store: ObjectStore, from: number): Promise<WalProbe> {
  const [first, second] = await Promise.all([store.get(walKey(from)), store.get(walKey(from + 1))]);
  // The second without the first: stored between the two GETs, or the first deleted behind siltdb's
  // back (CORRUPTION): a listing tells which.
  if (first === undefined) return { from, objects: [], ended: second === undefined };
  if (second === undefined) return { from, objects: [first], ended: true };
  return { from, objects: [first, second], ended: false };
}

/** WAL objects fetched at once while replaying. */
const PARALLEL_GETS = 8;

/** Replays WAL object n; resolves with the epoch of its writer (0 if it names none), undefined when there is no such object. */
async function replayWalObject(store: ObjectStore, n: number, onBatch: OnBatch): Promise<number | undefined> {
  return replayStored(store, n, await store.get(walKey(n)), onBatch);
}

/** Replays WAL object n as fetched (`got`); the epoch of its writer (0 if it names none), undefined when there is none. */
function replayStored(
  store: ObjectStore,
  n: number,
  got: StoredObject | undefined,
  onBatch: OnBatch,
): number | undefined {
  const path = `${store.location}${walKey(n)}`;
  if (got === undefined) return undefined;
  const replay = replayLog(bytesFile(path, got.data), path, (payload, length, offset) => {
    onBatch(payload, length, { object: path, offset });
  }, RECORD_TYPE_BATCH);
  if (replay.tornBytes > 0) throw corruption(path, replay.validEnd, "the WAL object is cut short");
  return Number(got.metadata[FENCE_METADATA] ?? got.metadata[WRITER_METADATA] ?? 0) || 0;
}

/** FENCED when WAL object n was written by a newer writer than this one (epoch). */
function checkNotNewer(store: ObjectStore, n: number, by: number, epoch: number): void {
  if (by <= epoch) return;
  throw new SiltError(
    "FENCED",
    `${store.location}: WAL object ${n} was written by a newer writer (epoch ${by}) than this one (epoch ${epoch}), ` +
      `which opened the store meanwhile; this writer refuses every write from now on`,
    { file: `${store.location}${walKey(n)}` },
  );
}

/**
 * Claims the first free WAL number from `from` on with a fence for writer
 * `epoch`: objects found at a number in the way (an old writer's last
 * writes) are replayed and the fence moves on. Resolves with the number the
 * new writer writes next.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore;
 * const next = await fenceWal(store, 12, 3, () => {}); // 13, unless an old writer took 12 meanwhile
 * ```
 */
export async function fenceWal(store: ObjectStore, from: number, epoch: number, onBatch: OnBatch): Promise<number> {
  for (let n = from;; n++) {
    const out = await store.put(walKey(n), logFileHeader(), {
      ifNoneMatch: "*",
      metadata: { [FENCE_METADATA]: String(epoch) },
    });
    if (out.written) return n + 1;
    checkNotNewer(store, n, (await replayWalObject(store, n, onBatch)) ?? 0, epoch);
  }
}

/**
 * Stores WAL object n holding `records` (sealed write batches); FENCED when
 * the number is taken (a newer writer's fence, or its writes).
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "./object_store.ts";
 * declare const store: ObjectStore, records: Uint8Array;
 * await putWalObject(store, 13, records, 2);
 * ```
 */
export async function putWalObject(store: ObjectStore, n: number, records: Uint8Array, epoch: number): Promise<number> {
  const header = logFileHeader();
  const data = new Uint8Array(header.length + records.length);
  data.set(header);
  data.set(records, header.length);
  const out = await store.put(walKey(n), data, { ifNoneMatch: "*", metadata: { [WRITER_METADATA]: String(epoch) } });
  if (!out.written) {
    throw new SiltError(
      "FENCED",
      `${store.location}: WAL object ${n} was created by another writer: a newer writer opened the store since ` +
        `this one (epoch ${epoch}); this writer refuses every write from now on`,
      { file: `${store.location}${walKey(n)}` },
    );
  }
  return data.length;
}
