// Snapshots: a sequence number that reads are pinned to.

import { SiltError } from "./errors.ts";
import { checkCallOptions } from "./options.ts";
import {
  DISPOSE,
  type RangeOptions,
  Scan,
  type ScanCursor,
  ScanIterator,
  ScanIteratorSync,
  type ScanOptions,
  ScanSync,
  type Shape,
} from "./iter/db_iterator.ts";

/** What a snapshot reads through: its database's read path at a sequence. */
export interface SnapshotReader<K, V> {
  getAt(key: unknown, sequence: number): V | undefined;
  getManyAt(keys: unknown, sequence: number): (V | undefined)[];
  hasAt(key: unknown, sequence: number): boolean;
  countAt(range: unknown, sequence: number): number;
  cursorAt<T>(options: unknown, sequence: number, shape: Shape, call: string): ScanCursor<T>;
  releaseSnapshot(snapshot: Snapshot<K, V>): void;
}

/**
 * A consistent, read-only view of the database as of the moment it was taken:
 * later writes are invisible to it. Release it when done (or take it with
 * `using`), so that old versions it pins can be dropped.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { valueEncoding: "utf8" });
 * await db.put("k", "old");
 * const snap = db.snapshot();
 * await db.put("k", "new");
 * console.log(snap.getSync("k")); // "old"
 * snap.release();
 * {
 *   using snap2 = db.snapshot(); // released at the end of the block
 *   console.log(await snap2.getMany(["k", "missing"])); // ["new", undefined]
 * }
 * await db.close();
 * ```
 */
export class Snapshot<K = Uint8Array, V = Uint8Array> {
  /** The sequence number of the last write the snapshot sees. */
  readonly sequence: number;
  #reader: SnapshotReader<K, V> | undefined;

  /** @internal Snapshots come from `db.snapshot()`. */
  constructor(reader: SnapshotReader<K, V>, sequence: number) {
    this.#reader = reader;
    this.sequence = sequence;
  }

  /**
   * True until release() (or the database's close).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const snap = db.snapshot();
   * console.log(snap.live); // true
   * snap.release();
   * console.log(snap.live); // false
   * await db.close();
   * ```
   */
  get live(): boolean {
    return this.#reader !== undefined;
  }

  #use(): SnapshotReader<K, V> {
    if (this.#reader === undefined) throw new SiltError("RELEASED", "the snapshot was released");
    return this.#reader;
  }

  /**
   * The value of key as of the snapshot, or undefined.
   *
   * @example
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
    return this.#use().getAt(key, this.sequence);
  }

  /**
   * The value of key as of the snapshot, or undefined.
   *
   * @example
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
  get(key: K | string | Uint8Array, options?: Record<string, never>): Promise<V | undefined> {
    return promised(() => this.getSync(key, options));
  }

  /**
   * The values of keys as of the snapshot (undefined where absent), in order.
   *
   * @example
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
    return this.#use().getManyAt(keys, this.sequence);
  }

  /**
   * The values of keys as of the snapshot (undefined where absent), in order.
   *
   * @example
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
    return promised(() => this.getManySync(keys, options));
  }

  /**
   * True if key has a value as of the snapshot (the value is not read out).
   *
   * @example
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
    return this.#use().hasAt(key, this.sequence);
  }

  /**
   * True if key has a value as of the snapshot.
   *
   * @example
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
    return promised(() => this.hasSync(key, options));
  }

  /**
   * The exact number of keys in range as of the snapshot (every key without one).
   *
   * @example
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
    return promised(() => this.#use().countAt(range, this.sequence));
  }

  /**
   * An ordered scan of [key, value] entries as of the snapshot (`for await`).
   *
   * @example
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
    return new Scan(this.#use().cursorAt(options, this.sequence, "entries", "scan"));
  }

  /**
   * An ordered scan of [key, value] entries as of the snapshot (`for...of`).
   *
   * @example
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
    return new ScanSync(this.#use().cursorAt(options, this.sequence, "entries", "scan"));
  }

  /**
   * The keys of a scan as of the snapshot (`for await`); values are not read out.
   *
   * @example
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
    return new ScanIterator(this.#use().cursorAt(options, this.sequence, "keys", "keys"));
  }

  /**
   * The keys of a scan as of the snapshot (`for...of`).
   *
   * @example
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
    return new ScanIteratorSync(this.#use().cursorAt(options, this.sequence, "keys", "keys"));
  }

  /**
   * The values of a scan as of the snapshot (`for await`); keys are not decoded.
   *
   * @example
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
    return new ScanIterator(this.#use().cursorAt(options, this.sequence, "values", "values"));
  }

  /**
   * The values of a scan as of the snapshot (`for...of`).
   *
   * @example
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
    return new ScanIteratorSync(this.#use().cursorAt(options, this.sequence, "values", "values"));
  }

  /**
   * Gives the snapshot up. Scans already started keep working. Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const snap = db.snapshot();
   * const keys = snap.keysSync();
   * snap.release(); // old versions it pinned may now be dropped
   * console.log(keys.toArray()); // ["a", "b"]: a scan already started keeps working
   * await db.close();
   * ```
   */
  release(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.releaseSnapshot(this);
  }

  /**
   * Releases the snapshot (`using snap = db.snapshot()`). Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * {
   *   using snap = db.snapshot();
   *   console.log(snap.getSync("k")); // "v"
   * } // released here
   * await db.close();
   * ```
   */
  [DISPOSE](): void {
    this.release();
  }
}

function promised<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err);
  }
}
