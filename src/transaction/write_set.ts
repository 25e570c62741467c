// The writes of a transaction before it commits: the newest put or delete
// of each key, by its stored bytes (as a binary string, whose order is the
// keys' byte order; see src/write/conflicts.ts). Reads of the transaction
// look here first (read-your-own-writes); at commit the set becomes one
// batch.

import { checkedSize, type Encoding } from "../encoding.ts";
import { KIND_DELETE, KIND_PUT, KIND_PUT_EXPIRING } from "../format/internal_key.ts";
import { checkCallOptions } from "../options.ts";
import { expiryOf } from "../write/expiry_options.ts";
import { binaryString } from "../write/conflicts.ts";
import { BatchEntries } from "../write/write_batch.ts";

/** One pending write: the user's key and value as given, and their stored form. */
export interface PendingWrite<K, V> {
  key: K;
  /** The stored key bytes. */
  stored: Uint8Array;
  /** undefined: a delete. */
  value: V | undefined;
  /** The encoded value (a put). */
  encoded: string | Uint8Array;
  /** A put with a ttl or expireAt: when it expires (epoch ms). */
  expireAt?: number;
}

/** What the write set needs to encode and check writes. */
export interface WriteSetLimits {
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  maxKeySize: number;
  maxValueSize: number;
  /** The database's clock (epoch ms), for puts with a ttl. Default Date.now. */
  clock?: () => number;
}

const encoder = new TextEncoder();
const frozen = <T>(data: T): T => (data instanceof Uint8Array ? data.slice() as T : data);

/**
 * The pending writes of one transaction.
 *
 * @example
 * ```ts
 * import { encodingNamed } from "../encoding.ts";
 * const utf8 = encodingNamed("utf8", "keyEncoding");
 * const writes = new WriteSet<string, string>({ keyEncoding: utf8, valueEncoding: utf8, maxKeySize: 1024, maxValueSize: 1 << 20 });
 * writes.put("a", "1");
 * writes.delete("b");
 * console.log(writes.size, writes.lookup("a")?.value); // 2 "1"
 * ```
 */
export class WriteSet<K, V> {
  readonly #limits: WriteSetLimits;
  readonly #writes = new Map<string, PendingWrite<K, V>>();
  #sorted: string[] | undefined;

  constructor(limits: WriteSetLimits) {
    this.#limits = limits;
  }

  /** Number of keys written. */
  get size(): number {
    return this.#writes.size;
  }

  /**
   * Records a put, expiring with options' ttl / expireAt (checked now: a bad
   * key, value or expiry throws INVALID_ARGUMENT and records nothing). A put
   * already expired is recorded as the delete it reads as.
   */
  put(key: K, value: V, options?: unknown): void {
    const l = this.#limits;
    const clock = l.clock ?? Date.now;
    const expireAt = expiryOf(
      checkCallOptions(options, "transaction put", ["ttl", "expireAt"]),
      clock,
      "transaction put",
    );
    const stored = this.#stored(key);
    const encoded = l.valueEncoding.encode(value, "value");
    checkedSize(encoded, l.maxValueSize, "value", "maxValueSize");
    if (expireAt !== undefined && expireAt <= clock()) return this.delete(key);
    this.#set({ key: frozen(key), stored, value: frozen(value), encoded: frozen(encoded), expireAt });
  }

  /** Records a delete. */
  delete(key: K): void {
    this.#set({ key: frozen(key), stored: this.#stored(key), value: undefined, encoded: "" });
  }

  /** The pending write of a key given as its binary string, if any. */
  lookup(key: string): PendingWrite<K, V> | undefined {
    return this.#writes.get(key);
  }

  /** The binary strings of the keys written, in key order. */
  sortedKeys(): readonly string[] {
    this.#sorted ??= [...this.#writes.keys()].sort();
    return this.#sorted;
  }

  /** Every key written (binary strings), in no particular order. */
  keys(): IterableIterator<string> {
    return this.#writes.keys();
  }

  /** The writes as batch entries. */
  entries(): BatchEntries {
    const batch = new BatchEntries();
    for (const w of this.#writes.values()) {
      if (w.value === undefined) batch.add(KIND_DELETE, w.stored, w.stored.length, "", 0);
      else {
        const room = typeof w.encoded === "string" ? 3 * w.encoded.length : w.encoded.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
        if (w.expireAt === undefined) batch.add(KIND_PUT, w.stored, w.stored.length, w.encoded, room);
        else batch.add(KIND_PUT_EXPIRING, w.stored, w.stored.length, w.encoded, room, w.expireAt);
      }
    }
    return batch;
  }

  /** Drops every write (a retry starts afresh). */
  clear(): void {
    this.#writes.clear();
    this.#sorted = undefined;
  }

  #stored(key: K): Uint8Array {
    const l = this.#limits;
    const k = l.keyEncoding.encode(key, "key");
    checkedSize(k, l.maxKeySize, "key", "maxKeySize");
    return typeof k === "string" ? encoder.encode(k) : k.slice();
  }

  #set(write: PendingWrite<K, V>): void {
    const name = binaryString(write.stored);
    if (!this.#writes.has(name)) this.#sorted = undefined;
    this.#writes.set(name, write);
  }
}
