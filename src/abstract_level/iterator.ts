// Iterators of SiltLevel: entries, keys and values over a siltdb scan.
//
// An iterator reads from a snapshot taken when it is created (the implicit
// snapshot abstract-level asks for), or from the explicit snapshot in its
// options; its scan starts at the first read, and seek() replaces it with a
// scan of the same snapshot from the target on. Reads are synchronous inside
// siltdb (one core call fills a batch), so a call is only "in progress" for
// one microtask: with a signal, the call yields once and fails with
// LEVEL_ABORTED if the signal was aborted meanwhile.

import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from "abstract-level";
import type { ScanOptions } from "../read/scan_options.ts";
import type { ScanSync } from "../read/scan_iterator.ts";
import { SiltLevelAbortError, toLevelError } from "./errors.ts";
import { fromSilt, type SiltData, toSilt } from "./format.ts";
import { type Bound, type KeyRange, type LevelRangeOptions, rangeOf, scanOptionsOf, seekBounds } from "./range.ts";

/** What an iterator scans: a siltdb snapshot (or anything with its scanSync). */
export interface ScanSource {
  scanSync(options?: ScanOptions): ScanSync<Uint8Array, Uint8Array>;
}

/** The private-API options abstract-level gives `_iterator()`, `_keys()` and `_values()`. */
export interface LevelIteratorOptions extends LevelRangeOptions {
  keys?: boolean;
  values?: boolean;
  keyEncoding?: string;
  valueEncoding?: string;
  signal?: AbortSignal | null;
  snapshot?: unknown;
}

/** What an iterator yields of a stored entry. */
export type Shape = "entries" | "keys" | "values";

/**
 * The machinery shared by the three iterator kinds: the snapshot, the range,
 * the current scan, and the mapping of stored entries to what is yielded.
 *
 * @example
 * ```ts
 * import type { Db } from "../db.ts";
 * declare const db: Db; // the siltdb database under a SiltLevel
 * const snapshot = db.snapshot();
 * const cursor = new LevelCursor<string>(snapshot, () => snapshot.release(), { keyEncoding: "utf8" }, "keys", () => 0);
 * console.log(cursor.nextv(10)); // the first 10 keys, as strings
 * cursor.close(); // releases the snapshot
 * ```
 */
export class LevelCursor<T> {
  #source: ScanSource;
  #release: (() => void) | undefined;
  #range: KeyRange;
  #lower: Bound | undefined;
  #upper: Bound | undefined;
  #scan: ScanSync<Uint8Array, Uint8Array> | undefined;
  #count: () => number;
  #map: (entry: [Uint8Array, Uint8Array]) => T;
  /** The iterator's signal, if any. */
  readonly signal: AbortSignal | null;

  /**
   * @param source the snapshot to read
   * @param release gives the snapshot back at close (for an implicit snapshot)
   * @param options the private-API options of the iterator
   * @param shape what to yield
   * @param count the number of items the iterator yielded so far
   */
  constructor(
    source: ScanSource,
    release: (() => void) | undefined,
    options: LevelIteratorOptions,
    shape: Shape,
    count: () => number,
  ) {
    this.#source = source;
    this.#release = release;
    this.#range = rangeOf(options);
    this.#lower = this.#range.lower;
    this.#upper = this.#range.upper;
    this.#count = count;
    this.signal = options.signal ?? null;
    const keyFormat = options.keyEncoding;
    const valueFormat = options.valueEncoding;
    if (shape === "keys") this.#map = (e) => fromSilt(e[0], keyFormat) as T;
    else if (shape === "values") this.#map = (e) => fromSilt(e[1], valueFormat) as T;
    else {
      const keys = options.keys !== false;
      const values = options.values !== false;
      this.#map = (e) =>
        [keys ? fromSilt(e[0], keyFormat) : undefined, values ? fromSilt(e[1], valueFormat) : undefined] as T;
    }
  }

  #open(): ScanSync<Uint8Array, Uint8Array> {
    const limit = this.#range.limit === Infinity ? Infinity : Math.max(0, this.#range.limit - this.#count());
    this.#scan = this.#source.scanSync(scanOptionsOf(this.#lower, this.#upper, this.#range.reverse, limit));
    return this.#scan;
  }

  /** Yields once, then fails with LEVEL_ABORTED if the signal was aborted meanwhile. */
  async checkpoint(): Promise<void> {
    await undefined;
    if (this.signal?.aborted) throw new SiltLevelAbortError(this.signal.reason);
  }

  /** The next item, or undefined at the end. */
  next(): T | undefined {
    try {
      const r = (this.#scan ?? this.#open()).next();
      return r.done ? undefined : this.#map(r.value);
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** Up to `size` items (fewer only at the end). */
  nextv(size: number): T[] {
    try {
      const scan = this.#scan ?? this.#open();
      const items: T[] = [];
      while (items.length < size) {
        const r = scan.next();
        if (r.done) break;
        items.push(this.#map(r.value));
      }
      return items;
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** Every remaining item. */
  all(): T[] {
    return this.nextv(Infinity);
  }

  /** Goes on from the key closest to target (encoded), in the iterator's direction and range. */
  seek(target: unknown): void {
    this.#scan?.close();
    this.#scan = undefined;
    [this.#lower, this.#upper] = seekBounds(this.#range, toSilt(target) as SiltData);
  }

  /** Ends the scan and gives back the implicit snapshot. */
  close(): void {
    this.#scan?.close();
    this.#scan = undefined;
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}

/** How an iterator gets its cursor: from the database, given what to yield and its item count. */
export type CursorFactory = <T>(options: LevelIteratorOptions, shape: Shape, count: () => number) => LevelCursor<T>;

type Db = object;
type Entry = [unknown, unknown];

/** An abstract-level iterator class as SiltLevel constructs it: with the private-API options object. */
type LevelIteratorClass<I> = new (db: Db, options: LevelIteratorOptions) => I;

/** abstract-level's private API of an iterator, which it calls from `next()`, `nextv()`, `all()`, `seek()`, `close()`. */
interface CursorIterator<T> {
  _next(): Promise<T | undefined>;
  _nextv(size: number): Promise<T[]>;
  _all(): Promise<T[]>;
  _seek(target: unknown): void;
  _close(): Promise<void>;
}

/** An abstract-level iterator class whose private API reads a {@linkcode LevelCursor}. */
type CursorIteratorClass<I, T> = new (
  db: Db,
  options: LevelIteratorOptions,
  cursor: CursorFactory,
) => I & CursorIterator<T>;

/**
 * Extends one of abstract-level's iterator classes (which decode what the
 * private API returns: entries, keys or values) with the private API answered
 * by a {@linkcode LevelCursor} yielding `shape`. The three iterator kinds are
 * this one class over three bases.
 */
function cursorIterator<I extends { readonly count: number }, T>(
  base: LevelIteratorClass<I>,
  shape: Shape,
): CursorIteratorClass<I, T> {
  const Base: LevelIteratorClass<{ readonly count: number }> = base;
  class SiltCursorIterator extends Base implements CursorIterator<T> {
    #c: LevelCursor<T>;

    /** @internal Iterators come from `db.iterator()`, `db.keys()` and `db.values()`. */
    constructor(db: Db, options: LevelIteratorOptions, cursor: CursorFactory) {
      super(db, options);
      this.#c = cursor<T>(options, shape, () => this.count);
    }

    /** @internal abstract-level's private API: `next()` calls it. */
    async _next(): Promise<T | undefined> {
      if (this.#c.signal) await this.#c.checkpoint();
      return this.#c.next();
    }

    /** @internal abstract-level's private API: `nextv()` calls it. */
    async _nextv(size: number): Promise<T[]> {
      if (this.#c.signal) await this.#c.checkpoint();
      return this.#c.nextv(size);
    }

    /** @internal abstract-level's private API: `all()` calls it. */
    async _all(): Promise<T[]> {
      if (this.#c.signal) await this.#c.checkpoint();
      return this.#c.all();
    }

    /** @internal abstract-level's private API: `seek()` calls it. */
    _seek(target: unknown): void {
      this.#c.seek(target);
    }

    /** @internal abstract-level's private API: `close()` calls it. */
    _close(): Promise<void> {
      this.#c.close();
      return Promise.resolve();
    }
  }
  return SiltCursorIterator as unknown as CursorIteratorClass<I, T>;
}

// The iterator classes of abstract-level take the options object they were
// created with; their typings name the public options, so cast once here.
const EntryIterator: CursorIteratorClass<AbstractIterator<Db, unknown, unknown>, Entry> = cursorIterator(
  AbstractIterator as unknown as LevelIteratorClass<AbstractIterator<Db, unknown, unknown>>,
  "entries",
);
const KeyIterator: CursorIteratorClass<AbstractKeyIterator<Db, unknown>, unknown> = cursorIterator(
  AbstractKeyIterator as unknown as LevelIteratorClass<AbstractKeyIterator<Db, unknown>>,
  "keys",
);
const ValueIterator: CursorIteratorClass<AbstractValueIterator<Db, unknown, unknown>, unknown> = cursorIterator(
  AbstractValueIterator as unknown as LevelIteratorClass<AbstractValueIterator<Db, unknown, unknown>>,
  "values",
);

/**
 * The entry iterator of {@linkcode SiltLevel} (`db.iterator()`): `[key, value]`
 * pairs in key order (or reverse), from a snapshot taken at creation.
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data");
 * await db.batch([{ type: "put", key: "a", value: "1" }, { type: "put", key: "b", value: "2" }]);
 * for await (const [key, value] of db.iterator({ gte: "a", limit: 10 })) console.log(key, value);
 * const it = db.iterator();
 * it.seek("b");
 * console.log(await it.next()); // ["b", "2"]
 * await it.close();
 * await db.close();
 * ```
 */
export class SiltIterator extends EntryIterator {}

/**
 * The key iterator of {@linkcode SiltLevel} (`db.keys()`).
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data");
 * console.log(await db.keys({ gt: "user:", lt: "user;" }).all());
 * await db.close();
 * ```
 */
export class SiltKeyIterator extends KeyIterator {}

/**
 * The value iterator of {@linkcode SiltLevel} (`db.values()`).
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data", { valueEncoding: "json" });
 * for await (const value of db.values({ reverse: true, limit: 3 })) console.log(value);
 * await db.close();
 * ```
 */
export class SiltValueIterator extends ValueIterator {}
