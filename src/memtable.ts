// A memtable in the database: the core memtable (src/wasm/memtable.ts) and
// what keeps it alive. The active one belongs to the commit pipeline
// (src/write/commit.ts), the immutable ones to the scheduler
// (src/background/scheduler.ts), which retires each once it is flushed;
// scans reference the ones they read (src/read/read_view.ts).

import type { Memtable } from "./wasm/memtable.ts";

/**
 * A memtable in the database, and what keeps it alive.
 *
 * @example
 * ```ts
 * import { Memtable } from "./wasm/memtable.ts";
 * const handle: MemtableHandle = { mt: new Memtable(), firstLog: 7, refs: 0, retired: false };
 * handle.refs++; // a scan reads it
 * retireMemtable(handle); // flushed: freed once the scan lets go
 * ```
 */
export interface MemtableHandle {
  mt: Memtable;
  /** Smallest log file holding its data. */
  firstLog: number;
  /**
   * The first sequence it may hold: every write from it on is in this
   * memtable or a newer one (unknown for a memtable replayed from logs:
   * its smallest entry's).
   */
  firstSequence?: number;
  /** Readers (scans) using it. */
  refs: number;
  /** Flushed: freed when the last reader goes. */
  retired: boolean;
}

/**
 * Marks a flushed memtable retired; frees it now if no reader holds it.
 *
 * @example
 * ```ts
 * declare const handle: MemtableHandle; // an immutable memtable, now flushed
 * retireMemtable(handle);
 * ```
 */
export function retireMemtable(handle: MemtableHandle): void {
  handle.retired = true;
  if (handle.refs === 0) handle.mt.free();
}

/**
 * Gives a reader's reference back; frees a retired memtable with its last reader.
 *
 * @example
 * ```ts
 * declare const handle: MemtableHandle;
 * handle.refs++; // a scan reads it
 * releaseMemtable(handle); // the scan is done
 * ```
 */
export function releaseMemtable(handle: MemtableHandle): void {
  handle.refs--;
  if (handle.retired && handle.refs === 0) handle.mt.free();
}
