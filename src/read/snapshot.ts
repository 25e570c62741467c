// Snapshots: reads pinned to a sequence number (the reads themselves are
// reads.ts). A live snapshot is tracked by the reader, so that compactions
// keep every version it can see.

import { DISPOSE } from "../_dispose.ts";
import { SiltError } from "../errors.ts";
import type { Reader } from "./reader.ts";
import { Reads } from "./reads.ts";

/**
 * A consistent, read-only view of the database as of the moment it was taken:
 * later writes are invisible to it. Release it when done (or take it with
 * `using`), so that old versions it pins can be dropped.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { valueEncoding: "utf8" });
 * await db.put("k", "old");
 * const snap = db.snapshot();
 * await db.put("k", "new");
 * console.log(snap.getSync("k")); // "old"
 * snap.release();
 * {
 *   using snap2 = db.snapshot(); // released at the end of the block
 *   console.log(await snap2.getMany(["k", "missing"])); // ["new", undefined]
 * }
 * await db.close();
 * ```
 */
export class Snapshot<K = Uint8Array, V = Uint8Array> extends Reads<K, V> {
  /** The sequence number of the last write the snapshot sees. */
  readonly sequence: number;
  #reader: Reader<V> | undefined;
  #untrack: () => void;

  /** @internal Snapshots come from `db.snapshot()`. */
  constructor(reader: Reader<V>, sequence: number) {
    super({
      reader: () => {
        if (this.#reader === undefined) throw new SiltError("RELEASED", "the snapshot was released");
        return this.#reader;
      },
      sequence: () => this.sequence,
    });
    this.#reader = reader;
    this.sequence = sequence;
    this.#untrack = reader.trackSnapshot(sequence, () => this.release());
  }

  /**
   * True until release() (or the database's close).
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * const snap = db.snapshot();
   * console.log(snap.live); // true
   * snap.release();
   * console.log(snap.live); // false
   * await db.close();
   * ```
   */
  get live(): boolean {
    return this.#reader !== undefined;
  }

  /**
   * Gives the snapshot up. Scans already started keep working. Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.batch().put("a", "1").put("b", "2").write();
   * const snap = db.snapshot();
   * const keys = snap.keysSync();
   * snap.release(); // old versions it pinned may now be dropped
   * console.log(keys.toArray()); // ["a", "b"]: a scan already started keeps working
   * await db.close();
   * ```
   */
  release(): void {
    this.#reader = undefined;
    this.#untrack();
  }

  /**
   * Releases the snapshot (`using snap = db.snapshot()`). Idempotent.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * {
   *   using snap = db.snapshot();
   *   console.log(snap.getSync("k")); // "v"
   * } // released here
   * await db.close();
   * ```
   */
  [DISPOSE](): void {
    this.release();
  }
}
