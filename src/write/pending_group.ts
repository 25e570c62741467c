// The pending group: log records being encoded and committed, one after
// another, in a buffer of linear memory, until the group is written (to a
// log file, or as a WAL object of a bucket) and applied to the memtable.
// The buffer grows by doubling and is given back when a huge record made
// it large.

import { allocBuffer, bytes, freeBuffer } from "../wasm/instance.ts";

const INITIAL_BYTES = 64 << 10;

/**
 * Records waiting to be written, in linear memory.
 *
 * @example
 * ```ts
 * const group = new PendingGroup();
 * const at = group.reserve(64); // encode a record of up to 64 bytes at `at`
 * group.added(40); // it took 40
 * console.log(group.length); // 40
 * group.clear(1 << 22);
 * ```
 */
export class PendingGroup {
  #buf = 0;
  #cap = 0;
  #len = 0;

  /** Bytes of records in the group. */
  get length(): number {
    return this.#len;
  }

  /** Address of the first record. */
  get start(): number {
    return this.#buf;
  }

  /**
   * Address where a record of up to `size` bytes can be encoded, at the end
   * of the group. May grow linear memory: take views afterwards.
   */
  reserve(size: number): number {
    if (this.#len + size > this.#cap) {
      let cap = Math.max(this.#cap * 2, INITIAL_BYTES);
      while (cap < this.#len + size) cap *= 2;
      const grown = allocBuffer(cap);
      if (this.#len > 0) bytes().copyWithin(grown, this.#buf, this.#buf + this.#len);
      if (this.#buf !== 0) freeBuffer(this.#buf);
      this.#buf = grown;
      this.#cap = cap;
    }
    return this.#buf + this.#len;
  }

  /** True when `record` is where the next record goes (what reserve() returned last). */
  atEnd(record: number): boolean {
    return record === this.#buf + this.#len;
  }

  /** The record just encoded at the end took `length` bytes. */
  added(length: number): void {
    this.#len += length;
  }

  /** The group's bytes (a view, valid until memory grows or the group changes). */
  view(): Uint8Array {
    return bytes().subarray(this.#buf, this.#buf + this.#len);
  }

  /** Empties the group; gives the buffer back when it grew past `keepBytes`. */
  clear(keepBytes: number): void {
    this.#len = 0;
    if (this.#cap > keepBytes) this.free();
  }

  /** Frees the buffer (the group is empty). */
  free(): void {
    if (this.#buf !== 0) freeBuffer(this.#buf);
    this.#buf = 0;
    this.#cap = 0;
    this.#len = 0;
  }
}
