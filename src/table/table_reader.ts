// An open table file: footer, index, filter and properties read and checked
// once and kept in linear memory; data blocks come through the block cache.
// Reads are synchronous (positional reads), so getSync works on tables.

import { bytes, core, maskedCrc, RESULT, view, words } from "../_wasm.ts";
import { corruption } from "../errors.ts";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  decodeFooter,
  decodeProperties,
  type Footer,
  FOOTER_SIZE,
  type TableProperties,
} from "../format/table_format.ts";
import type { Storage, StorageFile } from "../storage/storage.ts";
import type { BlockCache } from "./block_cache.ts";

/** A block in linear memory. */
export interface LoadedBlock {
  ptr: number;
  size: number;
}

/** Counters of the read path shared by all tables of a database. */
export interface ReadCounters {
  /** Lookups the bloom filter answered "absent" without a block read. */
  bloomUseful: number;
  /** Lookups that consulted a bloom filter. */
  bloomChecked: number;
}

/**
 * An open, checked table.
 *
 * @example
 * ```ts
 * const table = TableReader.open(fs, "/db/000007.sst", 7);
 * const value = table.get(keyPtr, keyLen, sequence, cache, copyOut, counters);
 * table.close();
 * ```
 */
export class TableReader {
  readonly number: number;
  readonly path: string;
  readonly size: number;
  readonly footer: Footer;
  readonly properties: TableProperties;
  #file: StorageFile;
  #index: LoadedBlock;
  #filter: LoadedBlock | undefined;
  #closed = false;

  private constructor(number: number, path: string, file: StorageFile) {
    this.number = number;
    this.path = path;
    this.#file = file;
    this.size = file.size();
    const footerBytes = new Uint8Array(Math.min(FOOTER_SIZE, this.size));
    file.read(Math.max(0, this.size - FOOTER_SIZE), footerBytes);
    this.footer = decodeFooter(footerBytes, path, this.size, maskedCrc);
    const props = this.readBlock(this.footer.properties);
    try {
      this.properties = decodeProperties(bytes().slice(props.ptr, props.ptr + props.size), path, this.footer.properties.offset);
    } finally {
      core.bufferFree(props.ptr);
    }
    this.#index = this.readBlock(this.footer.index);
    try {
      this.#filter = this.footer.filter.size > 0 ? this.readBlock(this.footer.filter) : undefined;
    } catch (err) {
      core.bufferFree(this.#index.ptr);
      throw err;
    }
  }

  /** Opens and checks a table file; CORRUPTION (file, offset) if it is damaged. */
  static open(fs: Storage, path: string, number: number): TableReader {
    const file = fs.open(path);
    try {
      return new TableReader(number, path, file);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /** Reads and checks a block into a new allocation (the caller frees it). */
  readBlock(handle: BlockHandle): LoadedBlock {
    if (handle.offset + handle.size + BLOCK_TRAILER_SIZE > this.size) {
      throw corruption(this.path, handle.offset, `block of ${handle.size} bytes runs past the end of the file`);
    }
    const ptr = core.bufferAlloc(handle.size + BLOCK_TRAILER_SIZE);
    const want = handle.size + BLOCK_TRAILER_SIZE;
    let got: number;
    try {
      got = this.#file.read(handle.offset, bytes().subarray(ptr, ptr + want));
    } catch (err) {
      core.bufferFree(ptr);
      throw err;
    }
    if (got !== want || !core.blockVerify(ptr, handle.size)) {
      core.bufferFree(ptr);
      throw corruption(this.path, handle.offset, got !== want ? "block is truncated" : "block checksum mismatch");
    }
    return { ptr, size: handle.size };
  }

  /** The index block (pinned for the table's lifetime). */
  get index(): LoadedBlock {
    return this.#index;
  }

  /**
   * The newest version of the key at keyPtr as of sequence: `found(ptr, len)`
   * of its value (called while the block is pinned), null for a tombstone,
   * undefined when the table holds no version of it at or below sequence.
   */
  get<V>(
    keyPtr: number,
    keyLen: number,
    sequence: number,
    cache: BlockCache,
    found: (ptr: number, len: number) => V,
    counters: ReadCounters,
  ): V | null | undefined {
    if (this.#filter !== undefined) {
      counters.bloomChecked++;
      if (!core.filterMayContain(this.#filter.ptr, this.#filter.size, keyPtr, keyLen)) {
        counters.bloomUseful++;
        return undefined;
      }
    }
    const where = core.tableIndexSeek(this.#index.ptr, this.#index.size, keyPtr, keyLen, sequence);
    if (where < 0) throw corruption(this.path, this.footer.index.offset, "malformed index block");
    if (where === 0) return undefined;
    const dv = view();
    const handle = { offset: dv.getFloat64(RESULT + 8, true), size: dv.getFloat64(RESULT + 16, true) };
    const block = cache.get(this.number, handle.offset, () => this.readBlock(handle));
    try {
      const status = core.tableBlockGet(block.ptr, block.size, keyPtr, keyLen, sequence);
      if (status < 0) throw corruption(this.path, handle.offset, "malformed data block");
      if (status === 2) return null;
      if (status === 0) return undefined;
      const w = words();
      return found(w[RESULT >>> 2], w[(RESULT >>> 2) + 1]);
    } finally {
      cache.release(block);
    }
  }

  /** Frees the pinned blocks and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    core.bufferFree(this.#index.ptr);
    if (this.#filter) core.bufferFree(this.#filter.ptr);
    this.#file.close();
  }
}
