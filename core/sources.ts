// Sources of internal entries for the merge iterator: a memtable, or a run
// of table files (one L0 file, or all files of a level, in key order).
//
// A run source reads blocks that are already in linear memory. It is bound
// to a read state (a scan's, or a compaction's own): it takes a file's index
// from the open tables and data blocks from the block cache (read_state.ts,
// block_cache.ts) without leaving WebAssembly; when the table is not open or
// the block not cached, it stops in a NEED state naming what it needs, and
// the operation resumes inside the provide call (runProvideTable,
// runProvideCached). So iterating costs no boundary crossing per entry, and all
// I/O stays in TypeScript.
//
// Common header of every source:
//   +0 u32 kind (1 memtable, 2 run)   +4 u32 state (below)   +8 u32 pending operation
//
// Memtable source (MEM_SIZE):  +12 u32 memtable  +16 u32 cursor (tower)
//
// Run source (RUN_SIZE):
//   +12 u32 file count
//   +16 u32 files: FILE_SIZE records (read_state.ts): u32 file number, u32 smallest key ptr, u32 len,
//       u32 largest key ptr, u32 len (internal keys); in a freed source kept for reuse, the next one kept
//   +20 i32 current file   +24 u32 index block iterator   +28 u32 data block iterator
//   +32 u32 target user key (buffer)   +36 u32 file whose index is loaded (+1; 0 none)
//   +40 u64 target trailer   +48 f64 requested block offset   +56 f64 requested block size
//   +64 f64 loaded block offset (-1 none)
//   +72 u32 packed version the files belong to (referenced; 0 = the source owns the files allocation)
//   +76 u32 read state
//   +80 u32 table whose index is loaded (referenced)
//   +84 u32 pinned cache entry of the loaded block (0 none)

import { biSeekPrefixed } from "./index_prefixes";
import { biCorrupted, biFirst, biFree, biInit, biKey, biKeyLength, biLast, biNew, biKeyBuffer, biNext, biPrev, biReset, biValue, biValueLength, compareInternal } from "./block_reader";
import { bufAppend, bufCapacity, bufData, bufFree, bufLength, bufNew, bufSetLength } from "./buffer";
import { getVarint, varintValue } from "./coding";
import { bcBlock, bcBlockSize, bcLookup, bcPin, bcPrefixes, bcUnpin } from "./block_cache";
import { FILE_SIZE, rsCache, rsTable, tableIndex, tableIndexLength, tableIndexPrefixes, tableRef, tableRelease, versionFileCount, versionFiles, versionRef, versionUnref } from "./read_state";
import { mtFirst, mtLast, mtNext, mtPrev, mtSeek, nodeKey, nodeKeyLen, nodeTrailer, nodeValue, nodeValueLen } from "./skiplist";

export const KIND_MEMTABLE: u32 = 1;
export const KIND_RUN: u32 = 2;

export const READY: u32 = 0; // positioned on an entry
export const EXHAUSTED: u32 = 1; // no entry in the direction of travel
export const NEED_INDEX: u32 = 2; // needs the index block of file `current file`
export const NEED_BLOCK: u32 = 3; // needs the data block at the requested offset/size
export const CORRUPT: u32 = 4; // a block turned out malformed

const OP_SEEK_GE: u32 = 1;
const OP_SEEK_LT: u32 = 2;
const OP_FIRST: u32 = 3;
const OP_LAST: u32 = 4;

const MEM_SIZE: usize = 20;
const RUN_SIZE: usize = 88;

// @ts-ignore: decorator
@inline export function srcKind(s: usize): u32 { return load<u32>(s); }
// @ts-ignore: decorator
@inline export function srcState(s: usize): u32 { return load<u32>(s, 4); }
// @ts-ignore: decorator
@inline function setState(s: usize, state: u32): void { store<u32>(s, state, 4); }

// ---- memtable source --------------------------------------------------------

/** A source over memtable mt. */
export function memSourceNew(mt: usize): usize {
  const s = heap.alloc(MEM_SIZE);
  store<u32>(s, KIND_MEMTABLE);
  store<u32>(s, EXHAUSTED, 4);
  store<u32>(s, 0, 8);
  store<u32>(s, <u32>mt, 12);
  store<u32>(s, 0, 16);
  return s;
}

function memPlace(s: usize, t: usize): void {
  store<u32>(s, <u32>t, 16);
  setState(s, t != 0 ? READY : EXHAUSTED);
}

// ---- run source -------------------------------------------------------------

// Freed run sources, kept with their block iterators and target buffer: a
// scan makes one source per sorted run and frees them at its end, and their
// nine allocations and frees cost more than positioning a cached run (a
// seek over 20 runs spent a quarter of its time in the allocator). Linked
// through +16 (files).
const RUN_POOL: u32 = 256;
let freeRuns: usize = 0;
let freeRunCount: u32 = 0;
/** Buffers above this capacity (a long key went through them) are freed rather than kept. */
const POOLED_BUFFER_MAX: u32 = 1024;

function pooledBuffersSmall(s: usize): bool {
  return bufCapacity(biKeyBuffer(<usize>load<u32>(s, 24))) <= POOLED_BUFFER_MAX &&
    bufCapacity(biKeyBuffer(<usize>load<u32>(s, 28))) <= POOLED_BUFFER_MAX &&
    bufCapacity(<usize>load<u32>(s, 32)) <= POOLED_BUFFER_MAX;
}

/**
 * A source of read state rs over `count` table files in key order (one L0
 * file, or a level's files), described by FILE_SIZE records at files; the
 * run takes ownership of the files allocation (one block holding keys too).
 * A compaction's sources.
 */
export function runSourceNew(rs: usize, count: u32, files: usize): usize {
  let s = freeRuns;
  let index: usize, data: usize, target: usize;
  if (s != 0) {
    freeRuns = <usize>load<u32>(s, 16);
    freeRunCount--;
    index = <usize>load<u32>(s, 24);
    data = <usize>load<u32>(s, 28);
    target = <usize>load<u32>(s, 32);
    biReset(index);
    biReset(data);
    bufSetLength(target, 0);
  } else {
    s = heap.alloc(RUN_SIZE);
    index = biNew();
    data = biNew();
    target = bufNew(64);
  }
  memory.fill(s, 0, RUN_SIZE);
  store<u32>(s, KIND_RUN);
  store<u32>(s, EXHAUSTED, 4);
  store<u32>(s, count, 12);
  store<u32>(s, <u32>files, 16);
  store<i32>(s, -1, 20);
  store<u32>(s, <u32>index, 24);
  store<u32>(s, <u32>data, 28);
  store<u32>(s, <u32>target, 32);
  store<f64>(s, -1, 64);
  store<u32>(s, <u32>rs, 76);
  return s;
}

/**
 * A source over files of a read state's current packed version: level 0
 * file `first` alone, or every file of a deeper level (first ignored). A
 * scan's sources.
 */
export function runSourceOfLevel(rs: usize, version: usize, level: u32, first: u32): usize {
  const s = level == 0
    ? runSourceNew(rs, 1, versionFiles(version, 0) + <usize>first * FILE_SIZE)
    : runSourceNew(rs, versionFileCount(version, level), versionFiles(version, level));
  versionRef(version); // the packed version now owns the files: srcFree drops the reference instead
  store<u32>(s, <u32>version, 72);
  return s;
}

/** Frees a source (any kind). A run source's memory is kept for the next one (up to RUN_POOL). */
export function srcFree(s: usize): void {
  if (srcKind(s) == KIND_RUN) {
    const version = <usize>load<u32>(s, 72);
    if (version != 0) versionUnref(version);
    else heap.free(<usize>load<u32>(s, 16));
    dropTable(s);
    dropBlock(s);
    if (freeRunCount < RUN_POOL && pooledBuffersSmall(s)) {
      store<u32>(s, 0); // no kind: a pooled source is no source
      store<u32>(s, <u32>freeRuns, 16);
      freeRuns = s;
      freeRunCount++;
      return;
    }
    biFree(<usize>load<u32>(s, 24));
    biFree(<usize>load<u32>(s, 28));
    bufFree(<usize>load<u32>(s, 32));
  }
  heap.free(s);
}

/** The run's current file index (what NEED_INDEX asks for), and its file number. */
export function runFile(s: usize): i32 { return load<i32>(s, 20); }
export function runFileNumber(s: usize): u32 { return load<u32>(<usize>load<u32>(s, 16) + <usize>load<i32>(s, 20) * FILE_SIZE); }
/** Offset and size of the data block NEED_BLOCK asks for. */
export function runBlockOffset(s: usize): f64 { return load<f64>(s, 48); }
export function runBlockSize(s: usize): f64 { return load<f64>(s, 56); }

// @ts-ignore: decorator
@inline function indexIter(s: usize): usize { return <usize>load<u32>(s, 24); }
// @ts-ignore: decorator
@inline function dataIter(s: usize): usize { return <usize>load<u32>(s, 28); }
// @ts-ignore: decorator
@inline function fileCount(s: usize): i32 { return <i32>load<u32>(s, 12); }
// @ts-ignore: decorator
@inline function fileField(s: usize, file: i32, field: usize): u32 { return load<u32>(<usize>load<u32>(s, 16) + <usize>file * FILE_SIZE + field); }

/** Lets go of the referenced table. */
function dropTable(s: usize): void {
  const t = <usize>load<u32>(s, 80);
  if (t != 0) tableRelease(t);
  store<u32>(s, 0, 80);
}

/** Unpins the loaded cached block. */
function dropBlock(s: usize): void {
  const entry = load<u32>(s, 84);
  if (entry != 0) bcUnpin(rsCache(<usize>load<u32>(s, 76)), entry);
  store<u32>(s, 0, 84);
}

function setTarget(s: usize, userKey: usize, userKeyLen: u32, trailer: u64): void {
  const target = <usize>load<u32>(s, 32);
  bufSetLength(target, 0);
  bufAppend(target, userKey, userKeyLen);
  store<u64>(s, trailer, 40);
}

/** Asks for file f's index block, unless it is loaded: then continues at once. */
function requestIndex(s: usize, file: i32, op: u32): void {
  store<i32>(s, file, 20);
  store<u32>(s, op, 8);
  if (load<u32>(s, 36) == <u32>(file + 1)) {
    continueWithIndex(s);
    return;
  }
  const t = rsTable(<usize>load<u32>(s, 76), fileField(s, file, 0));
  if (t != 0) runProvideTable(s, t);
  else setState(s, NEED_INDEX);
}

/** Asks for the data block the index iterator points at (continues at once if loaded). */
function requestBlock(s: usize, op: u32): void {
  const idx = indexIter(s);
  const p = biValue(idx);
  const limit = p + <usize>biValueLength(idx);
  const q = getVarint(p, limit);
  if (q == 0) { setState(s, CORRUPT); return; }
  const offset = <f64>varintValue;
  if (getVarint(q, limit) == 0) { setState(s, CORRUPT); return; }
  store<f64>(s, offset, 48);
  store<f64>(s, <f64>varintValue, 56);
  store<u32>(s, op, 8);
  if (load<f64>(s, 64) == offset) {
    continueWithBlock(s);
    return;
  }
  const cache = rsCache(<usize>load<u32>(s, 76));
  const entry = bcLookup(cache, fileField(s, load<i32>(s, 20), 0), offset);
  if (entry != 0) {
    bcPin(cache, entry);
    runProvideCached(s, entry);
    return;
  }
  setState(s, NEED_BLOCK);
}

/** The index block of the current file is at [index, index + len). */
function runProvideIndex(s: usize, index: usize, len: u32): void {
  if (!biInit(indexIter(s), index, len)) { setState(s, CORRUPT); return; }
  store<u32>(s, <u32>(load<i32>(s, 20) + 1), 36);
  store<f64>(s, -1, 64); // a block of another file is not reusable
  continueWithIndex(s);
}

/** The current file's open table: the source references it while it reads its index. */
export function runProvideTable(s: usize, t: usize): void {
  tableRef(t);
  dropTable(s);
  store<u32>(s, <u32>t, 80);
  runProvideIndex(s, tableIndex(t), tableIndexLength(t));
}

/** The requested data block is at [block, block + len). */
function runProvideBlock(s: usize, block: usize, len: u32): void {
  if (!biInit(dataIter(s), block, len)) { setState(s, CORRUPT); return; }
  store<f64>(s, load<f64>(s, 48), 64);
  continueWithBlock(s);
}

/** The requested block as a pinned cache entry: the source takes over the pin. */
export function runProvideCached(s: usize, entry: u32): void {
  dropBlock(s);
  store<u32>(s, entry, 84);
  const cache = rsCache(<usize>load<u32>(s, 76));
  runProvideBlock(s, bcBlock(cache, entry), bcBlockSize(cache, entry));
}

function continueWithIndex(s: usize): void {
  const idx = indexIter(s);
  const op = load<u32>(s, 8);
  const target = <usize>load<u32>(s, 32);
  let ok: bool;
  if (op == OP_SEEK_GE || op == OP_SEEK_LT) {
    const t = <usize>load<u32>(s, 80); // the file's table, whose index idx reads
    ok = biSeekPrefixed(idx, t != 0 ? tableIndexPrefixes(t) : 0, bufData(target), bufLength(target), load<u64>(s, 40));
    if (!ok && !biCorrupted(idx)) {
      // Every block of this file ends before the target.
      if (op == OP_SEEK_GE) { nextFile(s); return; }
      ok = biLast(idx);
      if (ok) { requestBlock(s, OP_LAST); return; }
    }
  } else if (op == OP_FIRST) {
    ok = biFirst(idx);
  } else {
    ok = biLast(idx);
  }
  if (!ok) { setState(s, CORRUPT); return; }
  requestBlock(s, op);
}

/** The prefix array of the loaded block (its cache entry's; 0: none). */
function blockPrefixes(s: usize): usize {
  const entry = load<u32>(s, 84);
  return entry == 0 ? 0 : bcPrefixes(rsCache(<usize>load<u32>(s, 76)), entry);
}

function continueWithBlock(s: usize): void {
  const data = dataIter(s);
  const op = load<u32>(s, 8);
  const target = <usize>load<u32>(s, 32);
  if (op == OP_FIRST) {
    setState(s, biFirst(data) ? READY : CORRUPT);
  } else if (op == OP_LAST) {
    setState(s, biLast(data) ? READY : CORRUPT);
  } else if (op == OP_SEEK_GE) {
    if (biSeekPrefixed(data, blockPrefixes(s), bufData(target), bufLength(target), load<u64>(s, 40))) setState(s, READY);
    else if (biCorrupted(data)) setState(s, CORRUPT);
    else nextBlock(s);
  } else { // OP_SEEK_LT
    if (biSeekPrefixed(data, blockPrefixes(s), bufData(target), bufLength(target), load<u64>(s, 40))) {
      if (biPrev(data)) setState(s, READY);
      else if (biCorrupted(data)) setState(s, CORRUPT);
      else prevBlock(s);
    } else if (biCorrupted(data)) {
      setState(s, CORRUPT);
    } else {
      setState(s, biLast(data) ? READY : CORRUPT);
    }
  }
}

function nextFile(s: usize): void {
  const next = load<i32>(s, 20) + 1;
  if (next < fileCount(s)) requestIndex(s, next, OP_FIRST);
  else setState(s, EXHAUSTED);
}

function prevFile(s: usize): void {
  const prev = load<i32>(s, 20) - 1;
  if (prev >= 0) requestIndex(s, prev, OP_LAST);
  else setState(s, EXHAUSTED);
}

function nextBlock(s: usize): void {
  const idx = indexIter(s);
  if (biNext(idx)) requestBlock(s, OP_FIRST);
  else if (biCorrupted(idx)) setState(s, CORRUPT);
  else nextFile(s);
}

function prevBlock(s: usize): void {
  const idx = indexIter(s);
  if (biPrev(idx)) requestBlock(s, OP_LAST);
  else if (biCorrupted(idx)) setState(s, CORRUPT);
  else prevFile(s);
}

// ---- operations on any source ---------------------------------------------------

/** Positions at the first entry at or after (userKey, trailer). */
export function srcSeekGE(s: usize, userKey: usize, userKeyLen: u32, trailer: u64): void {
  if (srcKind(s) == KIND_MEMTABLE) {
    memPlace(s, mtSeek(<usize>load<u32>(s, 12), userKey, userKeyLen, trailer));
    return;
  }
  // The first file whose largest key is at or after the target.
  let lo: i32 = 0;
  let hi: i32 = fileCount(s);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareInternal(<usize>fileField(s, mid, 12), fileField(s, mid, 16), userKey, userKeyLen, trailer) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= fileCount(s)) { setState(s, EXHAUSTED); return; }
  setTarget(s, userKey, userKeyLen, trailer);
  requestIndex(s, lo, OP_SEEK_GE);
}

/** Positions at the last entry before (userKey, trailer). */
export function srcSeekLT(s: usize, userKey: usize, userKeyLen: u32, trailer: u64): void {
  if (srcKind(s) == KIND_MEMTABLE) {
    const mt = <usize>load<u32>(s, 12);
    const at = mtSeek(mt, userKey, userKeyLen, trailer);
    memPlace(s, at != 0 ? mtPrev(mt, at) : mtLast(mt));
    return;
  }
  // The last file whose smallest key is before the target.
  let lo: i32 = 0;
  let hi: i32 = fileCount(s);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareInternal(<usize>fileField(s, mid, 4), fileField(s, mid, 8), userKey, userKeyLen, trailer) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) { setState(s, EXHAUSTED); return; }
  setTarget(s, userKey, userKeyLen, trailer);
  requestIndex(s, lo - 1, OP_SEEK_LT);
}

/** Positions at the first entry. */
export function srcFirst(s: usize): void {
  if (srcKind(s) == KIND_MEMTABLE) memPlace(s, mtFirst(<usize>load<u32>(s, 12)));
  else if (fileCount(s) == 0) setState(s, EXHAUSTED);
  else requestIndex(s, 0, OP_FIRST);
}

/** Positions at the last entry. */
export function srcLast(s: usize): void {
  if (srcKind(s) == KIND_MEMTABLE) memPlace(s, mtLast(<usize>load<u32>(s, 12)));
  else if (fileCount(s) == 0) setState(s, EXHAUSTED);
  else requestIndex(s, fileCount(s) - 1, OP_LAST);
}

/** Moves to the next entry. REQUIRES: state READY. */
export function srcNext(s: usize): void {
  if (srcKind(s) == KIND_MEMTABLE) { memPlace(s, mtNext(<usize>load<u32>(s, 16))); return; }
  const data = dataIter(s);
  if (biNext(data)) setState(s, READY);
  else if (biCorrupted(data)) setState(s, CORRUPT);
  else nextBlock(s);
}

/** Moves to the previous entry. REQUIRES: state READY. */
export function srcPrev(s: usize): void {
  if (srcKind(s) == KIND_MEMTABLE) {
    memPlace(s, mtPrev(<usize>load<u32>(s, 12), <usize>load<u32>(s, 16)));
    return;
  }
  const data = dataIter(s);
  if (biPrev(data)) setState(s, READY);
  else if (biCorrupted(data)) setState(s, CORRUPT);
  else prevBlock(s);
}

// ---- the current entry (REQUIRES: state READY) ---------------------------------

export function srcUserKey(s: usize): usize {
  return srcKind(s) == KIND_MEMTABLE ? nodeKey(<usize>load<u32>(s, 16)) : biKey(dataIter(s));
}
export function srcUserKeyLength(s: usize): u32 {
  return srcKind(s) == KIND_MEMTABLE ? nodeKeyLen(<usize>load<u32>(s, 16)) : biKeyLength(dataIter(s)) - 8;
}
export function srcTrailer(s: usize): u64 {
  if (srcKind(s) == KIND_MEMTABLE) return nodeTrailer(<usize>load<u32>(s, 16));
  const data = dataIter(s);
  return load<u64>(biKey(data) + <usize>biKeyLength(data) - 8);
}
export function srcValue(s: usize): usize {
  return srcKind(s) == KIND_MEMTABLE ? nodeValue(<usize>load<u32>(s, 16)) : biValue(dataIter(s));
}
export function srcValueLength(s: usize): u32 {
  return srcKind(s) == KIND_MEMTABLE ? nodeValueLen(<usize>load<u32>(s, 16)) : biValueLength(dataIter(s));
}
