// The chained batch of SiltLevel (`db.batch().put(...).del(...).write()`):
// operations go straight into a siltdb WriteBatch, encoded as they are added,
// and write() commits them as one log record.

import { AbstractChainedBatch } from "abstract-level";
import type { WriteBatch } from "../write/write_batch.ts";
import { toLevelError } from "./errors.ts";
import { toSilt } from "./format.ts";
import { writeOptions } from "./write_options.ts";

// abstract-level's typings omit the constructor's options ({ add }).
const BatchBase = AbstractChainedBatch as unknown as new (db: object) => AbstractChainedBatch<object, unknown, unknown>;

/**
 * A chained batch of a {@linkcode SiltLevel} database: atomic, all or nothing.
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data");
 * await db.batch().put("a", "1").del("b").write({ sync: true });
 * await db.close();
 * ```
 */
export class SiltChainedBatch extends BatchBase {
  #batch: WriteBatch<Uint8Array, Uint8Array>;

  /** @internal Batches come from `db.batch()`. */
  constructor(db: object, batch: WriteBatch<Uint8Array, Uint8Array>) {
    super(db);
    this.#batch = batch;
  }

  /** @internal abstract-level's private API: `put()` calls it. */
  _put(key: unknown, value: unknown): void {
    try {
      this.#batch.put(toSilt(key), toSilt(value));
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `del()` calls it. */
  _del(key: unknown): void {
    try {
      this.#batch.delete(toSilt(key));
    } catch (err) {
      throw toLevelError(err);
    }
  }

  /** @internal abstract-level's private API: `clear()` calls it. */
  _clear(): void {
    this.#batch.clear();
  }

  /** @internal abstract-level's private API: `write()` calls it. */
  async _write(options: Record<string, unknown>): Promise<void> {
    try {
      await this.#batch.write(writeOptions(options));
    } catch (err) {
      throw toLevelError(err);
    }
  }
}
