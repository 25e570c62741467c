// Point lookups: one core call (core/point_get.ts) searches the memtables,
// the files of every level, bloom filters, indexes, the block cache and the
// data block. When the core needs a table opened or a block read, this file
// does the I/O, hands the result to the core and calls again.
//
// The core's read state (core/read_state.ts) holds the memtable list, the
// current version's file bounds packed into linear memory, the open tables
// and the block cache. It is brought up to date lazily, before a lookup,
// when the memtables or the version changed (three identity checks).

import { core, RESULT, view, words } from "../_wasm.ts";
import { corruption } from "../errors.ts";
import { BlockCache } from "../table/block_cache.ts";
import type { TableCache } from "../table/table_cache.ts";
import type { MemtableHandle } from "../memtable.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { FILE_RECORD, keyBytesOf, writeFileRecords } from "../table/run_source.ts";

// Statuses of core dbGet.
const ABSENT = 0;
const FOUND = 1;
const DELETED = 2;
const NEED_TABLE = 3;
const NEED_BLOCK = 4;
const CORRUPT_INDEX = 5;
const CORRUPT_BLOCK = 6;

const MAX_MEMTABLES = 8; // core/read_state.ts

/**
 * Point lookups of one database.
 *
 * @example
 * ```ts
 * const reader = new PointReader(32 << 20, tables);
 * tables.register(reader.rs);
 * reader.update(activeMemtable, [], version.levels);
 * const value = reader.get(keyPtr, keyLen, sequence, (ptr, len) => bytes().slice(ptr, ptr + len));
 * reader.free();
 * ```
 */
export class PointReader {
  /** The core read state. */
  readonly rs: number;
  /** The block cache (lives in the read state). */
  readonly blocks: BlockCache;
  readonly #tables: TableCache;
  #active: MemtableHandle | undefined;
  #immutableCount = -1;
  #levels: unknown;
  #freed = false;

  constructor(cacheCapacity: number, tables: TableCache) {
    this.rs = core.rsNew(cacheCapacity);
    this.blocks = new BlockCache(core.rsCache(this.rs), cacheCapacity);
    this.#tables = tables;
  }

  /**
   * Brings the read state up to date with the memtables (the active one,
   * then the immutable ones, newest first) and a version's levels. Cheap
   * when nothing changed: a rotation changes the active memtable, a finished
   * flush the number of immutable ones, an installed version its levels.
   */
  update(
    active: MemtableHandle,
    immutables: readonly MemtableHandle[],
    levels: readonly (readonly FileMeta[])[],
  ): void {
    if (active !== this.#active || immutables.length !== this.#immutableCount) {
      const count = 1 + immutables.length;
      if (count > MAX_MEMTABLES) {
        throw new Error(`siltdb internal error: ${count} memtables (at most ${MAX_MEMTABLES})`);
      }
      const ptr = core.bufferAlloc(4 * count);
      const w = words();
      w[ptr >>> 2] = active.mt.ptr;
      immutables.forEach((h, i) => w[(ptr >>> 2) + 1 + i] = h.mt.ptr);
      core.rsSetMemtables(this.rs, ptr, count);
      core.bufferFree(ptr);
      this.#active = active;
      this.#immutableCount = immutables.length;
    }
    if (levels !== this.#levels) {
      core.rsSetVersion(this.rs, packLevels(levels));
      this.#levels = levels;
    }
  }

  /**
   * The value of the key (keyLen bytes at keyPtr) as of sequence, decoded by
   * `decode` while it lies in linear memory; undefined when absent or deleted.
   * The key must stay where it is while this runs (it allocates only blocks).
   */
  get<V>(keyPtr: number, keyLen: number, sequence: number, decode: (ptr: number, len: number) => V): V | undefined {
    if (this.lookup(keyPtr, keyLen, sequence) !== FOUND) return undefined;
    const w = words();
    return decode(w[RESULT >>> 2], w[(RESULT >>> 2) + 1]);
  }

  /**
   * Looks the key up: 1 found (its value's address and length in the result
   * area, valueAt()/valueLength() of memtable.ts), 2 deleted, 0 absent.
   * Opens tables and reads blocks as the core asks.
   */
  lookup(keyPtr: number, keyLen: number, sequence: number): 0 | 1 | 2 {
    let asked = "";
    for (let resume = 0;; resume = 1) {
      const status = core.dbGet(this.rs, keyPtr, keyLen, sequence, resume);
      if (status === FOUND || status === ABSENT || status === DELETED) return status;
      const file = words()[(RESULT + 24) >>> 2];
      const dv = view();
      const offset = dv.getFloat64(RESULT + 8, true);
      // Each request is answered before the lookup resumes; the same one twice is a bug, not a loop to spin in.
      const request = `${status}:${file}:${offset}`;
      if (request === asked) throw new Error(`siltdb internal error: a lookup asked twice for ${request}`);
      asked = request;
      if (status === NEED_TABLE) {
        this.#tables.get(file); // opens and registers it
        continue;
      }
      if (status === NEED_BLOCK) {
        const size = dv.getFloat64(RESULT + 16, true);
        const table = this.#tables.get(file);
        this.blocks.insert(file, offset, table.readBlock({ offset, size }));
        continue;
      }
      const table = this.#tables.get(file);
      if (status === CORRUPT_INDEX) throw corruption(table.path, table.footer.index.offset, "malformed index block");
      if (status === CORRUPT_BLOCK) throw corruption(table.path, offset, "malformed data block");
      throw new Error(`siltdb internal error: unknown lookup status ${status}`);
    }
  }

  /** Bloom filter counters: lookups that consulted a filter, and those it answered. */
  bloomStats(): { checked: number; useful: number } {
    return { checked: core.rsBloomChecked(this.rs), useful: core.rsBloomUseful(this.rs) };
  }

  /** Frees the read state and every cached block. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    core.rsFree(this.rs);
  }
}

/** The levels' file bounds in the core's packed form (core/read_state.ts), holding one reference for the read state. */
function packLevels(levels: readonly (readonly FileMeta[])[]): number {
  const files = levels.reduce((n, level) => n + level.length, 0);
  const head = 8 + levels.length * 8;
  const ptr = core.bufferAlloc(head + files * FILE_RECORD + levels.reduce((n, level) => n + keyBytesOf(level), 0));
  const dv = view();
  let records = ptr + head;
  let keys = records + files * FILE_RECORD;
  dv.setUint32(ptr, 1, true);
  dv.setUint32(ptr + 4, levels.length, true);
  levels.forEach((level, l) => {
    dv.setUint32(ptr + 8 + l * 8, level.length, true);
    dv.setUint32(ptr + 12 + l * 8, records, true);
    keys = writeFileRecords(level, records, keys);
    records += level.length * FILE_RECORD;
  });
  return ptr;
}
