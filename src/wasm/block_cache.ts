// The block cache seen from TypeScript: a thin handle on the core's cache
// (core/block_cache.ts: hash on file number and offset, CLOCK eviction,
// pins), which holds checked blocks in linear memory so the core reads them
// in place. Point lookups and run sources probe it inside the core; the
// block provider (src/table/block_provider.ts) inserts the blocks it reads.

import type { LoadedBlock } from "./blocks.ts";
import { core } from "./instance.ts";

/** Hit and miss counts. */
export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  blocks: number;
  capacity: number;
}

/**
 * Blocks in linear memory, evicted by CLOCK down to the capacity in bytes.
 *
 * @example
 * ```ts
 * import type { TableReader } from "../table/table_reader.ts";
 * import { ReadState } from "./read_state.ts";
 * import { provideCachedBlock } from "./run_source.ts";
 * declare const table: TableReader, source: number; // table 7; a run source that stopped for its block at 0
 * const cache = new ReadState(32 << 20).cache;
 * const entry = cache.pinned(7, 0, () => table.readBlock({ offset: 0, size: 4000 }));
 * provideCachedBlock(source, entry); // the source takes over the pin
 * ```
 */
export class BlockCache {
  /** The core cache's address. */
  readonly ptr: number;
  readonly capacity: number;

  constructor(ptr: number, capacity: number) {
    this.ptr = ptr;
    this.capacity = capacity;
  }

  /**
   * The cache entry of the block at (file, offset), pinned (whoever takes it
   * unpins it), from the cache or loaded by `load`, which returns a checked
   * block in its own buffer (the cache owns it from then on).
   */
  pinned(file: number, offset: number, load: () => LoadedBlock): number {
    let entry = core.bcLookup(this.ptr, file, offset);
    if (entry === 0) {
      const block = load();
      entry = core.bcInsert(this.ptr, file, offset, block.ptr, block.size);
    }
    core.bcPin(this.ptr, entry);
    return entry;
  }

  /** The cache entry of the block at (file, offset), pinned, or 0 when it is not cached. */
  lookupPinned(file: number, offset: number): number {
    const entry = core.bcLookup(this.ptr, file, offset);
    if (entry !== 0) core.bcPin(this.ptr, entry);
    return entry;
  }

  /** Lets go of an entry pinned by pinned() or lookupPinned() (freed if it was dropped meanwhile). */
  unpin(entry: number): void {
    core.bcUnpin(this.ptr, entry);
  }

  /** Caches a checked block (the cache owns it from then on). */
  insert(file: number, offset: number, block: LoadedBlock): void {
    core.bcInsert(this.ptr, file, offset, block.ptr, block.size);
  }

  /** Drops the blocks of a file (it was deleted); pinned ones go when released. */
  forgetFile(file: number): void {
    core.bcForgetFile(this.ptr, file);
  }

  /** Hit/miss counts and current size. */
  stats(): CacheStats {
    const c = this.ptr;
    return {
      hits: core.bcHits(c),
      misses: core.bcMisses(c),
      bytes: core.bcBytes(c),
      blocks: core.bcBlocks(c),
      capacity: this.capacity,
    };
  }
}
