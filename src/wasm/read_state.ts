// The core's read state (core/read_state.ts draws it): what one point
// lookup reads without leaving WebAssembly — the memtables, the current
// version's file bounds packed by level, the open tables (index and filter
// blocks) and the block cache — and the lookup itself (core/point_get.ts).
// Also the packing of file bounds that run sources share (the packed
// version's files, a compaction's runs) and the core's side of an open table.

import { FILE_RECORD_SIZE as FILE_RECORD, type Lookup, MAX_MEMTABLES } from "./abi.ts";
import { LOOKUP_FOUND_EXPIRING } from "./_core_abi.ts";
import { BlockCache } from "./block_cache.ts";
import type { LoadedBlock } from "./blocks.ts";
import { bytes, core, view, words } from "./instance.ts";
import type { Memtable } from "./memtable.ts";

/** What the core needs of a table file: its number and its smallest and largest internal keys. */
export interface FileBounds {
  number: number;
  smallest: Uint8Array;
  largest: Uint8Array;
}

/**
 * Bytes the file records of files and their keys take (packFiles).
 *
 * @example
 * ```ts
 * import { allocBuffer } from "./instance.ts";
 * declare const files: FileBounds[];
 * const ptr = allocBuffer(packedSize(files));
 * ```
 */
export function packedSize(files: readonly FileBounds[]): number {
  return files.reduce((n, f) => n + FILE_RECORD + f.smallest.length + f.largest.length, 0);
}

/**
 * Writes the file records of files at `records` and their keys from `keys`
 * on (the core's layout, core/read_state.ts); returns the address after the
 * last key.
 *
 * @example
 * ```ts
 * import { FILE_RECORD_SIZE } from "./abi.ts";
 * import { allocBuffer } from "./instance.ts";
 * declare const files: FileBounds[];
 * const ptr = allocBuffer(packedSize(files));
 * const end = packFiles(files, ptr, ptr + files.length * FILE_RECORD_SIZE);
 * ```
 */
export function packFiles(files: readonly FileBounds[], records: number, keys: number): number {
  const dv = view();
  const mem = bytes();
  let key = keys;
  files.forEach((f, i) => {
    const record = records + i * FILE_RECORD;
    dv.setUint32(record, f.number, true);
    for (const [k, at] of [[f.smallest, 4], [f.largest, 12]] as const) {
      mem.set(k, key);
      dv.setUint32(record + at, key, true);
      dv.setUint32(record + at + 4, k.length, true);
      key += k.length;
    }
  });
  return key;
}

/** The levels' file bounds in the core's packed form, holding one reference for the read state. */
function packLevels(levels: readonly (readonly FileBounds[])[]): number {
  const files = levels.reduce((n, level) => n + level.length, 0);
  const head = 8 + levels.length * 8;
  const ptr = core.bufferAlloc(head + levels.reduce((n, level) => n + packedSize(level), 0));
  const dv = view();
  let records = ptr + head;
  let keys = records + files * FILE_RECORD;
  dv.setUint32(ptr, 1, true);
  dv.setUint32(ptr + 4, levels.length, true);
  levels.forEach((level, l) => {
    dv.setUint32(ptr + 8 + l * 8, level.length, true);
    dv.setUint32(ptr + 12 + l * 8, records, true);
    keys = packFiles(level, records, keys);
    records += level.length * FILE_RECORD;
  });
  return ptr;
}

/**
 * A read state: memtables, a version's files, open tables and a block cache,
 * all in linear memory. Call free() when done.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * import type { Version } from "../version/version.ts";
 * declare const active: MemtableHandle, version: Version;
 * declare const keyPtr: number, keyLen: number, sequence: number; // the key, in linear memory
 * const rs = new ReadState(32 << 20);
 * rs.setMemtables([active.mt]);
 * rs.setLevels(version.levels);
 * const status = rs.lookup(keyPtr, keyLen, sequence, 0); // Lookup.Found, NeedBlock, ...
 * rs.free();
 * ```
 */
export class ReadState {
  /** Address of the core read state (src/wasm/ only). */
  readonly ptr: number;
  /** Its block cache. */
  readonly cache: BlockCache;
  /** The time (epoch ms) reads judge expiring puts at, read once per lookup or scan (the database's clock option). */
  clock: () => number = Date.now;
  #freed = false;

  constructor(cacheCapacity: number) {
    this.ptr = core.rsNew(cacheCapacity);
    this.cache = new BlockCache(core.rsCache(this.ptr), cacheCapacity);
  }

  /** Sets the memtables a lookup searches, newest first (at most MAX_MEMTABLES). */
  setMemtables(memtables: readonly Memtable[]): void {
    const count = memtables.length;
    if (count > MAX_MEMTABLES) throw new Error(`siltdb internal error: ${count} memtables (at most ${MAX_MEMTABLES})`);
    const ptr = core.bufferAlloc(4 * count);
    const w = words();
    memtables.forEach((m, i) => w[(ptr >>> 2) + i] = m.ptr);
    core.rsSetMemtables(this.ptr, ptr, count);
    core.bufferFree(ptr);
  }

  /** Sets the version's files (L0 newest first, then each level in key order). */
  setLevels(levels: readonly (readonly FileBounds[])[]): void {
    core.rsSetVersion(this.ptr, packLevels(levels));
  }

  /** Address of the packed version the state holds (for scans, which reference it). */
  get packedVersion(): number {
    return core.rsVersion(this.ptr);
  }

  /**
   * Installs a range-tombstone fragment list (src/read/range_tombstones.ts;
   * its one reference passes to the state; 0: none): lookups and new scans
   * consult it.
   */
  setTombstones(list: number): void {
    core.rsSetTombstones(this.ptr, list);
  }

  /** The fragment list the state holds (0: none); a scan takes its own reference. */
  get tombstones(): number {
    return core.rsTombstones(this.ptr);
  }

  /** Registers an open table (a core table, newCoreTable()). */
  addTable(table: number): void {
    core.rsAddTable(this.ptr, table);
  }

  /** Forgets the open table of file (it was closed). */
  removeTable(file: number): void {
    core.rsRemoveTable(this.ptr, file);
  }

  /**
   * Looks up the key (keyLen bytes at keyPtr) as of sequence. With resume 1,
   * goes on where the previous call stopped for a table or a block. See
   * Lookup for the outcomes and abi.ts for the result decoders.
   */
  lookup(keyPtr: number, keyLen: number, sequence: number, resume: 0 | 1): Lookup {
    // The clock is read only when an expiring version was found (zero cost for data without a ttl).
    const status = core.dbGet(this.ptr, keyPtr, keyLen, sequence, resume, NaN);
    return (status === LOOKUP_FOUND_EXPIRING ? core.dbResolveExpiring(this.clock()) : status) as Lookup;
  }

  /** Bloom filter counters: lookups that consulted a filter, and those it answered. */
  bloomStats(): { checked: number; useful: number } {
    return { checked: core.rsBloomChecked(this.ptr), useful: core.rsBloomUseful(this.ptr) };
  }

  /** Frees the state, its packed version and its cached blocks (pinned ones when released). Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    core.rsFree(this.ptr);
  }
}

/**
 * The core's side of an open table: it takes over the index and filter
 * blocks and is reference counted (a scan reading its index keeps it alive).
 *
 * @example
 * ```ts
 * import type { LoadedBlock } from "./blocks.ts";
 * declare const readState: ReadState;
 * declare const index: LoadedBlock, filter: LoadedBlock | undefined; // blocks of table 7, read and checked
 * const handle = newCoreTable(7, index, filter);
 * readState.addTable(handle);
 * releaseCoreTable(handle); // when the file closes
 * ```
 */
export function newCoreTable(file: number, index: LoadedBlock, filter: LoadedBlock | undefined): number {
  return core.tableNew(file, index.ptr, index.size, filter?.ptr ?? 0, filter?.size ?? 0);
}

/**
 * Drops the file's reference to its core table (freed with its blocks once no source reads it).
 *
 * @example
 * ```ts
 * declare const handle: number; // from newCoreTable()
 * releaseCoreTable(handle);
 * ```
 */
export function releaseCoreTable(table: number): void {
  core.tableRelease(table);
}
