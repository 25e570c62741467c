// One attempt of a transaction: reads at its snapshot with its own writes
// on top (read-your-own-writes), writes gathered in its write set, and at
// commit one atomic batch, validated at the moment the writer stamps it.
//
// Validation (optimistic, as RocksDB's optimistic transactions and SlateDB
// do it): the transaction registered with the writer's conflict tracker at
// its read point (src/write/conflicts.ts), so at commit the tracker knows
// every key written since. "snapshot" isolation conflicts when a key the
// transaction writes was written by someone else since its read point
// (write-write conflicts: no lost update). "serializable" also conflicts
// when a key it read, or a key in a range it scanned or counted, was
// written since (no write skew). A read-only transaction never conflicts:
// its reads come from one snapshot.

import { SiltError } from "../errors.ts";
import { checkCallOptions, type ExpiryOptions, type WriteOptions } from "../options.ts";
import type { Entry } from "../read/reader.ts";
import type { RangeOptions } from "../read/range.ts";
import type { Snapshot } from "../read/snapshot.ts";
import { SCAN_OPTIONS, type ScanOptions } from "../read/scan_options.ts";
import { binaryString, type ConflictTracker, type Registration } from "../write/conflicts.ts";
import { type ReadRange, ScanMerge } from "./scan_merge.ts";
import { type PendingWrite, WriteSet, type WriteSetLimits } from "./write_set.ts";

/** How a transaction's commit is validated: see {@linkcode TransactionOptions}. */
export type Isolation = "snapshot" | "serializable";

/** What a transaction needs from its database. */
export interface TransactionContext extends WriteSetLimits {
  conflicts: ConflictTracker;
  /** Commits encoded entries if condition() holds when stamped: first sequence, or undefined. */
  commitIf(
    entries: Uint8Array,
    count: number,
    options: WriteOptions | undefined,
    condition: () => boolean,
  ): Promise<number | undefined>;
}

const encoder = new TextEncoder();
const asBinary = (data: string | Uint8Array): string =>
  binaryString(typeof data === "string" ? encoder.encode(data) : data);

/**
 * The handle a transaction body gets: reads at the transaction's snapshot
 * that see its own writes, and writes that take effect at commit, all or
 * nothing. See `db.transaction()`.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
 * await db.transaction(async (tx) => {
 *   const a = (await tx.get("account:a")) as number ?? 100;
 *   const b = (await tx.get("account:b")) as number ?? 0;
 *   tx.put("account:a", a - 10);
 *   tx.put("account:b", b + 10);
 * });
 * await db.close();
 * ```
 */
export class Transaction<K = Uint8Array, V = Uint8Array> {
  readonly #ctx: TransactionContext;
  readonly #snap: Snapshot<K, V>;
  readonly #reg: Registration;
  readonly #isolation: Isolation;
  readonly #writes: WriteSet<K, V>;
  readonly #readKeys = new Set<string>();
  readonly #readRanges: ReadRange[] = [];
  readonly #defaults: WriteOptions | undefined;
  #state: "open" | "committing" | "done" = "open";
  #committed: Promise<number> | undefined;

  /** @internal Transactions come from `db.transaction()` (`defaults`: its write options). */
  constructor(
    ctx: TransactionContext,
    snapshot: Snapshot<K, V>,
    registration: Registration,
    isolation: Isolation,
    defaults?: WriteOptions,
  ) {
    this.#ctx = ctx;
    this.#snap = snapshot;
    this.#reg = registration;
    this.#isolation = isolation;
    this.#writes = new WriteSet(ctx);
    this.#defaults = defaults;
  }

  /**
   * The sequence the transaction reads at (its snapshot).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data");
   * await db.transaction((tx) => console.log(tx.readSequence <= db.sequence)); // true
   * await db.close();
   * ```
   */
  get readSequence(): number {
    return this.#reg.readPoint;
  }

  /**
   * Sets key to value when the transaction commits, expiring with `ttl` (ms
   * from now) or at `expireAt` when given. Throws INVALID_ARGUMENT
   * (recording nothing) for a bad key, value or expiry. The transaction's
   * own reads see its puts as written until it commits.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transaction((tx) => {
   *   tx.put("a", "1");
   *   console.log(tx.getSync("a")); // "1": a transaction reads its own writes
   * });
   * await db.close();
   * ```
   */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: ExpiryOptions): this {
    this.#checkWritable();
    this.#writes.put(key as K, value as V, options);
    return this;
  }

  /**
   * Removes key when the transaction commits.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("a", "1");
   * await db.transaction((tx) => {
   *   tx.delete("a");
   *   console.log(tx.hasSync("a")); // false
   * });
   * await db.close();
   * ```
   */
  delete(key: K | string | Uint8Array): this {
    this.#checkWritable();
    this.#writes.delete(key as K);
    return this;
  }

  /**
   * The value of key (its own write first, else as of the snapshot).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transaction(async (tx) => console.log(await tx.get("missing"))); // undefined
   * await db.close();
   * ```
   */
  async get(key: K | string | Uint8Array): Promise<V | undefined> {
    return (await this.getEntry(key)).value;
  }

  /**
   * get, synchronously (not in a bucket).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transactionSync((tx) => console.log(tx.getSync("missing"))); // undefined
   * await db.close();
   * ```
   */
  getSync(key: K | string | Uint8Array): V | undefined {
    return this.getEntrySync(key).value;
  }

  /**
   * The value of key with its version (`db.getEntry`); a key the
   * transaction wrote has its value and no version yet.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("a", "1");
   * await db.transaction(async (tx) => console.log((await tx.getEntry("a")).version !== undefined)); // true
   * await db.close();
   * ```
   */
  getEntry(key: K | string | Uint8Array): Promise<Entry<V>> {
    try {
      const own = this.#own(key);
      if (own !== undefined) return Promise.resolve({ value: own.value, version: undefined });
      return this.#snap.getEntry(key).catch((err) => Promise.reject(this.#closedUnder(err)));
    } catch (err) {
      return Promise.reject(this.#closedUnder(err));
    }
  }

  /**
   * getEntry, synchronously (not in a bucket).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transactionSync((tx) => console.log(tx.getEntrySync("a"))); // { value: undefined, version: undefined }
   * await db.close();
   * ```
   */
  getEntrySync(key: K | string | Uint8Array): Entry<V> {
    const own = this.#own(key);
    if (own !== undefined) return { value: own.value, version: undefined };
    try {
      return this.#snap.getEntrySync(key);
    } catch (err) {
      throw this.#closedUnder(err);
    }
  }

  /**
   * The values of keys, in order.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transaction(async (tx) => {
   *   tx.put("a", "1");
   *   console.log(await tx.getMany(["a", "b"])); // ["1", undefined]
   * });
   * await db.close();
   * ```
   */
  async getMany(keys: readonly (K | string | Uint8Array)[]): Promise<(V | undefined)[]> {
    const out: (V | undefined)[] = [];
    for (const key of keys) out.push(await this.get(key));
    return out;
  }

  /**
   * True when key has a value.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transaction(async (tx) => console.log(await tx.has("a"))); // false
   * await db.close();
   * ```
   */
  async has(key: K | string | Uint8Array): Promise<boolean> {
    return (await this.getEntry(key)).value !== undefined;
  }

  /**
   * has, synchronously (not in a bucket).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transactionSync((tx) => console.log(tx.hasSync("a"))); // false
   * await db.close();
   * ```
   */
  hasSync(key: K | string | Uint8Array): boolean {
    return this.getEntrySync(key).value !== undefined;
  }

  /**
   * The entries of a range (as `db.scan` takes it: gt/gte/lt/lte/prefix,
   * reverse, limit, signal), the transaction's writes merged in.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * await db.transaction(async (tx) => {
   *   tx.put("user:2", "bob");
   *   for await (const [k, v] of tx.scan({ prefix: "user:" })) console.log(k, v); // user:1 alice, user:2 bob
   * });
   * await db.close();
   * ```
   */
  async *scan(options?: ScanOptions<K>): AsyncGenerator<[K, V]> {
    const merge = this.#merge(options);
    const source = this.#snap.scan(merge.snapshotOptions);
    try {
      for await (const entry of source) {
        yield* merge.push(entry);
        if (merge.full) return;
      }
      yield* merge.rest();
    } catch (err) {
      throw this.#closedUnder(err);
    } finally {
      source.close();
      this.#recordScan(merge);
    }
  }

  /**
   * scan, synchronously (not in a bucket).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transactionSync((tx) => {
   *   tx.put("b", "2");
   *   console.log([...tx.scanSync()]); // [["b", "2"]]
   * });
   * await db.close();
   * ```
   */
  *scanSync(options?: ScanOptions<K>): Generator<[K, V]> {
    const merge = this.#merge(options);
    const source = this.#snap.scanSync(merge.snapshotOptions);
    try {
      for (const entry of source) {
        yield* merge.push(entry);
        if (merge.full) return;
      }
      yield* merge.rest();
    } catch (err) {
      throw this.#closedUnder(err);
    } finally {
      source.close();
      this.#recordScan(merge);
    }
  }

  /**
   * Number of keys in a range, the transaction's writes counted in.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.transaction(async (tx) => {
   *   tx.put("user:1", "alice");
   *   console.log(await tx.count({ prefix: "user:" })); // 1
   * });
   * await db.close();
   * ```
   */
  async count(range?: RangeOptions<K>): Promise<number> {
    checkCallOptions(range, "count", ["gt", "gte", "lt", "lte", "prefix"]);
    let n = 0;
    for await (const _ of this.scan(range)) n++;
    return n;
  }

  /**
   * Commits now instead of when the body returns, and resolves with the
   * sequence of its first write (no write: the sequence it read at). Throws
   * CONFLICT when the validation fails (the body then runs again, up to
   * `retries`). After it, the transaction takes no more writes. `options`
   * default to the transaction's; one run with `sync: true` commits synced
   * whatever `options` say.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const sequence = await db.transaction(async (tx) => {
   *   tx.put("a", "1");
   *   return await tx.commit();
   * });
   * console.log((await db.getEntry("a")).version === sequence); // true
   * await db.close();
   * ```
   */
  commit(options?: WriteOptions): Promise<number> {
    if (this.#committed === undefined) {
      this.#state = "committing";
      this.#committed = this.#commit(options).finally(() => {
        this.#state = "done";
      });
    }
    return this.#committed;
  }

  /** @internal Ends the attempt: the snapshot and the registration go (after a commit, or on an error). */
  end(): void {
    this.#state = "done";
    this.#snap.release();
    this.#ctx.conflicts.release(this.#reg);
  }

  async #commit(given: WriteOptions | undefined): Promise<number> {
    const options = this.#defaults?.sync === true ? { ...given, sync: true } : given ?? this.#defaults;
    if (this.#writes.size === 0) return this.#reg.readPoint;
    const entries = this.#writes.entries();
    const sequence = await this.#ctx.commitIf(entries.bytes(), entries.count, options, () => this.#valid());
    if (sequence === undefined) {
      throw new SiltError("CONFLICT", "the transaction conflicts with a write committed since it began");
    }
    return sequence;
  }

  /** True unless someone else wrote what this transaction depends on since its read point. */
  #valid(): boolean {
    const conflicts = this.#ctx.conflicts;
    const since = this.#reg.readPoint;
    for (const key of this.#writes.keys()) if (conflicts.writtenAfter(key, since)) return false;
    if (this.#isolation === "snapshot") return true;
    for (const key of this.#readKeys) if (conflicts.writtenAfter(key, since)) return false;
    for (const r of this.#readRanges) {
      if (conflicts.rangeWrittenAfter(r.lower, r.lowerInclusive, r.upper, r.upperInclusive, since)) return false;
    }
    return true;
  }

  #checkWritable(): void {
    if (this.#state !== "open") {
      throw new SiltError("CLOSED", "the transaction has committed or ended: it takes no more writes");
    }
  }

  #checkReadable(): void {
    if (this.#state === "done") throw new SiltError("CLOSED", "the transaction has ended");
    if (!this.#snap.live) throw new SiltError("CLOSED", "the database closed during the transaction");
  }

  /** A read failed: RELEASED while the transaction is still going means the database closed its snapshot. */
  #closedUnder(err: unknown): unknown {
    if (!(err instanceof SiltError) || err.code !== "RELEASED" || this.#state === "done") return err;
    return new SiltError("CLOSED", "the database closed during the transaction", {}, err);
  }

  /** Its own pending write of key, if any; records the read (serializable). */
  #own(key: unknown): PendingWrite<K, V> | undefined {
    this.#checkReadable();
    const name = asBinary(this.#ctx.keyEncoding.encode(key, "key"));
    const own = this.#writes.lookup(name);
    if (own === undefined && this.#isolation === "serializable") this.#readKeys.add(name);
    return own;
  }

  /** A merge of the snapshot's entries of a scan with the transaction's own writes. */
  #merge(options: ScanOptions<K> | undefined): ScanMerge<K, V> {
    this.#checkReadable();
    const o = checkCallOptions(options, "scan", SCAN_OPTIONS) ?? {};
    return new ScanMerge(o, this.#ctx, this.#writes);
  }

  /** A serializable transaction records the range a scan read, up to where it stopped. */
  #recordScan(merge: ScanMerge<K, V>): void {
    if (this.#isolation === "serializable") this.#readRanges.push(merge.rangeRead());
  }
}
