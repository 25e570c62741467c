// An open table file: footer, index, filter and properties read and checked
// once and kept in linear memory, described to the core by a table handle
// (core/read_state.ts) so that point lookups search it without leaving
// WebAssembly; data blocks are read on request into the block cache.
// Reads are synchronous (positional reads), so getSync works on tables.

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
import { blockIntact, type LoadedBlock } from "../wasm/blocks.ts";
import { tableChecksum } from "../wasm/checksum.ts";
import { allocBuffer, bytes, freeBuffer } from "../wasm/instance.ts";
import { newCoreTable, releaseCoreTable } from "../wasm/read_state.ts";

export type { LoadedBlock } from "../wasm/blocks.ts";

/**
 * An open, checked table.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import { freeBuffer } from "../wasm/instance.ts";
 * declare const fs: Storage;
 * const table = TableReader.open(fs, "/db/000007.sst", 7);
 * const block = table.readBlock({ offset: 0, size: 4000 }); // checked, in linear memory
 * freeBuffer(block.ptr);
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
  /**
   * The core's table (core/read_state.ts): owns the index and filter blocks,
   * reference counted so that a scan reading the index outlives close().
   */
  readonly handle: number;
  #closed = false;

  private constructor(number: number, path: string, file: StorageFile) {
    this.number = number;
    this.path = path;
    this.#file = file;
    this.size = file.size();
    const footerBytes = new Uint8Array(Math.min(FOOTER_SIZE, this.size));
    file.read(Math.max(0, this.size - FOOTER_SIZE), footerBytes);
    this.footer = decodeFooter(footerBytes, path, this.size, tableChecksum);
    const props = this.readBlock(this.footer.properties);
    try {
      this.properties = decodeProperties(
        bytes().slice(props.ptr, props.ptr + props.size),
        path,
        this.footer.properties.offset,
      );
    } finally {
      freeBuffer(props.ptr);
    }
    this.#index = this.readBlock(this.footer.index);
    try {
      this.#filter = this.footer.filter.size > 0 ? this.readBlock(this.footer.filter) : undefined;
    } catch (err) {
      freeBuffer(this.#index.ptr);
      throw err;
    }
    this.handle = newCoreTable(number, this.#index, this.#filter);
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
    const want = handle.size + BLOCK_TRAILER_SIZE;
    const ptr = allocBuffer(want);
    let got: number;
    try {
      got = this.#file.read(handle.offset, bytes().subarray(ptr, ptr + want));
    } catch (err) {
      freeBuffer(ptr);
      throw err;
    }
    if (got !== want || !blockIntact(ptr, handle.size)) {
      freeBuffer(ptr);
      throw corruption(this.path, handle.offset, got !== want ? "block is truncated" : "block checksum mismatch");
    }
    return { ptr, size: handle.size };
  }

  /** The index block (kept while the table is open). */
  get index(): LoadedBlock {
    return this.#index;
  }

  /** Drops this reader's reference to the core table and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseCoreTable(this.handle);
    this.#file.close();
  }
}
