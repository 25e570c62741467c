// The ground truth of the bucket simulation: what was committed, read from
// every change the in-memory store applied (MemoryObjectStore's onChange),
// not from what any process believes.
//
// A store in a bucket commits a write when the WAL object holding it is
// created; every WAL object ever created is part of the store's history,
// in number order (a new writer replays every one of them from the
// manifest's WAL start before it fences the WAL, and a fenced writer cannot
// create one past the fence). So the committed history is the batches of
// every WAL object, in number order, and state(P) is the store after the
// first P of them. Every state any process shows — a writer just opened, a
// reader, a snapshot — must be state(P) for some P; a reader's P never goes
// back. WAL objects are kept here when the store deletes them.
//
// It also records who did what: the writer (or compactor) epoch each client
// claimed (its first manifest), where it fenced the WAL, which WAL objects it
// created, each manifest's tables, every table uploaded (its bytes, decoded
// when a manifest names it: tests/sim/bucket_tables.ts), and every object
// deleted. Each batch's sequence is kept, so that a table's versions map to
// the history (tests/sim/bucket_checks.ts holds every manifest against it).

import type { ObjectChange } from "../../src/object_store/memory_object_store.ts";
import { MANIFEST_DIR, numberOfKey, TABLE_DIR, tableKey, WAL_DIR } from "../../src/object_store/bucket_layout.ts";
import { decodeTable, type TableEntry } from "./bucket_tables.ts";
import { type BucketState, decodeManifest } from "../../src/object_store/bucket_manifest.ts";
import { FENCE_METADATA } from "../../src/object_store/wal_objects.ts";
import { RECORD_TYPE_BATCH } from "../../src/format/log_format.ts";
import { bytesFile } from "../../src/storage/bytes_file.ts";
import { replayLog } from "../../src/wal/log_reader.ts";
import { bytes } from "../../src/wasm/instance.ts";

/** A key's value, or null for absent (a delete). */
export type Value = string | null;

/** One write batch as committed: its entries in order. */
export type Batch = [string, Value][];

/** A WAL object as created. */
export interface WalObject {
  number: number;
  client: string | undefined;
  time: number;
  /** Index of its first batch in the history. */
  first: number;
  batches: Batch[];
  /** The sequence of each batch's first entry. */
  sequences: number[];
  fenceEpoch?: number;
}

/** A manifest as created. */
export interface ManifestObject {
  number: number;
  client: string | undefined;
  time: number;
  state: BucketState;
}

const decoder = new TextDecoder();

/** The clock's reading at the start of every seed (2030-01-01): well after any real clock. */
export const EPOCH = Date.UTC(2030, 0, 1);

/** Decodes the batches of a WAL object (the log format; utf8 keys and values), and each one's first sequence. */
export function decodeWal(key: string, data: Uint8Array, sequences: number[] = []): Batch[] {
  const batches: Batch[] = [];
  replayLog(bytesFile(key, data), key, (payload, length) => {
    const mem = bytes();
    const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
    sequences.push(dv.getUint32(payload, true) + dv.getUint32(payload + 4, true) * 2 ** 32);
    const count = dv.getUint32(payload + 8, true);
    let at = payload + 12;
    const end = payload + length;
    const batch: Batch = [];
    for (let i = 0; i < count; i++) {
      const kind = mem[at];
      const keyLength = dv.getUint32(at + 1, true);
      const k = decoder.decode(mem.subarray(at + 5, at + 5 + keyLength));
      at += 5 + keyLength;
      if (kind === 1) {
        const valueLength = dv.getUint32(at, true);
        batch.push([k, decoder.decode(mem.subarray(at + 4, at + 4 + valueLength))]);
        at += 4 + valueLength;
      } else batch.push([k, null]);
      if (at > end) throw new Error(`${key}: a batch runs past its record`);
    }
    batches.push(batch);
  }, RECORD_TYPE_BATCH);
  return batches;
}

/** A range of a scan, as the simulation asks it. */
export interface ScanRange {
  gte?: string;
  lt?: string;
  reverse?: boolean;
  limit?: number;
}

/** What was committed, and by whom. */
export class Truth {
  readonly wal: WalObject[] = [];
  readonly manifests: ManifestObject[] = [];
  readonly batches: Batch[] = [];
  /** The sequence of each batch's first entry (its entries follow on). */
  readonly sequences: number[] = [];
  /** Per key: the history positions (batch index) that changed it, to what, and the sequence of that entry. */
  readonly #changes = new Map<string, { p: number; v: Value; s: number }[]>();
  /** Per writer client: the writer epoch it claimed (its first manifest). */
  readonly epochOf = new Map<string, number>();
  /** Per compactor client: the compactor epoch it claimed (its first manifest). */
  readonly compactorEpochOf = new Map<string, number>();
  /** Every table uploaded: its bytes, and who uploaded it when. */
  readonly tables = new Map<number, { data: Uint8Array; client: string | undefined; time: number }>();
  readonly #decoded = new Map<number, TableEntry[]>();
  /** When each key was first deleted (a delete of a key not there counts too). */
  readonly deletedAt = new Map<string, number>();
  /** Per client: the number of its fence WAL object. */
  readonly fenceOf = new Map<string, number>();
  /** Per client: the WAL objects it created, in order. */
  readonly walOf = new Map<string, WalObject[]>();
  /** What the store did that must never happen (a WAL object created out of order). */
  readonly anomalies: string[] = [];
  /** Every delete, in order, with how many manifests had been created before it. */
  readonly deleted: { key: string; client: string | undefined; time: number; manifests: number }[] = [];
  readonly #now: () => number;
  /** Told of each WAL object created (for tracing). */
  onWal: ((o: WalObject) => void) | undefined;
  /** Told of each manifest created (for tracing). */
  onManifest: ((m: ManifestObject) => void) | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** MemoryObjectStore's onChange. */
  onChange = (change: ObjectChange): void => {
    const time = this.#now();
    if (change.op === "delete") {
      this.deleted.push({ key: change.key, client: change.client, time, manifests: this.manifests.length });
      if (!this.deletedAt.has(change.key)) this.deletedAt.set(change.key, time);
      return;
    }
    const tableNumber = numberOfKey(TABLE_DIR, change.key);
    if (tableNumber !== undefined) {
      if (!this.tables.has(tableNumber)) {
        this.tables.set(tableNumber, { data: change.data!, client: change.client, time });
      }
      return;
    }
    const walNumber = numberOfKey(WAL_DIR, change.key);
    if (walNumber !== undefined) {
      const last = this.wal.at(-1);
      if (last !== undefined && walNumber <= last.number) {
        this.anomalies.push(
          `WAL object ${walNumber} was created (by ${change.client}) after WAL object ${last.number}: its number ` +
            `was free again (a collector deleted it), and what it holds is in no one's history`,
        );
        return;
      }
      const fence = change.metadata?.[FENCE_METADATA];
      const sequences: number[] = [];
      const object: WalObject = {
        number: walNumber,
        client: change.client,
        time,
        first: this.batches.length,
        batches: decodeWal(change.key, change.data!, sequences),
        sequences,
        ...(fence !== undefined ? { fenceEpoch: Number(fence) } : {}),
      };
      this.wal.push(object);
      this.onWal?.(object);
      for (const [b, batch] of object.batches.entries()) {
        const p = this.batches.length;
        this.batches.push(batch);
        this.sequences.push(sequences[b]);
        for (const [i, [k, v]] of batch.entries()) {
          let list = this.#changes.get(k);
          if (list === undefined) this.#changes.set(k, list = []);
          const s = sequences[b] + i;
          if (list.at(-1)?.p === p) list[list.length - 1] = { p, v, s };
          else list.push({ p, v, s });
        }
      }
      if (change.client !== undefined) {
        if (fence !== undefined && !this.fenceOf.has(change.client)) this.fenceOf.set(change.client, walNumber);
        const mine = this.walOf.get(change.client) ?? [];
        mine.push(object);
        this.walOf.set(change.client, mine);
      }
      return;
    }
    const manifestNumber = numberOfKey(MANIFEST_DIR, change.key);
    if (manifestNumber !== undefined) {
      const state = decodeManifest(change.key, manifestNumber, change.data!);
      for (const n of Truth.tablesOf(state)) {
        const gone = this.deletedAt.get(tableKey(n));
        if (gone !== undefined || !this.tables.has(n)) {
          this.anomalies.push(
            `manifest ${manifestNumber} (by ${change.client}) names table ${n}, which ${
              gone !== undefined ? `was deleted at t+${((gone - EPOCH) / 1000).toFixed(3)}s` : "was never uploaded"
            }`,
          );
        }
      }
      this.manifests.push({ number: manifestNumber, client: change.client, time, state });
      this.onManifest?.(this.manifests[this.manifests.length - 1]);
      const client = change.client;
      if (client === undefined) return;
      // A holder commits only while it holds its role: its epoch is the manifest's.
      const compactor = client.startsWith("compactor-");
      const epochs = compactor ? this.compactorEpochOf : this.epochOf;
      const epoch = compactor ? state.compactorEpoch : state.writerEpoch;
      if (!epochs.has(client)) epochs.set(client, epoch);
      else if (epochs.get(client) !== epoch) {
        this.anomalies.push(
          `${client} (${compactor ? "compactor" : "writer"} epoch ${epochs.get(client)}) committed manifest ` +
            `${manifestNumber}, which names ${
              compactor ? "compactor" : "writer"
            } epoch ${epoch}: a fenced holder committed`,
        );
      }
    }
  };

  /** Batches committed so far. */
  get committed(): number {
    return this.batches.length;
  }

  /** The history position after every WAL object numbered below n. */
  positionBefore(n: number): number {
    let p = 0;
    for (const o of this.wal) {
      if (o.number >= n) break;
      p = o.first + o.batches.length;
    }
    return p;
  }

  /** The history position after the WAL objects created at or before time t (a prefix: they are created in order). */
  positionAt(t: number): number {
    let p = 0;
    for (const o of this.wal) {
      if (o.time > t) break;
      p = o.first + o.batches.length;
    }
    return p;
  }

  /** The entries of table n (uploaded: it is in `tables`). */
  tableEntries(n: number): TableEntry[] {
    let entries = this.#decoded.get(n);
    if (entries === undefined) {
      const t = this.tables.get(n);
      if (t === undefined) throw new Error(`table ${n} was never uploaded`);
      this.#decoded.set(n, entries = decodeTable(n, t.data));
    }
    return entries;
  }

  /** The history position of the batch holding sequence s, if one does. */
  batchOfSequence(s: number): number | undefined {
    let lo = 0;
    let hi = this.sequences.length; // first batch starting past s
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sequences[mid] <= s) lo = mid + 1;
      else hi = mid;
    }
    const p = lo - 1;
    return p >= 0 && s < this.sequences[p] + this.batches[p].length ? p : undefined;
  }

  /** Key k's last change at a history position from p on (the newest committed version past p), if any. */
  lastChangeFrom(k: string, p: number): { p: number; v: Value; s: number } | undefined {
    const last = this.#changes.get(k)?.at(-1);
    return last !== undefined && last.p >= p ? last : undefined;
  }

  /** The value of key k in state(P). */
  valueAt(k: string, p: number): Value {
    const list = this.#changes.get(k);
    if (list === undefined) return null;
    let lo = 0;
    let hi = list.length; // first change at position >= p
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].p < p) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : list[lo - 1].v;
  }

  /** Keys ever written. */
  keys(): string[] {
    return [...this.#changes.keys()];
  }

  /** state(P) as a map. */
  stateAt(p: number): Map<string, string> {
    const state = new Map<string, string>();
    for (const k of this.#changes.keys()) {
      const v = this.valueAt(k, p);
      if (v !== null) state.set(k, v);
    }
    return state;
  }

  /** The positions P in [lo, hi] where get(k) would return v. */
  positionsForGet(k: string, v: Value, lo: number, hi: number): number[] {
    const out: number[] = [];
    for (let p = lo; p <= hi; p++) if (this.valueAt(k, p) === v) out.push(p);
    return out;
  }

  /** The positions P in [lo, hi] where the scan would return exactly `entries`. */
  positionsForScan(entries: [string, string][], range: ScanRange, lo: number, hi: number): number[] {
    const out: number[] = [];
    const want = JSON.stringify(entries);
    const keys = this.keys().filter((k) =>
      (range.gte === undefined || byBytes(k, range.gte) >= 0) && (range.lt === undefined || byBytes(k, range.lt) < 0)
    ).sort(byBytes);
    if (range.reverse) keys.reverse();
    for (let p = lo; p <= hi; p++) {
      const got: [string, string][] = [];
      for (const k of keys) {
        if (range.limit !== undefined && got.length >= range.limit) break;
        const v = this.valueAt(k, p);
        if (v !== null) got.push([k, v]);
      }
      if (JSON.stringify(got) === want) out.push(p);
    }
    return out;
  }

  /** When manifest m was replaced (manifest m + 1 stored), or Infinity while it is the newest. */
  replacedAt(m: number): number {
    return this.manifests.find((x) => x.number === m + 1)?.time ?? Infinity;
  }

  /** The newest manifest created, if any. */
  latestManifest(): ManifestObject | undefined {
    let latest: ManifestObject | undefined;
    for (const m of this.manifests) if (latest === undefined || m.number > latest.number) latest = m;
    return latest;
  }

  /** The table numbers a manifest lists. */
  static tablesOf(state: BucketState): number[] {
    return state.levels.flat().map((f) => f.number);
  }

  /** Table numbers of keys (a listing of the store). */
  static tableNumbers(keys: string[]): Set<number> {
    const out = new Set<number>();
    for (const k of keys) {
      const n = numberOfKey(TABLE_DIR, k);
      if (n !== undefined) out.add(n);
    }
    return out;
  }
}

const encoder = new TextEncoder();

/** Bytewise order of utf8 strings (the store's key order). */
export function byBytes(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
