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
// source, and goes on. A scan holds its read view (memtables and table
// version) and the blocks its sources sit on until it ends, is closed
// (break out of for-of / for-await calls return()), its database closes, or
// it is garbage collected.

import { core, maxEncodedLength, scratch, words, writeData } from "../_wasm.ts";
import { checkedSize, describe, type Encoding } from "../encoding.ts";
import { corruption, invalidArgument, isTrap } from "../errors.ts";
import { checkCallOptions } from "../options.ts";
import type { BlockCache } from "../table/block_cache.ts";
import type { TableCache } from "../table/table_cache.ts";
import { NEED_INDEX } from "../table/run_source.ts";

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

/** The bound of one side as (bytes or text, inclusive), checking the pair. */
function bound(
  options: ScanOptions<unknown>,
  exclusive: "gt" | "lt",
  inclusive: "gte" | "lte",
  keyEncoding: Encoding<unknown>,
  maxKeySize: number,
): [string | Uint8Array, boolean] | undefined {
  const ex = options[exclusive];
  const inc = options[inclusive];
  if (ex !== undefined && inc !== undefined) throw invalidArgument(`scan options ${exclusive} and ${inclusive} cannot both be set`);
  const name = ex !== undefined ? exclusive : inclusive;
  const value = ex !== undefined ? ex : inc;
  if (value === undefined) return undefined;
  const data = keyEncoding.encode(value, `scan option ${name}`);
  checkedSize(data, maxKeySize, `scan option ${name}`, "maxKeySize");
  return [data, ex === undefined];
}

const SCAN_OPTIONS = ["gt", "gte", "lt", "lte", "reverse", "limit"] as const;

/**
 * The machinery of a scan: pulls visible entries from the core in batches.
 * Users get it wrapped as a {@linkcode Scan} (async) or {@linkcode ScanSync}.
 */
export class ScanCursor<K, V> {
  #source: ScanSource;
  #res: ScanResources;
  #entries: [K, V][] = [];
  #index = 0;
  #remaining: number;
  #batch = FIRST_BATCH;
  #exhausted = false;

  constructor(source: ScanSource, sequence: number, options: ScanOptions<unknown> | undefined) {
    source.checkOpen();
    options = (checkCallOptions(options, "scan", SCAN_OPTIONS) ?? {}) as ScanOptions<unknown>;
    const limit = options.limit ?? Infinity;
    if (typeof limit !== "number" || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
      throw invalidArgument(`scan option limit must be a non-negative integer or Infinity, got ${typeof limit === "number" ? limit : describe(limit)}`);
    }
    const reverse = options.reverse ?? false;
    if (typeof reverse !== "boolean") throw invalidArgument(`scan option reverse must be a boolean, got ${describe(reverse)}`);
    const lower = bound(options, "gt", "gte", source.keyEncoding, source.maxKeySize);
    const upper = bound(options, "lt", "lte", source.keyEncoding, source.maxKeySize);
    this.#source = source;
    this.#res = new ScanResources(source);
    this.#remaining = limit;
    if (limit === 0) {
      this.#exhausted = true;
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
    res.it = core.iterCreate(ptr, children.length, sequence, flags, ptr + childBytes, lowerLen, ptr + childBytes + lowerLen, upperLen);
    res.untrack = source.track(() => res.release());
    finalizer.register(this, res, this);
  }

  /** The next entry, or undefined at the end. Throws CLOSED if the database closed meanwhile. */
  read(): [K, V] | undefined {
    while (this.#index >= this.#entries.length) {
      if (this.#exhausted) return undefined;
      this.#source.checkOpen();
      try {
        this.#fill();
      } catch (err) {
        if (isTrap(err)) throw this.#source.onTrap(err);
        throw err;
      }
    }
    const entry = this.#entries[this.#index];
    this.#entries[this.#index++] = undefined as unknown as [K, V];
    return entry;
  }

  #fill(): void {
    const it = this.#res.it;
    const max = Math.min(this.#batch, this.#remaining);
    const out = scratch(max * 16);
    const n = core.iterFill(it, out, max);
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
    if (n > 0 && this.#batch < MAX_BATCH) this.#batch *= 2;
    const status = core.iterStatus(it);
    if (status === STATUS_NEED) this.#provide();
    else if (status === STATUS_CORRUPT) throw this.#corruption();
    if (status === STATUS_DONE || this.#remaining === 0) this.#release();
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
    return corruption(this.#source.tables.pathOf(core.runFileNumber(source)), core.runBlockOffset(source), "malformed block");
  }

  /** Ends the scan early and frees its resources. Idempotent. */
  close(): void {
    this.#entries = [];
    this.#index = 0;
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
