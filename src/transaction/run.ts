// Running a transaction: begin an attempt (a registration with the
// writer's conflict tracker and a snapshot at its read point), run the
// body, commit; on CONFLICT run the body again, up to `retries` times,
// after a short randomized pause that grows with each attempt.

import { describe, type Encoding } from "../encoding.ts";
import { invalidArgument, SiltError } from "../errors.ts";
import { checkCallOptions, type WriteOptions } from "../options.ts";
import type { Reader } from "../read/reader.ts";
import { Snapshot } from "../read/snapshot.ts";
import { SETTLE_ROUNDS, type Writer } from "../write/writer.ts";
import { type Isolation, Transaction, type TransactionContext } from "./transaction.ts";

/**
 * Options of `db.transaction()` and `db.transactionSync()`.
 *
 * @example
 * ```ts
 * import { open, type TransactionOptions } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json" });
 * const options: TransactionOptions = { isolation: "snapshot", retries: 3, sync: true };
 * await db.transaction((tx) => void tx.put("k", 1), options);
 * await db.close();
 * ```
 */
export interface TransactionOptions extends WriteOptions {
  /**
   * "serializable" (default): the commit fails with CONFLICT if any key the
   * transaction read or wrote, or any key in a range it scanned or counted,
   * was written by someone else since it began (no lost update, no write
   * skew). "snapshot": only keys it writes are checked (snapshot isolation:
   * no lost update, write skew possible).
   */
  isolation?: Isolation;
  /** How often the body runs again after a CONFLICT before it is given up. Default 10. */
  retries?: number;
  /** Aborting gives up: ABORTED, nothing written (unless the body committed already). */
  signal?: AbortSignal;
}

const TRANSACTION_OPTIONS = ["isolation", "retries", "signal", "sync"];
const DEFAULT_RETRIES = 10;

/** What the runner needs from its database. */
export interface RunnerContext {
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  maxKeySize: number;
  maxValueSize: number;
  /** The database's clock (epoch ms), for puts with a ttl. */
  clock: () => number;
  reader: Reader;
  writer: Writer;
}

/**
 * Runs transaction bodies for one database.
 *
 * @example
 * ```ts
 * declare const runner: TransactionRunner; // src/open.ts makes it
 * const total = await runner.run(async (tx) => {
 *   tx.put(new Uint8Array([1]), new Uint8Array([2]));
 *   return 1;
 * }, undefined, false);
 * ```
 */
export class TransactionRunner {
  readonly #ctx: RunnerContext;
  readonly #txContext: TransactionContext;

  constructor(ctx: RunnerContext) {
    this.#ctx = ctx;
    this.#txContext = {
      keyEncoding: ctx.keyEncoding,
      valueEncoding: ctx.valueEncoding,
      maxKeySize: ctx.maxKeySize,
      maxValueSize: ctx.maxValueSize,
      clock: ctx.clock,
      conflicts: ctx.writer.conflicts,
      commitIf: (entries, count, options, condition) => ctx.writer.commitEntriesIf(entries, count, options, condition),
    };
  }

  /**
   * Runs body in a transaction until it commits (see TransactionOptions);
   * `synchronous`: the body must not return a promise (it then runs and
   * is validated with nothing else in between).
   */
  async run<K, V, T>(
    body: (tx: Transaction<K, V>) => T | Promise<T>,
    options: TransactionOptions | undefined,
    synchronous: boolean,
  ): Promise<T> {
    const call = synchronous ? "transactionSync" : "transaction";
    if (typeof body !== "function") throw invalidArgument(`${call} takes a function, got ${describe(body)}`);
    const o: TransactionOptions = checkCallOptions(options, call, TRANSACTION_OPTIONS) ?? {};
    const isolation = o.isolation ?? "serializable";
    if (isolation !== "serializable" && isolation !== "snapshot") {
      throw invalidArgument(
        `${call} option isolation must be "serializable" or "snapshot", got ${describe(isolation)}`,
      );
    }
    const retries = o.retries ?? DEFAULT_RETRIES;
    if (!Number.isSafeInteger(retries) || retries < 0) {
      throw invalidArgument(`${call} option retries must be a non-negative integer, got ${describe(retries)}`);
    }
    const signal = o.signal;
    const writeOptions: WriteOptions | undefined = o.sync === undefined ? undefined : { sync: o.sync };
    const writer = this.#ctx.writer;
    for (let attempt = 0;; attempt++) {
      if (signal?.aborted) throw aborted(call, signal);
      // Begin (synchronously after) once what was written before is applied: read it, do not conflict on it.
      for (let round = 0, pending = writer.whenApplied(); pending !== undefined && round < SETTLE_ROUNDS; round++) {
        await pending;
        pending = writer.whenApplied();
      }
      const tx = this.#begin<K, V>(isolation, writeOptions);
      try {
        let result: T;
        if (synchronous) {
          result = body(tx) as T;
          if (isThenable(result)) {
            throw invalidArgument("the body of transactionSync returned a promise: use transaction() for async bodies");
          }
        } else {
          result = await body(tx);
        }
        if (signal?.aborted) throw aborted(call, signal);
        await tx.commit(writeOptions);
        return result;
      } catch (err) {
        if (!(err instanceof SiltError && err.code === "CONFLICT")) throw err;
        if (attempt >= retries) {
          throw new SiltError(
            "CONFLICT",
            `the transaction conflicted with other writes ${attempt + 1} time${attempt === 0 ? "" : "s"} ` +
              `(retries: ${retries}); nothing was written`,
            {},
            err,
          );
        }
      } finally {
        tx.end();
      }
      await pause(attempt);
    }
  }

  #begin<K, V>(isolation: Isolation, writeOptions: WriteOptions | undefined): Transaction<K, V> {
    const reg = this.#ctx.writer.registerConflicts();
    try {
      const snapshot = new Snapshot<K, V>(this.#ctx.reader as Reader<V>, reg.readPoint);
      return new Transaction<K, V>(this.#txContext, snapshot, reg, isolation, writeOptions);
    } catch (err) {
      this.#ctx.writer.conflicts.release(reg);
      throw err;
    }
  }
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function aborted(call: string, signal: AbortSignal): SiltError {
  return new SiltError("ABORTED", `the ${call} was aborted; nothing was written`, {}, signal.reason);
}

/** Before attempt n + 1: a turn of the event loop, then up to 2^n ms (at most 64), at random. */
function pause(attempt: number): Promise<void> {
  const ms = attempt === 0 ? 0 : Math.random() * 2 ** Math.min(attempt, 6);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
