// Kv: Deno KV's database handle (Deno.Kv), on a siltdb store. Each method
// checks its arguments (Deno KV's TypeErrors), then reads the store or
// commits through it; writes are atomic operations (set, delete and enqueue
// are one-mutation commits). Handles of one location share one store
// (src/kv/store.ts); close() lets go of this handle's share, ends its
// watches and queue listeners, and refuses later calls (Deno's BadResource
// in Deno, a SiltError CLOSED elsewhere).

import { ASYNC_DISPOSE, DISPOSE } from "../_dispose.ts";
import { AtomicOperation, COMMIT_VERSIONSTAMP, type EnqueueOptions, type KvCommitResult } from "./atomic.ts";
import { closedError } from "./errors.ts";
import { decodeKey, encodeKey, type KvKey } from "./key_codec.ts";
import { checkCount, checkReadKey, MAX_READ_ENTRIES, MAX_READ_RANGES } from "./limits.ts";
import { type KvEntry, KvListIterator } from "./list_iterator.ts";
import { listenQueue } from "./queue.ts";
import { type KvListSelector, selectorKeys } from "./selector.ts";
import type { KvStore } from "./store.ts";
import type { LiveEntry } from "./entry.ts";
import { decodeValue } from "./value_codec.ts";
import { watchKeys } from "./watch.ts";

/** Deno KV's consistency levels (siltdb reads are always strongly consistent). */
export type KvConsistencyLevel = "strong" | "eventual";

/** An entry as get() gives it: present (with value and versionstamp) or absent (both null). */
export type KvEntryMaybe<T> = KvEntry<T> | { key: KvKey; value: null; versionstamp: null };

/** Options of kv.list(). */
export interface KvListOptions {
  /** Most entries to return. Default: all. */
  limit?: number;
  /** Where to start: the `cursor` of an earlier list of the same selector. */
  cursor?: string;
  /** Newest key first. Default false. */
  reverse?: boolean;
  /** Accepted for Deno KV's sake: siltdb reads are always strongly consistent. */
  consistency?: KvConsistencyLevel;
  /** Entries read per batch (at most 1,000). Default: limit, at most 500; else 100. */
  batchSize?: number;
}

const TOKEN = Symbol("siltdb/kv Kv");

/**
 * @internal A handle on a store (openKv makes them).
 *
 * @example
 * ```ts
 * import type { KvStore } from "./store.ts";
 * declare const store: KvStore;
 * const kv = kvOn(store);
 * ```
 */
export function kvOn(store: KvStore): Kv {
  return new Kv(TOKEN, store);
}

/**
 * A Deno KV database on siltdb: `get`, `getMany`, `set`, `delete`, `list`,
 * `atomic`, `enqueue`/`listenQueue`, `watch`. Open one with `openKv`.
 *
 * @example
 * ```ts
 * import { openKv } from "siltdb/kv";
 * const kv = await openKv(":memory:");
 * await kv.set(["users", "alice"], { age: 31 });
 * const entry = await kv.get<{ age: number }>(["users", "alice"]);
 * console.log(entry.value?.age, entry.versionstamp); // 31 "000000000000000a0000" (for instance)
 * for await (const { key, value } of kv.list({ prefix: ["users"] })) console.log(key, value);
 * await kv.delete(["users", "alice"]);
 * kv.close();
 * ```
 */
export class Kv {
  #store: KvStore;
  #closed: Promise<void> | undefined;
  readonly #onClose = new Set<() => void>();

  /**
   * Throws: a Kv comes from `openKv()`.
   *
   * @example
   * ```ts
   * import { Kv } from "siltdb/kv";
   * try { new Kv(); } catch (err) { console.log((err as Error).message); }
   * ```
   */
  constructor(token?: symbol, store?: KvStore) {
    if (token !== TOKEN || store === undefined) throw new TypeError("Kv can not be constructed: use openKv instead");
    this.#store = store;
  }

  #live(call: string): KvStore {
    if (this.#closed !== undefined) throw closedError(call);
    return this.#store;
  }

  /**
   * A new atomic operation on this database.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().set(["a"], 1).set(["b"], 2).commit();
   * kv.close();
   * ```
   */
  atomic(): AtomicOperation {
    return new AtomicOperation((call) => this.#live(call));
  }

  /**
   * The symbol that, as a set key's last part, becomes the commit's versionstamp (a string part).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const { versionstamp } = await kv.set(["log", kv.commitVersionstamp()], "started");
   * console.log((await kv.get(["log", versionstamp])).value); // "started"
   * kv.close();
   * ```
   */
  commitVersionstamp(): symbol {
    return COMMIT_VERSIONSTAMP;
  }

  /**
   * The entry of key: `{ key, value, versionstamp }`, with value and versionstamp null when absent (or expired).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * console.log(await kv.get(["missing"])); // { key: ["missing"], value: null, versionstamp: null }
   * kv.close();
   * ```
   */
  async get<T = unknown>(key: KvKey, _options?: { consistency?: KvConsistencyLevel }): Promise<KvEntryMaybe<T>> {
    const store = this.#live("get");
    const bytes = readKey(key);
    return await entryOf<T>(key, await store.read(bytes, Date.now()));
  }

  /**
   * The entries of up to 10 keys, read at one moment.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.set(["a"], 1);
   * const [a, b] = await kv.getMany<[number, number]>([["a"], ["b"]]);
   * console.log(a.value, b.value); // 1 null
   * kv.close();
   * ```
   */
  async getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: KvKey }],
    _options?: { consistency?: KvConsistencyLevel },
  ): Promise<{ [K in keyof T]: KvEntryMaybe<T[K]> }> {
    const store = this.#live("getMany");
    if (!Array.isArray(keys)) throw new TypeError("getMany() takes an array of keys");
    if (keys.length > MAX_READ_RANGES) throw new TypeError(`Too many ranges (max ${MAX_READ_RANGES})`);
    const bytes = keys.map((k) => readKey(k as KvKey));
    const entries = await store.readMany(bytes, Date.now());
    return await Promise.all(entries.map((e, i) => entryOf(keys[i] as KvKey, e))) as {
      [K in keyof T]: KvEntryMaybe<T[K]>;
    };
  }

  /**
   * Sets key to value (any structured-cloneable value); with `expireIn`
   * (milliseconds) the entry expires that long after the commit.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const { versionstamp } = await kv.set(["session"], { user: 1 }, { expireIn: 60_000 });
   * kv.close();
   * ```
   */
  async set(key: KvKey, value: unknown, options?: { expireIn?: number }): Promise<KvCommitResult> {
    this.#live("set");
    return await this.atomic().set(key, value, options).commit() as KvCommitResult;
  }

  /**
   * Deletes key (nothing happens if it is absent).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.delete(["a"]);
   * kv.close();
   * ```
   */
  async delete(key: KvKey): Promise<void> {
    this.#live("delete");
    await this.atomic().delete(key).commit();
  }

  /**
   * The entries a selector spans (`{ prefix }`, `{ prefix, start }`,
   * `{ prefix, end }` or `{ start, end }`), in key order or reversed.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.set(["users", 1], "alice");
   * await kv.set(["users", 2], "bob");
   * for await (const e of kv.list<string>({ prefix: ["users"] }, { reverse: true, limit: 1 })) {
   *   console.log(e.key, e.value); // ["users", 2] bob
   * }
   * kv.close();
   * ```
   */
  list<T = unknown>(selector: KvListSelector, options: KvListOptions = {}): KvListIterator<T> {
    const limit = checkCount(options.limit, "Limit");
    const batchSize = checkCount(options.batchSize, "batchSize") ?? Math.min(limit ?? 100, 500);
    if (batchSize > MAX_READ_ENTRIES) throw new TypeError(`Too many entries (max ${MAX_READ_ENTRIES})`);
    if (options.cursor !== undefined && typeof options.cursor !== "string") {
      throw new TypeError("cursor must be a string");
    }
    return new KvListIterator<T>({
      selector: selectorKeys(selector),
      limit,
      batchSize,
      cursor: options.cursor,
      reverse: options.reverse ?? false,
      read: (start, end, reverse, n) => this.#live("list").scan(start, end, reverse, n, Date.now()),
    });
  }

  /**
   * Queues a message for `listenQueue` handlers (of any handle of this store), after `delay` milliseconds.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.enqueue({ email: "alice@example.com" }, { delay: 1000, keysIfUndelivered: [["failed", 1]] });
   * kv.close();
   * ```
   */
  async enqueue(value: unknown, options?: EnqueueOptions): Promise<KvCommitResult> {
    this.#live("enqueue");
    return await this.atomic().enqueue(value, options).commit() as KvCommitResult;
  }

  /**
   * Delivers queued messages to handler, until close(): the promise resolves
   * then. A message is delivered at least once: one whose handler throws is
   * retried on its backoff schedule, then written to its keysIfUndelivered;
   * one still being handled at close (or a crash) is delivered again after
   * the next open.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const done = kv.listenQueue((msg) => console.log("got", msg));
   * await kv.enqueue("hello");
   * kv.close();
   * await done;
   * ```
   */
  listenQueue(handler: (value: unknown) => Promise<void> | void): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(new Error("Queue already closed"));
    return listenQueue(this.#store, handler, this.#onClose, () => this.#closed);
  }

  /**
   * A stream of the entries of up to 10 keys: their state now, then again each time one of them changes.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const stream = kv.watch([["config"]]);
   * const reader = stream.getReader();
   * console.log((await reader.read()).value); // [{ key: ["config"], value: null, versionstamp: null }]
   * await kv.set(["config"], "dark");
   * console.log((await reader.read()).value?.[0].value); // "dark"
   * await reader.cancel();
   * kv.close();
   * ```
   */
  watch<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: KvKey }],
    options?: { raw?: boolean },
  ): ReadableStream<{ [K in keyof T]: KvEntryMaybe<T[K]> }> {
    const store = this.#live("watch");
    const read = (bytes: Uint8Array[]) =>
      store.readMany(bytes, Date.now()).then((all) => Promise.all(all.map((e, i) => entryOf(keys[i] as KvKey, e))));
    return watchKeys(store, keys as readonly KvKey[], read, options?.raw ?? false, this.#onClose) as ReadableStream<
      { [K in keyof T]: KvEntryMaybe<T[K]> }
    >;
  }

  /**
   * Closes this handle: its watches end, its queue listeners resolve, later
   * calls fail; the store closes with its last handle. The promise settles
   * once this handle's share is let go (for the last, once the store is
   * closed); it may be left unawaited, as Deno's close() returns nothing.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv("./kv");
   * await kv.close(); // the directory can be removed now
   * ```
   */
  close(): Promise<void> {
    if (this.#closed === undefined) {
      this.#closed = this.#store.release();
      for (const hook of [...this.#onClose]) hook();
    }
    return this.#closed;
  }

  /**
   * Closes the handle at the end of a `using` block (close() without waiting).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * {
   *   using kv = await openKv(":memory:");
   *   await kv.set(["a"], 1);
   * } // closed here
   * ```
   */
  [DISPOSE](): void {
    this.close();
  }

  /**
   * Closes the handle at the end of an `await using` block, waiting for it.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * {
   *   await using kv = await openKv("./kv");
   *   await kv.set(["a"], 1);
   * } // closed (and the directory released) here
   * ```
   */
  [ASYNC_DISPOSE](): Promise<void> {
    return this.close();
  }
}

/** A key for a read: encoded and within Deno KV's read size (with the byte a range end adds). */
function readKey(key: KvKey): Uint8Array {
  const bytes = encodeKey(key);
  checkReadKey(bytes);
  checkReadKey(new Uint8Array(bytes.length + 1));
  return bytes;
}

/** The entry get() gives for a key: the live entry decoded, or the absent entry of the key as given. */
async function entryOf<T>(key: KvKey, e: LiveEntry | undefined): Promise<KvEntryMaybe<T>> {
  if (e === undefined) return { key, value: null, versionstamp: null };
  return { key: decodeKey(e.key), value: await decodeValue(e.stored) as T, versionstamp: e.versionstamp };
}
