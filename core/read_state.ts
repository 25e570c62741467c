// What a point lookup reads, kept in linear memory so that the whole lookup
// is one call (point_get.ts): the memtables, the current version's files
// packed by level, the open tables (index and filter blocks) by file number,
// and the block cache. TypeScript updates it when memtables rotate, a
// version is installed, or a table opens or closes (src/read/read_state.ts).
//
// Read state (heap, RS_SIZE bytes):
//   +0  u32 block cache (block_cache.ts)
//   +4  u32 table slots   +8 u32 slot mask   +12 u32 tables registered
//   +16 u32 memtable count   +20 u32 memtables[MAX_MEMTABLES], newest first
//   +52 u32 packed version (0 = none; the read state owns it)
//   +56 f64 lookups that consulted a bloom filter   +64 f64 lookups a filter answered "absent"
//   +72 u32 level and +76 u32 file index where the last lookup stopped for a table or block
//   +80 u32 range-tombstone fragment list (range_tombstones.ts; referenced; 0 = none)
//
// Packed version (one allocation, built by TypeScript; reference counted: the
// read state holds one reference, each table run source of a scan another):
//   +0 u32 references  +4 u32 level count L, then L times (u32 file count, u32 address of the level's files)
//   file, FILE_SIZE bytes: u32 file number | u32 smallest internal key address | u32 its length
//                          | u32 largest internal key address | u32 its length
//   level 0 files newest first; other levels in key order; keys follow the file arrays.
//
// Table (heap, TABLE_SIZE bytes): what the core needs of an open table file.
// It owns the index and filter blocks and is reference counted: the
// TypeScript TableReader holds one reference, a scan's run source sitting on
// the table another, so closing the file never frees an index a scan reads.
//   +0 u32 file number  +4 u32 index block  +8 u32 index length  +12 u32 filter block  +16 u32 filter length (0 = none)
//   +20 u32 references  +24 u32 the index block's prefix array (index_prefixes.ts; 0 = none: the block is malformed)
//
// Table slots (u32): table address, 0 = empty; linear probing on the file
// number, backward-shift deletion, doubling when half full.

import { bcFree, bcNew } from "./block_cache";
import { ipBuild, ipFree } from "./index_prefixes";
import { rtUnref } from "./range_tombstones";

const RS_SIZE: usize = 88;
export const RS_TOMBSTONES: usize = 80;
export const MAX_MEMTABLES: u32 = 8;
export const FILE_SIZE: usize = 20;
const TABLE_SIZE: usize = 28;

// @ts-ignore: decorator
@inline function hashFile(file: u32): u32 { return file * 0x9e3779b1; }

/** A new read state with an empty block cache of capacity bytes. */
export function rsNew(cacheCapacity: f64): usize {
  const rs = heap.alloc(RS_SIZE);
  memory.fill(rs, 0, RS_SIZE);
  store<u32>(rs, <u32>bcNew(cacheCapacity));
  const count: u32 = 64;
  const table = heap.alloc(<usize>count << 2);
  memory.fill(table, 0, <usize>count << 2);
  store<u32>(rs, <u32>table, 4);
  store<u32>(rs, count - 1, 8);
  return rs;
}

/** Frees the read state, its packed version and its block cache (tables stay with their owners). */
export function rsFree(rs: usize): void {
  bcFree(<usize>load<u32>(rs));
  heap.free(<usize>load<u32>(rs, 4));
  const version = <usize>load<u32>(rs, 52);
  if (version != 0) versionUnref(version);
  const tombstones = <usize>load<u32>(rs, RS_TOMBSTONES);
  if (tombstones != 0) rtUnref(tombstones);
  heap.free(rs);
}

/** The block cache of a read state. */
export function rsCache(rs: usize): usize { return <usize>load<u32>(rs); }

/** Sets the memtables (count addresses at list, newest first; at most MAX_MEMTABLES). */
export function rsSetMemtables(rs: usize, list: usize, count: u32): void {
  if (count > MAX_MEMTABLES) count = MAX_MEMTABLES;
  store<u32>(rs, count, 16);
  memory.copy(rs + 20, list, <usize>count << 2);
}

/** Installs a packed version (its one reference passes to the read state, which drops the previous one's). */
export function rsSetVersion(rs: usize, version: usize): void {
  const previous = <usize>load<u32>(rs, 52);
  if (previous != 0) versionUnref(previous);
  store<u32>(rs, <u32>version, 52);
}

/** The current packed version of a read state (0 = none). */
export function rsVersion(rs: usize): usize { return <usize>load<u32>(rs, 52); }

/** Adds a reference to a packed version. */
export function versionRef(version: usize): void { store<u32>(version, load<u32>(version) + 1); }

/** Drops a reference to a packed version; frees it with the last. */
export function versionUnref(version: usize): void {
  const refs = load<u32>(version) - 1;
  store<u32>(version, refs);
  if (refs == 0) heap.free(version);
}

/** Level count, and a level's file count and files (FILE_SIZE records), of a packed version. */
// @ts-ignore: decorator
@inline export function versionLevels(version: usize): u32 { return load<u32>(version, 4); }
// @ts-ignore: decorator
@inline export function versionFileCount(version: usize, level: u32): u32 { return load<u32>(version + 8 + (<usize>level << 3)); }
// @ts-ignore: decorator
@inline export function versionFiles(version: usize, level: u32): usize { return <usize>load<u32>(version + 12 + (<usize>level << 3)); }

/** Bloom filter statistics. */
export function rsBloomChecked(rs: usize): f64 { return load<f64>(rs, 56); }
export function rsBloomUseful(rs: usize): f64 { return load<f64>(rs, 64); }

// ---- tables -------------------------------------------------------------------

/** A new table holding one reference; it takes over the index and filter blocks (heap allocations; filter 0 = none). */
export function tableNew(file: u32, index: usize, indexLen: u32, filter: usize, filterLen: u32): usize {
  const t = heap.alloc(TABLE_SIZE);
  store<u32>(t, file);
  store<u32>(t, <u32>index, 4);
  store<u32>(t, indexLen, 8);
  store<u32>(t, <u32>filter, 12);
  store<u32>(t, filterLen, 16);
  store<u32>(t, 1, 20);
  store<u32>(t, <u32>ipBuild(index, indexLen), 24);
  return t;
}

/** Adds a reference to a table. */
export function tableRef(t: usize): void { store<u32>(t, load<u32>(t, 20) + 1, 20); }

/** Drops a reference to a table; the last frees it with its index and filter (unregister it first). */
export function tableRelease(t: usize): void {
  const refs = load<u32>(t, 20) - 1;
  store<u32>(t, refs, 20);
  if (refs != 0) return;
  heap.free(<usize>load<u32>(t, 4));
  ipFree(<usize>load<u32>(t, 24));
  const filter = <usize>load<u32>(t, 12);
  if (filter != 0) heap.free(filter);
  heap.free(t);
}

// @ts-ignore: decorator
@inline export function tableFile(t: usize): u32 { return load<u32>(t); }
// @ts-ignore: decorator
@inline export function tableIndex(t: usize): usize { return <usize>load<u32>(t, 4); }
// @ts-ignore: decorator
@inline export function tableIndexLength(t: usize): u32 { return load<u32>(t, 8); }
// @ts-ignore: decorator
@inline export function tableIndexPrefixes(t: usize): usize { return <usize>load<u32>(t, 24); }
// @ts-ignore: decorator
@inline export function tableFilter(t: usize): usize { return <usize>load<u32>(t, 12); }
// @ts-ignore: decorator
@inline export function tableFilterLength(t: usize): u32 { return load<u32>(t, 16); }

/** The registered table of a file number, or 0. */
export function rsTable(rs: usize, file: u32): usize {
  const mask = load<u32>(rs, 8);
  const slots = <usize>load<u32>(rs, 4);
  let i = hashFile(file) & mask;
  while (true) {
    const t = <usize>load<u32>(slots + (<usize>i << 2));
    if (t == 0 || load<u32>(t) == file) return t;
    i = (i + 1) & mask;
  }
}

/** Registers an open table (replacing any table of the same file number). */
export function rsAddTable(rs: usize, t: usize): void {
  rsRemoveTable(rs, load<u32>(t));
  const count = load<u32>(rs, 12) + 1;
  store<u32>(rs, count, 12);
  if (count * 2 > load<u32>(rs, 8) + 1) {
    const old = <usize>load<u32>(rs, 4);
    const oldCount = load<u32>(rs, 8) + 1;
    const size = oldCount << 1;
    const slots = heap.alloc(<usize>size << 2);
    memory.fill(slots, 0, <usize>size << 2);
    store<u32>(rs, <u32>slots, 4);
    store<u32>(rs, size - 1, 8);
    for (let i: u32 = 0; i < oldCount; i++) {
      const o = <usize>load<u32>(old + (<usize>i << 2));
      if (o != 0) placeTable(rs, o);
    }
    heap.free(old);
  }
  placeTable(rs, t);
}

function placeTable(rs: usize, t: usize): void {
  const mask = load<u32>(rs, 8);
  const slots = <usize>load<u32>(rs, 4);
  let i = hashFile(load<u32>(t)) & mask;
  while (load<u32>(slots + (<usize>i << 2)) != 0) i = (i + 1) & mask;
  store<u32>(slots + (<usize>i << 2), <u32>t);
}

/** Unregisters the table of a file number, if any. */
export function rsRemoveTable(rs: usize, file: u32): void {
  const mask = load<u32>(rs, 8);
  const slots = <usize>load<u32>(rs, 4);
  let i = hashFile(file) & mask;
  while (true) {
    const t = <usize>load<u32>(slots + (<usize>i << 2));
    if (t == 0) return;
    if (load<u32>(t) == file) break;
    i = (i + 1) & mask;
  }
  let j = i;
  while (true) {
    j = (j + 1) & mask;
    const t = <usize>load<u32>(slots + (<usize>j << 2));
    if (t == 0) break;
    const home = hashFile(load<u32>(t)) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      store<u32>(slots + (<usize>i << 2), <u32>t);
      i = j;
    }
  }
  store<u32>(slots + (<usize>i << 2), 0);
  store<u32>(rs, load<u32>(rs, 12) - 1, 12);
}
