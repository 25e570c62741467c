// A run source of the core (core/sources.ts: one L0 table, or a level's
// tables in key order) that stopped because it needs something: which file,
// which block, and the calls that hand it over. Scans and compactions stop
// on such a source; src/table/block_provider.ts answers it.

import { SourceState } from "./abi.ts";
import { core } from "./instance.ts";

/**
 * What a run source that stopped asks for: the table of `file` (its index),
 * or the data block at `offset` (`size` bytes without trailer) of it; or
 * the block at `offset` was malformed.
 *
 * @example
 * ```ts
 * declare const source: number; // a run source that stopped
 * const need = sourceNeed(source); // { file: 7, table: false, offset: 8192, size: 4021 }
 * ```
 */
export interface SourceNeed {
  file: number;
  /** True: it needs the table opened (its index); false: the block. */
  table: boolean;
  offset: number;
  size: number;
}

/**
 * What the run source at `source` needs (or where it found damage).
 *
 * @example
 * ```ts
 * import type { TableCache } from "../table/table_cache.ts";
 * import type { CoreScan } from "./scan_iterator.ts";
 * declare const scan: CoreScan, tables: TableCache;
 * const source = scan.stoppedSource();
 * const need = sourceNeed(source);
 * if (need.table) provideTable(source, tables.get(need.file).handle);
 * ```
 */
export function sourceNeed(source: number): SourceNeed {
  return {
    file: core.runFileNumber(source),
    table: core.srcState(source) === SourceState.NeedIndex,
    offset: core.runBlockOffset(source),
    size: core.runBlockSize(source),
  };
}

/**
 * Hands the source the open table of the file it needs (a core table,
 * TableReader.handle); the source references it while it reads its index.
 *
 * @example
 * ```ts
 * import type { TableReader } from "../table/table_reader.ts";
 * declare const source: number, table: TableReader; // a source that needs the index of table's file
 * provideTable(source, table.handle);
 * ```
 */
export function provideTable(source: number, table: number): void {
  core.runProvideTable(source, table);
}

/**
 * Hands the source the block it needs as a pinned cache entry; the source takes over the pin.
 *
 * @example
 * ```ts
 * import type { TableReader } from "../table/table_reader.ts";
 * import type { BlockCache } from "./block_cache.ts";
 * declare const source: number, cache: BlockCache, table: TableReader; // table: the file the source reads
 * const { file, offset, size } = sourceNeed(source);
 * provideCachedBlock(source, cache.pinned(file, offset, () => table.readBlock({ offset, size })));
 * ```
 */
export function provideCachedBlock(source: number, entry: number): void {
  core.runProvideCached(source, entry);
}
