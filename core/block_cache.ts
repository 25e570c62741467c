// The block cache: checked table blocks in linear memory, found by (file
// number, offset) through an open-addressing hash table, evicted by CLOCK
// (second chance), bounded in bytes. A lookup costs a hash, a slot read and
// an entry read whatever the cache's size, so a bigger cache is never slower.
// TypeScript reads and checks blocks (src/table/); it inserts them here and
// the core's readers look them up without leaving WebAssembly.
//
// A pinned entry (a scan sits on its block) is never evicted; an entry
// dropped while pinned (its file was deleted) leaves the table at once and
// is freed by its last unpin.
//
// Cache header (heap, CACHE_SIZE bytes):
//   +0  f64 capacity (bytes)      +8  f64 bytes held
//   +16 u32 entries                +20 u32 entry capacity   +24 u32 entries used (high water)
//   +28 u32 free entry list head (index + 1; 0 = none)       +32 u32 slots  +36 u32 slot mask
//   +40 u32 live (hashed) entries  +44 u32 clock hand
//   +48 f64 hits                   +56 f64 misses
//
// Entry (ENTRY bytes, array at +16, addressed by index):
//   +0 u32 file  +4 u32 block pointer  +8 f64 offset  +16 u32 size  +20 u32 pins
//   +24 u32 flags (IN_USE, HASHED, REFERENCED)  +28 u32 next free (index + 1)
//   +32 u32 the block's restart key prefixes (index_prefixes.ts; 0 = none)  +36 u32 0
//
// Each block gets its prefix array when it is inserted, so that a seek in it
// searches one small array instead of the restarts spread over the block
// (most of a cached lookup is waiting for memory). Bytes held count both.
//
// Slot (u32): entry index + 1, 0 = empty. Linear probing; deletion shifts the
// following run back (no tombstones). Slots double when half full.

import { ipBuild, ipBytes, ipFree } from "./index_prefixes";

const CACHE_SIZE: usize = 64;
const ENTRY: usize = 40;
const IN_USE: u32 = 1;
const HASHED: u32 = 2;
const REFERENCED: u32 = 4;

// @ts-ignore: decorator
@inline function entries(c: usize): usize { return <usize>load<u32>(c, 16); }
// @ts-ignore: decorator
@inline function entryAt(c: usize, i: u32): usize { return entries(c) + <usize>i * ENTRY; }
// @ts-ignore: decorator
@inline function slots(c: usize): usize { return <usize>load<u32>(c, 32); }
// @ts-ignore: decorator
@inline function slotMask(c: usize): u32 { return load<u32>(c, 36); }

// @ts-ignore: decorator
@inline function hashOf(file: u32, offset: f64): u32 {
  let h: u64 = (<u64>file * 0x9e3779b97f4a7c15) ^ (<u64>offset * 0xc2b2ae3d27d4eb4f);
  h ^= h >> 31;
  h *= 0xff51afd7ed558ccd;
  return <u32>(h >> 32);
}

/** A new empty cache holding at most capacity bytes of blocks. */
export function bcNew(capacity: f64): usize {
  const c = heap.alloc(CACHE_SIZE);
  memory.fill(c, 0, CACHE_SIZE);
  store<f64>(c, capacity);
  const entryCapacity: u32 = 256;
  store<u32>(c, <u32>heap.alloc(<usize>entryCapacity * ENTRY), 16);
  store<u32>(c, entryCapacity, 20);
  const slotCount: u32 = 512;
  const table = heap.alloc(<usize>slotCount << 2);
  memory.fill(table, 0, <usize>slotCount << 2);
  store<u32>(c, <u32>table, 32);
  store<u32>(c, slotCount - 1, 36);
  return c;
}

/** Index + 1 of the entry for (file, offset), or 0; marks it recently used and counts a hit or miss. */
export function bcLookup(c: usize, file: u32, offset: f64): u32 {
  const slot = findSlot(c, file, offset);
  if (slot == 0) {
    store<f64>(c, load<f64>(c, 56) + 1, 56);
    return 0;
  }
  const e = entryAt(c, slot - 1);
  store<u32>(e, load<u32>(e, 24) | REFERENCED, 24);
  store<f64>(c, load<f64>(c, 48) + 1, 48);
  return slot;
}

/** Address and size of an entry's block (entry = index + 1 from bcLookup/bcInsert). */
export function bcBlock(c: usize, entry: u32): usize { return <usize>load<u32>(entryAt(c, entry - 1), 4); }
export function bcBlockSize(c: usize, entry: u32): u32 { return load<u32>(entryAt(c, entry - 1), 16); }
/** The prefix array of an entry's block (index_prefixes.ts), or 0 (a malformed block: searched without one). */
export function bcPrefixes(c: usize, entry: u32): usize { return <usize>load<u32>(entryAt(c, entry - 1), 32); }

/** Bytes an entry holds: its block and its prefix array. */
// @ts-ignore: decorator
@inline function heldBytes(e: usize): f64 {
  return <f64>load<u32>(e, 16) + <f64>ipBytes(<usize>load<u32>(e, 32));
}

/** Pins an entry: it stays until unpinned. */
export function bcPin(c: usize, entry: u32): void {
  const e = entryAt(c, entry - 1);
  store<u32>(e, load<u32>(e, 20) + 1, 20);
}

/** Unpins an entry; frees it if it was dropped meanwhile. */
export function bcUnpin(c: usize, entry: u32): void {
  const e = entryAt(c, entry - 1);
  const pins = load<u32>(e, 20) - 1;
  store<u32>(e, pins, 20);
  if (pins == 0 && (load<u32>(e, 24) & HASHED) == 0) release(c, entry - 1);
}

/**
 * Takes ownership of a checked block (allocated with heap.alloc) and caches
 * it under (file, offset); returns its entry (index + 1). Evicts unpinned
 * blocks, least recently used by CLOCK, down to the capacity; the new block
 * itself stays until the next insert even when it alone exceeds it.
 */
export function bcInsert(c: usize, file: u32, offset: f64, block: usize, size: u32): u32 {
  const existing = findSlot(c, file, offset);
  if (existing != 0) {
    heap.free(block);
    return existing;
  }
  const index = newEntry(c);
  const e = entryAt(c, index);
  store<u32>(e, file);
  store<u32>(e, <u32>block, 4);
  store<f64>(e, offset, 8);
  store<u32>(e, size, 16);
  store<u32>(e, 0, 20);
  // Unreferenced: a block read once is the first candidate; a hit earns it a second chance.
  store<u32>(e, IN_USE | HASHED, 24);
  store<u32>(e, <u32>ipBuild(block, size), 32);
  store<u32>(e, 0, 36);
  hashIn(c, index);
  store<f64>(c, load<f64>(c, 8) + heldBytes(e), 8);
  evict(c, index);
  return index + 1;
}

/** Drops every block of a file (it was deleted); pinned ones are freed at their last unpin. */
export function bcForgetFile(c: usize, file: u32): void {
  const used = load<u32>(c, 24);
  for (let i: u32 = 0; i < used; i++) {
    const e = entryAt(c, i);
    if ((load<u32>(e, 24) & HASHED) != 0 && load<u32>(e) == file) drop(c, i);
  }
}

/** Drops every block; pinned ones are freed at their last unpin. */
export function bcClear(c: usize): void {
  const used = load<u32>(c, 24);
  for (let i: u32 = 0; i < used; i++) {
    if ((load<u32>(entryAt(c, i), 24) & HASHED) != 0) drop(c, i);
  }
}

/** Frees the cache and every block in it, pinned or not (the database is closed). */
export function bcFree(c: usize): void {
  const used = load<u32>(c, 24);
  for (let i: u32 = 0; i < used; i++) {
    const e = entryAt(c, i);
    if ((load<u32>(e, 24) & IN_USE) != 0) {
      heap.free(<usize>load<u32>(e, 4));
      ipFree(<usize>load<u32>(e, 32));
    }
  }
  heap.free(entries(c));
  heap.free(slots(c));
  heap.free(c);
}

/** Statistics: hits, misses, bytes held and blocks held. */
export function bcHits(c: usize): f64 { return load<f64>(c, 48); }
export function bcMisses(c: usize): f64 { return load<f64>(c, 56); }
export function bcBytes(c: usize): f64 { return load<f64>(c, 8); }
export function bcBlocks(c: usize): u32 { return load<u32>(c, 40); }

// ---- internals ---------------------------------------------------------------

function findSlot(c: usize, file: u32, offset: f64): u32 {
  const mask = slotMask(c);
  const table = slots(c);
  let i = hashOf(file, offset) & mask;
  while (true) {
    const slot = load<u32>(table + (<usize>i << 2));
    if (slot == 0) return 0;
    const e = entryAt(c, slot - 1);
    if (load<u32>(e) == file && load<f64>(e, 8) == offset) return slot;
    i = (i + 1) & mask;
  }
}

function newEntry(c: usize): u32 {
  const free = load<u32>(c, 28);
  if (free != 0) {
    store<u32>(c, load<u32>(entryAt(c, free - 1), 28), 28);
    return free - 1;
  }
  const used = load<u32>(c, 24);
  const capacity = load<u32>(c, 20);
  if (used == capacity) {
    const bigger = heap.alloc(<usize>capacity * 2 * ENTRY);
    memory.copy(bigger, entries(c), <usize>capacity * ENTRY);
    heap.free(entries(c));
    store<u32>(c, <u32>bigger, 16);
    store<u32>(c, capacity * 2, 20);
  }
  store<u32>(c, used + 1, 24);
  return used;
}

function hashIn(c: usize, index: u32): void {
  const live = load<u32>(c, 40) + 1;
  store<u32>(c, live, 40);
  if (live * 2 > slotMask(c) + 1) rehash(c, (slotMask(c) + 1) << 1);
  place(c, index);
}

function place(c: usize, index: u32): void {
  const e = entryAt(c, index);
  const mask = slotMask(c);
  const table = slots(c);
  let i = hashOf(load<u32>(e), load<f64>(e, 8)) & mask;
  while (load<u32>(table + (<usize>i << 2)) != 0) i = (i + 1) & mask;
  store<u32>(table + (<usize>i << 2), index + 1);
}

function rehash(c: usize, count: u32): void {
  const old = slots(c);
  const oldCount = slotMask(c) + 1;
  const table = heap.alloc(<usize>count << 2);
  memory.fill(table, 0, <usize>count << 2);
  store<u32>(c, <u32>table, 32);
  store<u32>(c, count - 1, 36);
  for (let i: u32 = 0; i < oldCount; i++) {
    const slot = load<u32>(old + (<usize>i << 2));
    if (slot != 0) place(c, slot - 1);
  }
  heap.free(old);
}

/** Removes entry index from the hash table (backward-shift deletion). */
function hashOut(c: usize, index: u32): void {
  const e = entryAt(c, index);
  const mask = slotMask(c);
  const table = slots(c);
  let i = hashOf(load<u32>(e), load<f64>(e, 8)) & mask;
  while (load<u32>(table + (<usize>i << 2)) != index + 1) i = (i + 1) & mask;
  let j = i;
  while (true) {
    j = (j + 1) & mask;
    const slot = load<u32>(table + (<usize>j << 2));
    if (slot == 0) break;
    const o = entryAt(c, slot - 1);
    const home = hashOf(load<u32>(o), load<f64>(o, 8)) & mask;
    // Move the entry at j into the hole at i unless its home lies in (i, j].
    if (((j - home) & mask) >= ((j - i) & mask)) {
      store<u32>(table + (<usize>i << 2), slot);
      i = j;
    }
  }
  store<u32>(table + (<usize>i << 2), 0);
  store<u32>(c, load<u32>(c, 40) - 1, 40);
}

/** Takes an entry out of the cache; frees it now unless pinned. */
function drop(c: usize, index: u32): void {
  const e = entryAt(c, index);
  hashOut(c, index);
  store<u32>(e, load<u32>(e, 24) & ~HASHED, 24);
  store<f64>(c, load<f64>(c, 8) - heldBytes(e), 8);
  if (load<u32>(e, 20) == 0) release(c, index);
}

function release(c: usize, index: u32): void {
  const e = entryAt(c, index);
  heap.free(<usize>load<u32>(e, 4));
  ipFree(<usize>load<u32>(e, 32));
  store<u32>(e, 0, 32);
  store<u32>(e, 0, 24);
  store<u32>(e, load<u32>(c, 28), 28);
  store<u32>(c, index + 1, 28);
}

/** CLOCK: sweeps entries, clearing reference bits, dropping unreferenced unpinned ones, until under capacity. */
function evict(c: usize, keep: u32): void {
  const capacity = load<f64>(c, 0);
  const used = load<u32>(c, 24);
  let hand = load<u32>(c, 44);
  // Two full sweeps clear every reference bit; more finds nothing new.
  let budget = used * 2 + 1;
  while (load<f64>(c, 8) > capacity && budget > 0) {
    if (hand >= used) hand = 0;
    const e = entryAt(c, hand);
    const flags = load<u32>(e, 24);
    if ((flags & HASHED) != 0 && hand != keep && load<u32>(e, 20) == 0) {
      if ((flags & REFERENCED) != 0) store<u32>(e, flags & ~REFERENCED, 24);
      else drop(c, hand);
    }
    hand++;
    budget--;
  }
  store<u32>(c, hand, 44);
}
