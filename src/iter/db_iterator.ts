// Range scans: the options users pass, and the cursor that pulls visible
// entries from the core (core/db_iter.ts over core/merge_iter.ts) in batches,
// services its requests for table blocks, and decodes entries.
//
// One core call fills up to `batch` entries (16, doubling up to 1024) as
// (key pointer, key length, value pointer, value length) quadruples in the
// scratch region. Table sources take indexes of open tables and cached
// blocks inside the core; only when a table is not open or a block not
// cached does the fill stop early: the cursor copies out what was filled,
// opens the table or reads the block into the cache, hands it to the
// source, and goes on. Only what the scan's shape asks for is decoded
// (entries, keys, values, or nothing when counting). A scan holds its read
// view (memtables and table version) and the blocks its sources sit on
// until it ends, is closed (break out of for-of / for-await calls return(),
// `using` calls [Symbol.dispose]()), its signal is aborted, its database
// closes, or it is garbage collected. Range options are resolved in range.ts.

import { copyOut, core, maxEncodedLength, scratch, textsAt, words, writeData } from "../_wasm.ts";
import { describe, type Encoding } from "../encoding.ts";
import { corruption, invalidArgument, isTrap, SiltError } from "../errors.ts";
import { checkCallOptions } from "../options.ts";
import type { BlockCache } from "../table/block_cache.ts";
import type { TableCache } from "../table/table_cache.ts";
import { NEED_INDEX } from "../table/run_source.ts";
import { RANGE_OPTIONS, type RangeOptions, resolveRange } from "./range.ts";

export { RANGE_OPTIONS, type RangeOptions } from "./range.ts";

/**
 * `Symbol.dispose`, or `Symbol.for("Symbol.dispose")` where the runtime has
 * none (the name polyfills and TypeScript's downlevel helpers use).
 *
 * @example
 * ```ts
 * class Handle {
 *   [DISPOSE](): void {}
 * }
 * ```
 */
export const DISPOSE: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for("Symbol.dispose")) as typeof Symbol.dispose;
/**
 * `Symbol.asyncDispose`, or `Symbol.for("Symbol.asyncDispose")` where the runtime has none.
 *
 * @example
 * ```ts
 * class Resource {
 *   async [ASYNC_DISPOSE](): Promise<void> {}
 * }
 * ```
 */
export const ASYNC_DISPOSE: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;

/**
 * Range, direction, size and cancellation of a scan (and of keys() and
 * values()). Bounds use the key encoding of the database; `prefix` may be
 * combined with them (the scan covers their intersection).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ gte: "user:", lt: "user;", limit: 10 })) {
 *   console.log(key, value);
 * }
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 1000); // a scan still running then fails with ABORTED
 * for await (const key of db.keys({ prefix: "log:", reverse: true, signal: controller.signal })) console.log(key);
 * await db.close();
 * ```
 */
export interface ScanOptions<K = Uint8Array> extends RangeOptions<K> {
  /** Largest key first. Default false. */
  reverse?: boolean;
  /** At most this many entries: a non-negative integer, Infinity, or -1 (no limit, as abstract-level). Default: no limit. */
  limit?: number;
  /**
   * Aborting it closes the scan: the next read fails with a SiltError of
   * code `ABORTED` (an already aborted signal fails the call at once).
   */
  signal?: AbortSignal;
}

/**
 * Names of the options of a scan.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from "../options.ts";
 * checkCallOptions({ prefix: "user:", limit: 10 }, "keys", SCAN_OPTIONS); // { prefix: "user:", limit: 10 }
 * try {
 *   checkCallOptions({ limt: 10 }, "keys", SCAN_OPTIONS);
 * } catch (err) {
 *   console.log((err as Error).message); // unknown keys option "limt" (...)
 * }
 * ```
 */
export const SCAN_OPTIONS: readonly string[] = [...RANGE_OPTIONS, "reverse", "limit", "signal"];

/**
 * The `limit` option: undefined and -1 are no limit (Infinity); INVALID_ARGUMENT for anything but a non-negative integer or Infinity.
 *
 * @example
 * ```ts
 * resolveLimit(-1, "scan"); // Infinity
 * resolveLimit(10, "scan"); // 10
 * ```
 */
export function resolveLimit(limit: unknown, call: string): number {
  if (limit === undefined || limit === -1) return Infinity;
  if (typeof limit !== "number" || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
    throw invalidArgument(
      `${call} option limit must be a non-negative integer, Infinity or -1 (no limit), got ${
        typeof limit === "number" ? limit : describe(limit)
      }`,
    );
  }
  return limit;
}

/**
 * What each entry of a scan yields; the rest of the entry is not decoded:
 * [key, value] pairs, keys, values, keys as stored bytes whatever the key
 * encoding (for clear()), or nothing (the cursor only counts).
 *
 * @example
 * ```ts
 * declare const source: ScanSource; // what the database gives its scans
 * declare const sequence: number; // the last write the scan sees
 * const keys = new ScanIteratorSync(new ScanCursor<string>(source, sequence, { prefix: "a" }, "keys"));
 * ```
 */
export type Shape = "entries" | "keys" | "values" | "stored-keys" | "none";

// Flags of core iterCreate (core/db_iter.ts).
const REVERSE = 1;
const HAS_LOWER = 2;
const LOWER_INCLUSIVE = 4;
const HAS_UPPER = 8;
const UPPER_INCLUSIVE = 16;
// Fill statuses (core/db_iter.ts).
const STATUS_DONE = 1;
const STATUS_NEED = 2;
const STATUS_CORRUPT = 3;

const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

/** What a scan reads: memtables (newest first) and the table files of a version. */
export interface ReadView {
  /** Memtable addresses, newest first. */
  memtables: number[];
  /** The core read state (open tables, block cache), up to date with this view. */
  readState: number;
  /** The core's packed form of the view's version (core/read_state.ts). */
  packedVersion: number;
  /** File count per level of the view's version. */
  fileCounts: number[];
  /** Gives the view back (memtables and version may then be freed). */
  release(): void;
}

/** What a scan needs from its database. */
export interface ScanSource {
  readonly keyEncoding: Encoding<unknown>;
  readonly valueEncoding: Encoding<unknown>;
  readonly tables: TableCache;
  readonly blocks: BlockCache;
  /** Largest key size (bounds longer than this are refused). */
  readonly maxKeySize: number;
  /** Throws CLOSED once the database is closed. */
  checkOpen(): void;
  /** The core trapped: closes the database; returns the error to throw. */
  onTrap(err: unknown): Error;
  /** The current read view, referenced. */
  acquireView(): ReadView;
  /** Tracks a scan's resources so the database can release them at close; returns an untrack function. */
  track(release: () => void): () => void;
}

/** Everything a scan holds, releasable without the cursor object (for the finalizer). */
class ScanResources {
  it = 0;
  view: ReadView | undefined;
  untrack: (() => void) | undefined;
  constructor(readonly source: ScanSource) {}

  release(): void {
    if (this.it !== 0) {
      core.iterFree(this.it); // frees the sources: they let go of their tables and blocks
      this.it = 0;
    }
    this.view?.release();
    this.view = undefined;
    const untrack = this.untrack;
    this.untrack = undefined;
    untrack?.();
  }
}

const finalizer = new FinalizationRegistry<ScanResources>((resources) => resources.release());

/** Watches the signal of a scan: an abort records the error and frees the scan's resources. */
class AbortWatch {
  error: SiltError | undefined;
  #detach: (() => void) | undefined;

  constructor(signal: AbortSignal, res: ScanResources) {
    const onAbort = () => {
      this.error ??= abortError(signal);
      res.release();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detach = () => signal.removeEventListener("abort", onAbort);
  }

  /** Stops watching. Idempotent. */
  detach(): void {
    this.#detach?.();
    this.#detach = undefined;
  }
}

function abortError(signal: AbortSignal): SiltError {
  const reason = signal.reason;
  const why = reason instanceof Error ? `: ${reason.message}` : reason === undefined ? "" : `: ${String(reason)}`;
  return new SiltError("ABORTED", `the scan was aborted${why}`, {}, reason);
}

function isSignal(value: unknown): value is AbortSignal {
  const s = value as Record<string, unknown> | null;
  return typeof s === "object" && s !== null && typeof s.aborted === "boolean" &&
    typeof s.addEventListener === "function" && typeof s.removeEventListener === "function";
}

/**
 * The machinery of a scan: pulls visible entries from the core in batches
 * and decodes what its shape asks for. Users get it wrapped as a
 * {@linkcode ScanIterator} (async) or {@linkcode ScanIteratorSync}.
 *
 * @example
 * ```ts
 * declare const source: ScanSource; // what the database gives its scans
 * declare const sequence: number; // the last write the scan sees
 * const cursor = new ScanCursor<[string, string]>(source, sequence, { gte: "a", limit: 10 }, "entries");
 * for (let e = cursor.read(); e !== undefined; e = cursor.read()) console.log(e);
 * const n = new ScanCursor<never>(source, sequence, { prefix: "a" }, "none", "count").count();
 * ```
 */
export class ScanCursor<T> {
  #source: ScanSource;
  #res: ScanResources;
  #shape: Shape;
  #entries: T[] = [];
  #index = 0;
  #remaining: number;
  #batch = FIRST_BATCH;
  #exhausted = false;
  #abort: AbortWatch | undefined;

  /**
   * Checks the options (INVALID_ARGUMENT names the bad one; ABORTED for an
   * aborted signal) and starts the scan as of sequence.
   */
  constructor(source: ScanSource, sequence: number, options: unknown, shape: Shape, call = "scan") {
    source.checkOpen();
    const o = checkCallOptions(options, call, SCAN_OPTIONS) ?? {};
    const limit = resolveLimit(o.limit, call);
    const reverse = o.reverse ?? false;
    if (typeof reverse !== "boolean") {
      throw invalidArgument(`${call} option reverse must be a boolean, got ${describe(reverse)}`);
    }
    const signal = o.signal;
    if (signal !== undefined && !isSignal(signal)) {
      throw invalidArgument(`${call} option signal must be an AbortSignal, got ${describe(signal)}`);
    }
    const { lower, upper, empty } = resolveRange(o, source.keyEncoding, source.maxKeySize, call);
    if (signal?.aborted) throw abortError(signal);
    this.#source = source;
    this.#shape = shape;
    this.#res = new ScanResources(source);
    this.#remaining = limit;
    if (limit === 0 || empty) {
      this.#exhausted = true;
      if (signal !== undefined) this.#abort = new AbortWatch(signal, this.#res);
      return;
    }
    const res = this.#res;
    const readView = source.acquireView();
    res.view = readView;
    // Sources first (they allocate), then the arguments in scratch.
    const children: number[] = readView.memtables.map((mt) => core.memSourceNew(mt));
    const { readState, packedVersion, fileCounts } = readView;
    for (let i = 0; i < fileCounts[0]; i++) children.push(core.runSourceOfLevel(readState, packedVersion, 0, i));
    for (let level = 1; level < fileCounts.length; level++) {
      if (fileCounts[level] > 0) children.push(core.runSourceOfLevel(readState, packedVersion, level, 0));
    }
    const lowerData = lower?.[0] ?? "";
    const upperData = upper?.[0] ?? "";
    const childBytes = children.length * 4;
    const ptr = scratch(childBytes + maxEncodedLength(lowerData) + maxEncodedLength(upperData));
    children.forEach((c, i) => words()[(ptr >>> 2) + i] = c);
    const lowerLen = writeData(ptr + childBytes, lowerData);
    const upperLen = writeData(ptr + childBytes + lowerLen, upperData);
    let flags = reverse ? REVERSE : 0;
    if (lower) flags |= HAS_LOWER | (lower[1] ? LOWER_INCLUSIVE : 0);
    if (upper) flags |= HAS_UPPER | (upper[1] ? UPPER_INCLUSIVE : 0);
    res.it = core.iterCreate(
      ptr,
      children.length,
      sequence,
      flags,
      ptr + childBytes,
      lowerLen,
      ptr + childBytes + lowerLen,
      upperLen,
    );
    res.untrack = source.track(() => res.release());
    finalizer.register(this, res, this);
    if (signal !== undefined) this.#abort = new AbortWatch(signal, res); // last: nothing can fail after it
  }

  /**
   * The next item, or undefined at the end. Throws CLOSED if the database
   * closed meanwhile, ABORTED once the signal was aborted.
   */
  read(): T | undefined {
    if (this.#abort?.error) throw this.#abort.error;
    while (this.#index >= this.#entries.length) {
      if (this.#exhausted) {
        this.#abort?.detach();
        return undefined;
      }
      this.#fill();
    }
    const entry = this.#entries[this.#index];
    this.#entries[this.#index++] = undefined as T;
    return entry;
  }

  /** Counts the remaining entries without decoding them (a cursor of shape "none"), and ends the scan. */
  count(): number {
    let n = this.#entries.length - this.#index;
    this.#entries = [];
    this.#index = 0;
    while (!this.#exhausted) {
      if (this.#abort?.error) throw this.#abort.error;
      n += this.#fill();
    }
    this.close();
    return n;
  }

  /** Fills the buffer from the core; returns how many entries it took. */
  #fill(): number {
    this.#source.checkOpen();
    try {
      return this.#fillFromCore();
    } catch (err) {
      if (isTrap(err)) throw this.#source.onTrap(err);
      throw err;
    }
  }

  #fillFromCore(): number {
    const it = this.#res.it;
    const max = Math.min(this.#batch, this.#remaining);
    const out = scratch(max * 16);
    const n = core.iterFill(it, out, max);
    const w = words();
    const shape = this.#shape;
    if (shape !== "none") {
      const keyEnc = this.#source.keyEncoding;
      const valueEnc = this.#source.valueEncoding;
      const entries: unknown[] = new Array(n);
      let q = out >>> 2;
      const texts = keyEnc.name === "utf8" && shape !== "values" ? textsAt(w, q, n, 0) : undefined;
      if (shape === "entries") {
        for (let i = 0; i < n; i++, q += 4) {
          entries[i] = [texts ? texts[i] : keyEnc.decode(w[q], w[q + 1]), valueEnc.decode(w[q + 2], w[q + 3])];
        }
      } else if (shape === "keys") {
        for (let i = 0; i < n; i++, q += 4) entries[i] = texts ? texts[i] : keyEnc.decode(w[q], w[q + 1]);
      } else if (shape === "values") {
        for (let i = 0; i < n; i++, q += 4) entries[i] = valueEnc.decode(w[q + 2], w[q + 3]);
      } else {
        for (let i = 0; i < n; i++, q += 4) entries[i] = copyOut(w[q], w[q + 1]);
      }
      this.#entries = entries as T[];
      this.#index = 0;
    }
    this.#remaining -= n;
    if (n > 0 && this.#batch < MAX_BATCH) this.#batch *= 2;
    const status = core.iterStatus(it);
    if (status === STATUS_NEED) this.#provide();
    else if (status === STATUS_CORRUPT) throw this.#corruption();
    if (status === STATUS_DONE || this.#remaining === 0) this.#release();
    return n;
  }

  /** Opens the table or reads the block the source the core stopped on needs, and hands it over. */
  #provide(): void {
    const source = core.iterChild(this.#res.it, core.iterNeedChild(this.#res.it));
    const n = core.runFileNumber(source);
    const table = this.#source.tables.get(n);
    if (core.srcState(source) === NEED_INDEX) {
      core.runProvideTable(source, table.handle);
    } else {
      const handle = { offset: core.runBlockOffset(source), size: core.runBlockSize(source) };
      const entry = this.#source.blocks.pinned(n, handle.offset, () => table.readBlock(handle));
      core.runProvideCached(source, entry); // the source takes over the pin
    }
  }

  #corruption() {
    const source = core.iterChild(this.#res.it, core.iterNeedChild(this.#res.it));
    return corruption(
      this.#source.tables.pathOf(core.runFileNumber(source)),
      core.runBlockOffset(source),
      "malformed block",
    );
  }

  /** Ends the scan early and frees its resources. Idempotent. */
  close(): void {
    this.#entries = [];
    this.#index = 0;
    this.#abort?.detach();
    this.#release();
  }

  /** Marks the end of the entries from the core and frees its resources; buffered entries stay. */
  #release(): void {
    this.#exhausted = true;
    finalizer.unregister(this);
    this.#res.release();
  }
}

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
      return Promise.resolve(drain(this.#cursor));
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

function drain<T>(cursor: ScanCursor<T>): T[] {
  const all: T[] = [];
  for (let e = cursor.read(); e !== undefined; e = cursor.read()) all.push(e);
  return all;
}
