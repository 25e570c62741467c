// Memtable: a skip list of internal keys in two arenas.
//
// Internal key = user key + trailer, trailer = (sequence << 8) | kind.
// Order: user key bytewise ascending, then trailer descending (newest first).
// Nodes are never removed, so a node pointer stays valid (and a cursor on it
// stays usable) until the whole memtable is freed.
//
// Every entry is split in two allocations:
// - its data (trailer, key, value) in the data arena, written once;
// - its tower (key prefix, data pointer, links on all its levels) in the
//   tower arena.
// A search walks towers only and compares cached key prefixes, so it runs
// over a dense region a fraction of the memtable's size; it touches entry
// data only to break a prefix tie and to read the entry it finds. (Keeping
// links and keys in one node costs a cache and TLB miss on nearly every step
// once the memtable outgrows the CPU caches; see docs/architecture.md.)
// Entries are addressed by their tower: a cursor is a tower pointer.
//
// Tower (8-byte aligned, tower arena), one per entry:
//
//   +0   u64  key prefix: user key bytes 0-7, big-endian, zero-padded
//   +8   u64  second prefix: user key bytes 8-15, likewise (keys often share
//             their first 8 bytes: "0000000000123456", "user:000...")
//   +16  u32  entry data
//   +20  u32  user key length
//   +24  u32  height h (1..MAX_HEIGHT)
//   +28  u32  next[h]: next tower on levels 0..h-1 (0 = none)
//
// Entry data (8-byte aligned, data arena):
//
//   +0   u64  trailer (sequence << 8 | kind)
//   +8   u32  user key length
//   +12  u32  value length (0 for a tombstone)
//   +16  u32  the entry's tower
//   +20  user key bytes, then value bytes
//
// Memtable header (heap, MT_SIZE bytes):
//
//   +0   u32  data arena
//   +4   u32  tower arena
//   +8   u32  levels in use (1..MAX_HEIGHT)
//   +12  u32  random state (xorshift32)
//   +16  u32  entry count
//   +20  u32  user key + value bytes stored
//   +24  u32  head tower (height MAX_HEIGHT, no entry; sorts before all)
//   +28  u32  hash index: user key -> data of its newest version (hash_index.ts)
//   +32  u32  hash index capacity in slots
//   +36  u32  distinct user keys (filled slots)
//   +40  u32  range tombstones: a second memtable keyed by start (range_tombstones.ts; 0 = none)

import { copyBytes } from "./buffer";
import { arenaAllocate, arenaFree, arenaNew, arenaReserved, arenaUsed } from "./arena";
import { compareBytes, keyPrefix } from "./coding";
import { hashKey, INITIAL_CAPACITY, SLOT, tableGrow, tableNew } from "./hash_index";

export const MAX_HEIGHT: u32 = 16;
const MT_SIZE: usize = 44;
const DATA_HEADER: usize = 20;
const TOWER_HEADER: usize = 28;

// Predecessor towers found by a search, one per level.
const SPLICE: usize = memory.data(<i32>MAX_HEIGHT * 4, 8);

// ---- entry accessors (by tower) ----------------------------------------------

// @ts-ignore: decorator
@inline export function nodePrefix(t: usize): u64 { return load<u64>(t); }
// @ts-ignore: decorator
@inline function dataOf(t: usize): usize { return <usize>load<u32>(t, 16); }
// @ts-ignore: decorator
@inline export function nodeTrailer(t: usize): u64 { return load<u64>(dataOf(t)); }
// @ts-ignore: decorator
@inline export function nodeKeyLen(t: usize): u32 { return load<u32>(t, 20); }
// @ts-ignore: decorator
@inline export function nodeValueLen(t: usize): u32 { return load<u32>(dataOf(t), 12); }
// @ts-ignore: decorator
@inline export function nodeKey(t: usize): usize { return dataOf(t) + DATA_HEADER; }
// @ts-ignore: decorator
@inline export function nodeValue(t: usize): usize { const d = dataOf(t); return d + DATA_HEADER + <usize>load<u32>(d, 8); }
// @ts-ignore: decorator
@inline function nextOf(t: usize, level: u32): usize { return <usize>load<u32>(t + TOWER_HEADER + (<usize>level << 2)); }
// @ts-ignore: decorator
@inline function setNext(t: usize, level: u32, to: usize): void { store<u32>(t + TOWER_HEADER + (<usize>level << 2), <u32>to); }

/** The second key prefix: bytes 8-15, big-endian, zero-padded. */
// @ts-ignore: decorator
@inline
function keyPrefix2(key: usize, keyLen: u32): u64 {
  return keyLen > 8 ? keyPrefix(key + 8, keyLen - 8) : 0;
}

/**
 * Compares entry t's user key with (prefix, prefix2, key, keyLen): from the
 * tower alone unless both keys are longer than 16 bytes and agree on 16.
 */
// @ts-ignore: decorator
@inline
function compareUserKey(t: usize, prefix: u64, prefix2: u64, key: usize, keyLen: u32): i32 {
  const p = load<u64>(t);
  if (p != prefix) return p < prefix ? -1 : 1;
  const p2 = load<u64>(t, 8);
  if (p2 != prefix2) return p2 < prefix2 ? -1 : 1;
  const len = load<u32>(t, 20);
  // Equal prefixes: the first min(len, keyLen, 16) bytes are equal.
  if (len <= 16 || keyLen <= 16) return len < keyLen ? -1 : len > keyLen ? 1 : 0;
  return compareBytes(dataOf(t) + DATA_HEADER + 16, len - 16, key + 16, keyLen - 16);
}

/** Compares entry t's internal key with (prefix, prefix2, key, keyLen, trailer). */
// @ts-ignore: decorator
@inline
function compareEntry(t: usize, prefix: u64, prefix2: u64, key: usize, keyLen: u32, trailer: u64): i32 {
  const c = compareUserKey(t, prefix, prefix2, key, keyLen);
  if (c != 0) return c;
  const tt = load<u64>(dataOf(t));
  return tt > trailer ? -1 : tt < trailer ? 1 : 0;
}

/** True when entries a and b hold the same user key. */
export function sameUserKey(a: usize, b: usize): bool {
  return compareUserKey(a, load<u64>(b), load<u64>(b, 8), nodeKey(b), nodeKeyLen(b)) == 0;
}

// ---- memtable -------------------------------------------------------------

// @ts-ignore: decorator
@inline function dataArena(mt: usize): usize { return <usize>load<u32>(mt); }
// @ts-ignore: decorator
@inline function towerArena(mt: usize): usize { return <usize>load<u32>(mt, 4); }
// @ts-ignore: decorator
@inline function headOf(mt: usize): usize { return <usize>load<u32>(mt, 24); }

/** Creates an empty memtable. */
export function mtNew(): usize {
  const mt = heap.alloc(MT_SIZE);
  const data = arenaNew();
  const towers = arenaNew();
  const headSize = TOWER_HEADER + (<usize>MAX_HEIGHT << 2);
  const head = arenaAllocate(towers, headSize);
  memory.fill(head, 0, headSize);
  store<u32>(head, MAX_HEIGHT, 24);
  store<u32>(mt, <u32>data);
  store<u32>(mt, <u32>towers, 4);
  store<u32>(mt, 1, 8);
  store<u32>(mt, 0x9e3779b9 ^ <u32>mt, 12);
  store<u32>(mt, 0, 16);
  store<u32>(mt, 0, 20);
  store<u32>(mt, <u32>head, 24);
  store<u32>(mt, <u32>tableNew(INITIAL_CAPACITY), 28);
  store<u32>(mt, INITIAL_CAPACITY, 32);
  store<u32>(mt, 0, 36);
  store<u32>(mt, 0, 40);
  return mt;
}

/** Frees the memtable and all its entries; cursors on it become invalid. */
export function mtFree(mt: usize): void {
  const rangeDeletes = <usize>load<u32>(mt, 40);
  if (rangeDeletes != 0) mtFree(rangeDeletes);
  arenaFree(dataArena(mt));
  arenaFree(towerArena(mt));
  heap.free(<usize>load<u32>(mt, 28));
  heap.free(mt);
}

/** Number of entries (versions) in the memtable, range tombstones included. */
export function mtCount(mt: usize): u32 {
  const rangeDeletes = <usize>load<u32>(mt, 40);
  return load<u32>(mt, 16) + (rangeDeletes != 0 ? load<u32>(rangeDeletes, 16) : 0);
}

/** Bytes the memtable reserved from the heap: its memory footprint. */
export function mtMemoryUsage(mt: usize): u32 {
  return arenaReserved(dataArena(mt)) + arenaReserved(towerArena(mt)) + <u32>MT_SIZE + load<u32>(mt, 32) * <u32>SLOT;
}

/** Bytes allocated for towers, keys and values (what fills a memtable). */
export function mtBytesUsed(mt: usize): u32 {
  const rangeDeletes = <usize>load<u32>(mt, 40);
  return arenaUsed(dataArena(mt)) + arenaUsed(towerArena(mt)) + (rangeDeletes != 0 ? mtBytesUsed(rangeDeletes) : 0);
}

function randomHeight(mt: usize): u32 {
  let x = load<u32>(mt, 12);
  let height: u32 = 1;
  // Branching factor 4: each extra level with probability 1/4.
  while (height < MAX_HEIGHT) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    if ((x & 3) != 0) break;
    height++;
  }
  store<u32>(mt, x, 12);
  return height;
}

// The last entry before the key found by the latest search (the head if none).
let lastBefore: usize = 0;

/**
 * First entry at or after the internal key, or 0; sets lastBefore. With
 * splice, fills SPLICE with the last tower before the key on every level in use.
 */
function search(mt: usize, key: usize, keyLen: u32, trailer: u64, splice: bool): usize {
  const prefix = keyPrefix(key, keyLen);
  const prefix2 = keyPrefix2(key, keyLen);
  let x = headOf(mt);
  let level = load<u32>(mt, 8) - 1;
  while (true) {
    const next = nextOf(x, level);
    if (next != 0 && compareEntry(next, prefix, prefix2, key, keyLen, trailer) < 0) {
      x = next;
    } else {
      if (splice) store<u32>(SPLICE + (<usize>level << 2), <u32>x);
      if (level == 0) {
        lastBefore = x;
        return next;
      }
      level--;
    }
  }
}

/** Inserts an entry. The internal key (key, trailer) must not be present yet. */
export function mtInsert(mt: usize, key: usize, keyLen: u32, trailer: u64, value: usize, valueLen: u32): void {
  search(mt, key, keyLen, trailer, true);
  const height = randomHeight(mt);
  const inUse = load<u32>(mt, 8);
  if (height > inUse) {
    for (let l = inUse; l < height; l++) store<u32>(SPLICE + (<usize>l << 2), <u32>headOf(mt));
    store<u32>(mt, height, 8);
  }
  const data = arenaAllocate(dataArena(mt), DATA_HEADER + <usize>keyLen + <usize>valueLen);
  store<u64>(data, trailer);
  store<u32>(data, keyLen, 8);
  store<u32>(data, valueLen, 12);
  copyBytes(data + DATA_HEADER, key, keyLen);
  copyBytes(data + DATA_HEADER + <usize>keyLen, value, valueLen);
  const tower = arenaAllocate(towerArena(mt), TOWER_HEADER + (<usize>height << 2));
  store<u64>(tower, keyPrefix(key, keyLen));
  store<u64>(tower, keyPrefix2(key, keyLen), 8);
  store<u32>(tower, <u32>data, 16);
  store<u32>(tower, keyLen, 20);
  store<u32>(tower, height, 24);
  store<u32>(data, <u32>tower, 16);
  for (let l: u32 = 0; l < height; l++) {
    const before = <usize>load<u32>(SPLICE + (<usize>l << 2));
    setNext(tower, l, nextOf(before, l));
    setNext(before, l, tower);
  }
  indexNewest(mt, data, key, keyLen, trailer);
  store<u32>(mt, load<u32>(mt, 16) + 1, 16);
  store<u32>(mt, load<u32>(mt, 20) + keyLen + valueLen, 20);
}

// ---- hash index: user key -> newest version ----------------------------------

// Sink for the value prefetch in mtFind, so the loads are not optimized away.
let touched: u32 = 0;

/** The hash index slot of the user key: the one holding it, or the empty one where it belongs. */
function slotOf(mt: usize, hash: u32, key: usize, keyLen: u32): usize {
  const table = <usize>load<u32>(mt, 28);
  const mask = load<u32>(mt, 32) - 1;
  let i = hash & mask;
  while (true) {
    const slot = table + (<usize>i) * SLOT;
    const data = <usize>load<u32>(slot, 4);
    if (data == 0) return slot;
    if (load<u32>(slot) == hash && compareBytes(data + DATA_HEADER, load<u32>(data, 8), key, keyLen) == 0) return slot;
    i = (i + 1) & mask;
  }
}

/** Points the hash index at entry data if it is the newest version of its key. */
function indexNewest(mt: usize, data: usize, key: usize, keyLen: u32, trailer: u64): void {
  const hash = hashKey(key, keyLen);
  let slot = slotOf(mt, hash, key, keyLen);
  const current = <usize>load<u32>(slot, 4);
  if (current != 0) {
    if (load<u64>(current) < trailer) store<u32>(slot, <u32>data, 4);
    return;
  }
  const distinct = load<u32>(mt, 36) + 1;
  const capacity = load<u32>(mt, 32);
  if (distinct * 2 > capacity) {
    store<u32>(mt, <u32>tableGrow(<usize>load<u32>(mt, 28), capacity), 28);
    store<u32>(mt, capacity << 1, 32);
    slot = slotOf(mt, hash, key, keyLen);
  }
  store<u32>(slot, hash);
  store<u32>(slot, <u32>data, 4);
  store<u32>(mt, distinct, 36);
}

/**
 * The tower of the newest version of the user key at or below the trailer
 * bound ((sequence << 8) | 0xff), or 0 when the key has none.
 */
export function mtFind(mt: usize, key: usize, keyLen: u32, bound: u64): usize {
  const data = <usize>load<u32>(slotOf(mt, hashKey(key, keyLen), key, keyLen), 4);
  if (data == 0) return 0;
  let t = <usize>load<u32>(data, 16);
  if (load<u64>(data) <= bound) {
    // The common case, a current read: touch every cache line of the value
    // now, so that the misses overlap instead of following one another when
    // the caller copies it out.
    const value = data + DATA_HEADER + <usize>load<u32>(data, 8);
    const end = value + <usize>load<u32>(data, 12);
    let sum: u32 = 0;
    for (let p = value; p < end; p += 64) sum += load<u8>(p);
    touched += sum;
    return t;
  }
  // Older versions follow on level 0.
  while (nodeTrailer(t) > bound) {
    const next = nextOf(t, 0);
    if (next == 0 || !sameUserKey(next, t)) return 0;
    t = next;
  }
  return t;
}

// ---- cursor moves: a cursor is a tower pointer, 0 = not valid ---------------

/** First entry at or after (key, trailer), or 0. */
export function mtSeek(mt: usize, key: usize, keyLen: u32, trailer: u64): usize {
  return search(mt, key, keyLen, trailer, false);
}

/** First entry, or 0 when empty. */
export function mtFirst(mt: usize): usize {
  return nextOf(headOf(mt), 0);
}

/** Last entry, or 0 when empty. */
export function mtLast(mt: usize): usize {
  const head = headOf(mt);
  let x = head;
  let level = load<u32>(mt, 8) - 1;
  while (true) {
    const next = nextOf(x, level);
    if (next != 0) {
      x = next;
    } else {
      if (level == 0) return x == head ? 0 : x;
      level--;
    }
  }
}

/** Entry after t, or 0. */
// @ts-ignore: decorator
@inline
export function mtNext(t: usize): usize {
  return nextOf(t, 0);
}

/** Entry before t, or 0. O(log n): the list has forward links only. */
export function mtPrev(mt: usize, t: usize): usize {
  search(mt, nodeKey(t), nodeKeyLen(t), nodeTrailer(t), false);
  return lastBefore == headOf(mt) ? 0 : lastBefore;
}
