// The methods of an open database for reading, deciding and writing
// atomically — transactions (src/transaction/) — and for following what
// was committed — the change feed (src/changes/) and the current sequence.
// Db (db.ts) inherits them; each delegates in a line.

import type { Change, ChangeHub, ChangesOptions } from "./changes/change_feed.ts";
import { Reads } from "./read/reads.ts";
import type { ReadAt } from "./read/reads.ts";
import type { TransactionOptions, TransactionRunner } from "./transaction/run.ts";
import type { Transaction } from "./transaction/transaction.ts";

/** @internal What these methods need from their database. */
export interface TransactionalParts {
  transactions: TransactionRunner;
  changes: ChangeHub;
  visibleSequence(): number;
}

/**
 * Transactions, the change feed and the sequence of an open database (see
 * {@linkcode Db}).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
 * await db.transaction(async (tx) => tx.put("n", ((await tx.get("n")) as number ?? 0) + 1));
 * console.log(db.sequence > 0); // true
 * await db.close();
 * ```
 */
export class TransactionalDb<K, V> extends Reads<K, V> {
  readonly #parts: TransactionalParts;

  /** @internal */
  constructor(at: ReadAt<V>, parts: TransactionalParts) {
    super(at);
    this.#parts = parts;
  }

  /**
   * The sequence number of the last write visible to reads: every write
   * takes the next one (a batch one per entry), so a version from
   * `getEntry`, a batch's `sequence` and a change's `sequence` compare with it.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const before = db.sequence;
   * await db.put("a", "1");
   * console.log(db.sequence === before + 1); // true
   * await db.close();
   * ```
   */
  get sequence(): number {
    return this.#parts.visibleSequence();
  }

  /**
   * Runs `body` in a transaction and commits its writes as one atomic batch
   * (durable like a batch; `sync: true` as for writes), resolving with what
   * the body returned. The body reads at the transaction's snapshot and sees
   * its own writes; its writes take effect only at commit. Commit is
   * optimistic: with `isolation: "serializable"` (the default) it fails if
   * anything the transaction read or wrote was written by someone else since
   * it began, with `"snapshot"` only if something it wrote was. A failed
   * commit runs the body again (up to `retries`, default 10), then rejects
   * with CONFLICT. A body that throws writes nothing. The body may run more
   * than once: keep side effects out of it.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
   * await db.put("account:a", 100);
   * await db.put("account:b", 0);
   * await db.transaction(async (tx) => {
   *   const a = (await tx.get("account:a")) as number;
   *   if (a < 10) throw new Error("insufficient funds"); // nothing is written
   *   tx.put("account:a", a - 10);
   *   tx.put("account:b", ((await tx.get("account:b")) as number) + 10);
   * }, { retries: 20 });
   * await db.close();
   * ```
   */
  transaction<T>(body: (tx: Transaction<K, V>) => T | Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.#parts.transactions.run(body, options, false);
  }

  /**
   * transaction() for a synchronous body (reads with getSync, hasSync,
   * scanSync...; not in a bucket): the body and its validation run with
   * nothing in between, so it commits at the first try (unless writes were
   * waiting for room: then it may retry).
   * Resolves once the commit is written (durable with `sync: true`).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
   * const id = await db.transactionSync((tx) => {
   *   const next = (tx.getSync("next-id") as number ?? 0) + 1;
   *   tx.put("next-id", next);
   *   return next;
   * });
   * console.log(id); // 1 on a new store
   * await db.close();
   * ```
   */
  transactionSync<T>(body: (tx: Transaction<K, V>) => T, options?: TransactionOptions): Promise<T> {
    return this.#parts.transactions.run(body, options, true);
  }

  /**
   * The committed writes from sequence `since` on (default: from the write
   * after those visible at this call), in sequence order, then live as they commit: an async iterable
   * that ends when you break out of it, its `signal` aborts (ABORTED) or the
   * database closes (CLOSED). It is served from the memtables: changes older
   * than the oldest memtable (flushed to tables, or before the store was
   * last opened) are gone, and a feed asking for them fails with
   * OUT_OF_RANGE. A write is reported once it is applied (visible to
   * reads): unless `bufferWrites` holds it back, it is then in the OS, so a
   * crash of the process keeps every change reported; a crash of the
   * machine may drop those not yet synced, as it drops the writes.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const since = db.sequence + 1;
   * await db.batch().put("a", "1").delete("b").write();
   * for await (const change of db.changes({ since })) {
   *   console.log(change.sequence, change.type, change.key, change.value); // put a 1, then del b undefined
   *   if (change.type === "del") break;
   * }
   * await db.close();
   * ```
   */
  changes(options?: ChangesOptions): AsyncGenerator<Change<K, V>> {
    return this.#parts.changes.feed<K, V>(options);
  }
}
