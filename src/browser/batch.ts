// A batch of siltdb/browser's main-thread API: collected on the main thread
// and sent whole to the database worker by write().

import { SiltError } from "../errors.ts";
import type { ExpiryOptions, WriteOptions } from "../options.ts";
import type { BatchCheck, BatchOperation, BatchResult } from "../write/write_batch.ts";
import type { AsyncBatch } from "./types.ts";

/**
 * A batch collected on the main thread and sent whole by write().
 *
 * @example
 * ```ts
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "json" });
 * const batch = db.batch().put("note:2", { title: "bye" }).delete("note:1"); // collected on the main thread
 * console.log(batch.length); // 2
 * await batch.write({ sync: true }); // one message; the worker applies both atomically
 * await db.close();
 * ```
 */
export class BrowserBatch<K, V> implements AsyncBatch<K, V> {
  readonly #write: (ops: BatchOperation<K, V>[], checks: BatchCheck[], options?: WriteOptions) => Promise<BatchResult>;
  #ops: BatchOperation<K, V>[] = [];
  #checks: BatchCheck[] = [];
  #written = false;

  /** @internal */
  constructor(
    write: (ops: BatchOperation<K, V>[], checks: BatchCheck[], options?: WriteOptions) => Promise<BatchResult>,
  ) {
    this.#write = write;
  }

  #check(): void {
    if (this.#written) throw new SiltError("CLOSED", "this batch was already written");
  }

  /** Operations in the batch. */
  get length(): number {
    return this.#ops.length;
  }

  /** Adds a put, expiring with `ttl` / `expireAt` (checked by the worker, at write()). */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array, options?: ExpiryOptions): this {
    this.#check();
    this.#ops.push(options === undefined ? { type: "put", key, value } : { type: "put", key, value, ...options });
    return this;
  }

  /** Adds a delete (checked by the worker, at write()). */
  delete(key: K | string | Uint8Array): this {
    this.#check();
    this.#ops.push({ type: "del", key });
    return this;
  }

  /** Adds a range delete of the keys from start (inclusive) to end (exclusive) (checked by the worker, at write()). */
  deleteRange(start: K | string | Uint8Array, end: K | string | Uint8Array): this {
    this.#check();
    this.#ops.push({ type: "deleteRange", start, end });
    return this;
  }

  /** Adds operations in the form of abstract-level. */
  add(operations: readonly BatchOperation<K, V>[]): this {
    this.#check();
    if (!Array.isArray(operations)) {
      throw new SiltError("INVALID_ARGUMENT", "batch add() takes an array of operations");
    }
    this.#ops.push(...operations);
    return this;
  }

  /** Makes the batch conditional on key still being at version (null: absent); checked by the worker. */
  check(key: K | string | Uint8Array, version: number | null): this {
    this.#check();
    this.#checks.push({ key, version });
    return this;
  }

  /** Empties the batch. */
  clear(): this {
    this.#check();
    this.#ops = [];
    this.#checks = [];
    return this;
  }

  /** Writes every operation atomically (unless a check fails); the batch cannot be used again. */
  write(options?: WriteOptions): Promise<BatchResult> {
    if (this.#written) return Promise.reject(new SiltError("CLOSED", "this batch was already written"));
    this.#written = true;
    const ops = this.#ops;
    this.#ops = [];
    return this.#write(ops, this.#checks, options);
  }
}
