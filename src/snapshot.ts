// Snapshots: a sequence number that reads are pinned to.

import { SiltError } from "./errors.ts";
import { checkCallOptions } from "./options.ts";
import type { Scan, ScanOptions, ScanSync } from "./iter/db_iterator.ts";

/** What a snapshot reads through: its database's read path at a sequence. */
export interface SnapshotReader<K, V> {
  getAt(key: unknown, sequence: number): V | undefined;
  scanAt(options: ScanOptions<unknown> | undefined, sequence: number): Scan<K, V>;
  scanSyncAt(options: ScanOptions<unknown> | undefined, sequence: number): ScanSync<K, V>;
  releaseSnapshot(snapshot: Snapshot<K, V>): void;
}

/**
 * A consistent, read-only view of the database as of the moment it was taken:
 * later writes are invisible to it. Release it when done, so that old
 * versions it pins can be dropped.
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
 * await db.close();
 * ```
 */
export class Snapshot<K = Uint8Array, V = Uint8Array> {
  /** The sequence number of the last write the snapshot sees. */
  readonly sequence: number;
  #reader: SnapshotReader<K, V> | undefined;

  /** @internal Snapshots come from `db.snapshot()`. */
  constructor(reader: SnapshotReader<K, V>, sequence: number) {
    this.#reader = reader;
    this.sequence = sequence;
  }

  /** True until release() (or the database's close). */
  get live(): boolean {
    return this.#reader !== undefined;
  }

  #use(): SnapshotReader<K, V> {
    if (this.#reader === undefined) throw new SiltError("RELEASED", "the snapshot was released");
    return this.#reader;
  }

  /** The value of key as of the snapshot, or undefined. */
  getSync(key: K | string | Uint8Array, options?: Record<string, never>): V | undefined {
    if (options !== undefined) checkCallOptions(options, "get", []);
    return this.#use().getAt(key, this.sequence);
  }

  /** The value of key as of the snapshot, or undefined. */
  get(key: K | string | Uint8Array, options?: Record<string, never>): Promise<V | undefined> {
    try {
      return Promise.resolve(this.getSync(key, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** An ordered scan as of the snapshot (`for await`). */
  scan(options?: ScanOptions<K>): Scan<K, V> {
    return this.#use().scanAt(options, this.sequence);
  }

  /** An ordered scan as of the snapshot (`for...of`). */
  scanSync(options?: ScanOptions<K>): ScanSync<K, V> {
    return this.#use().scanSyncAt(options, this.sequence);
  }

  /** Gives the snapshot up. Scans already started keep working. Idempotent. */
  release(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.releaseSnapshot(this);
  }
}
