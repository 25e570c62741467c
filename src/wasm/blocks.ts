// Blocks already in linear memory, seen through the core's own block reader
// (core/block_reader.ts owns the layout, core/table_reader.ts the trailer):
// the trailer check and the decompression done once when a block is read
// from storage, and every entry walked for inspection tools (siltdb
// dump-sst, verify, repair) and approximateSize. Walks are on no hot path:
// they copy each entry out.

import type { BlockHandle, Compression } from "../format/table_format.ts";
import * as abi from "./_core_abi.ts";
import { bytes, core, freeBuffer, RESULT, scratch, view } from "./instance.ts";

/** A checked block in linear memory, as its readers use it (decompressed); whoever holds it frees it, or hands it to the cache. */
export interface LoadedBlock {
  /** Address of the block. */
  ptr: number;
  /** Bytes of the block (decompressed), without the trailer. */
  size: number;
  /** How it was stored (absent: as is). */
  codec?: Compression;
  /** Bytes it took in the file, without the trailer (absent: size). */
  stored?: number;
}

/**
 * Checks the block read from storage at [ptr, ptr + stored) (its trailer
 * after it: type and checksum) and decompresses it when its type says so,
 * inside the core. Returns the block to use — in place, or a new
 * allocation (then the stored bytes at ptr are freed) — or what is wrong
 * (then ptr is still the caller's to free).
 *
 * @example
 * ```ts
 * import { corruption } from "../errors.ts";
 * import type { BlockHandle } from "../format/table_format.ts";
 * declare const ptr: number, handle: BlockHandle, path: string; // the block (and its trailer) read from path
 * const block = loadBlock(ptr, handle.size);
 * if (typeof block === "string") throw corruption(path, handle.offset, block);
 * ```
 */
export function loadBlock(ptr: number, stored: number): LoadedBlock | string {
  const status = core.blockLoadAt(ptr, stored);
  if (status === abi.BLOCK_LOAD_RAW) return { ptr, size: stored };
  if (status === abi.BLOCK_LOAD_DECOMPRESSED) {
    const dv = view();
    const block: LoadedBlock = {
      ptr: dv.getUint32(RESULT, true),
      size: dv.getUint32(RESULT + 4, true),
      codec: "lz4",
      stored,
    };
    freeBuffer(ptr);
    return block;
  }
  return status === abi.BLOCK_LOAD_CHECKSUM_MISMATCH
    ? "block checksum mismatch"
    : "compressed block is malformed (its checksum holds: the table was written wrongly)";
}

/** One entry of a block: its whole key (internal key in data blocks) and its value. */
export interface BlockEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * The entries of the block at [ptr, ptr + size) (trailer excluded), or
 * undefined when the block is malformed.
 *
 * @example
 * ```ts
 * import type { BlockHandle } from "../format/table_format.ts";
 * import type { TableReader } from "../table/table_reader.ts";
 * import { freeBuffer } from "./instance.ts";
 * declare const table: TableReader, handle: BlockHandle;
 * const block = table.readBlock(handle);
 * const entries = blockEntries(block.ptr, block.size);
 * freeBuffer(block.ptr);
 * ```
 */
export function blockEntries(ptr: number, size: number): BlockEntry[] | undefined {
  return walk(ptr, size, (bi) => {
    const mem = bytes();
    const key = core.blockWalkKey(bi);
    const value = core.blockWalkValue(bi);
    return {
      key: mem.slice(key, key + core.blockWalkKeyLength(bi)),
      value: mem.slice(value, value + core.blockWalkValueLength(bi)),
    };
  });
}

/**
 * The entries of an index block at [ptr, ptr + size): each data block's last
 * key and handle (undefined when that entry's handle is malformed); undefined
 * when the block itself is malformed.
 *
 * @example
 * ```ts
 * import type { TableReader } from "../table/table_reader.ts";
 * declare const table: TableReader;
 * const blocks = indexEntries(table.index.ptr, table.index.size); // [{ lastKey, handle: { offset, size } }]
 * ```
 */
export function indexEntries(
  ptr: number,
  size: number,
): { lastKey: Uint8Array; handle: BlockHandle | undefined }[] | undefined {
  return walk(ptr, size, (bi) => {
    const out = scratch(16);
    const ok = core.blockWalkHandle(bi, out);
    const mem = bytes();
    const dv = new DataView(mem.buffer);
    const key = core.blockWalkKey(bi);
    return {
      lastKey: mem.slice(key, key + core.blockWalkKeyLength(bi)),
      handle: ok ? { offset: dv.getFloat64(out, true), size: dv.getFloat64(out + 8, true) } : undefined,
    };
  });
}

function walk<T>(ptr: number, size: number, take: (bi: number) => T): T[] | undefined {
  const bi = core.blockWalkNew();
  try {
    const out: T[] = [];
    for (let ok = core.blockWalkFirst(bi, ptr, size); ok; ok = core.blockWalkNext(bi)) out.push(take(bi));
    return core.blockWalkCorrupt(bi) ? undefined : out;
  } finally {
    core.blockWalkFree(bi);
  }
}
