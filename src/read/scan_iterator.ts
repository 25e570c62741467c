// The scans users hold: iterators over a scan cursor (scan_cursor.ts), for
// `for await` (ScanIterator, and Scan for [key, value] entries) and for
// `for...of` (ScanIteratorSync, ScanSync). Breaking out of a loop, close(),
// `using` and the database's close end the scan.

import { DISPOSE } from "../_dispose.ts";
import type { ScanCursor } from "./scan_cursor.ts";

/**
 * An ordered scan consumed with `for await`: what `db.keys()` and
 * `db.values()` return (and the base of {@linkcode Scan}). Items come in key
 * order (or reverse). Breaking out of the loop closes it; so do `close()`,
 * `using` (`Symbol.dispose`), the database's close and the scan's `signal`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const key of db.keys({ prefix: "user:" })) console.log(key);
 * {
 *   using values = db.values({ limit: 10 }); // closed at the end of the block
 *   console.log(await values.toArray());
 * }
 * await db.close();
 * ```
 */
export class ScanIterator<T> implements AsyncIterableIterator<T> {
  #cursor: ScanCursor<T>;

  /** @internal */
  constructor(cursor: ScanCursor<T>) {
    this.#cursor = cursor;
  }

  /**
   * The next item.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const keys = db.keys();
   * console.log(await keys.next()); // { done: false, value: "a" }
   * console.log(await keys.next()); // { done: false, value: "b" }
   * console.log(await keys.next()); // { done: true, value: undefined }
   * await db.close();
   * ```
   */
  next(): Promise<IteratorResult<T, undefined>> {
    try {
      if (!this.#cursor.synchronous) {
        return this.#cursor.readAsync().then((value) =>
          value === undefined ? { done: true, value: undefined } : { done: false, value }
        );
      }
      const value = this.#cursor.read();
      return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Closes the scan (called by `break` in `for await`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * for await (const key of db.keys()) {
   *   if (key === "a") break; // calls return(): the scan is closed
   * }
   * const scan = db.scan();
   * await scan.return();
   * console.log(await scan.next()); // { done: true, value: undefined }
   * await db.close();
   * ```
   */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#cursor.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /**
   * Closes the scan early. Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const values = db.values();
   * console.log((await values.next()).value); // "1"
   * values.close(); // the rest is not read
   * console.log(await values.toArray()); // []
   * await db.close();
   * ```
   */
  close(): void {
    this.#cursor.close();
  }

  /**
   * All remaining items, in order.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * console.log(await db.scan().toArray()); // [["a", "1"], ["b", "2"]]
   * console.log(await db.keys({ reverse: true }).toArray()); // ["b", "a"]
   * await db.close();
   * ```
   */
  toArray(): Promise<T[]> {
    try {
      return this.#cursor.synchronous ? Promise.resolve(drain(this.#cursor)) : drainAsync(this.#cursor);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The scan itself: it is its own async iterator (`for await`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const keys = db.keys();
   * console.log(keys[Symbol.asyncIterator]() === keys); // true
   * for await (const key of keys) console.log(key); // a, b
   * await db.close();
   * ```
   */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Closes the scan (`using scan = db.scan()`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * {
   *   using scan = db.scan();
   *   console.log(await scan.next()); // { done: false, value: ["a", "1"] }
   * } // closed here
   * await db.close();
   * ```
   */
  [DISPOSE](): void {
    this.#cursor.close();
  }
}

/**
 * An ordered scan consumed synchronously with `for...of`: what
 * `db.keysSync()` and `db.valuesSync()` return (and the base of
 * {@linkcode ScanSync}).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for (const key of db.keysSync({ prefix: "user:", reverse: true })) console.log(key);
 * {
 *   using values = db.valuesSync({ gte: "a", limit: 3 }); // closed at the end of the block
 *   console.log(values.toArray());
 * }
 * await db.close();
 * ```
 */
export class ScanIteratorSync<T> implements IterableIterator<T> {
  #cursor: ScanCursor<T>;

  /** @internal */
  constructor(cursor: ScanCursor<T>) {
    this.#cursor = cursor;
  }

  /**
   * The next item.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const keys = db.keysSync();
   * console.log(keys.next()); // { done: false, value: "a" }
   * console.log(keys.next()); // { done: false, value: "b" }
   * console.log(keys.next()); // { done: true, value: undefined }
   * await db.close();
   * ```
   */
  next(): IteratorResult<T, undefined> {
    const value = this.#cursor.read();
    return value === undefined ? { done: true, value: undefined } : { done: false, value };
  }

  /**
   * Closes the scan (called by `break` in `for...of`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * for (const key of db.keysSync()) {
   *   if (key === "a") break; // calls return(): the scan is closed
   * }
   * const scan = db.scanSync();
   * scan.return();
   * console.log(scan.next()); // { done: true, value: undefined }
   * await db.close();
   * ```
   */
  return(): IteratorResult<T, undefined> {
    this.#cursor.close();
    return { done: true, value: undefined };
  }

  /**
   * Closes the scan early. Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const values = db.valuesSync();
   * console.log(values.next().value); // "1"
   * values.close(); // the rest is not read
   * console.log(values.toArray()); // []
   * await db.close();
   * ```
   */
  close(): void {
    this.#cursor.close();
  }

  /**
   * All remaining items, in order.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * console.log(db.scanSync().toArray()); // [["a", "1"], ["b", "2"]]
   * console.log(db.keysSync({ reverse: true }).toArray()); // ["b", "a"]
   * await db.close();
   * ```
   */
  toArray(): T[] {
    return drain(this.#cursor);
  }

  /**
   * The scan itself: it is its own iterator (`for...of`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const keys = db.keysSync();
   * console.log(keys[Symbol.iterator]() === keys); // true
   * for (const key of keys) console.log(key); // a, b
   * await db.close();
   * ```
   */
  [Symbol.iterator](): this {
    return this;
  }

  /**
   * Closes the scan (`using scan = db.scanSync()`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * {
   *   using scan = db.scanSync();
   *   console.log(scan.next()); // { done: false, value: ["a", "1"] }
   * } // closed here
   * await db.close();
   * ```
   */
  [DISPOSE](): void {
    this.#cursor.close();
  }
}

/**
 * An ordered scan of `[key, value]` entries, consumed with `for await`.
 * Breaking out of the loop closes it (so do `close()` and `using`).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ gte: "a", lt: "b" })) console.log(key, value);
 * for await (const [key, value] of db.scan({ prefix: "user:", limit: 10 })) console.log(key, value);
 * await db.close();
 * ```
 */
export class Scan<K, V> extends ScanIterator<[K, V]> {}

/**
 * An ordered scan of `[key, value]` entries, consumed synchronously with `for...of`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for (const [key, value] of db.scanSync({ reverse: true, limit: 3 })) console.log(key, value);
 * await db.close();
 * ```
 */
export class ScanSync<K, V> extends ScanIteratorSync<[K, V]> {}

async function drainAsync<T>(cursor: ScanCursor<T>): Promise<T[]> {
  const all: T[] = [];
  for (let e = await cursor.readAsync(); e !== undefined; e = await cursor.readAsync()) all.push(e);
  return all;
}

function drain<T>(cursor: ScanCursor<T>): T[] {
  const all: T[] = [];
  for (let e = cursor.read(); e !== undefined; e = cursor.read()) all.push(e);
  return all;
}
