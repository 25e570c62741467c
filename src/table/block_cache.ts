// The block cache seen from TypeScript: a thin handle on the core's cache
// (core/block_cache.ts: hash on file number and offset, CLOCK eviction,
// pins), which holds checked blocks in linear memory so the core reads them
// in place. Point lookups probe it inside the core; scans and the point
// reader insert the blocks they read here.

import { core } from "../_wasm.ts";
import type { LoadedBlock } from "./table_reader.ts";

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
 * const cache = new BlockCache(core.rsCache(readState), 32 << 20);
 * const entry = cache.pinned(7, 0, () => table.readBlock({ offset: 0, size: 4000 }));
 * core.runProvideCached(source, entry); // the scan's source takes over the pin
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
   * unpins it: core bcUnpin): from the cache, or loaded by `load`, which
   * returns a checked block allocated with core.bufferAlloc (the cache owns
   * it from then on).
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

  /** Drops every block; pinned ones go when released. */
  clear(): void {
    core.bcClear(this.ptr);
  }
}
