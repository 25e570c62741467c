// LRU cache of data blocks, bounded in bytes, holding the blocks in linear
// memory so the core reads them in place. A block in use is pinned (it
// cannot be evicted) until released. Blocks are checked (CRC) when loaded.
//
// Keys: file number * 2^32 + block offset (tables stay below 4 GiB).

import { core } from "../_wasm.ts";

/** A cached block: its address and length in linear memory. */
export interface CachedBlock {
  readonly key: number;
  readonly ptr: number;
  readonly size: number;
  pins: number;
  /** False once evicted (freed when the last pin goes). */
  cached: boolean;
}

/** Hit and miss counts. */
export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  blocks: number;
  capacity: number;
}

/**
 * Blocks in linear memory, least recently used evicted first.
 *
 * @example
 * ```ts
 * const cache = new BlockCache(8 << 20);
 * const block = cache.get(7, 0, () => loadBlock());  // pinned
 * cache.release(block);
 * ```
 */
export class BlockCache {
  readonly capacity: number;
  // Map iteration order is the LRU order: oldest first.
  #blocks = new Map<number, CachedBlock>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /**
   * The block at (file, offset), pinned: from the cache, or loaded by `load`,
   * which must return a block it allocated with core.bufferAlloc (the cache
   * owns it from then on).
   */
  get(file: number, offset: number, load: () => { ptr: number; size: number }): CachedBlock {
    const key = file * 4294967296 + offset;
    const found = this.#blocks.get(key);
    if (found !== undefined) {
      this.#hits++;
      this.#blocks.delete(key);
      this.#blocks.set(key, found);
      found.pins++;
      return found;
    }
    this.#misses++;
    const { ptr, size } = load();
    const block: CachedBlock = { key, ptr, size, pins: 1, cached: false };
    if (size <= this.capacity) {
      block.cached = true;
      this.#blocks.set(key, block);
      this.#bytes += size;
      this.#evict();
    }
    return block;
  }

  /** Unpins a block; frees it if it is no longer cached and unpinned. */
  release(block: CachedBlock): void {
    block.pins--;
    if (block.pins === 0 && !block.cached) core.bufferFree(block.ptr);
  }

  /** Drops every unpinned block of a file (when the file is deleted). */
  forgetFile(file: number): void {
    for (const [key, block] of this.#blocks) {
      if (Math.floor(key / 4294967296) === file) this.#drop(block);
    }
  }

  /** Hit/miss counts and current size. */
  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, bytes: this.#bytes, blocks: this.#blocks.size, capacity: this.capacity };
  }

  /** Frees every block; pinned blocks are freed when released. */
  clear(): void {
    for (const block of [...this.#blocks.values()]) this.#drop(block);
  }

  #evict(): void {
    if (this.#bytes <= this.capacity) return;
    for (const block of this.#blocks.values()) {
      if (this.#bytes <= this.capacity) break;
      if (block.pins === 0) this.#drop(block);
    }
  }

  #drop(block: CachedBlock): void {
    this.#blocks.delete(block.key);
    this.#bytes -= block.size;
    block.cached = false;
    if (block.pins === 0) core.bufferFree(block.ptr);
  }
}
