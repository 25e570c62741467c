// verifyBucket: checks a store in a bucket, read-only, and reports every
// problem with its object and offset — the bucket's counterpart of
// verify.ts, with the same checks of tables and logs (_checks.ts) over
// objects downloaded whole (one GET each).
//
// What is checked: the newest manifest (it decodes; table numbers are
// unique and below its next file number), every table it lists (present,
// of the listed size; footer, properties, index, filter, every data block's
// checksum, every entry, keys in order), and the WAL objects from its WAL
// start on (numbers without a gap; every record's checksums and write
// batch, sequences following one another; an object cut short). Objects
// nothing refers to (older manifests, tables no manifest lists, WAL objects
// whose writes are in tables, other keys) are reported as orphans: what
// the collector deletes after gcMinAge, or uploads not committed yet — not
// problems. It never writes, and may run while a writer and readers work.

import { invalidArgument, SiltError } from "../errors.ts";
import { MANIFEST_DIR, numberOfKey, TABLE_DIR, tableKey, WAL_DIR, walKey } from "../object_store/bucket_layout.ts";
import { CHECKPOINT_DIR } from "../object_store/bucket_checkpoints.ts";
import { type BucketState, decodeManifest, latestManifest } from "../object_store/bucket_manifest.ts";
import { isObjectStore, listAll, type ObjectInfo, type ObjectStore } from "../object_store/object_store.ts";
import { type ObjectStoreOptions, S3ObjectStore } from "../object_store/s3_object_store.ts";
import { oneObjectStorage } from "../storage/bytes_file.ts";
import { Memtable } from "../wasm/memtable.ts";
import { checkLog, checkTable, type Problem, problemOf } from "./_checks.ts";

/** Options of {@linkcode verifyBucket}. */
export interface VerifyBucketOptions {
  /** The S3 settings (else the AWS_* environment variables), or an ObjectStore to check instead. */
  objectStore?: ObjectStoreOptions | ObjectStore;
}

/** What verifyBucket checked in one object. */
export interface VerifiedObject {
  /** The key, relative to the store's location (e.g. "sst/00000000000000000007.sst"). */
  name: string;
  /** What kind of object it is. */
  kind: "manifest" | "table" | "wal";
  /** Size in bytes. */
  bytes: number;
  /** Tables: data blocks checked. */
  blocks?: number;
  /** Manifests and WAL objects: intact records. */
  records?: number;
  /** Tables and WAL objects: entries decoded. */
  entries?: number;
  /** Problems found in this object. */
  problems: number;
}

/** An object nothing refers to: information, not a problem. */
export interface OrphanObject {
  /** The key, relative to the store's location. */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** When it was written (milliseconds since the epoch). */
  lastModified: number;
  /** Why nothing refers to it. */
  why: string;
}

/** The result of {@linkcode verifyBucket}. */
export interface BucketVerifyReport {
  /** The store checked (s3://bucket/prefix/). */
  location: string;
  /** True when no problem was found. */
  ok: boolean;
  /** The number of the manifest checked (the newest), when there is one that decodes. */
  manifest: number | undefined;
  /** Its first WAL object not yet in tables. */
  walStart: number | undefined;
  /** Every object checked. */
  objects: VerifiedObject[];
  /** Totals over the objects. */
  checked: {
    objects: number;
    manifests: number;
    tables: number;
    walObjects: number;
    blocks: number;
    records: number;
    entries: number;
    bytes: number;
  };
  /** Objects nothing refers to (the collector's work, or uploads not committed yet). */
  orphans: OrphanObject[];
  /** Every problem: object (relative to the location), offset, what. */
  problems: Problem[];
}

/**
 * Checks the store in a bucket at `url` (s3://bucket/prefix): the newest
 * manifest, every table object it lists (present, of the listed size,
 * footer, properties, every block's checksum and entries), and the WAL
 * objects from its WAL start on (every record's checksums and write batch,
 * no gap in their numbers). Objects nothing refers to are listed as
 * orphans, not problems. Read-only: it may run while a writer works.
 * Rejects with `NOT_FOUND` for a missing bucket or a bucket without a
 * store.
 *
 * @example
 * ```ts
 * import { verifyBucket } from "siltdb";
 * const report = await verifyBucket("s3://my-bucket/db1"); // endpoint and keys from AWS_*
 * for (const p of report.problems) console.log(`${report.location}${p.file}:${p.offset}: ${p.what}`);
 * console.log(report.ok ? "clean" : "damaged", `${report.orphans.length} orphans`);
 * ```
 */
export async function verifyBucket(url: string, options: VerifyBucketOptions = {}): Promise<BucketVerifyReport> {
  const given = options.objectStore;
  let store: ObjectStore;
  if (isObjectStore(given)) store = given;
  else if (url.startsWith("s3://")) store = new S3ObjectStore(url, given);
  else throw invalidArgument(`${JSON.stringify(url)} is not an s3://bucket/prefix URL (or pass an objectStore)`);
  return await new BucketVerifier(store).run();
}

/** One run of verifyBucket. */
class BucketVerifier {
  readonly #store: ObjectStore;
  readonly #objects: VerifiedObject[] = [];
  readonly #problems: Problem[] = [];
  readonly #checked = new Set<string>();

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async run(): Promise<BucketVerifyReport> {
    const store = this.#store;
    const listing: ObjectInfo[] = [];
    for await (const o of listAll(store, "")) listing.push(o);
    const numbered = (dir: string) =>
      listing.map((o) => ({ o, n: numberOfKey(dir, o.key) })).filter((x): x is { o: ObjectInfo; n: number } =>
        x.n !== undefined
      ).sort((a, b) => a.n - b.n);
    const manifests = numbered(MANIFEST_DIR);
    if (manifests.length === 0) {
      throw new SiltError("NOT_FOUND", `${store.location} holds no database (no manifest)`, { file: store.location });
    }
    const newest = manifests[manifests.length - 1];
    const state = await this.#checkManifest(newest.o.key, newest.n);
    const tables = numbered(TABLE_DIR);
    if (state) {
      for (const [level, files] of state.levels.entries()) {
        for (const f of files) await this.#checkListedTable(state, level, f.number, f.size);
      }
    } else {
      // Without a manifest to go by, every table and WAL object is checked.
      for (const { o, n } of tables) await this.#checkTable(o.key, n, undefined);
    }
    const wal = numbered(WAL_DIR).filter((x) => state === undefined || x.n >= state.walStart);
    let expected = state?.walStart ?? wal[0]?.n;
    let lastSequence = 0;
    for (const { o, n } of wal) {
      if (expected !== undefined && n !== expected) {
        this.#problems.push({
          file: walKey(expected),
          offset: 0,
          what: n - expected === 1
            ? `the WAL object is missing (${n} follows)`
            : `WAL objects ${expected} to ${n - 1} are missing (${n} follows)`,
        });
      }
      lastSequence = Math.max(lastSequence, this.#checkWal(o.key, await this.#download(o.key), lastSequence));
      expected = n + 1;
    }
    const orphans = listing.filter((o) => !this.#checked.has(o.key)).map((o) => ({
      name: o.key,
      bytes: o.size,
      lastModified: o.lastModified,
      why: whyOrphan(o.key, state, newest.n),
    }));
    return this.#report(state, orphans);
  }

  /** Downloads an object whole (undefined when it is gone). */
  async #download(key: string): Promise<Uint8Array | undefined> {
    return (await this.#store.get(key))?.data;
  }

  async #checkManifest(key: string, n: number): Promise<BucketState | undefined> {
    this.#checked.add(key);
    const data = await this.#download(key);
    const object: VerifiedObject = { name: key, kind: "manifest", bytes: data?.length ?? 0, records: 0, problems: 0 };
    this.#objects.push(object);
    const problem = (p: Problem) => {
      this.#problems.push(p);
      object.problems++;
    };
    if (data === undefined) {
      problem({ file: key, offset: 0, what: "the newest manifest is listed but cannot be read" });
      return undefined;
    }
    let state: BucketState;
    try {
      state = decodeManifest(`${this.#store.location}${key}`, n, data);
    } catch (err) {
      problem(problemOf(err, key));
      return undefined;
    }
    object.records = 1;
    const seen = new Set<number>();
    for (const [level, files] of state.levels.entries()) {
      for (const f of files) {
        if (seen.has(f.number)) problem({ file: key, offset: 0, what: `lists table ${f.number} twice (L${level})` });
        if (f.number >= state.nextFileNumber) {
          problem({
            file: key,
            offset: 0,
            what: `lists table ${f.number} (L${level}), not below its next file number ${state.nextFileNumber}`,
          });
        }
        seen.add(f.number);
      }
    }
    return state;
  }

  /** A table the manifest lists: present (unless a newer manifest dropped it meanwhile), of the listed size, intact. */
  async #checkListedTable(state: BucketState, level: number, n: number, size: number): Promise<void> {
    const key = tableKey(n);
    const data = await this.#download(key);
    if (data === undefined) {
      // A compaction committed since the manifest was read may have made it obsolete, and the collector deleted it.
      const now = await latestManifest(this.#store, state.number);
      if (now !== undefined && !now.levels.some((files) => files.some((f) => f.number === n))) return;
      this.#checked.add(key);
      this.#objects.push({ name: key, kind: "table", bytes: 0, problems: 1 });
      this.#problems.push({
        file: key,
        offset: 0,
        what: `the table object is missing (manifest ${state.number} lists it in L${level})`,
      });
      return;
    }
    await this.#checkTable(key, n, data, size === data.length ? undefined : `manifest ${state.number} lists ${size}`);
  }

  async #checkTable(key: string, n: number, data: Uint8Array | undefined, sizeMismatch?: string): Promise<void> {
    this.#checked.add(key);
    data ??= await this.#download(key);
    if (data === undefined) return; // deleted since the listing: nothing refers to it
    const c = checkTable(oneObjectStorage(data, "verifyBucket"), this.#store.location, key, n);
    const problems = [...c.problems];
    if (sizeMismatch) problems.unshift({ file: key, offset: 0, what: `is ${data.length} bytes, ${sizeMismatch}` });
    this.#objects.push({
      name: key,
      kind: "table",
      bytes: data.length,
      blocks: c.blocks,
      entries: c.entries,
      problems: problems.length,
    });
    this.#problems.push(...problems);
  }

  /** Checks a WAL object; returns the last sequence of its batches (0 when it holds none). */
  #checkWal(key: string, data: Uint8Array | undefined, after: number): number {
    this.#checked.add(key);
    if (data === undefined) {
      this.#objects.push({ name: key, kind: "wal", bytes: 0, problems: 1 });
      this.#problems.push({ file: key, offset: 0, what: "the WAL object vanished while it was checked" });
      return 0;
    }
    const memtable = new Memtable();
    try {
      const c = checkLog(oneObjectStorage(data, "verifyBucket"), this.#store.location, key, memtable, after);
      const problems = [...c.problems];
      if (c.tornBytes + c.zeroTail > 0) { // a WAL object is written whole: even zeros past its records are damage
        problems.push({
          file: key,
          offset: c.tornAt,
          what: `the WAL object is cut short (${c.tornBytes + c.zeroTail} bytes after the last whole record)`,
        });
      }
      this.#objects.push({
        name: key,
        kind: "wal",
        bytes: data.length,
        records: c.records,
        entries: c.entries,
        problems: problems.length,
      });
      this.#problems.push(...problems);
      return c.lastSequence;
    } finally {
      memtable.free();
    }
  }

  #report(state: BucketState | undefined, orphans: OrphanObject[]): BucketVerifyReport {
    const objects = this.#objects;
    const sum = (k: "blocks" | "records" | "entries" | "bytes") => objects.reduce((n, o) => n + (o[k] ?? 0), 0);
    const count = (kind: VerifiedObject["kind"]) => objects.filter((o) => o.kind === kind).length;
    return {
      location: this.#store.location,
      ok: this.#problems.length === 0,
      manifest: state?.number,
      walStart: state?.walStart,
      objects,
      checked: {
        objects: objects.length,
        manifests: count("manifest"),
        tables: count("table"),
        walObjects: count("wal"),
        blocks: sum("blocks"),
        records: sum("records"),
        entries: sum("entries"),
        bytes: sum("bytes"),
      },
      orphans,
      problems: this.#problems,
    };
  }
}

function whyOrphan(key: string, state: BucketState | undefined, newest: number): string {
  if (numberOfKey(MANIFEST_DIR, key) !== undefined) return `an older manifest (the newest is ${newest})`;
  if (numberOfKey(TABLE_DIR, key) !== undefined) {
    return `a table manifest ${newest} does not list (obsolete, pinned by a checkpoint, or an upload not committed yet)`;
  }
  if (key.startsWith(CHECKPOINT_DIR)) return "a checkpoint (it pins its manifest and that manifest's tables)";
  if (numberOfKey(WAL_DIR, key) !== undefined && state !== undefined) {
    return `a WAL object before the WAL start ${state.walStart} (its writes are in tables)`;
  }
  return "not an object of a siltdb store";
}
