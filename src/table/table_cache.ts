// Open tables, bounded in number (each holds a file handle; its index and
// filter blocks live in the core table, core/read_state.ts). Open tables are
// registered with the core's read state, so point lookups and scans find
// their index and filter without asking; the least recently asked-for table
// is closed first, and leaves the registry then. A scan reading a closed
// table's index keeps it alive through the core table's reference count, and
// reopens the file through get() when it needs a block.

import type { Storage } from "../storage/storage.ts";
import type { ReadState } from "../wasm/read_state.ts";
import { joinPath } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import { TableReader } from "./table_reader.ts";

/**
 * The open tables of a database, at most `capacity` of them, least recently
 * asked-for closed first; each is registered with the read state while open.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { ReadState } from "../wasm/read_state.ts";
 * declare const fs: Storage, readState: ReadState; // the database's storage and read state
 * const tables = new TableCache(fs, "/db", 500, readState);
 * const table = tables.get(7); // opened, checked and registered if it was not open
 * ```
 */
export class TableCache {
  readonly #fs: Storage;
  readonly #dir: string;
  readonly #capacity: number;
  // Map iteration order is the order of use: least recent first.
  #tables = new Map<number, TableReader>();
  readonly #registry: ReadState;

  /** Tables open in `dir` are registered with `readState` while open. */
  constructor(fs: Storage, dir: string, capacity: number, readState: ReadState) {
    this.#registry = readState;
    this.#fs = fs;
    this.#dir = dir;
    this.#capacity = Math.max(1, capacity);
  }

  /** The open table of file number n; opens (and checks) it if needed. */
  get(n: number): TableReader {
    let table = this.#tables.get(n);
    if (table !== undefined) {
      this.#tables.delete(n);
      this.#tables.set(n, table);
      return table;
    }
    table = TableReader.open(this.#fs, this.pathOf(n), n);
    this.#tables.set(n, table);
    this.#registry.addTable(table.handle);
    for (const [old, t] of this.#tables) {
      if (this.#tables.size <= this.#capacity) break;
      this.#close(old, t);
    }
    return table;
  }

  /** The path of table file n. */
  pathOf(n: number): string {
    return joinPath(this.#dir, tableFileName(n));
  }

  /** Closes a file's table (it was deleted). */
  evict(n: number): void {
    const table = this.#tables.get(n);
    if (table !== undefined) this.#close(n, table);
  }

  /** Closes every table. */
  close(): void {
    for (const [n, table] of this.#tables) this.#close(n, table);
  }

  #close(n: number, table: TableReader): void {
    this.#tables.delete(n);
    this.#registry.removeTable(n);
    table.close();
  }
}
