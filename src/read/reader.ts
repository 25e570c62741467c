// The one read path of a database, at a sequence: what db.get() and
// snap.get() (and getMany, has, count, scans) both run. It owns what reads
// use — the core read state with the block cache, the open tables, the
// block provider, the point reader — and tracks what readers hold: open
// scans (released at close) and live snapshots (whose sequences compactions
// must keep visible).
//
// Tables on disk are read synchronously. A store in a bucket is read with
// GETs, asynchronously: its async calls (getAsync, hasAsync, countAsync,
// scans' readAsync) await what they need, pinning their sequence meanwhile
// as a snapshot does, and its synchronous calls are UNSUPPORTED.

import { checkedSize, describe, type Encoding } from "../encoding.ts";
import { invalidArgument, SiltError } from "../errors.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { MemtableHandle } from "../memtable.ts";
import { checkCallOptions } from "../options.ts";
import { BlockProvider } from "../table/block_provider.ts";
import { TableCache } from "../table/table_cache.ts";
import type { TableFiles } from "../table/table_files.ts";
import type { VersionSet } from "../version/version_set.ts";
import { allocBuffer, freeBuffer, maxEncodedLength, scratch, writeData } from "../wasm/instance.ts";
import { Lookup, resultSequence, resultValue, resultValueLength } from "../wasm/abi.ts";
import { ReadState } from "../wasm/read_state.ts";
import { PointReader } from "./get.ts";
import { RANGE_OPTIONS } from "./range.ts";
import { OpenScans } from "./open_scans.ts";
import { ReadView } from "./read_view.ts";
import { ScanCursor, type ScanSource } from "./scan_cursor.ts";
import type { Shape } from "./scan_options.ts";

/** What the reader needs from its database. */
export interface ReaderContext {
  /** The table files (on disk, or in a bucket). */
  files: TableFiles;
  path: string;
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  maxKeySize: number;
  blockCacheSize: number;
  maxOpenFiles: number;
  life: Lifecycle;
  versions: VersionSet;
  /** The memtable writes go to (read-only: the one replayed from the logs). */
  activeMemtable(): MemtableHandle;
  /** The memtables waiting to be flushed, newest first. */
  immutables(): readonly MemtableHandle[];
  /** The last visible sequence (where a read that lost its view restarts). */
  visibleSequence(): number;
}

/** How often an asynchronous point read restarts when a compacted state lands under it. */
const MAX_RESTARTS = 8;

/** What a point lookup gives back: the value, whether there is one, or the value with its version. */
type Want = "value" | "found" | "entry";

/**
 * A value with its version: the sequence number of the write that produced
 * it; both undefined when the key is absent.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("k", "v");
 * const { value, version } = await db.getEntry("k"); // "v", e.g. 1
 * await db.close();
 * ```
 */
export interface Entry<V> {
  /** The value, or undefined when the key is absent. */
  value: V | undefined;
  /** The sequence number of the write that produced the value (`db.sequence` then), or undefined when absent. */
  version: number | undefined;
}

/**
 * Reads of one database at a given sequence.
 *
 * @example
 * ```ts
 * declare const reader: Reader<string>, sequence: number; // a database's reader; a visible sequence
 * const value = reader.get("user:1", sequence); // string | undefined
 * const n = reader.count({ prefix: "user:" }, sequence);
 * const keys = reader.cursor<string>({ prefix: "user:" }, sequence, "keys", "keys");
 * ```
 */
export class Reader<V = unknown> {
  readonly #ctx: ReaderContext;
  readonly readState: ReadState;
  readonly tables: TableCache;
  readonly provider: BlockProvider;
  readonly #point: PointReader;
  readonly #scanSource: ScanSource;
  /** True when reads can be synchronous (tables on disk; false in a bucket). */
  readonly synchronous: boolean;
  /** Open scans, released at close. */
  readonly #scans = new OpenScans();
  /** Live snapshots: the release function of each, and its sequence. */
  readonly #snapshots = new Map<() => void, number>();
  /** The sequences asynchronous reads in flight read at (compactions keep what they see, too). */
  readonly #pins = new Map<object, number>();

  constructor(ctx: ReaderContext) {
    this.#ctx = ctx;
    this.readState = new ReadState(ctx.blockCacheSize);
    this.tables = new TableCache(ctx.files, ctx.maxOpenFiles, this.readState);
    this.synchronous = ctx.files.synchronous;
    this.provider = new BlockProvider(this.tables, this.readState.cache);
    this.#point = new PointReader(this.readState, this.provider);
    this.#scanSource = {
      keyEncoding: ctx.keyEncoding,
      valueEncoding: ctx.valueEncoding,
      maxKeySize: ctx.maxKeySize,
      provider: this.provider,
      synchronous: ctx.files.synchronous,
      checkOpen: () => ctx.life.checkOpen(),
      onTrap: (err) => ctx.life.onTrap(err, "a scan"),
      acquireView: () => this.#acquireView(),
      track: (scan) => this.#scans.add(scan),
      untrack: (scan) => this.#scans.remove(scan),
    };
  }

  /** The value of key as of sequence, or undefined. */
  get(key: unknown, sequence: number, what = "key"): V | undefined {
    const life = this.#ctx.life;
    life.checkOpen();
    if (!this.synchronous) throw this.#notSynchronous("get");
    const k = this.#ctx.keyEncoding.encode(key, what);
    checkedSize(k, this.#ctx.maxKeySize, what, "maxKeySize");
    try {
      this.#refresh();
      const ptr = scratch(maxEncodedLength(k));
      return this.#point.get(ptr, writeData(ptr, k), sequence, this.#decodeValue);
    } catch (err) {
      throw life.trapped(err, "a read");
    }
  }

  #decodeValue = (ptr: number, len: number): V => this.#ctx.valueEncoding.decode(ptr, len) as V;

  /** The value of key as of sequence with its version (the sequence of the write that produced it). */
  getEntry(key: unknown, sequence: number): Entry<V> {
    const life = this.#ctx.life;
    life.checkOpen();
    if (!this.synchronous) throw this.#notSynchronous("getEntry");
    const k = this.#ctx.keyEncoding.encode(key, "key");
    checkedSize(k, this.#ctx.maxKeySize, "key", "maxKeySize");
    try {
      this.#refresh();
      const ptr = scratch(maxEncodedLength(k));
      return this.#take(this.#point.lookup(ptr, writeData(ptr, k), sequence), "entry") as Entry<V>;
    } catch (err) {
      throw life.trapped(err, "a read");
    }
  }

  /** getEntry, reading what it needs asynchronously (a store in a bucket; also works on disk). */
  getEntryAsync(key: unknown, sequence: number): Promise<Entry<V>> {
    return this.#lookupAsync(key, sequence, "key", "entry") as Promise<Entry<V>>;
  }

  /** get, reading what it needs asynchronously (a store in a bucket; also works on disk). */
  getAsync(key: unknown, sequence: number, what = "key"): Promise<V | undefined> {
    return this.#lookupAsync(key, sequence, what, "value") as Promise<V | undefined>;
  }

  /** getMany, asynchronously; every key read at the same sequence. */
  async getManyAsync(keys: unknown, sequence: number): Promise<(V | undefined)[]> {
    this.#ctx.life.checkOpen();
    if (!Array.isArray(keys)) throw invalidArgument(`getMany keys must be an array, got ${describe(keys)}`);
    for (let restarts = 0;; restarts++) {
      const unpin = this.#pin(sequence);
      try {
        const values: (V | undefined)[] = new Array(keys.length);
        for (let i = 0; i < keys.length; i++) {
          values[i] = await this.#lookupAsync(keys[i], sequence, `getMany keys[${i}]`, "value", false) as V | undefined;
        }
        if (!this.#lostView(sequence) || restarts === MAX_RESTARTS) return values;
        sequence = this.#ctx.visibleSequence(); // every key again, at one newer sequence
      } finally {
        unpin();
      }
    }
  }

  /** has, asynchronously. */
  hasAsync(key: unknown, sequence: number): Promise<boolean> {
    return this.#lookupAsync(key, sequence, "key", "found") as Promise<boolean>;
  }

  /** count, asynchronously. */
  async countAsync(range: unknown, sequence: number): Promise<number> {
    this.#ctx.life.checkOpen();
    checkCallOptions(range, "count", RANGE_OPTIONS);
    const cursor = this.cursor<never>(range, sequence, "none", "count");
    try {
      return await cursor.countAsync();
    } catch (err) {
      cursor.close();
      throw this.#ctx.life.trapped(err, "a count");
    }
  }

  /**
   * A point lookup that may await reads: resolves with what `want` asks for
   * (#take). When everything
   * it needs is in memory (memtables, open tables, cached blocks: a warm
   * cache) it ends at once, without an await; otherwise it goes on with the
   * key in a buffer of its own and the sequence pinned while it reads.
   */
  #lookupAsync(key: unknown, sequence: number, what: string, want: Want, restart = true): Promise<unknown> {
    const life = this.#ctx.life;
    life.checkOpen();
    const k = this.#ctx.keyEncoding.encode(key, what);
    const room = checkedSize(k, this.#ctx.maxKeySize, what, "maxKeySize");
    if (!this.#lostView(sequence)) {
      try {
        this.#refresh();
        const ptr = scratch(maxEncodedLength(k));
        const status = this.#point.lookupInMemory(ptr, writeData(ptr, k), sequence);
        if (status !== undefined) return Promise.resolve(this.#take(status, want));
      } catch (err) {
        return Promise.reject(life.trapped(err, "a read"));
      }
    }
    return this.#lookupReading(k, room, sequence, (status) => this.#take(status, want), restart);
  }

  /**
   * What a point lookup that ended with `status` gives: the decoded value or
   * undefined ("value"), whether it was found ("found"), or the entry: the
   * value with its version, both undefined when absent ("entry").
   */
  #take(status: Lookup, want: Want): unknown {
    const found = status === Lookup.Found;
    if (want === "found") return found;
    const value = found ? this.#decodeValue(resultValue(), resultValueLength()) : undefined;
    if (want === "value") return value;
    return { value, version: found ? resultSequence() : undefined };
  }

  /** #lookupAsync once it must read a table or a block: awaits them, and restarts if the view was lost. */
  async #lookupReading(
    k: Uint8Array | string,
    room: number,
    sequence: number,
    take: (status: Lookup) => unknown,
    restart: boolean,
  ): Promise<unknown> {
    const life = this.#ctx.life;
    const ptr = allocBuffer(Math.max(1, room));
    try {
      const len = writeData(ptr, k);
      for (let restarts = 0;; restarts++) {
        const unpin = this.#pin(sequence);
        try {
          const found = await this.#point.lookupAsync(ptr, len, sequence, () => this.#refresh(), take);
          life.checkOpen();
          if (restart && this.#lostView(sequence) && restarts < MAX_RESTARTS) {
            sequence = this.#ctx.visibleSequence();
            continue;
          }
          return found;
        } finally {
          unpin();
        }
      }
    } catch (err) {
      throw life.trapped(err, "a read");
    } finally {
      freeBuffer(ptr);
    }
  }

  /**
   * True when a read at `sequence` may have consulted a state compacted for
   * newer sequences only (a reader of a bucket installed one meanwhile; see
   * src/bucket_follower.ts): it must be read again at a newer sequence.
   * Snapshots never lose their view: a reader does not install such a state
   * while one is older.
   */
  #lostView(sequence: number): boolean {
    return this.#ctx.versions.horizon > sequence;
  }

  /** Pins `sequence` while an asynchronous read runs; returns the unpin function. */
  #pin(sequence: number): () => void {
    const token = {};
    this.#pins.set(token, sequence);
    return () => this.#pins.delete(token);
  }

  #notSynchronous(call: string): SiltError {
    return new SiltError(
      "UNSUPPORTED",
      `${this.#ctx.path}: a store in a bucket is read asynchronously; use ${call}() instead of ${call}Sync()`,
      { file: this.#ctx.path },
    );
  }

  /** The values of keys as of sequence (undefined where absent), in order. */
  getMany(keys: unknown, sequence: number): (V | undefined)[] {
    this.#ctx.life.checkOpen();
    if (!this.synchronous) throw this.#notSynchronous("getMany");
    if (!Array.isArray(keys)) throw invalidArgument(`getMany keys must be an array, got ${describe(keys)}`);
    const values: (V | undefined)[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) values[i] = this.get(keys[i], sequence, `getMany keys[${i}]`);
    return values;
  }

  /** True if key has a value as of sequence (the value is not read out). */
  has(key: unknown, sequence: number): boolean {
    const life = this.#ctx.life;
    life.checkOpen();
    if (!this.synchronous) throw this.#notSynchronous("has");
    const k = this.#ctx.keyEncoding.encode(key, "key");
    checkedSize(k, this.#ctx.maxKeySize, "key", "maxKeySize");
    try {
      this.#refresh();
      const ptr = scratch(maxEncodedLength(k));
      return this.#point.lookup(ptr, writeData(ptr, k), sequence) === Lookup.Found;
    } catch (err) {
      throw life.trapped(err, "a read");
    }
  }

  /** The number of keys in a range as of sequence. */
  count(range: unknown, sequence: number): number {
    this.#ctx.life.checkOpen();
    checkCallOptions(range, "count", RANGE_OPTIONS);
    const cursor = this.cursor<never>(range, sequence, "none", "count");
    try {
      return cursor.count();
    } catch (err) {
      cursor.close();
      throw this.#ctx.life.trapped(err, "a count");
    }
  }

  /** A scan as of sequence yielding the shape's items; `call` names the public call in errors. */
  cursor<T>(options: unknown, sequence: number, shape: Shape, call: string): ScanCursor<T> {
    try {
      return new ScanCursor<T>(this.#scanSource, sequence, options, shape, call);
    } catch (err) {
      throw this.#ctx.life.trapped(err, `a ${call}`);
    }
  }

  /**
   * Tracks a live snapshot at sequence (compactions keep what it sees);
   * `release` is called at close. Returns the untrack function.
   */
  trackSnapshot(sequence: number, release: () => void): () => void {
    this.#snapshots.set(release, sequence);
    return () => this.#snapshots.delete(release);
  }

  /**
   * The oldest sequence a live snapshot or a read in flight reads at, or
   * `fallback` (the last visible one) when none is older.
   */
  oldestSnapshot(fallback: number): number {
    let oldest = this.oldestHeldSnapshot(fallback);
    for (const s of this.#pins.values()) if (s < oldest) oldest = s;
    return oldest;
  }

  /**
   * The newest sequence a live snapshot (or a transaction) reads at, or 0
   * when none. Reads in flight do not count: one read seeing a value before
   * or after a compaction filter changed it is either way a read of one moment.
   */
  newestSnapshot(): number {
    let newest = 0;
    for (const s of this.#snapshots.values()) if (s > newest) newest = s;
    return newest;
  }

  /** The sequence of the oldest live snapshot (reads in flight not counted), or `fallback`. */
  oldestHeldSnapshot(fallback: number): number {
    let oldest = fallback;
    for (const s of this.#snapshots.values()) if (s < oldest) oldest = s;
    return oldest;
  }

  /** Live snapshots. */
  get snapshotCount(): number {
    return this.#snapshots.size;
  }

  /** Open scans. */
  get scanCount(): number {
    return this.#scans.size;
  }

  /** Releases every open scan and live snapshot (at close). */
  /** Releases every live snapshot (a reader of a bucket held back by them past gcMinAge lets them go). */
  releaseSnapshots(): void {
    for (const release of [...this.#snapshots.keys()]) release();
  }

  releaseAll(): void {
    this.#scans.releaseAll();
    for (const release of [...this.#snapshots.keys()]) release();
  }

  /** Frees the tables and the read state with its cache (at close). */
  free(): void {
    this.tables.close();
    this.readState.free();
  }

  /** The memtables and table files a new scan sees, referenced until released. */
  #acquireView(): ReadView {
    this.#refresh();
    const ctx = this.#ctx;
    return new ReadView(this.readState, [ctx.activeMemtable(), ...ctx.immutables()], ctx.versions.current);
  }

  /** Brings the core read state up to date with the memtables and the current version (cheap when unchanged). */
  #refresh(): void {
    const ctx = this.#ctx;
    this.#point.update(ctx.activeMemtable(), ctx.immutables(), ctx.versions.current.levels);
  }
}
