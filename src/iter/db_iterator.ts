// Range scans: the options users pass, and the iterator that pulls visible
// entries from the core (core/db_iter.ts) in batches and decodes them.
//
// One core call fills up to `batch` entries (16, doubling up to 1024) as
// (key pointer, key length, value pointer, value length) quadruples in the
// scratch region; this file copies them out with the key and value
// encodings. The core iterator is freed when the scan ends, when it is
// closed (break out of for-of / for-await calls return()), when its database
// closes, or, for an abandoned scan, when it is garbage collected.

import { core, maxEncodedLength, scratch, words, writeData } from "../_wasm.ts";
import type { Encoding } from "../encoding.ts";
import { invalidArgument } from "../errors.ts";

/**
 * Range and direction of a scan. Bounds use the key encoding of the database.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ gte: "user:", lt: "user;", limit: 10 })) {
 *   console.log(key, value);
 * }
 * await db.close();
 * ```
 */
export interface ScanOptions<K = Uint8Array> {
  /** Only keys greater than this. */
  gt?: K | string | Uint8Array;
  /** Only keys greater than or equal to this. */
  gte?: K | string | Uint8Array;
  /** Only keys less than this. */
  lt?: K | string | Uint8Array;
  /** Only keys less than or equal to this. */
  lte?: K | string | Uint8Array;
  /** Largest key first. Default false. */
  reverse?: boolean;
  /** At most this many entries (a non-negative integer, or Infinity). Default Infinity. */
  limit?: number;
}

// Flags of core iterCreate (core/db_iter.ts).
const REVERSE = 1;
const HAS_LOWER = 2;
const LOWER_INCLUSIVE = 4;
const HAS_UPPER = 8;
const UPPER_INCLUSIVE = 16;

const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

/** What a scan needs from its database. */
export interface ScanSource {
  readonly keyEncoding: Encoding<unknown>;
  readonly valueEncoding: Encoding<unknown>;
  /** Throws CLOSED once the database is closed. */
  checkOpen(): void;
  /** Tracks a core iterator so the database can free it at close; returns an untrack function. */
  track(iterator: number): () => void;
}

const finalizer = new FinalizationRegistry<() => void>((release) => release());

/** The bound of one side as (bytes or text, inclusive), checking the pair. */
function bound(
  options: ScanOptions<unknown>,
  exclusive: "gt" | "lt",
  inclusive: "gte" | "lte",
  keyEncoding: Encoding<unknown>,
): [string | Uint8Array, boolean] | undefined {
  const ex = options[exclusive];
  const inc = options[inclusive];
  if (ex !== undefined && inc !== undefined) throw invalidArgument(`scan options ${exclusive} and ${inclusive} cannot both be set`);
  if (ex !== undefined) return [keyEncoding.encode(ex, `scan option ${exclusive}`), false];
  if (inc !== undefined) return [keyEncoding.encode(inc, `scan option ${inclusive}`), true];
  return undefined;
}

/**
 * The machinery of a scan: pulls visible entries from the core in batches.
 * Users get it wrapped as a {@linkcode Scan} (async) or {@linkcode ScanSync}.
 */
export class ScanCursor<K, V> {
  #source: ScanSource;
  #it = 0;
  #untrack: (() => void) | undefined;
  #entries: [K, V][] = [];
  #index = 0;
  #remaining: number;
  #batch = FIRST_BATCH;
  #exhausted = false;

  constructor(source: ScanSource, memtable: number, sequence: number, options: ScanOptions<unknown> | undefined) {
    source.checkOpen();
    if (options === undefined) options = {};
    if (typeof options !== "object" || options === null) throw invalidArgument("scan options must be an object");
    const limit = options.limit ?? Infinity;
    if (typeof limit !== "number" || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
      throw invalidArgument(`scan option limit must be a non-negative integer or Infinity, got ${String(limit)}`);
    }
    const reverse = options.reverse ?? false;
    if (typeof reverse !== "boolean") throw invalidArgument(`scan option reverse must be a boolean, got ${typeof reverse}`);
    const lower = bound(options, "gt", "gte", source.keyEncoding);
    const upper = bound(options, "lt", "lte", source.keyEncoding);
    this.#source = source;
    this.#remaining = limit;
    if (limit === 0) {
      this.#exhausted = true;
      return;
    }
    const lowerData = lower?.[0] ?? "";
    const upperData = upper?.[0] ?? "";
    const ptr = scratch(maxEncodedLength(lowerData) + maxEncodedLength(upperData));
    const lowerLen = writeData(ptr, lowerData);
    const upperLen = writeData(ptr + lowerLen, upperData);
    let flags = reverse ? REVERSE : 0;
    if (lower) flags |= HAS_LOWER | (lower[1] ? LOWER_INCLUSIVE : 0);
    if (upper) flags |= HAS_UPPER | (upper[1] ? UPPER_INCLUSIVE : 0);
    this.#it = core.iterCreate(memtable, sequence, flags, ptr, lowerLen, ptr + lowerLen, upperLen);
    this.#untrack = source.track(this.#it);
    finalizer.register(this, this.#untrack, this);
  }

  /** The next entry, or undefined at the end. Throws CLOSED if the database closed meanwhile. */
  read(): [K, V] | undefined {
    while (this.#index >= this.#entries.length) {
      if (this.#exhausted) return undefined;
      this.#source.checkOpen();
      this.#fill();
    }
    const entry = this.#entries[this.#index];
    this.#entries[this.#index++] = undefined as unknown as [K, V];
    return entry;
  }

  #fill(): void {
    const max = Math.min(this.#batch, this.#remaining);
    const out = scratch(max * 16);
    const n = core.iterFill(this.#it, out, max);
    const w = words();
    const keyEnc = this.#source.keyEncoding;
    const valueEnc = this.#source.valueEncoding;
    const entries: [K, V][] = new Array(n);
    for (let i = 0, q = out >>> 2; i < n; i++, q += 4) {
      entries[i] = [keyEnc.decode(w[q], w[q + 1]) as K, valueEnc.decode(w[q + 2], w[q + 3]) as V];
    }
    this.#entries = entries;
    this.#index = 0;
    this.#remaining -= n;
    if (this.#batch < MAX_BATCH) this.#batch *= 2;
    if (n < max || this.#remaining === 0) this.#release();
  }

  /** Ends the scan early and frees its resources. Idempotent. */
  close(): void {
    this.#entries = [];
    this.#index = 0;
    this.#release();
  }

  /** Marks the end of the entries from the core and frees the core iterator; buffered entries stay. */
  #release(): void {
    this.#exhausted = true;
    if (this.#it !== 0) {
      this.#it = 0;
      finalizer.unregister(this);
      this.#untrack?.();
    }
  }
}

/**
 * An ordered scan, consumed with `for await`. Entries are `[key, value]`
 * pairs in key order (or reverse). Breaking out of the loop closes it.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ gte: "a", lt: "b" })) console.log(key, value);
 * await db.close();
 * ```
 */
export class Scan<K, V> implements AsyncIterableIterator<[K, V]> {
  #cursor: ScanCursor<K, V>;

  /** @internal */
  constructor(cursor: ScanCursor<K, V>) {
    this.#cursor = cursor;
  }

  /** The next entry. */
  next(): Promise<IteratorResult<[K, V], undefined>> {
    try {
      const value = this.#cursor.read();
      return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Closes the scan (called by `break` in `for await`). */
  return(): Promise<IteratorResult<[K, V], undefined>> {
    this.#cursor.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Closes the scan early. Idempotent. */
  close(): void {
    this.#cursor.close();
  }

  /** All remaining entries, in order. */
  toArray(): Promise<[K, V][]> {
    try {
      return Promise.resolve(drain(this.#cursor));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An ordered scan, consumed synchronously with `for...of`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for (const [key, value] of db.scanSync({ reverse: true, limit: 3 })) console.log(key, value);
 * await db.close();
 * ```
 */
export class ScanSync<K, V> implements IterableIterator<[K, V]> {
  #cursor: ScanCursor<K, V>;

  /** @internal */
  constructor(cursor: ScanCursor<K, V>) {
    this.#cursor = cursor;
  }

  /** The next entry. */
  next(): IteratorResult<[K, V], undefined> {
    const value = this.#cursor.read();
    return value === undefined ? { done: true, value: undefined } : { done: false, value };
  }

  /** Closes the scan (called by `break` in `for...of`). */
  return(): IteratorResult<[K, V], undefined> {
    this.#cursor.close();
    return { done: true, value: undefined };
  }

  /** Closes the scan early. Idempotent. */
  close(): void {
    this.#cursor.close();
  }

  /** All remaining entries, in order. */
  toArray(): [K, V][] {
    return drain(this.#cursor);
  }

  [Symbol.iterator](): this {
    return this;
  }
}

function drain<K, V>(cursor: ScanCursor<K, V>): [K, V][] {
  const all: [K, V][] = [];
  for (let e = cursor.read(); e !== undefined; e = cursor.read()) all.push(e);
  return all;
}
