// Open tables, bounded in number (each holds a file handle and its index and
// filter blocks in linear memory). A table in use by a scan is pinned and
// stays open; unpinned tables are closed least recently used first. Open
// tables are registered with the core's read state (core/read_state.ts), so
// point lookups find their index and filter without asking; a table leaves
// the registry when it leaves the cache, even if a scan still holds it.

import { core } from "../_wasm.ts";
import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import { TableReader } from "./table_reader.ts";

interface Slot {
  table: TableReader;
  pins: number;
}

/**
 * @example
 * ```ts
 * const tables = new TableCache(fs, "/db", 500);
 * const table = tables.acquire(7);
 * tables.release(table);
 * ```
 */
export class TableCache {
  readonly #fs: Storage;
  readonly #dir: string;
  readonly #capacity: number;
  #slots = new Map<number, Slot>();
  #opened = 0;
  #registry = 0;

  constructor(fs: Storage, dir: string, capacity: number) {
    this.#fs = fs;
    this.#dir = dir;
    this.#capacity = Math.max(1, capacity);
  }

  /** Registers every open table, from now on, with a core read state. */
  register(rs: number): void {
    this.#registry = rs;
    for (const slot of this.#slots.values()) core.rsAddTable(rs, slot.table.handle);
  }

  /** Tables opened since the cache was made (for stats). */
  get opened(): number {
    return this.#opened;
  }

  /** The open table of file number n, pinned. Opens (and checks) it if needed. */
  acquire(n: number): TableReader {
    let slot = this.#slots.get(n);
    if (slot !== undefined) {
      this.#slots.delete(n);
      this.#slots.set(n, slot);
    } else {
      slot = { table: TableReader.open(this.#fs, joinPath(this.#dir, tableFileName(n)), n), pins: 0 };
      this.#opened++;
      this.#slots.set(n, slot);
      if (this.#registry !== 0) core.rsAddTable(this.#registry, slot.table.handle);
      this.#trim();
    }
    slot.pins++;
    return slot.table;
  }

  /**
   * The open table of file number n, for a read that completes before the
   * caller returns (no pin, no LRU reordering: cheaper on the point-read path).
   */
  get(n: number): TableReader {
    const slot = this.#slots.get(n);
    if (slot !== undefined) return slot.table;
    const table = this.acquire(n);
    this.release(table);
    return table;
  }

  /** The path of table file n. */
  pathOf(n: number): string {
    return joinPath(this.#dir, tableFileName(n));
  }

  /** Unpins a table from acquire(). */
  release(table: TableReader): void {
    const slot = this.#slots.get(table.number);
    if (slot !== undefined && slot.table === table) {
      slot.pins--;
      this.#trim();
    } else {
      table.close(); // evicted while pinned: closed by its last user
    }
  }

  /** Closes a file's table (it was deleted). */
  evict(n: number): void {
    const slot = this.#slots.get(n);
    if (slot === undefined) return;
    this.#remove(n);
    if (slot.pins === 0) slot.table.close();
  }

  /** Closes every table. */
  close(): void {
    for (const [n, slot] of this.#slots) {
      this.#remove(n);
      slot.table.close();
    }
  }

  #trim(): void {
    if (this.#slots.size <= this.#capacity) return;
    for (const [n, slot] of this.#slots) {
      if (this.#slots.size <= this.#capacity) break;
      if (slot.pins === 0) {
        this.#remove(n);
        slot.table.close();
      }
    }
  }

  #remove(n: number): void {
    this.#slots.delete(n);
    if (this.#registry !== 0) core.rsRemoveTable(this.#registry, n);
  }
}
