// The one answer to the core's "I need table F" and "I need block (F,
// offset, size)": a point lookup (src/read/get.ts), a scan
// (src/read/scan_cursor.ts) and a compaction (src/compaction/compactor.ts)
// each stop when what they read is not in linear memory yet. The provider
// opens the table (registering it with the read state, so the core finds
// its index and filter) or reads and checks the block into the block cache,
// and hands it over; the caller then resumes the core. The answers come
// synchronously for tables on disk, and asynchronously (answerLookupAsync,
// answerSourceAsync) for tables in a bucket, or anywhere.

import { corruption, type SiltError } from "../errors.ts";
import { Lookup, resultBlockOffset, resultBlockSize, resultFile } from "../wasm/abi.ts";
import type { BlockCache } from "../wasm/block_cache.ts";
import { freeBuffer } from "../wasm/instance.ts";
import { provideCachedBlock, provideTable, sourceNeed } from "../wasm/run_source.ts";
import type { TableCache } from "./table_cache.ts";

/**
 * What an asynchronous lookup holds while it runs: tables kept open and
 * cache entries pinned (BlockProvider.release lets go).
 *
 * @example
 * ```ts
 * const holds: LookupHolds = { tables: [], blocks: [] };
 * ```
 */
export interface LookupHolds {
  tables: number[];
  blocks: number[];
}

/**
 * Tables and blocks for the core, from one table cache and one block cache
 * (those of a read state).
 *
 * @example
 * ```ts
 * import { Lookup } from "../wasm/abi.ts";
 * import type { ReadState } from "../wasm/read_state.ts";
 * import type { TableCache } from "./table_cache.ts";
 * declare const readState: ReadState, tables: TableCache; // tables registers what it opens with readState
 * declare const key: number, len: number, seq: number; // the key, in linear memory
 * const provider = new BlockProvider(tables, readState.cache);
 * for (let status = readState.lookup(key, len, seq, 0); status >= Lookup.NeedTable;) {
 *   provider.answerLookup(status);
 *   status = readState.lookup(key, len, seq, 1);
 * }
 * ```
 */
export class BlockProvider {
  readonly tables: TableCache;
  readonly cache: BlockCache;

  constructor(tables: TableCache, cache: BlockCache) {
    this.tables = tables;
    this.cache = cache;
  }

  /**
   * Answers the request of a point lookup that stopped with `status`
   * (NeedTable, NeedBlock; the request is in the result area); throws
   * CORRUPTION (file, offset) for the damage the Corrupt* statuses report.
   */
  answerLookup(status: Lookup): void {
    const file = resultFile();
    const table = this.tables.get(file); // opened, checked and registered if needed
    if (status === Lookup.NeedTable) return;
    const offset = resultBlockOffset();
    if (status === Lookup.NeedBlock) {
      this.cache.insert(file, offset, table.readBlock({ offset, size: resultBlockSize() }));
      return;
    }
    if (status === Lookup.CorruptIndex) {
      throw corruption(table.path, table.footer.index.offset, "malformed index block");
    }
    if (status === Lookup.CorruptBlock) throw corruption(table.path, offset, "malformed data block");
    throw new Error(`siltdb internal error: unknown lookup status ${status}`);
  }

  /**
   * answerLookup, reading what is needed asynchronously (a table in a bucket).
   * Read the result area before this: it awaits, and other lookups run
   * meanwhile. What it opens or reads stays (the table open, the block
   * pinned in the cache) until `holds` is released: a lookup that starts
   * over after each answer finds everything it read so far, however small
   * the caches.
   */
  async answerLookupAsync(
    status: Lookup,
    file: number,
    offset: number,
    size: number,
    holds: LookupHolds,
  ): Promise<void> {
    const table = await this.tables.getAsync(file);
    if (!holds.tables.includes(file)) {
      this.tables.pin(file);
      holds.tables.push(file);
    }
    if (status === Lookup.NeedTable) return;
    if (status === Lookup.NeedBlock) {
      const block = await table.readBlockAsync({ offset, size });
      let used = false;
      holds.blocks.push(this.cache.pinned(file, offset, () => {
        used = true;
        return block;
      }));
      if (!used) freeBuffer(block.ptr); // another lookup cached it meanwhile
      return;
    }
    if (status === Lookup.CorruptIndex) {
      throw corruption(table.path, table.footer.index.offset, "malformed index block");
    }
    if (status === Lookup.CorruptBlock) throw corruption(table.path, offset, "malformed data block");
    throw new Error(`siltdb internal error: unknown lookup status ${status}`);
  }

  /** Lets go of what a lookup held (see answerLookupAsync). */
  release(holds: LookupHolds): void {
    for (const n of holds.tables.splice(0)) this.tables.unpin(n);
    for (const entry of holds.blocks.splice(0)) this.cache.unpin(entry);
  }

  /** Answers a run source that stopped because it needs its file's table or a block of it. */
  answerSource(source: number): void {
    const need = sourceNeed(source);
    const table = this.tables.get(need.file);
    if (need.table) provideTable(source, table.handle);
    else provideCachedBlock(source, this.cache.pinned(need.file, need.offset, () => table.readBlock(need)));
  }

  /** answerSource, reading what is needed asynchronously (a table in a bucket, or anywhere). */
  async answerSourceAsync(source: number): Promise<void> {
    const need = sourceNeed(source);
    const table = await this.tables.getAsync(need.file);
    if (need.table) {
      provideTable(source, table.handle);
      return;
    }
    let entry = this.cache.lookupPinned(need.file, need.offset);
    if (entry === 0) {
      const block = await table.readBlockAsync(need);
      entry = this.cache.lookupPinned(need.file, need.offset); // another reader may have cached it meanwhile
      if (entry === 0) entry = this.cache.pinned(need.file, need.offset, () => block);
      else freeBuffer(block.ptr);
    }
    provideCachedBlock(source, entry);
  }

  /** The CORRUPTION error for a run source that found a malformed block. */
  sourceCorruption(source: number): SiltError {
    const need = sourceNeed(source);
    return corruption(this.tables.pathOf(need.file), need.offset, "malformed block");
  }
}
