// The core's table builder (core/table_builder.ts draws the table layout):
// entries in, table bytes out through a staging buffer. The one path that
// turns these bytes into a table file is src/table/table_writer.ts.

import {
  type Compression,
  RESTART_INTERVAL,
  type TableRangeTombstone,
  type TableSummary,
} from "../format/table_format.ts";
import { TABLE_CODEC_LZ4, TABLE_CODEC_NONE } from "./_core_abi.ts";
import { sequenceOf, userKeyOf } from "../format/internal_key.ts";
import { bytes, core, scratch } from "./instance.ts";

/**
 * A table being built in linear memory. Call free() when done.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * import type { Memtable } from "./memtable.ts";
 * declare const memtable: Memtable, file: StorageFile; // an immutable memtable; a new table file
 * const builder = new TableBuilder(4096, 10, "lz4");
 * for (let cursor = memtable.first(); cursor !== 0;) {
 *   cursor = builder.addMemtable(cursor, 256 << 10);
 *   await file.append(builder.takeStaged());
 * }
 * builder.finish();
 * await file.append(builder.takeStaged());
 * const table = builder.built(); // { size, smallest, largest, ... }
 * builder.free();
 * ```
 */
export class TableBuilder {
  /** Address of the core builder (src/wasm/ only). */
  readonly ptr: number;
  #freed = false;
  #rangeTombstones: TableRangeTombstone[] = [];

  /** compression: how data blocks are stored ("lz4": compressed when that saves an eighth or more). */
  constructor(blockSize: number, bloomBitsPerKey: number, compression: Compression) {
    const codec = compression === "lz4" ? TABLE_CODEC_LZ4 : TABLE_CODEC_NONE;
    this.ptr = core.tbNew(blockSize, RESTART_INTERVAL, bloomBitsPerKey, codec);
  }

  /** Adds memtable entries from `cursor` (Memtable.first()) until maxStaged bytes are staged; returns where to go on (0: done). */
  addMemtable(cursor: number, maxStaged: number): number {
    return core.tbAddMemtable(this.ptr, cursor, maxStaged);
  }

  /** Adds one entry: an internal key (user key + trailer) after every key added so far, and its value. */
  addEntry(internalKey: Uint8Array, value: Uint8Array): void {
    const user = userKeyOf(internalKey);
    const ptr = scratch(user.length + value.length);
    const mem = bytes();
    mem.set(user, ptr);
    mem.set(value, ptr + user.length);
    const kind = internalKey[internalKey.length - 8];
    core.tbAddEntry(this.ptr, ptr, user.length, sequenceOf(internalKey), kind, ptr + user.length, value.length);
  }

  /**
   * Adds range tombstones (src/format/range_tombstone_format.ts): sorted by
   * start, then newest first, after every one added so far; before finish().
   */
  addRangeTombstones(tombstones: readonly TableRangeTombstone[]): void {
    for (const t of tombstones) {
      const ptr = scratch(t.start.length + t.end.length);
      const mem = bytes();
      mem.set(t.start, ptr);
      mem.set(t.end, ptr + t.start.length);
      core.tbAddRangeDelete(this.ptr, ptr, t.start.length, ptr + t.start.length, t.end.length, t.sequence);
      this.#rangeTombstones.push(t);
    }
  }

  /** Range tombstones added so far. */
  get rangeTombstoneCount(): number {
    return this.#rangeTombstones.length;
  }

  /** Entries added so far. */
  get entries(): number {
    return core.tbEntries(this.ptr);
  }

  /** Bytes staged and not yet taken. */
  get stagedLength(): number {
    return core.tbStagedLength(this.ptr);
  }

  /** The staged bytes, copied out of linear memory; the staging buffer is emptied. */
  takeStaged(): Uint8Array {
    const at = core.tbStaged(this.ptr);
    const chunk = bytes().slice(at, at + core.tbStagedLength(this.ptr));
    core.tbClearStaged(this.ptr);
    return chunk;
  }

  /** Stages the rest of the table: the last data block, filter, index, properties and footer. */
  finish(): void {
    core.tbFinish(this.ptr);
  }

  /** What the finished table holds (after finish()). */
  built(): TableSummary {
    const tb = this.ptr;
    const mem = bytes();
    const s = core.tbSmallestKey(tb);
    const l = core.tbLargestKey(tb);
    return {
      size: core.tbFileSize(tb),
      smallest: mem.slice(s, s + core.tbSmallestKeyLength(tb)),
      largest: mem.slice(l, l + core.tbLargestKeyLength(tb)),
      smallestSequence: core.tbSmallestSequence(tb),
      largestSequence: core.tbLargestSequence(tb),
      entries: core.tbEntries(tb),
      ...(this.#rangeTombstones.length > 0 ? { rangeTombstones: this.#rangeTombstones } : {}),
    };
  }

  /** Frees the builder. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    core.tbFree(this.ptr);
  }
}
