// Open tables, bounded in number (each holds a file handle; its index and
// filter blocks live in the core table, core/read_state.ts). Open tables are
// registered with the core's read state, so point lookups and scans find
// their index and filter without asking; the least recently asked-for table
// is closed first, and leaves the registry then. A scan reading a closed
// table's index keeps it alive through the core table's reference count, and
// reopens the file through get() when it needs a block. Tables in a bucket
// open asynchronously (getAsync); two callers asking for the same table at
// once share one open.

import type { ReadState } from "../wasm/read_state.ts";
import type { TableFiles } from "./table_files.ts";
import type { TableReader } from "./table_reader.ts";

/**
 * The open tables of a database, at most `capacity` of them, least recently
 * asked-for closed first; each is registered with the read state while open.
 *
 * @example
 * ```ts
 * import type { ReadState } from "../wasm/read_state.ts";
 * import type { TableFiles } from "./table_files.ts";
 * declare const files: TableFiles;
 * declare const readState: ReadState;
 * const tables = new TableCache(files, 500, readState);
 * const table = tables.get(7); // opened, checked and registered if it was not open
 * ```
 */
export class TableCache {
  readonly files: TableFiles;
  readonly #capacity: number;
  // Map iteration order is the order of use: least recent first.
  #tables = new Map<number, TableReader>();
  #opening = new Map<number, Promise<TableReader>>();
  /** Tables an asynchronous lookup in flight holds open (never closed to make room). */
  #pinned = new Map<number, number>();
  readonly #registry: ReadState;

  /** Tables are registered with `readState` while open. */
  constructor(files: TableFiles, capacity: number, readState: ReadState) {
    this.files = files;
    this.#registry = readState;
    this.#capacity = Math.max(1, capacity);
  }

  /** The open table of file number n; opens (and checks) it if needed, synchronously (tables on disk). */
  get(n: number): TableReader {
    const table = this.#touch(n);
    return table ?? this.#add(n, this.files.open(n));
  }

  /** The open table of file number n; opens (and checks) it if needed. */
  async getAsync(n: number): Promise<TableReader> {
    const table = this.#touch(n);
    if (table !== undefined) return table;
    let opening = this.#opening.get(n);
    if (opening === undefined) {
      opening = this.files.openAsync(n).then((t) => this.#add(n, t)).finally(() => this.#opening.delete(n));
      this.#opening.set(n, opening);
    }
    return await opening;
  }

  /** The path of table file n. */
  pathOf(n: number): string {
    return this.files.pathOf(n);
  }

  /** Keeps table n open (it is open now) until unpin(n), whatever the capacity. */
  pin(n: number): void {
    this.#pinned.set(n, (this.#pinned.get(n) ?? 0) + 1);
  }

  /** Undoes one pin(n). */
  unpin(n: number): void {
    const pins = (this.#pinned.get(n) ?? 0) - 1;
    if (pins > 0) this.#pinned.set(n, pins);
    else this.#pinned.delete(n);
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

  #touch(n: number): TableReader | undefined {
    const table = this.#tables.get(n);
    if (table !== undefined) {
      this.#tables.delete(n);
      this.#tables.set(n, table);
    }
    return table;
  }

  #add(n: number, table: TableReader): TableReader {
    const open = this.#tables.get(n);
    if (open !== undefined) {
      table.close(); // opened twice (a synchronous open raced an asynchronous one): keep the first
      return open;
    }
    this.#tables.set(n, table);
    this.#registry.addTable(table.handle);
    for (const [old, t] of this.#tables) {
      if (this.#tables.size <= this.#capacity) break;
      if (old !== n && !this.#pinned.has(old)) this.#close(old, t);
    }
    return table;
  }

  #close(n: number, table: TableReader): void {
    this.#tables.delete(n);
    this.#registry.removeTable(n);
    table.close();
  }
}
