// SiltLevel: siltdb behind abstract-level's API, a drop-in for classic-level
// and the rest of the Level ecosystem (sublevels, encodings, hooks, events and
// deferred open come from abstract-level).
//
// siltdb is opened with its "binary" encodings; abstract-level's transcoder
// does the rest. The private API takes the "utf8" and "view" formats:
// strings go into siltdb as they are (it writes their UTF-8 into its memory
// without an intermediate copy), bytes too, and what siltdb returns
// (Uint8Array) is handed out as is ("view") or decoded ("utf8"). "buffer" is
// transcoded from "view" by abstract-level at the same cost a native
// "buffer" would have (a Buffer over the same bytes, no copy), and keeps
// node:buffer out of this module.

import { type AbstractDatabaseOptions, AbstractLevel, type AbstractOpenOptions } from "abstract-level";
import type { Db } from "../db.ts";
import { open } from "../open.ts";
import { OPEN_OPTION_NAMES, type OpenOptions } from "../options.ts";
import type { Snapshot } from "../read/snapshot.ts";
import { SiltChainedBatch } from "./chained_batch.ts";
import { SiltLevelError, toLevelError } from "./errors.ts";
import { fromSilt, type SiltData, toSilt } from "./format.ts";
import {
  type CursorFactory,
  LevelCursor,
  type LevelIteratorOptions,
  SiltIterator,
  SiltKeyIterator,
  SiltValueIterator,
} from "./iterator.ts";
import { type LevelRangeOptions, rangeOf, scanOptionsOf } from "./range.ts";
import { SiltSnapshot, siltSnapshotOf } from "./snapshot.ts";
import { writeOptions } from "./write_options.ts";

/**
 * siltdb's open options that SiltLevel passes on (encodings are abstract-level's).
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data", { memtableSize: 16 << 20, blockCacheSize: 64 << 20, sync: true });
 * ```
 */
export type SiltOpenOptions = Omit<OpenOptions, "keyEncoding" | "valueEncoding" | "createIfMissing" | "errorIfExists">;

/**
 * Options of {@linkcode SiltLevel}: abstract-level's (`keyEncoding`,
 * `valueEncoding` — default `"utf8"` as in every Level database —,
 * `createIfMissing`, `errorIfExists`) and siltdb's (`memtableSize`,
 * `blockCacheSize`, `sync`, `readOnly`, `fs`, ...).
 *
 * @example
 * ```ts
 * import { SiltLevel, type SiltLevelOptions } from "siltdb/level";
 * const options: SiltLevelOptions<string, { n: number }> = { valueEncoding: "json", createIfMissing: false };
 * const db = new SiltLevel<string, { n: number }>("./data", options);
 * ```
 */
export interface SiltLevelOptions<K, V> extends AbstractDatabaseOptions<K, V>, SiltOpenOptions {}

/** Open options abstract-level handles itself; siltdb gets every other one it knows (its own names only: siltdb refuses unknown ones). */
const LEVEL_OWNED = new Set(["createIfMissing", "errorIfExists", "keyEncoding", "valueEncoding"]);

/**
 * What SiltLevel supports (abstract-level's manifest; the constructor adds
 * deferredOpen, the events and every transcoded encoding). `getSync` is
 * abstract-level 3's, not yet in level-supports' typings.
 */
const MANIFEST = {
  encodings: { view: true, utf8: true },
  permanence: true,
  seek: true,
  createIfMissing: true,
  errorIfExists: true,
  implicitSnapshots: true,
  explicitSnapshots: true,
  has: true,
  getSync: true,
  signals: { iterators: true },
  additionalMethods: { compactRange: true },
};

/** Options abstract-level gives a private read (`_get`, `_has`, ...). */
interface ReadOptions {
  keyEncoding?: string;
  valueEncoding?: string;
  snapshot?: unknown;
}

/** One operation abstract-level gives `_batch()` (encoded). */
interface BatchOp {
  type: "put" | "del";
  key: unknown;
  value?: unknown;
}

type Reader = Pick<Snapshot<Uint8Array, Uint8Array>, "getSync" | "scanSync">;

/** fn's result as a promise; what it throws as a rejection (a SiltError as a Level error). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(toLevelError(err));
  }
}

/** Keys deleted per batch by clear(). */
const CLEAR_BATCH = 1000;

/**
 * An [abstract-level](https://github.com/Level/abstract-level) database
 * stored by siltdb: a drop-in for `classic-level` (`new SiltLevel("./db")`
 * where you had `new ClassicLevel("./db")`) that runs in Node, Deno and Bun
 * without native bindings. Passes abstract-level's compliance suite for
 * everything `db.supports` declares: permanence, seek, createIfMissing,
 * errorIfExists, implicit and explicit snapshots, has/hasMany, getSync,
 * iterator signals, deferred open, every encoding and sublevels.
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 *
 * const db = new SiltLevel<string, { name: string }>("./data", { valueEncoding: "json" });
 * await db.put("user:1", { name: "alice" });
 * console.log(await db.get("user:1"));                  // { name: "alice" }
 * const users = db.sublevel<string, { name: string }>("users", { valueEncoding: "json" });
 * await users.batch([{ type: "put", key: "2", value: { name: "bob" } }]);
 * for await (const [key, value] of db.iterator({ gte: "user:", lt: "user;" })) console.log(key, value);
 * await db.close();
 * ```
 */
export class SiltLevel<K = string, V = string> extends AbstractLevel<SiltData, K, V> {
  #location: string;
  #db: Db | undefined;
  #cursor: CursorFactory;

  /**
   * A database in directory `location` (created if missing unless
   * `createIfMissing: false`). It opens itself: operations made before it is
   * open wait for it (abstract-level's deferred open).
   *
   * @param location the directory of the database
   * @param options abstract-level's and siltdb's options
   */
  constructor(location: string, options?: SiltLevelOptions<K, V>) {
    if (typeof location !== "string" || location === "") {
      throw new TypeError("The first argument 'location' must be a non-empty string");
    }
    super(MANIFEST, options);
    this.#location = location;
    this.#cursor = <T>(o: LevelIteratorOptions, shape: "entries" | "keys" | "values", count: () => number) => {
      if (o.snapshot != null) {
        // Looked up at the first read: abstract-level reports a closed snapshot then.
        const explicit = o.snapshot;
        return new LevelCursor<T>(
          { scanSync: (scan) => siltSnapshotOf(explicit).scanSync(scan) },
          undefined,
          o,
          shape,
          count,
        );
      }
      const snapshot = this.#open().snapshot();
      return new LevelCursor<T>(snapshot, () => snapshot.release(), o, shape, count);
    };
  }

  /** The directory of the database. */
  get location(): string {
    return this.#location;
  }

  /**
   * The siltdb database underneath, while open: for `stats()`, `metrics()`,
   * `compact()`, `flush()`, events. Writes made through it bypass
   * abstract-level's hooks and events.
   *
   * @example
   * ```ts
   * declare const db: SiltLevel;
   * await db.open();
   * console.log(db.siltdb.stats().levels[0].files);
   * ```
   */
  get siltdb(): Db {
    return this.#open();
  }

  #open(): Db {
    if (this.#db === undefined) throw new SiltLevelError("LEVEL_DATABASE_NOT_OPEN", "Database is not open");
    return this.#db;
  }

  #reader(options: ReadOptions): Reader {
    return options.snapshot != null ? siltSnapshotOf(options.snapshot) : this.#open();
  }

  /** @internal abstract-level's private API: `open()` calls it. */
  async _open(options: AbstractOpenOptions & Record<string, unknown>): Promise<void> {
    const o: Record<string, unknown> = {
      createIfMissing: options.createIfMissing !== false,
      errorIfExists: options.errorIfExists === true,
    };
    for (const name of OPEN_OPTION_NAMES) {
      if (!LEVEL_OWNED.has(name) && options[name] !== undefined) o[name] = options[name];
    }
    try {
      this.#db = (await open(this.#location, o as OpenOptions)) as Db;
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `close()` calls it. */
  async _close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    try {
      await db.close();
    } catch (err) {
      throw toLevelError(err);
    } finally {
      this.#db = undefined;
    }
  }

  /** @internal abstract-level's private API: `get()` calls it. */
  _get(key: unknown, options: ReadOptions): Promise<unknown> {
    return settle(() => this._getSync(key, options));
  }

  /** @internal abstract-level's private API: `getSync()` calls it. */
  _getSync(key: unknown, options: ReadOptions): unknown {
    try {
      const value = this.#reader(options).getSync(toSilt(key));
      return value === undefined ? undefined : fromSilt(value, options.valueEncoding);
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `getMany()` calls it. */
  _getMany(keys: unknown[], options: ReadOptions): Promise<unknown[]> {
    return settle(() => {
      const reader = this.#reader(options);
      const format = options.valueEncoding;
      return keys.map((key) => {
        const value = reader.getSync(toSilt(key));
        return value === undefined ? undefined : fromSilt(value, format);
      });
    });
  }

  /** @internal abstract-level's private API: `has()` calls it. */
  _has(key: unknown, options: ReadOptions): Promise<boolean> {
    return settle(() => this.#reader(options).getSync(toSilt(key)) !== undefined);
  }

  /** @internal abstract-level's private API: `hasMany()` calls it. */
  _hasMany(keys: unknown[], options: ReadOptions): Promise<boolean[]> {
    return settle(() => {
      const reader = this.#reader(options);
      return keys.map((key) => reader.getSync(toSilt(key)) !== undefined);
    });
  }

  /** @internal abstract-level's private API: `put()` calls it. */
  async _put(key: unknown, value: unknown, options: { sync?: unknown }): Promise<void> {
    try {
      await this.#open().put(toSilt(key), toSilt(value), writeOptions(options));
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `del()` calls it. */
  async _del(key: unknown, options: { sync?: unknown }): Promise<void> {
    try {
      await this.#open().delete(toSilt(key), writeOptions(options));
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `batch()` calls it. */
  async _batch(operations: BatchOp[], options: { sync?: unknown }): Promise<void> {
    try {
      const batch = this.#open().batch();
      for (const op of operations) {
        if (op.type === "put") batch.put(toSilt(op.key), toSilt(op.value));
        else batch.delete(toSilt(op.key));
      }
      await batch.write(writeOptions(options));
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `batch()` without arguments calls it. */
  _chainedBatch(): SiltChainedBatch {
    return new SiltChainedBatch(this, this.#open().batch());
  }

  /**
   * Deletes the keys of the range (all of them without range options):
   * without `limit` and `snapshot`, with one range tombstone (siltdb's
   * `clear()`, atomic); else the keys as seen when the call starts (or by
   * `options.snapshot`), `limit` at most, the last ones with `reverse`, in
   * batches of 1000 deletes (not atomic).
   *
   * @internal abstract-level's private API.
   */
  async _clear(options: LevelRangeOptions & ReadOptions): Promise<void> {
    try {
      const db = this.#open();
      const range = rangeOf(options);
      if (range.limit === Infinity && options.snapshot === undefined) {
        await db.clear(scanOptionsOf(range.lower, range.upper, false, Infinity));
        return;
      }
      const scan = this.#reader(options).scanSync(scanOptionsOf(range.lower, range.upper, range.reverse, range.limit));
      try {
        for (;;) {
          const batch = db.batch();
          let r: IteratorResult<[Uint8Array, Uint8Array], undefined> | undefined;
          while (batch.length < CLEAR_BATCH && !(r = scan.next()).done) batch.delete(r.value[0]);
          if (batch.length === 0) break;
          await batch.write();
          if (batch.length < CLEAR_BATCH) break;
        }
      } finally {
        scan.close();
      }
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `iterator()` calls it. */
  _iterator(options: LevelIteratorOptions): SiltIterator {
    return new SiltIterator(this, options, this.#cursor);
  }

  /** @internal abstract-level's private API: `keys()` calls it. */
  _keys(options: LevelIteratorOptions): SiltKeyIterator {
    return new SiltKeyIterator(this, options, this.#cursor);
  }

  /** @internal abstract-level's private API: `values()` calls it. */
  _values(options: LevelIteratorOptions): SiltValueIterator {
    return new SiltValueIterator(this, options, this.#cursor);
  }

  /** @internal abstract-level's private API: `snapshot()` calls it. */
  _snapshot(options: object): SiltSnapshot {
    try {
      return new SiltSnapshot(options, this.#open().snapshot());
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /**
   * Compacts the tables holding keys from `start` to `end` (inclusive),
   * dropping deleted data and old versions: classic-level's
   * `compactRange()`. Keys use the database's key encoding (or
   * `options.keyEncoding`).
   *
   * @example
   * ```ts
   * declare const db: SiltLevel;
   * await db.compactRange("user:", "user;");
   * ```
   */
  async compactRange(start: K, end: K, options?: { keyEncoding?: string }): Promise<void> {
    if (this.status === "opening") return this.deferAsync(() => this.compactRange(start, end, options));
    if (this.status !== "open") {
      throw new SiltLevelError("LEVEL_DATABASE_NOT_OPEN", "Database is not open: cannot call compactRange()");
    }
    const encoding = (this.keyEncoding as (encoding?: string) => { encode(data: unknown): unknown }).call(
      this,
      options?.keyEncoding,
    );
    try {
      await this.#open().compactRange(toSilt(encoding.encode(start)), toSilt(encoding.encode(end)));
    } catch (err) {
      throw toLevelError(err);
    }
  }
}
