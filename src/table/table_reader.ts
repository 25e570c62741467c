// An open table file: footer, index, filter and properties read and checked
// once and kept in linear memory, described to the core by a table handle
// (core/read_state.ts) so that point lookups search it without leaving
// WebAssembly; data blocks are read on request into the block cache, each
// checked (its stored bytes) and, when its trailer says so, decompressed by
// the core once, as it is read.
//
// A table on disk is read synchronously (positional reads), so getSync
// works on it. A table in a bucket is read with ranged GETs, asynchronously
// only: opening it costs one GET of the file's tail (footer, properties,
// index and filter lie together at the end; a second GET when they are
// larger than the tail), and each data block one GET.

import { corruption, SiltError } from "../errors.ts";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  decodeFooter,
  decodeProperties,
  type Footer,
  FOOTER_SIZE,
  type TableProperties,
  type TableRangeTombstone,
} from "../format/table_format.ts";
import { decodeRangeTombstoneBlock } from "../format/range_tombstone_format.ts";
import type { ObjectStore } from "../object_store/object_store.ts";
import { bytesFile } from "../storage/bytes_file.ts";
import type { Storage, StorageFile } from "../storage/storage.ts";
import { loadBlock, type LoadedBlock } from "../wasm/blocks.ts";
import { tableChecksum } from "../wasm/checksum.ts";
import { allocBuffer, bytes, freeBuffer } from "../wasm/instance.ts";
import { newCoreTable, releaseCoreTable } from "../wasm/read_state.ts";
import { readAheadFile, readAheadObject, type ReadSync } from "./read_ahead.ts";

export type { LoadedBlock } from "../wasm/blocks.ts";

/** How a table's data blocks are read: synchronously (a file), or asynchronously (ranged GETs of an object). */
type BlockReads = { sync: ReadSync } | { async: (offset: number, length: number) => Promise<Uint8Array> };

/** The bytes of a table's tail fetched at once when it is opened from a bucket. */
const REMOTE_TAIL = 64 << 10;

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
  /** Its range tombstones (the range-tombstone block, read and checked at open; src/format/range_tombstone_format.ts). */
  readonly rangeTombstones: TableRangeTombstone[];
  /** How its data blocks are read: synchronously (a file) or not (a table in a bucket). */
  readonly #blocks: BlockReads;
  readonly #close: () => void;
  #index: LoadedBlock;
  #filter: LoadedBlock | undefined;
  /**
   * The core's table (core/read_state.ts): owns the index and filter blocks,
   * reference counted so that a scan reading the index outlives close().
   */
  readonly handle: number;
  #closed = false;

  /**
   * @param meta synchronous reads of the footer and the metadata blocks
   * @param blocks reads of data blocks
   */
  private constructor(
    number: number,
    path: string,
    size: number,
    meta: ReadSync,
    blocks: BlockReads,
    close: () => void,
  ) {
    this.number = number;
    this.path = path;
    this.size = size;
    this.#blocks = blocks;
    this.#close = close;
    const footerBytes = new Uint8Array(Math.min(FOOTER_SIZE, size));
    meta(Math.max(0, size - FOOTER_SIZE), footerBytes);
    this.footer = decodeFooter(footerBytes, path, size, tableChecksum);
    const props = this.#readWith(meta, this.footer.properties);
    try {
      this.properties = decodeProperties(
        bytes().slice(props.ptr, props.ptr + props.size),
        path,
        this.footer.properties.offset,
      );
    } finally {
      freeBuffer(props.ptr);
    }
    this.rangeTombstones = this.#readRangeTombstones(meta);
    this.#index = this.#readWith(meta, this.footer.index);
    try {
      this.#filter = this.footer.filter.size > 0 ? this.#readWith(meta, this.footer.filter) : undefined;
    } catch (err) {
      freeBuffer(this.#index.ptr);
      throw err;
    }
    this.handle = newCoreTable(number, this.#index, this.#filter);
  }

  /** Reads and checks the range-tombstone block, if the table has one. */
  #readRangeTombstones(meta: ReadSync): TableRangeTombstone[] {
    const handle = this.properties.rangeTombstones;
    if (handle.size === 0) return [];
    if (handle.offset + handle.size > this.footer.properties.offset) {
      throw corruption(
        this.path,
        this.footer.properties.offset,
        "properties: range-tombstone block handle points past them",
      );
    }
    const block = this.#readWith(meta, handle);
    try {
      const list = decodeRangeTombstoneBlock(
        bytes().slice(block.ptr, block.ptr + block.size),
        this.path,
        handle.offset,
      );
      if (list.length !== this.properties.rangeTombstoneCount) {
        throw corruption(
          this.path,
          handle.offset,
          `range-tombstone block holds ${list.length} tombstones, the properties list ${this.properties.rangeTombstoneCount}`,
        );
      }
      return list;
    } finally {
      freeBuffer(block.ptr);
    }
  }

  /** Opens and checks a table file; CORRUPTION (file, offset) if it is damaged. */
  static open(fs: Storage, path: string, number: number): TableReader {
    const file: StorageFile = fs.open(path);
    try {
      return TableReader.#ofFile(number, file, true);
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /**
   * A table over a file read synchronously (on disk, or downloaded: in memory, nothing to read
   * ahead); closing it closes the file.
   */
  static #ofFile(number: number, file: StorageFile, readAhead: boolean): TableReader {
    const readSync: ReadSync = (position, into) => file.read(position, into);
    const ahead = readAhead ? readAheadFile(readSync, file.size()) : { read: readSync, close() {} };
    return new TableReader(number, file.path, file.size(), readSync, { sync: ahead.read }, () => {
      ahead.close();
      file.close();
    });
  }

  /**
   * Opens and checks table object `key` of a bucket (ranged GETs of its
   * tail); CORRUPTION (object, offset) if it is damaged or missing.
   *
   * @example
   * ```ts
   * import type { ObjectStore } from "../object_store/object_store.ts";
   * declare const store: ObjectStore;
   * const table = await TableReader.openObject(store, "sst/00000000000000000007.sst", 7);
   * const block = await table.readBlockAsync({ offset: 0, size: 4000 });
   * ```
   */
  static async openObject(store: ObjectStore, key: string, number: number): Promise<TableReader> {
    const path = `${store.location}${key}`;
    const tail = await store.get(key, { suffix: REMOTE_TAIL });
    if (tail === undefined) throw corruption(path, 0, "the table object is missing");
    const size = tail.size;
    let start = size - tail.data.length; // the file offset of the bytes held
    let held = tail.data;
    const footerAt = size - FOOTER_SIZE;
    if (footerAt >= start && size >= FOOTER_SIZE) {
      const footer = decodeFooter(held.subarray(footerAt - start), path, size, tableChecksum);
      const metaStart = Math.min(
        footer.index.offset,
        footer.properties.offset,
        footer.filter.size > 0 ? footer.filter.offset : Infinity,
      );
      if (metaStart < start) {
        const more = await store.get(key, { offset: metaStart, length: start - metaStart });
        if (more === undefined || more.data.length !== start - metaStart) {
          throw corruption(path, metaStart, "the table object changed or vanished while it was read");
        }
        const joined = new Uint8Array(more.data.length + held.length);
        joined.set(more.data);
        joined.set(held, more.data.length);
        held = joined;
        start = metaStart;
      }
    }
    const meta: ReadSync = (position, into) => {
      const from = position - start;
      if (from < 0) throw corruption(path, position, "a metadata block lies outside the table's tail");
      const n = Math.max(0, Math.min(into.length, held.length - from));
      into.set(held.subarray(from, from + n));
      return n;
    };
    return new TableReader(number, path, size, meta, { async: readAheadObject(store, key, path, size) }, () => {});
  }

  /**
   * Downloads table object `key` of a bucket with one GET and opens it
   * from memory (its blocks are then read synchronously): what a
   * compaction, which reads every block, wants. CORRUPTION (object, offset)
   * if it is damaged or missing.
   *
   * @example
   * ```ts
   * import type { ObjectStore } from "../object_store/object_store.ts";
   * declare const store: ObjectStore;
   * const table = await TableReader.downloadObject(store, "sst/00000000000000000007.sst", 7);
   * const block = table.readBlock({ offset: 0, size: 4000 }); // no request
   * ```
   */
  static async downloadObject(store: ObjectStore, key: string, number: number): Promise<TableReader> {
    const path = `${store.location}${key}`;
    const got = await store.get(key);
    if (got === undefined) throw corruption(path, 0, "the table object is missing");
    return TableReader.#ofFile(number, bytesFile(path, got.data), false);
  }

  /** True when blocks can be read synchronously (a file on disk; not a table in a bucket). */
  get synchronous(): boolean {
    return "sync" in this.#blocks;
  }

  /**
   * Reads and checks a block into a new allocation (the caller frees it),
   * decompressed if it is stored compressed (its codec and stored size are
   * on the result). Synchronous: a table in a bucket throws UNSUPPORTED
   * (use readBlockAsync).
   */
  readBlock(handle: BlockHandle): LoadedBlock {
    const blocks = this.#blocks;
    if (!("sync" in blocks)) {
      throw new SiltError(
        "UNSUPPORTED",
        `${this.path}: a table in a bucket is read asynchronously; use the asynchronous calls (get, scan, keys, values)`,
        { file: this.path },
      );
    }
    return this.#readWith(blocks.sync, handle);
  }

  /** Reads and checks a block into a new allocation (the caller frees it), decompressed as readBlock does. */
  async readBlockAsync(handle: BlockHandle): Promise<LoadedBlock> {
    const blocks = this.#blocks;
    if ("sync" in blocks) return this.#readWith(blocks.sync, handle);
    this.#checkBounds(handle);
    const data = await blocks.async(handle.offset, handle.size + BLOCK_TRAILER_SIZE);
    return this.#readWith((_position, into) => {
      const n = Math.min(into.length, data.length);
      into.set(data.subarray(0, n));
      return n;
    }, handle);
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
    this.#close();
  }

  #checkBounds(handle: BlockHandle): void {
    if (handle.offset + handle.size + BLOCK_TRAILER_SIZE > this.size) {
      throw corruption(this.path, handle.offset, `block of ${handle.size} bytes runs past the end of the file`);
    }
  }

  /** Reads the block at handle through `read` into linear memory, checks its trailer and decompresses it if needed. */
  #readWith(read: ReadSync, handle: BlockHandle): LoadedBlock {
    this.#checkBounds(handle);
    const want = handle.size + BLOCK_TRAILER_SIZE;
    const ptr = allocBuffer(want);
    let got: number;
    try {
      got = read(handle.offset, bytes().subarray(ptr, ptr + want));
    } catch (err) {
      freeBuffer(ptr);
      throw err;
    }
    const block = got === want ? loadBlock(ptr, handle.size) : "block is truncated";
    if (typeof block === "string") {
      freeBuffer(ptr);
      throw corruption(this.path, handle.offset, block);
    }
    return block;
  }
}
