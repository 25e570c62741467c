// The change feed: committed writes in sequence order, from a sequence on,
// then live as they commit (db.changes()).
//
// Where changes come from: the memtables hold every version written since
// the last flush, each with its sequence (a flush retires a memtable, and
// with it that stretch of history; so does a store's reopen, which flushes
// what it replays). A feed first catches up from them — the entries from
// its next sequence up to the visible one, sorted by sequence — and then
// follows the writer: the commit pipeline hands every group of records it
// applies to the hub (ChangeHub.publish), which decodes them into each
// feed's queue. A reader of a bucket has no pipeline: it tells the hub
// when its refresh moved on (publish() with no records), and its feeds
// catch up from the memtables again. A feed whose consumer falls more than
// MAX_QUEUED changes behind drops its queue and catches up the same way.
// When the feed's next sequence is older than the oldest memtable's first,
// that history is gone: OUT_OF_RANGE.

import { describe, type Encoding } from "../encoding.ts";
import { invalidArgument, SiltError } from "../errors.ts";
import { checkCallOptions } from "../options.ts";
import { type BatchEntryAt, forEachBatchEntry } from "../format/batch_format.ts";
import { EXPIRY_PREFIX_SIZE, KIND_PUT, KIND_PUT_EXPIRING, KIND_RANGE_DELETE } from "../format/internal_key.ts";
import { rangeDeleteEnd, rangeDeleteValue } from "../format/range_tombstone_format.ts";
import { forEachRecordPayload } from "../format/log_format.ts";
import type { MemtableHandle } from "../memtable.ts";

/**
 * One committed write: its sequence (the version `getEntry` gives), its
 * type, key, and value (undefined for a delete); or a range delete
 * (`deleteRange`, `clear`): every key from `start` (inclusive) to `end`
 * (exclusive; undefined: no end) written before it is deleted. A range's
 * bounds are stored keys (bytes, whatever the key encoding: `clear({ gt: k })`
 * starts just after k, at k and a zero byte).
 *
 * @example
 * ```ts
 * import { open, type Change } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * const since = db.sequence + 1;
 * await db.put("a", "1");
 * await db.deleteRange("a", "b");
 * for await (const change of db.changes({ since })) {
 *   const c: Change<string, string> = change;
 *   if (c.type === "deleteRange") console.log(c.sequence, c.start, c.end); // since + 1, bytes of "a" and "b"
 *   else console.log(c.sequence, c.type, c.key, c.value); // since, "put", "a", "1"
 *   if (c.sequence > since) break;
 * }
 * await db.close();
 * ```
 */
export type Change<K = Uint8Array, V = Uint8Array> = KeyChange<K, V> | RangeDeleteChange;

/**
 * A put or a delete of one key, in the change feed.
 *
 * @example
 * ```ts
 * const c: KeyChange<string, string> = { sequence: 7, type: "put", key: "a", value: "1" };
 * ```
 */
export interface KeyChange<K = Uint8Array, V = Uint8Array> {
  /** The write's sequence number (a batch's entries have consecutive ones). */
  sequence: number;
  /** A put or a delete. */
  type: "put" | "del";
  /** The key written. */
  key: K;
  /** The value put; undefined for a delete. */
  value: V | undefined;
}

/**
 * A range delete in the change feed: the keys in [start, end) written before it are deleted.
 *
 * @example
 * ```ts
 * const k = (s: string) => new TextEncoder().encode(s);
 * const c: RangeDeleteChange = { sequence: 8, type: "deleteRange", start: k("a"), end: k("b") };
 * ```
 */
export interface RangeDeleteChange {
  /** The range delete's sequence number. */
  sequence: number;
  /** A range delete (`deleteRange`, `clear`, `batch().deleteRange`). */
  type: "deleteRange";
  /** First stored key deleted (inclusive). */
  start: Uint8Array;
  /** End of the range (exclusive), a stored key; undefined: every key from start on. */
  end: Uint8Array | undefined;
  /** Absent (a range delete has no single key); narrow on `type` first. */
  key?: undefined;
  /** Absent. */
  value?: undefined;
}

/**
 * Options of `db.changes()`.
 *
 * @example
 * ```ts
 * import { open, type ChangesOptions } from "siltdb";
 * const db = await open("./data");
 * const options: ChangesOptions = { since: 1, signal: AbortSignal.timeout(1000) };
 * try {
 *   for await (const change of db.changes(options)) console.log(change.sequence);
 * } catch (err) {
 *   console.log((err as { code?: string }).code); // ABORTED after a second (or OUT_OF_RANGE)
 * }
 * await db.close();
 * ```
 */
export interface ChangesOptions {
  /** The first sequence wanted (inclusive). Default: the next write (`db.sequence + 1`). */
  since?: number;
  /** Aborting ends the feed with ABORTED. */
  signal?: AbortSignal;
}

/** A feed falling this many changes behind catches up from the memtables instead. */
const MAX_QUEUED = 65536;

/** What the hub needs from its database. */
export interface ChangeSource {
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  checkOpen(): void;
  visibleSequence(): number;
  /** The memtables, oldest first. */
  memtables(): MemtableHandle[];
}

/** A change as raw bytes (before the feed decodes it). */
interface RawChange {
  sequence: number;
  kind: number;
  key: Uint8Array;
  value: Uint8Array;
}

interface Subscriber {
  queue: RawChange[];
  /** Next sequence it wants from the queue. */
  next: number;
  /** Lost changes (overflow, or a refresh without records): catch up from memtables. */
  resync: boolean;
  wake: (() => void) | undefined;
}

/**
 * The change feeds of one database.
 *
 * @example
 * ```ts
 * declare const hub: ChangeHub; // src/open.ts makes it
 * for await (const change of hub.feed({ since: 1 })) console.log(change.sequence, change.type);
 * ```
 */
export class ChangeHub {
  readonly #src: ChangeSource;
  readonly #subscribers = new Set<Subscriber>();
  readonly #decoder = new TextDecoder();
  /** Called with true when the first feed starts, false when the last ends. */
  onActive: ((active: boolean) => void) | undefined;

  constructor(source: ChangeSource) {
    this.#src = source;
  }

  /** Records just applied (back to back), or none: something moved on, catch up from memtables. */
  publish(records?: Uint8Array): void {
    if (this.#subscribers.size === 0) return;
    if (records === undefined) {
      for (const s of this.#subscribers) {
        this.#resync(s);
        s.wake?.();
      }
      return;
    }
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const changes: RawChange[] = [];
    const visit = (e: BatchEntryAt) =>
      changes.push({
        sequence: e.sequence,
        kind: e.kind === KIND_PUT_EXPIRING ? KIND_PUT : e.kind, // a put with a ttl is a put (its expiry is no change)
        key: records.slice(e.keyStart, e.keyEnd),
        value: records.slice(e.valueStart, e.valueEnd),
      });
    forEachRecordPayload(records, (payload) => forEachBatchEntry(records, dv, payload, visit));
    for (const s of this.#subscribers) {
      if (!s.resync) {
        for (const c of changes) s.queue.push(c);
        if (s.queue.length > MAX_QUEUED) this.#resync(s);
      }
      s.wake?.();
    }
  }

  /** Wakes every feed (the database closes: they end with CLOSED). */
  closeAll(): void {
    for (const s of this.#subscribers) s.wake?.();
  }

  /**
   * The feed of changes from options.since on (by default, from the write
   * after the last visible one at this call). Options are checked now; the
   * feed subscribes when it is first read.
   */
  feed<K, V>(options: ChangesOptions | undefined): AsyncGenerator<Change<K, V>> {
    this.#src.checkOpen();
    checkCallOptions(options, "changes", ["since", "signal"]);
    const since = options?.since ?? this.#src.visibleSequence() + 1;
    if (!Number.isSafeInteger(since) || since < 0) {
      throw invalidArgument(`changes option since must be a non-negative integer, got ${describe(since)}`);
    }
    return this.#follow(since, options?.signal);
  }

  async *#follow<K, V>(since: number, signal: AbortSignal | undefined): AsyncGenerator<Change<K, V>> {
    const src = this.#src;
    let next = since;
    const sub: Subscriber = { queue: [], next, resync: true, wake: undefined };
    this.#subscribers.add(sub);
    if (this.#subscribers.size === 1) this.onActive?.(true);
    try {
      for (;;) {
        // Looked at before every wait too: a close or an abort while the
        // consumer was taking the last batch woke nobody.
        src.checkOpen();
        if (signal?.aborted) throw new SiltError("ABORTED", "the change feed was aborted", {}, signal.reason);
        if (sub.queue.length === 0 && !sub.resync) {
          await this.#wait(sub, signal);
          continue;
        }
        let batch: RawChange[];
        if (sub.resync) {
          sub.resync = false;
          sub.queue = [];
          batch = this.#fromMemtables(next);
        } else {
          batch = sub.queue;
          sub.queue = [];
        }
        for (const c of batch) {
          if (c.sequence < next) continue;
          next = c.sequence + 1;
          sub.next = next;
          yield this.#decode<K, V>(c);
        }
      }
    } finally {
      this.#subscribers.delete(sub);
      if (this.#subscribers.size === 0) this.onActive?.(false);
    }
  }

  #resync(s: Subscriber): void {
    s.resync = true;
    s.queue = [];
  }

  /** Changes from `next` up to the visible sequence, from the memtables; OUT_OF_RANGE if some are gone. */
  #fromMemtables(next: number): RawChange[] {
    const src = this.#src;
    const visible = src.visibleSequence();
    if (next > visible) return [];
    const memtables = src.memtables();
    const oldest = memtables[0];
    const first = oldest.firstSequence ?? Math.min(oldest.mt.minSequence(), visible + 1);
    if (next < first) {
      throw new SiltError(
        "OUT_OF_RANGE",
        `changes since sequence ${next} are no longer kept: the memtables hold sequences ${first} to ${visible}` +
          " (older changes were flushed to tables)",
      );
    }
    const out: RawChange[] = [];
    for (const m of memtables) {
      for (const e of m.mt.entries()) {
        if (e.sequence < next || e.sequence > visible) continue;
        out.push(
          e.kind === KIND_PUT_EXPIRING ? { ...e, kind: KIND_PUT, value: e.value.subarray(EXPIRY_PREFIX_SIZE) } : e,
        );
      }
      for (const t of m.mt.rangeTombstones()) {
        if (t.sequence < next || t.sequence > visible) continue;
        out.push({ sequence: t.sequence, kind: KIND_RANGE_DELETE, key: t.start, value: rangeDeleteValue(t.end) });
      }
    }
    return out.sort((a, b) => a.sequence - b.sequence);
  }

  #decode<K, V>(c: RawChange): Change<K, V> {
    if (c.kind === KIND_RANGE_DELETE) {
      return { sequence: c.sequence, type: "deleteRange", start: c.key, end: rangeDeleteEnd(c.value) };
    }
    const put = c.kind === KIND_PUT;
    return {
      sequence: c.sequence,
      type: put ? "put" : "del",
      key: this.#decodeBytes(this.#src.keyEncoding, c.key) as K,
      value: put ? this.#decodeBytes(this.#src.valueEncoding, c.value) as V : undefined,
    };
  }

  #decodeBytes(encoding: Encoding<unknown>, data: Uint8Array): unknown {
    if (encoding.name === "binary") return data;
    const text = this.#decoder.decode(data);
    return encoding.name === "json" ? JSON.parse(text) : text;
  }

  #wait(sub: Subscriber, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        sub.wake = undefined;
        signal?.removeEventListener("abort", done);
        resolve();
      };
      sub.wake = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
