// One siltdb store under siltdb/kv, shared by every Kv handle of its
// location in this process: siltdb allows one writer per directory, and Deno
// KV allows many openKv() of one path, so the handles share the store (and
// its one commit pipeline, which is what makes their atomic operations
// serializable). The store closes when its last handle does; an openKv() of a
// location that is closing waits for the close. It owns the reads of entries
// (an expired entry reads as absent), the commit pipeline, and who hears of
// commits (watchers, the queue, the expiry sweep).

import type { Db } from "../db.ts";
import { SiltError } from "../errors.ts";
import { open } from "../open.ts";
import type { OpenOptions } from "../options.ts";
import { MemoryStorage } from "../storage/memory_storage.ts";
import { compareBytes } from "./_bytes.ts";
import { CommitPipeline, type Committed, type StoreParts } from "./commit.ts";
import { sweepExpired } from "./expiry.ts";
import { type LiveEntry, liveEntry } from "./entry.ts";
import { FORMAT_KEY, KV_FORMAT } from "./layout.ts";

/**
 * Where a store lives: a directory shared by the handles of this process
 * ("path"), a location siltdb opens for this handle alone ("private": a
 * bucket, a custom file system), or a private in-memory store.
 */
export type StoreLocation =
  | { kind: "memory" }
  | { kind: "path" | "private"; path: string }
  | { kind: "db"; db: Db };

/** siltdb's open options a Kv may pass on (siltdb/kv chooses the encodings). */
export type StoreOptions = Omit<OpenOptions, "keyEncoding" | "valueEncoding">;

const opened = new Map<string, Promise<KvStore>>();
const closing = new Map<string, Promise<void>>();

/**
 * The shared store of a location.
 *
 * @example
 * ```ts
 * const store = await KvStore.acquire({ kind: "memory" }, {});
 * console.log(await store.read(new Uint8Array([2, 0x61, 0]), Date.now())); // undefined
 * await store.release();
 * ```
 */
export class KvStore implements StoreParts {
  readonly db: Db;
  readonly commits: CommitPipeline;
  /** Called after each commit with what it wrote. */
  readonly listeners: Set<(c: Committed) => void> = new Set();
  /** Called once the store starts closing (before its last commits end). */
  readonly closers: Set<() => void> = new Set();
  #refs = 0;
  #key: string | undefined;
  #closed: Promise<void> | undefined;
  /** Reads can be synchronous (a store on disk; not in a bucket). */
  readonly #synchronous: boolean;

  private constructor(db: Db, sequence: number, key: string | undefined, sync: boolean) {
    this.db = db;
    this.#key = key;
    this.#synchronous = readsSynchronously(db);
    this.commits = new CommitPipeline(db, sequence, sync, (c) => {
      for (const listener of this.listeners) {
        try {
          listener(c);
        } catch (err) {
          console.error("siltdb/kv: a commit listener failed", err);
        }
      }
    });
    sweepExpired(this);
  }

  /**
   * The store of a location, opened (or shared: one per location in this process).
   *
   * @example
   * ```ts
   * const [a, b] = await Promise.all([
   *   KvStore.acquire({ kind: "path", path: "./kv" }, {}),
   *   KvStore.acquire({ kind: "path", path: "./kv" }, {}),
   * ]);
   * console.log(a === b); // true
   * await a.release();
   * await b.release();
   * ```
   */
  static async acquire(location: StoreLocation, options: StoreOptions): Promise<KvStore> {
    if (location.kind === "db") {
      // A database opened elsewhere (siltdb/browser's openInWorker, binary encodings): this handle's alone.
      const store = await KvStore.#adopt(location.db, options.sync ?? true, undefined);
      store.#refs = 1;
      return store;
    }
    if (location.kind !== "path") {
      const [path, fs] = location.kind === "memory" ? ["memory", new MemoryStorage()] : [location.path, options.fs];
      const store = await KvStore.#open(path, { ...options, fs }, undefined);
      store.#refs = 1;
      return store;
    }
    const key = location.path;
    for (;;) {
      await closing.get(key)?.catch(() => {});
      let pending = opened.get(key);
      if (pending === undefined) {
        pending = KvStore.#open(key, options, key);
        opened.set(key, pending);
        pending.catch(() => opened.delete(key));
      }
      const store = await pending;
      if (store.#closed !== undefined) continue;
      store.#refs++;
      return store;
    }
  }

  static async #open(path: string, options: StoreOptions, key: string | undefined): Promise<KvStore> {
    const sync = options.sync ?? true;
    const db = await open(path, { ...options, sync, keyEncoding: "binary", valueEncoding: "binary" });
    return KvStore.#adopt(db, sync, key);
  }

  /** A store on an open database (closed here if it is not one siltdb/kv can use). */
  static async #adopt(db: Db, sync: boolean, key: string | undefined): Promise<KvStore> {
    try {
      await checkFormat(db, db.path);
      return new KvStore(db, db.sequence, key, sync);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /**
   * Gives up one handle's share; the last closes the store (after the commits under way).
   *
   * @example
   * ```ts
   * const store = await KvStore.acquire({ kind: "memory" }, {});
   * await store.release(); // closed
   * ```
   */
  release(): Promise<void> {
    if (--this.#refs > 0) return Promise.resolve();
    if (this.#closed) return this.#closed;
    if (this.#key !== undefined) opened.delete(this.#key);
    for (const closer of this.closers) closer();
    const key = this.#key;
    // With no commit under way the close starts now (the files close sooner).
    const running = this.commits.close();
    this.#closed = (running ? running.then(() => this.db.close()) : this.db.close()).finally(() => {
      if (key !== undefined && closing.get(key) === this.#closed) closing.delete(key);
    });
    this.#closed.catch(() => {});
    if (key !== undefined) closing.set(key, this.#closed);
    return this.#closed;
  }

  /**
   * The live entry of key as of now (read at `now`: an entry expired by then is absent).
   *
   * @example
   * ```ts
   * declare const store: KvStore;
   * const entry = await store.read(new Uint8Array([2, 0x61, 0]), Date.now());
   * console.log(entry?.versionstamp); // e.g. "00000000000000050000"
   * ```
   */
  async read(key: Uint8Array, now: number, at: Pick<Db, "getEntry"> = this.db): Promise<LiveEntry | undefined> {
    const { value, version } = await at.getEntry(key);
    return liveEntry(key, value, version, now);
  }

  /**
   * The live entries of keys, read at one moment (one snapshot).
   *
   * @example
   * ```ts
   * declare const store: KvStore;
   * const [a, b] = await store.readMany([new Uint8Array([2, 0x61, 0]), new Uint8Array([2, 0x62, 0])], Date.now());
   * ```
   */
  async readMany(keys: readonly Uint8Array[], now: number): Promise<(LiveEntry | undefined)[]> {
    const snap = this.db.snapshot();
    try {
      const out: (LiveEntry | undefined)[] = [];
      for (const key of keys) out.push(await this.read(key, now, snap));
      return out;
    } finally {
      snap.release();
    }
  }

  /**
   * Up to `limit` live entries from start (inclusive) to end (exclusive), in
   * key order or reversed, read at one moment.
   *
   * @example
   * ```ts
   * declare const store: KvStore;
   * const all = await store.scan(new Uint8Array([0]), new Uint8Array([0xff]), false, 100, Date.now());
   * ```
   */
  async scan(start: Uint8Array, end: Uint8Array, reverse: boolean, limit: number, now: number): Promise<LiveEntry[]> {
    const out: LiveEntry[] = [];
    if (compareBytes(start, end) >= 0) return out;
    const snap = this.db.snapshot();
    const range = { gte: start, lt: end, reverse };
    const take = (key: Uint8Array, value: Uint8Array, version: number | undefined): boolean => {
      const entry = liveEntry(key, value, version, now);
      if (entry !== undefined) out.push(entry);
      return out.length < limit;
    };
    try {
      // A scan gives no versions: each entry's comes from a point read at the same snapshot,
      // synchronous on disk (no promise per entry), asynchronous in a bucket.
      if (this.#synchronous) {
        for (const [key, value] of snap.scanSync(range)) if (!take(key, value, snap.getEntrySync(key).version)) break;
      } else {
        for await (const [key, value] of snap.scan(range)) {
          if (!take(key, value, (await snap.getEntry(key)).version)) break;
        }
      }
    } finally {
      snap.release();
    }
    return out;
  }
}

/** True when the store answers synchronous reads (on disk); false in a bucket (UNSUPPORTED). */
function readsSynchronously(db: Db): boolean {
  try {
    db.getEntrySync(FORMAT_KEY);
    return true;
  } catch (err) {
    if (err instanceof SiltError && err.code === "UNSUPPORTED") return false;
    throw err;
  }
}

/** Checks (or, in an empty store, writes) the format mark; refuses a store siltdb/kv did not write. */
async function checkFormat(db: Db, path: string): Promise<void> {
  const mark = await db.get(FORMAT_KEY);
  if (mark !== undefined) {
    if (mark.length === 1 && mark[0] === KV_FORMAT) return;
    throw new SiltError(
      "CORRUPTION",
      `${path}: siltdb/kv format ${mark[0]} is not one this siltdb reads (${KV_FORMAT})`,
    );
  }
  for await (const _ of db.keys({ limit: 1 })) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `${path} holds a siltdb store that siltdb/kv did not write (it has no siltdb/kv format mark); open it with open() from "siltdb"`,
    );
  }
  await db.put(FORMAT_KEY, new Uint8Array([KV_FORMAT]), { sync: true });
}
