// WriteBatch: puts and deletes gathered in JavaScript and committed as one WAL
// record, all or nothing. The entries are encoded as they are added, in the
// entry layout of the batch payload (core/write_batch.ts):
//
//   u8 kind (0 = delete, 1 = put) | u32 key length | key | put only: u32 value length | value

import type { Encoding } from "./encoding.ts";
import { invalidArgument, SiltError } from "./errors.ts";
import { KIND_DELETE, KIND_PUT } from "./format/internal_key.ts";
import { encodeUtf8Into } from "./_utf8.ts";
import type { WriteOptions } from "./options.ts";


/** What a batch needs from its database. */
export interface BatchTarget {
  readonly keyEncoding: Encoding<unknown>;
  readonly valueEncoding: Encoding<unknown>;
  readonly maxKeySize: number;
  readonly maxValueSize: number;
  /** Commits encoded entries as one atomic write (count 0: nothing to apply, but sync still syncs). */
  commitEntries(entries: Uint8Array, count: number, options: WriteOptions | undefined): Promise<void>;
}

/**
 * An atomic group of writes: either every operation is applied, or none.
 * Operations apply in order, so a later put of the same key wins.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data");
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
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  #count = 0;
  #written = false;

  /** @internal Batches come from `db.batch()`. */
  constructor(target: BatchTarget) {
    this.#target = target;
  }

  /** Number of operations in the batch. */
  get length(): number {
    return this.#count;
  }

  /** Bytes the encoded operations take. */
  get byteLength(): number {
    return this.#len;
  }

  /** Adds a put. Throws INVALID_ARGUMENT (and adds nothing) for a bad key or value. */
  put(key: K | string | Uint8Array, value: V | string | Uint8Array): this {
    this.#checkOpen();
    const start = this.#len;
    try {
      this.#byte(KIND_PUT);
      this.#field(this.#target.keyEncoding.encode(key, "key"), this.#target.maxKeySize, "key");
      this.#field(this.#target.valueEncoding.encode(value, "value"), this.#target.maxValueSize, "value");
    } catch (err) {
      this.#len = start;
      throw err;
    }
    this.#count++;
    return this;
  }

  /** Adds a delete. Throws INVALID_ARGUMENT (and adds nothing) for a bad key. */
  delete(key: K | string | Uint8Array): this {
    this.#checkOpen();
    const start = this.#len;
    try {
      this.#byte(KIND_DELETE);
      this.#field(this.#target.keyEncoding.encode(key, "key"), this.#target.maxKeySize, "key");
    } catch (err) {
      this.#len = start;
      throw err;
    }
    this.#count++;
    return this;
  }

  /** Removes every operation. */
  clear(): this {
    this.#checkOpen();
    this.#len = 0;
    this.#count = 0;
    return this;
  }

  /**
   * Commits every operation atomically (one WAL record). A batch can be
   * written once. With `sync: true`, resolves once the batch and every write
   * before it are durable (an empty batch then just syncs the log).
   */
  write(options?: WriteOptions): Promise<void> {
    if (this.#written) return Promise.reject(new SiltError("CLOSED", "this batch was already written"));
    this.#written = true;
    return this.#target.commitEntries(this.#buf.subarray(0, this.#len), this.#count, options);
  }

  #checkOpen(): void {
    if (this.#written) throw new SiltError("CLOSED", "this batch was already written");
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  #field(data: string | Uint8Array, max: number, what: string): void {
    const room = typeof data === "string" ? data.length * 3 : data.length;
    this.#reserve(4 + room);
    const at = this.#len + 4;
    const n = typeof data === "string" ? encodeUtf8Into(data, this.#buf, at) : (this.#buf.set(data, at), data.length);
    if (n > max) throw invalidArgument(`${what} is ${n} bytes, over the maximum of ${max} (option max${what === "key" ? "Key" : "Value"}Size)`);
    this.#view.setUint32(this.#len, n, true);
    this.#len = at + n;
  }
}
