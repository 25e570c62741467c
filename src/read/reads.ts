// The read methods a database and a snapshot share — get, getMany, has,
// count, scans of entries, keys and values, each synchronous and
// asynchronous — written once: each asks the database's one Reader
// (reader.ts) at a sequence, the last visible write for a Db, the
// snapshot's own for a Snapshot.

import { checkCallOptions } from "../options.ts";
import type { Entry, Reader } from "./reader.ts";
import type { RangeOptions } from "./range.ts";
import type { ScanOptions } from "./scan_options.ts";
import { Scan, ScanIterator, ScanIteratorSync, ScanSync } from "./scan_iterator.ts";

/** Where reads go: the reader (it throws when reading is over: closed, released) and the sequence to read at. */
export interface ReadAt<V> {
  reader(): Reader<V>;
  sequence(): number;
}

/**
 * The reads of a {@linkcode Db} (as of each call) and of a
 * {@linkcode Snapshot} (as of the moment it was taken).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("k", "old");
 * const snap = db.snapshot();
 * await db.put("k", "new");
 * console.log(db.getSync("k"), snap.getSync("k")); // new old
 * snap.release();
 * await db.close();
 * ```
 */
export class Reads<K, V> {
  readonly #at: ReadAt<V>;

  /** @internal Reads come with `open()` and `db.snapshot()`. */
  constructor(at: ReadAt<V>) {
    this.#at = at;
  }

  /**
   * The value of key, or undefined. Synchronous: the fast path for hot reads.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(db.getSync("user:1")); // "alice"
   * console.log(db.getSync("user:2")); // undefined
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.delete("user:1");
   * console.log(snap.getSync("user:1"), db.getSync("user:1")); // alice undefined
   * snap.release();
   * await db.close();
   * ```
   */
  getSync(key: K | string | Uint8Array, options?: Record<string, never>): V | undefined {
    if (options !== undefined) checkCallOptions(options, "get", []);
    return this.#at.reader().get(key, this.#at.sequence());
  }

  /**
   * The value of key, or undefined.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(await db.get("user:1")); // "alice"
   * console.log(await db.get("user:2")); // undefined
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.put("user:1", "alicia");
   * console.log(await snap.get("user:1")); // "alice"
   * snap.release();
   * await db.close();
   * ```
   */
  // An async method with no await: its throws become rejections, and an awaited get costs within
  // 0.1 µs of `await` of a resolved promise (a closure through promised() cost 0.15 µs more).
  // deno-lint-ignore require-await
  async get(key: K | string | Uint8Array, options?: Record<string, never>): Promise<V | undefined> {
    if (options !== undefined) checkCallOptions(options, "get", []);
    const reader = this.#at.reader();
    const sequence = this.#at.sequence();
    return reader.synchronous ? reader.get(key, sequence) : reader.getAsync(key, sequence);
  }

  /**
   * The value of key with its version: the sequence number of the write that
   * produced it (it changes with every write of the key, and only then; a
   * flush or a compaction keeps it). Both are undefined when the key is
   * absent. Synchronous (not in a bucket: use getEntry).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const first = db.getEntrySync("user:1"); // { value: "alice", version: n }
   * await db.put("user:1", "alicia");
   * console.log(db.getEntrySync("user:1").version! > first.version!); // true
   * console.log(db.getEntrySync("user:2")); // { value: undefined, version: undefined }
   * await db.close();
   * ```
   */
  getEntrySync(key: K | string | Uint8Array, options?: Record<string, never>): Entry<V> {
    if (options !== undefined) checkCallOptions(options, "getEntry", []);
    return this.#at.reader().getEntry(key, this.#at.sequence());
  }

  /**
   * The value of key with its version (see getEntrySync): both undefined
   * when the key is absent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const { value, version } = await db.getEntry("user:1");
   * console.log(value, typeof version); // alice number
   * await db.close();
   * ```
   */
  getEntry(key: K | string | Uint8Array, options?: Record<string, never>): Promise<Entry<V>> {
    return promised(() => {
      const reader = this.#at.reader();
      if (reader.synchronous) return this.getEntrySync(key, options);
      if (options !== undefined) checkCallOptions(options, "getEntry", []);
      return reader.getEntryAsync(key, this.#at.sequence());
    });
  }

  /**
   * The values of keys (undefined where absent), in order, read at one
   * moment: no write lands between two of them. Synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const [alice, bob] = db.getManySync(["user:1", "user:2"]);
   * console.log(alice, bob); // alice undefined
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("a", "1");
   * const snap = db.snapshot();
   * await db.put("b", "2");
   * const [a, b] = snap.getManySync(["a", "b"]);
   * console.log(a, b); // 1 undefined
   * snap.release();
   * await db.close();
   * ```
   */
  getManySync(keys: readonly (K | string | Uint8Array)[], options?: Record<string, never>): (V | undefined)[] {
    if (options !== undefined) checkCallOptions(options, "getMany", []);
    return this.#at.reader().getMany(keys, this.#at.sequence());
  }

  /**
   * The values of keys (undefined where absent), in order, read at one
   * moment: no write lands between two of them.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const [alice, bob] = await db.getMany(["user:1", "user:2"]);
   * console.log(alice, bob); // alice undefined
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("a", "1");
   * const snap = db.snapshot();
   * await db.put("b", "2");
   * const [a, b] = await snap.getMany(["a", "b"]);
   * console.log(a, b); // 1 undefined
   * snap.release();
   * await db.close();
   * ```
   */
  getMany(keys: readonly (K | string | Uint8Array)[], options?: Record<string, never>): Promise<(V | undefined)[]> {
    return promised(() => {
      const reader = this.#at.reader();
      if (reader.synchronous) return this.getManySync(keys, options);
      if (options !== undefined) checkCallOptions(options, "getMany", []);
      return reader.getManyAsync(keys, this.#at.sequence());
    });
  }

  /**
   * True if key has a value (the value is not read out). Synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(db.hasSync("user:1"), db.hasSync("user:2")); // true false
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.delete("user:1");
   * console.log(snap.hasSync("user:1"), db.hasSync("user:1")); // true false
   * snap.release();
   * await db.close();
   * ```
   */
  hasSync(key: K | string | Uint8Array, options?: Record<string, never>): boolean {
    if (options !== undefined) checkCallOptions(options, "has", []);
    return this.#at.reader().has(key, this.#at.sequence());
  }

  /**
   * True if key has a value (the value is not read out).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * console.log(await db.has("user:1"), await db.has("user:2")); // true false
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.delete("user:1");
   * console.log(await snap.has("user:1"), await db.has("user:1")); // true false
   * snap.release();
   * await db.close();
   * ```
   */
  has(key: K | string | Uint8Array, options?: Record<string, never>): Promise<boolean> {
    return promised(() => {
      const reader = this.#at.reader();
      if (reader.synchronous) return this.hasSync(key, options);
      if (options !== undefined) checkCallOptions(options, "has", []);
      return reader.hasAsync(key, this.#at.sequence());
    });
  }

  /**
   * The exact number of keys in a range (`gt`, `gte`, `lt`, `lte`,
   * `prefix`; every key without one). It walks the range without decoding
   * keys or values.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").put("x", "1").write();
   * console.log(await db.count({ prefix: "user:" })); // 2
   * console.log(await db.count());                    // 3
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.put("user:2", "bob");
   * console.log(await snap.count({ prefix: "user:" }), await db.count({ prefix: "user:" })); // 1 2
   * snap.release();
   * await db.close();
   * ```
   */
  count(range?: RangeOptions<K>): Promise<number> {
    return promised(() => {
      const reader = this.#at.reader();
      return reader.synchronous
        ? reader.count(range, this.#at.sequence())
        : reader.countAsync(range, this.#at.sequence());
    });
  }

  /**
   * An ordered scan of [key, value] entries (`for await`). It sees the data
   * as of the call (a snapshot's: as of the snapshot), not later writes.
   * Options: a range (`gt`, `gte`, `lt`, `lte`, `prefix`, combined as their
   * intersection), `reverse`, `limit` (-1: no limit) and an AbortSignal
   * (`signal`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * for await (const [k, v] of db.scan({ gte: "a", lt: "b", limit: 10 })) console.log(k, v); // a:1 x, a:2 y
   * for await (const [k, v] of db.scan({ prefix: "a:", reverse: true })) console.log(k, v); // a:2 y, a:1 x
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").write();
   * const snap = db.snapshot();
   * await db.delete("user:1");
   * for await (const [k, v] of snap.scan({ prefix: "user:" })) console.log(k, v); // user:1 alice, user:2 bob
   * snap.release();
   * await db.close();
   * ```
   */
  scan(options?: ScanOptions<K>): Scan<K, V> {
    return new Scan(this.#at.reader().cursor(options, this.#at.sequence(), "entries", "scan"));
  }

  /**
   * An ordered scan of [key, value] entries (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * for (const [k, v] of db.scanSync({ reverse: true, limit: 2 })) console.log(k, v); // b:1 z, a:2 y
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").put("c", "3").write();
   * const snap = db.snapshot();
   * await db.put("d", "4");
   * for (const [k, v] of snap.scanSync({ reverse: true, limit: 2 })) console.log(k, v); // c 3, b 2
   * snap.release();
   * await db.close();
   * ```
   */
  scanSync(options?: ScanOptions<K>): ScanSync<K, V> {
    return new ScanSync(this.#at.reader().cursor(options, this.#at.sequence(), "entries", "scan"));
  }

  /**
   * The keys of a scan (`for await`), with the options of scan(). Values
   * are not read out: cheaper than scan() when only keys are needed.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").put("x", "1").write();
   * for await (const key of db.keys({ prefix: "user:" })) console.log(key); // user:1, user:2
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.put("user:2", "bob");
   * for await (const key of snap.keys({ prefix: "user:" })) console.log(key); // user:1
   * snap.release();
   * await db.close();
   * ```
   */
  keys(options?: ScanOptions<K>): ScanIterator<K> {
    return new ScanIterator(this.#at.reader().cursor(options, this.#at.sequence(), "keys", "keys"));
  }

  /**
   * The keys of a scan (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("a:2", "y").put("b:1", "z").write();
   * console.log(db.keysSync({ gte: "a", lt: "b" }).toArray()); // ["a:1", "a:2"]
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a:1", "x").put("b:1", "y").write();
   * const snap = db.snapshot();
   * await db.put("a:2", "z");
   * console.log(snap.keysSync({ gte: "a", lt: "b" }).toArray()); // ["a:1"]
   * snap.release();
   * await db.close();
   * ```
   */
  keysSync(options?: ScanOptions<K>): ScanIteratorSync<K> {
    return new ScanIteratorSync(this.#at.reader().cursor(options, this.#at.sequence(), "keys", "keys"));
  }

  /**
   * The values of a scan (`for await`), with the options of scan(). Keys
   * are not decoded.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("user:1", "alice").put("user:2", "bob").write();
   * for await (const value of db.values({ prefix: "user:", limit: 10 })) console.log(value); // alice, bob
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * const snap = db.snapshot();
   * await db.put("user:1", "alicia");
   * for await (const value of snap.values({ prefix: "user:" })) console.log(value); // alice
   * snap.release();
   * await db.close();
   * ```
   */
  values(options?: ScanOptions<K>): ScanIterator<V> {
    return new ScanIterator(this.#at.reader().cursor(options, this.#at.sequence(), "values", "values"));
  }

  /**
   * The values of a scan (`for...of`), synchronous.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").put("c", "3").write();
   * console.log(db.valuesSync({ reverse: true, limit: 2 }).toArray()); // ["3", "2"]
   * await db.close();
   * ```
   *
   * @example As of a snapshot
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const snap = db.snapshot();
   * await db.delete("a");
   * console.log(snap.valuesSync({ limit: 10 }).toArray()); // ["1", "2"]
   * snap.release();
   * await db.close();
   * ```
   */
  valuesSync(options?: ScanOptions<K>): ScanIteratorSync<V> {
    return new ScanIteratorSync(this.#at.reader().cursor(options, this.#at.sequence(), "values", "values"));
  }
}

function promised<T>(read: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err);
  }
}
