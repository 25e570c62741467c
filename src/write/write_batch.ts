// WriteBatch: puts and deletes gathered in JavaScript and committed as one WAL
// record, all or nothing. The entries are encoded as they are added, in the
// entry layout of the batch payload (src/format/batch_format.ts, encodeEntry).

import { checkedSize, describe, type Encoding, storedKey } from "../encoding.ts";
import { invalidArgument, SiltError } from "../errors.ts";
import { encodeEntry, entryBound } from "../format/batch_format.ts";
import { KIND_DELETE, KIND_PUT, KIND_PUT_EXPIRING, KIND_RANGE_DELETE } from "../format/internal_key.ts";
import { rangeDeleteValue } from "../format/range_tombstone_format.ts";
import { deleteRangeSpan } from "./range_delete.ts";
import { checkCallOptions, type ExpiryOptions, type WriteOptions } from "../options.ts";
import { expiryOf } from "./expiry_options.ts";

/** What a batch needs from its database. */
export interface BatchTarget {
  readonly keyEncoding: Encoding<unknown>;
  readonly valueEncoding: Encoding<unknown>;
  readonly maxKeySize: number;
  readonly maxValueSize: number;
  /** The database's clock (epoch ms): a put's ttl counts from it. */
  readonly clock: () => number;
  /** Commits encoded entries as one atomic write (count 0: nothing to apply, but sync still syncs). */
  commitEntries(entries: Uint8Array, count: number, options: WriteOptions | undefined): Promise<void>;
  /**
   * Commits them if every check holds when the write is stamped: the
   * sequence of the first entry (with none, the last sequence), or
   * undefined when a check failed (nothing written).
   */
  commitChecked(
    entries: Uint8Array,
    count: number,
    options: WriteOptions | undefined,
    checks: readonly BatchCheck[],
  ): Promise<number | undefined>;
}

/** A condition of a batch: key must still be at version (null: absent). */
export interface BatchCheck {
  key: unknown;
  version: number | null;
}

/**
 * What `batch.write()` resolves with: `ok` and the sequence number of the
 * batch's first write (its entries have consecutive sequences; an empty
 * batch gives the last sequence), or `ok: false` when a `check` failed and
 * nothing was written.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * const result: BatchResult = await db.batch().put("a", "1").write();
 * if (result.ok) console.log(result.sequence === (await db.getEntry("a")).version); // true
 * await db.close();
 * ```
 */
export type BatchResult = { ok: true; sequence: number } | { ok: false };

/**
 * One operation of `db.batch(ops)`, in the form of abstract-level: a put, or
 * a delete (`type: "del"`, or `"delete"`); or a range delete of the keys
 * from `start` (inclusive) to `end` (exclusive) (`type: "deleteRange"`, as
 * `batch().deleteRange`).
 */
export type BatchOperation<K = Uint8Array, V = Uint8Array> =
  | {
    type: "put";
    key: K | string | Uint8Array;
    value: V | string | Uint8Array;
    ttl?: number;
    expireAt?: Date | number;
  }
  | { type: "del" | "delete"; key: K | string | Uint8Array }
  | { type: "deleteRange"; start: K | string | Uint8Array; end: K | string | Uint8Array };

/**
 * An atomic group of writes: either every operation is applied, or none.
 * Operations apply in order, so a later put of the same key wins.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.batch()
 *   .put("account:a", "90")
 *   .put("account:b", "110")
 *   .delete("pending:1")
 *   .write({ sync: true });
 * await db.close();
 * ```
 */
export class WriteBatch<K = Uint8Array, V = Uint8Array> {
  #target: BatchTarget;
  #entries = new BatchEntries(256);
  #checks: BatchCheck[] = [];
  #written = false;

  /** @internal Batches come from `db.batch()`. */
  constructor(target: BatchTarget) {
    this.#target = target;
  }

  /**
   * Number of operations in the batch.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("a", "1").put("a", "2").delete("b");
   * console.log(batch.length); // 3
   * await batch.write();
   * await db.close();
   * ```
   */
  get length(): number {
    return this.#entries.count;
  }

  /**
   * Bytes the encoded operations take.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("a", "1").delete("b");
   * console.log(batch.byteLength); // 17: 1 + 4 + 1 + 4 + 1 for the put, 1 + 4 + 1 for the delete
   * await batch.write();
   * await db.close();
   * ```
   */
  get byteLength(): number {
    return this.#entries.byteLength;
  }

  /**
   * Adds a put, with an expiry when options give `ttl` (milliseconds from
   * now) or `expireAt`. Throws INVALID_ARGUMENT (and adds nothing) for a bad
   * key, value or expiry.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("user:1", "alice").put("user:1", "alicia"); // the later put wins
   * await batch.write();
   * console.log(await db.get("user:1")); // "alicia"
   * await db.batch().put("session:1", "x", { ttl: 60_000 }).write(); // gone in a minute
   * await db.close();
   * ```
   */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: ExpiryOptions): this {
    this.#checkOpen();
    const t = this.#target;
    const expireAt = expiryOf(checkCallOptions(options, "batch put", ["ttl", "expireAt"]), t.clock, "batch put");
    const k = t.keyEncoding.encode(key, "key");
    const keyRoom = checkedSize(k, t.maxKeySize, "key", "maxKeySize");
    const v = t.valueEncoding.encode(value, "value");
    const valueRoom = checkedSize(v, t.maxValueSize, "value", "maxValueSize");
    if (expireAt === undefined) this.#entries.add(KIND_PUT, k, keyRoom, v, valueRoom);
    else this.#entries.add(KIND_PUT_EXPIRING, k, keyRoom, v, valueRoom, expireAt);
    return this;
  }

  /**
   * Adds a delete. Throws INVALID_ARGUMENT (and adds nothing) for a bad key.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("user:1", "alice");
   * await db.batch().delete("user:1").put("user:2", "bob").write();
   * console.log(await db.keys().toArray()); // ["user:2"]
   * await db.close();
   * ```
   */
  delete(key: K | string | Uint8Array): this {
    this.#checkOpen();
    const t = this.#target;
    const k = t.keyEncoding.encode(key, "key");
    this.#entries.add(KIND_DELETE, k, checkedSize(k, t.maxKeySize, "key", "maxKeySize"), "", 0);
    return this;
  }

  /**
   * Adds a range delete (RocksDB's DeleteRange, one range tombstone):
   * every key from start (inclusive) to end (exclusive) written before it —
   * by earlier operations of this batch too — is deleted; later operations
   * of the batch are not. start equal to end adds nothing; start after end,
   * or a bad key, throws INVALID_ARGUMENT (and adds nothing).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("log:1", "a").put("log:2", "b").write();
   * await db.batch().deleteRange("log:", "log;").put("log:3", "c").write();
   * console.log(await db.keys().toArray()); // ["log:3"]
   * await db.close();
   * ```
   */
  deleteRange(start: K | string | Uint8Array, end: K | string | Uint8Array): this {
    this.#checkOpen();
    const t = this.#target;
    const from = storedKey(t.keyEncoding, start, "deleteRange start", t.maxKeySize);
    const to = storedKey(t.keyEncoding, end, "deleteRange end", t.maxKeySize);
    const span = deleteRangeSpan(from, to);
    if (span === undefined) return this;
    const value = rangeDeleteValue(span.end);
    this.#entries.add(KIND_RANGE_DELETE, span.start, span.start.length, value, value.length);
    return this;
  }

  /**
   * Adds operations in the form of abstract-level (`{ type: "put", key,
   * value }`, `{ type: "del", key }`), checking each; on a bad one nothing
   * of the call is added and INVALID_ARGUMENT says which one and why.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("a", "1");
   * batch.add([{ type: "put", key: "b", value: "2" }, { type: "del", key: "a" }]);
   * await batch.write();
   * console.log(await db.keys().toArray()); // ["b"]
   * await db.close();
   * ```
   */
  add(operations: readonly BatchOperation<K, V>[]): this {
    this.#checkOpen();
    if (!Array.isArray(operations)) {
      throw invalidArgument(`batch operations must be an array, got ${describe(operations)}`);
    }
    const [length, count] = [this.#entries.byteLength, this.#entries.count];
    try {
      operations.forEach((op, i) => {
        if (typeof op !== "object" || op === null) {
          throw invalidArgument(`batch operation ${i} must be an object, got ${describe(op)}`);
        }
        const o = op as Record<string, unknown>;
        for (const name of Object.keys(o)) {
          const known = o.type === "put"
            ? ["type", "key", "value", "ttl", "expireAt"]
            : o.type === "deleteRange"
            ? ["type", "start", "end"]
            : ["type", "key"];
          if (!known.includes(name)) {
            throw invalidArgument(`batch operation ${i} has an unknown property ${JSON.stringify(name)}`);
          }
        }
        try {
          if (o.type === "put") {
            const expiry = o.ttl === undefined && o.expireAt === undefined
              ? undefined
              : { ttl: o.ttl as number | undefined, expireAt: o.expireAt as number | Date | undefined };
            this.put(o.key as K, o.value as V, expiry);
          } else if (o.type === "del" || o.type === "delete") this.delete(o.key as K);
          else if (o.type === "deleteRange") this.deleteRange(o.start as K, o.end as K);
          else {
            throw invalidArgument(
              `type must be "put", "del" or "deleteRange", got ${JSON.stringify(o.type) ?? describe(o.type)}`,
            );
          }
        } catch (err) {
          if (err instanceof SiltError) throw invalidArgument(`batch operation ${i}: ${err.message}`);
          throw err;
        }
      });
    } catch (err) {
      this.#entries.truncate(length, count);
      throw err;
    }
    return this;
  }

  /**
   * Makes the batch conditional: it commits only if `key` is still at
   * `version` (the `version` of `db.getEntry(key)`; `null`: the key must be
   * absent) when the batch is written, checked atomically with the write.
   * Otherwise `write()` resolves `{ ok: false }` and writes nothing. A
   * version is a sequence number: a non-negative safe integer.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
   * const { value, version } = await db.getEntry("counter");
   * const next = ((value as number | undefined) ?? 0) + 1;
   * const result = await db.batch().check("counter", version ?? null).put("counter", next).write();
   * console.log(result.ok); // false only if another write changed "counter" in between
   * await db.close();
   * ```
   */
  check(key: K | string | Uint8Array, version: number | null): this {
    this.#checkOpen();
    const t = this.#target;
    checkedSize(t.keyEncoding.encode(key, "check key"), t.maxKeySize, "check key", "maxKeySize");
    if (version !== null && !(Number.isSafeInteger(version) && version >= 0)) {
      throw invalidArgument(`check version must be a non-negative safe integer or null, got ${describe(version)}`);
    }
    this.#checks.push({ key, version });
    return this;
  }

  /**
   * Removes every operation.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("a", "1").put("b", "2");
   * batch.clear();
   * console.log(batch.length); // 0
   * await batch.put("c", "3").write(); // writes "c" alone
   * await db.close();
   * ```
   */
  clear(): this {
    this.#checkOpen();
    this.#entries.truncate(0, 0);
    this.#checks = [];
    return this;
  }

  /**
   * Commits every operation atomically (one WAL record). A batch can be
   * written once. With `sync: true`, resolves once the batch and every write
   * before it are durable (an empty batch then just syncs the log). Resolves
   * `{ ok: true, sequence }` (see {@linkcode BatchResult}), or `{ ok: false }`
   * when a `check` failed.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const batch = db.batch().put("a", "1");
   * await batch.write({ sync: true }); // durable, with every write before it
   * await batch.write().catch((err) => console.log(err.code)); // CLOSED: a batch is written once
   * await db.close();
   * ```
   */
  write(options?: WriteOptions): Promise<BatchResult> {
    if (this.#written) return Promise.reject(new SiltError("CLOSED", "this batch was already written"));
    this.#written = true;
    return this.#target.commitChecked(this.#entries.bytes(), this.#entries.count, options, this.#checks).then((
      sequence,
    ) => sequence === undefined ? { ok: false } : { ok: true, sequence });
  }

  #checkOpen(): void {
    if (this.#written) throw new SiltError("CLOSED", "this batch was already written");
  }
}

/**
 * Entries in the layout of a batch payload, in a buffer that grows: what a
 * WriteBatch gathers, and the deletes clear() commits (keys as stored bytes,
 * whatever the key encoding).
 *
 * @example
 * ```ts
 * import { KIND_DELETE } from "../format/internal_key.ts";
 * const deletes = new BatchEntries();
 * deletes.add(KIND_DELETE, new Uint8Array([1, 2]), 2, "", 0);
 * declare const target: BatchTarget; // what a database gives its batches
 * await target.commitEntries(deletes.bytes(), deletes.count, { sync: false });
 * ```
 */
export class BatchEntries {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  #count = 0;

  constructor(initialBytes = 1024) {
    this.#buf = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Number of entries. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the encoded entries. */
  get byteLength(): number {
    return this.#len;
  }

  /** Appends an entry whose key and value (already checked) take at most keyRoom and valueRoom bytes. */
  add(
    kind: number,
    key: string | Uint8Array,
    keyRoom: number,
    value: string | Uint8Array,
    valueRoom: number,
    expireAt = 0,
  ): void {
    const need = this.#len + entryBound(kind, keyRoom, valueRoom);
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#len = encodeEntry(this.#buf, this.#view, this.#len, kind, key, value, expireAt);
    this.#count++;
  }

  /** The encoded entries (a view, valid until the next add or truncate). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Drops the entries after the first `count` (which take `length` bytes). */
  truncate(length: number, count: number): void {
    this.#len = length;
    this.#count = count;
  }
}
