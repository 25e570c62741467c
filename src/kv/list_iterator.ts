// KvListIterator: the async iterator kv.list() returns. It reads its range
// in batches (each batch at one moment, as Deno KV does: a long list may see
// writes made between batches), stops at its limit, and after each entry
// knows the cursor that resumes after it.

import { cursorKey, encodeCursor, type RawSelector, rawSelector, readRange, type SelectorKeys } from "./selector.ts";
import { decodeKey, type KvKey } from "./key_codec.ts";
import { decodeValue } from "./value_codec.ts";
import type { LiveEntry } from "./entry.ts";

/** An entry as Deno KV gives it: key, value and versionstamp. */
export interface KvEntry<T> {
  /** The key. */
  key: KvKey;
  /** The value. */
  value: T;
  /** The versionstamp of the commit that wrote it. */
  versionstamp: string;
}

/** What a list reads a batch with: up to `limit` live entries of [start, end), in order or reversed. */
export type ReadBatch = (start: Uint8Array, end: Uint8Array, reverse: boolean, limit: number) => Promise<LiveEntry[]>;

/** How a list runs (kv.list's options, checked). */
export interface ListPlan {
  selector: SelectorKeys;
  limit: number | undefined;
  batchSize: number;
  cursor: string | undefined;
  reverse: boolean;
  read: ReadBatch;
}

/**
 * The entries of a list, in key order (or reversed), read in batches. Its
 * `cursor` resumes a later list after the last entry returned.
 *
 * @example
 * ```ts
 * import { openKv } from "siltdb/kv";
 * const kv = await openKv(":memory:");
 * await kv.set(["users", "alice"], 1);
 * await kv.set(["users", "bob"], 2);
 * const first = kv.list({ prefix: ["users"] }, { limit: 1 });
 * for await (const entry of first) console.log(entry.key); // ["users", "alice"]
 * for await (const entry of kv.list({ prefix: ["users"] }, { cursor: first.cursor })) {
 *   console.log(entry.key); // ["users", "bob"]
 * }
 * kv.close();
 * ```
 */
export class KvListIterator<T = unknown> implements AsyncIterableIterator<KvEntry<T>> {
  readonly #plan: ListPlan;
  #raw: RawSelector | undefined;
  #buffered: { entry: KvEntry<T>; key: Uint8Array }[] = [];
  #lastBatch = false;
  #done = false;
  #count = 0;
  #cursor: string | undefined;
  #lastKey: Uint8Array | undefined;

  /** @internal Lists come from `kv.list()`. */
  constructor(plan: ListPlan) {
    this.#plan = plan;
    this.#cursor = plan.cursor || undefined;
  }

  /**
   * Where the list stands: a later list given it goes on after the last
   * entry returned ("" once the list is done). Throws before the first entry.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.set(["a", "b"], 1);
   * const it = kv.list({ prefix: ["a"] });
   * await it.next();
   * console.log(it.cursor); // "AmIA"
   * kv.close();
   * ```
   */
  get cursor(): string {
    if (this.#done) return "";
    if (this.#lastKey !== undefined) return encodeCursor(this.#raw!, this.#lastKey);
    if (this.#cursor === undefined) throw new Error("Cannot get cursor before first iteration");
    return this.#cursor;
  }

  /**
   * The next entry.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.set(["a"], 1);
   * const it = kv.list({ prefix: [] });
   * console.log((await it.next()).value); // { key: ["a"], value: 1, versionstamp: "..." }
   * console.log((await it.next()).done); // true
   * kv.close();
   * ```
   */
  async next(): Promise<IteratorResult<KvEntry<T>, undefined>> {
    const plan = this.#plan;
    if (this.#done || (plan.limit !== undefined && this.#count >= plan.limit)) {
      return { done: true, value: undefined };
    }
    if (this.#buffered.length === 0 && !this.#lastBatch) {
      this.#raw ??= rawSelector(plan.selector);
      const boundary = this.#lastKey ?? (this.#cursor === undefined ? undefined : cursorKey(this.#raw, this.#cursor));
      const { start, end } = readRange(this.#raw, plan.reverse, boundary);
      const batch = await plan.read(start, end, plan.reverse, plan.batchSize);
      if (batch.length < plan.batchSize) this.#lastBatch = true;
      this.#buffered = await Promise.all(batch.map(async (e) => ({
        key: e.key,
        entry: { key: decodeKey(e.key), value: await decodeValue(e.stored) as T, versionstamp: e.versionstamp },
      })));
    }
    const next = this.#buffered.shift();
    if (next === undefined) {
      this.#done = true;
      return { done: true, value: undefined };
    }
    this.#lastKey = next.key;
    this.#count++;
    return { done: false, value: next.entry };
  }

  /**
   * The iterator itself: a list is used with `for await`.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * for await (const { key, value } of kv.list({ prefix: [] })) console.log(key, value);
   * kv.close();
   * ```
   */
  [Symbol.asyncIterator](): this {
    return this;
  }
}
