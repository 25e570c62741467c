// The user-visible view of the merged sources (merge_iter.ts): for every
// user key, only the newest version at or below the snapshot sequence,
// tombstones hidden, inside optional bounds, forward or reverse.
//
// Iterator state (heap, ITER_SIZE bytes):
//
//   +0   u32  merge iterator (owned)
//   +4   u32  flags (below)
//   +8   u32  phase: 0 = between keys; 1 = forward: skipping the saved key's
//             older versions / reverse: collecting the saved key's versions
//   +12  u32  reverse: kind of the saved key's newest visible version (NONE if none)
//   +16  u64  snapshot bound: (snapshot sequence << 8) | 0xff
//   +24  u32  lower bound bytes, +28 u32 its length
//   +32  u32  upper bound bytes, +36 u32 its length (one allocation with the lower)
//   +40  u32  saved user key (buffer)   +44 u32 saved value (buffer, reverse only)
//   +48  u32  output arena (buffer)     +52 u32 status of the last fill (below)
//   +56  u32  value arena (buffer): reverse, and forward with ITER_COPY_VALUES
//   +60  u32  range-tombstone fragment list (range_tombstones.ts; referenced; 0 = none)
//   +64  u64  reverse: trailer of the saved key's newest visible version
//   +72  f64  now, epoch ms (set at creation): expiring puts (core/expiry.ts)
//             at or past it read as tombstones
//   +80  u32  capacity of the bounds allocation at +24
//
// A freed iterator is kept (up to POOL_MAX) with its buffers and bounds
// allocation, and the next iterNew takes it: a short scan made and freed
// fourteen allocations (iterator, bounds, four buffers, the merge's arrays)
// and their frees were 9% of a seek + next 1. Buffers that grew past
// POOL_BUFFER_MAX are given back instead of kept.
//
// iterFill writes each visible entry as four u32 values (key pointer, key
// length, value pointer, value length). Keys are copied into the output
// arena one after the other (TypeScript decodes a fill's keys in one go when
// they are ASCII); forward values point into the source (memtable or cached
// block), unless ITER_COPY_VALUES asks for them one after the other in the
// value arena (TypeScript then copies a fill's values out in a few slices:
// in V8 a typed array of its own costs more than the scan's step); reverse
// values are always in the value arena. Everything stays valid until the
// next call on this iterator, and until TypeScript replaces a source's
// block.
//
// The arenas start at ARENA_INITIAL bytes. A fill that stops because one is
// full (ITER_GROW) doubles both, up to POOL_BUFFER_MAX, before the next fill:
// a scan of 100-byte values would otherwise take 40 entries per call.

import { bufAppend, bufCapacity, bufData, bufFree, bufLength, bufNew, bufReserve, bufSetLength, copyBytes } from "./buffer";
import { compareBytes } from "./coding";
import { KIND_PUT } from "./write_batch";
import { EXPIRY_PREFIX, KIND_PUT_EXPIRING, visibleKind } from "./expiry";
import { rtHides, rtRef, rtUnref } from "./range_tombstones";
import { child, miAdvance, miFirst, miFree, miLast, miSeekGE, miSeekLT, miSettle, miSkipKey, miTop } from "./merge_iter";
import { srcTrailer, srcUserKey, srcUserKeyLength, srcValue, srcValueLength } from "./sources";

export const ITER_REVERSE: u32 = 1;
export const ITER_HAS_LOWER: u32 = 2;
export const ITER_LOWER_INCLUSIVE: u32 = 4;
export const ITER_HAS_UPPER: u32 = 8;
export const ITER_UPPER_INCLUSIVE: u32 = 16;
export const ITER_COPY_VALUES: u32 = 32;
const ITER_STARTED: u32 = 64;
/** The last fill stopped because an arena was full: grow them before the next. */
const ITER_GROW: u32 = 128;

export const STATUS_MORE: u32 = 0;
export const STATUS_DONE: u32 = 1;
export const STATUS_NEED: u32 = 2;
export const STATUS_CORRUPT: u32 = 3;

const ITER_SIZE: usize = 84;
const ITER_BOUNDS_CAPACITY: usize = 80;
/** Freed iterators kept for reuse. */
const POOL_MAX: i32 = 16;
/** Largest buffer a pooled iterator keeps (a scan of long keys or values grew it). */
const POOL_BUFFER_MAX: u32 = 64 << 10;
const pool = new StaticArray<usize>(POOL_MAX);
let pooled: i32 = 0;
const ITER_TOMBSTONES: usize = 60;
const ITER_NOW: usize = 72;
const MAX_TRAILER: u64 = 0xffffffffffffffff;
const NONE: u32 = 0xff;
const ARENA_INITIAL: u32 = 4 << 10;

/**
 * Creates an iterator over merge m as of the snapshot sequence, reading
 * expiring puts at now and hiding what the fragment list `tombstones` covers
 * (it takes a reference; 0: none); takes ownership of m.
 */
export function iterNew(
  m: usize, snapshot: u64, flags: u32,
  lower: usize, lowerLen: u32, upper: usize, upperLen: u32, now: f64, tombstones: usize,
): usize {
  const boundsSize = lowerLen + upperLen + 1;
  let it: usize;
  let bounds: usize;
  if (pooled > 0) {
    it = unchecked(pool[--pooled]);
    bounds = <usize>load<u32>(it, 24);
    if (load<u32>(it, ITER_BOUNDS_CAPACITY) < boundsSize) {
      heap.free(bounds);
      bounds = heap.alloc(<usize>boundsSize);
      store<u32>(it, boundsSize, ITER_BOUNDS_CAPACITY);
    }
    bufSetLength(<usize>load<u32>(it, 40), 0);
    bufSetLength(<usize>load<u32>(it, 44), 0);
    bufSetLength(<usize>load<u32>(it, 48), 0);
    bufSetLength(<usize>load<u32>(it, 56), 0);
  } else {
    it = heap.alloc(ITER_SIZE);
    bounds = heap.alloc(<usize>boundsSize);
    store<u32>(it, boundsSize, ITER_BOUNDS_CAPACITY);
    store<u32>(it, <u32>bufNew(64), 40);
    store<u32>(it, <u32>bufNew(64), 44);
    store<u32>(it, <u32>bufNew(ARENA_INITIAL), 48);
    store<u32>(it, <u32>bufNew(ARENA_INITIAL), 56);
  }
  copyBytes(bounds, lower, lowerLen);
  copyBytes(bounds + <usize>lowerLen, upper, upperLen);
  store<u32>(it, <u32>m);
  store<u32>(it, flags & ~(ITER_STARTED | ITER_GROW), 4);
  store<u32>(it, 0, 8);
  store<u32>(it, NONE, 12);
  store<u64>(it, (snapshot << 8) | 0xff, 16);
  store<u32>(it, <u32>bounds, 24);
  store<u32>(it, lowerLen, 28);
  store<u32>(it, <u32>(bounds + <usize>lowerLen), 32);
  store<u32>(it, upperLen, 36);
  store<u32>(it, STATUS_MORE, 52);
  if (tombstones != 0) rtRef(tombstones);
  store<u32>(it, <u32>tombstones, ITER_TOMBSTONES);
  store<f64>(it, now, ITER_NOW);
  return it;
}

/** Frees the iterator, its merge and sources (the iterator itself is kept for reuse while the pool has room). */
export function iterFree(it: usize): void {
  miFree(<usize>load<u32>(it));
  const tombstones = <usize>load<u32>(it, ITER_TOMBSTONES);
  if (tombstones != 0) rtUnref(tombstones);
  if (pooled < POOL_MAX) {
    keepSmall(it + 40, 64);
    keepSmall(it + 44, 64);
    keepSmall(it + 48, ARENA_INITIAL);
    keepSmall(it + 56, ARENA_INITIAL);
    unchecked(pool[pooled++] = it);
    return;
  }
  heap.free(<usize>load<u32>(it, 24));
  bufFree(<usize>load<u32>(it, 40));
  bufFree(<usize>load<u32>(it, 44));
  bufFree(<usize>load<u32>(it, 48));
  bufFree(<usize>load<u32>(it, 56));
  heap.free(it);
}

/** Replaces the buffer whose pointer is at slot with a new one of `initial` bytes if it grew past POOL_BUFFER_MAX. */
function keepSmall(slot: usize, initial: u32): void {
  const b = <usize>load<u32>(slot);
  if (bufCapacity(b) <= POOL_BUFFER_MAX) return;
  bufFree(b);
  store<u32>(slot, <u32>bufNew(initial));
}

/** Status of the last fill: MORE, DONE, NEED (see iterNeedChild) or CORRUPT. */
export function iterStatus(it: usize): u32 { return load<u32>(it, 52); }

// @ts-ignore: decorator
@inline function mergeOf(it: usize): usize { return <usize>load<u32>(it); }

function compareLower(it: usize, key: usize, len: u32): i32 {
  return compareBytes(key, len, <usize>load<u32>(it, 24), load<u32>(it, 28));
}
function compareUpper(it: usize, key: usize, len: u32): i32 {
  return compareBytes(key, len, <usize>load<u32>(it, 32), load<u32>(it, 36));
}

function start(it: usize, flags: u32): void {
  const m = mergeOf(it);
  if (flags & ITER_REVERSE) {
    if (flags & ITER_HAS_UPPER) {
      // An inclusive bound keeps every version of the bound key: (key, 0) is after all of them.
      miSeekLT(m, <usize>load<u32>(it, 32), load<u32>(it, 36), flags & ITER_UPPER_INCLUSIVE ? 0 : MAX_TRAILER);
    } else {
      miLast(m);
    }
  } else if (flags & ITER_HAS_LOWER) {
    miSeekGE(m, <usize>load<u32>(it, 24), load<u32>(it, 28), MAX_TRAILER);
  } else {
    miFirst(m);
  }
  store<u32>(it, flags | ITER_STARTED, 4);
}

/**
 * Room for n more arena bytes in this fill? The arena may move when it
 * grows, so it grows only before the first entry of a fill (entries already
 * written point into it): there to fit an entry larger than it; a fill that
 * runs out of room stops (full) and the next one doubles the arenas.
 */
function arenaRoom(arena: usize, n: u32, count: i32): bool {
  if (count == 0) {
    if (bufLength(arena) + n > bufCapacity(arena)) bufReserve(arena, n + (bufCapacity(arena) << 1));
    return true;
  }
  return bufLength(arena) + n <= bufCapacity(arena);
}

function emit(out: usize, count: i32, key: usize, keyLen: u32, value: usize, valueLen: u32): void {
  const q = out + (<usize>count << 4);
  store<u32>(q, <u32>key);
  store<u32>(q, keyLen, 4);
  store<u32>(q, <u32>value, 8);
  store<u32>(q, valueLen, 12);
}

/** Copies len bytes into the arena; returns their address there. */
function toArena(arena: usize, src: usize, len: u32): usize {
  const at = bufReserve(arena, len);
  copyBytes(at, src, len);
  bufSetLength(arena, bufLength(arena) + len);
  return at;
}

/**
 * Writes up to max visible entries to out (16 bytes each, see header) and
 * returns how many it wrote; iterStatus tells why it stopped.
 */
export function iterFill(it: usize, out: usize, max: i32): i32 {
  let flags = load<u32>(it, 4);
  if (!(flags & ITER_STARTED)) {
    start(it, flags);
    flags |= ITER_STARTED;
  }
  const arena = <usize>load<u32>(it, 48);
  const values = <usize>load<u32>(it, 56);
  bufSetLength(arena, 0);
  bufSetLength(values, 0);
  if (flags & ITER_GROW) {
    grow(arena);
    grow(values);
    flags &= ~ITER_GROW;
    store<u32>(it, flags, 4);
  }
  return flags & ITER_REVERSE
    ? fillReverse(it, out, max, flags, arena, values)
    : fillForward(it, out, max, flags, arena, values);
}

/** Doubles an (empty) arena's room, up to POOL_BUFFER_MAX. */
function grow(arena: usize): void {
  const capacity = bufCapacity(arena);
  if (capacity < POOL_BUFFER_MAX) bufReserve(arena, capacity << 1);
}

/** Notes that this fill stopped for want of arena room (see ITER_GROW); returns count. */
function full(it: usize, count: i32): i32 {
  store<u32>(it, load<u32>(it, 4) | ITER_GROW, 4);
  return count;
}

/** Settles the merge; false (status set) when it needs data or is corrupt. */
function settle(it: usize): bool {
  const r = miSettle(mergeOf(it));
  if (r == 0) return true;
  store<u32>(it, r == 1 ? STATUS_NEED : STATUS_CORRUPT, 52);
  return false;
}

/**
 * Older versions of one key stepped over one by one before the rest are
 * skipped with a seek (RocksDB's max_sequential_skip_in_iterations): a key
 * updated thousands of times since the last flush held thousands of entries
 * in the memtable, and every scan through it stepped over each one.
 */
const MAX_SEQUENTIAL_SKIPS = 8;

function fillForward(it: usize, out: usize, max: i32, flags: u32, arena: usize, values: usize): i32 {
  const m = mergeOf(it);
  const bound = load<u64>(it, 16);
  const saved = <usize>load<u32>(it, 40);
  let count = 0;
  let skips = 0;
  store<u32>(it, STATUS_MORE, 52);
  while (count < max) {
    if (!settle(it)) return count;
    const top = miTop(m);
    if (top < 0) {
      store<u32>(it, STATUS_DONE, 52);
      return count;
    }
    const s = child(m, <u32>top);
    const key = srcUserKey(s);
    const keyLen = srcUserKeyLength(s);
    if (load<u32>(it, 8) == 1) {
      if (compareBytes(key, keyLen, bufData(saved), bufLength(saved)) == 0) { // an older version
        if (++skips > MAX_SEQUENTIAL_SKIPS) miSkipKey(m, bufData(saved), bufLength(saved));
        else miAdvance(m);
        continue;
      }
      store<u32>(it, 0, 8);
      skips = 0;
    }
    const trailer = srcTrailer(s);
    if (trailer > bound) { // newer than the snapshot
      miAdvance(m);
      continue;
    }
    // The newest visible version of this user key.
    if (flags & ITER_HAS_UPPER) {
      const c = compareUpper(it, key, keyLen);
      if (c > 0 || (c == 0 && !(flags & ITER_UPPER_INCLUSIVE))) {
        store<u32>(it, STATUS_DONE, 52);
        return count;
      }
    }
    const excluded = (flags & (ITER_HAS_LOWER | ITER_LOWER_INCLUSIVE)) == ITER_HAS_LOWER && compareLower(it, key, keyLen) == 0;
    const kind = <u8>(trailer & 0xff);
    if (
      !excluded && (kind == KIND_PUT || visibleKind(kind, srcValue(s), srcValueLength(s), load<f64>(it, ITER_NOW)) == KIND_PUT) &&
      !rtHides(<usize>load<u32>(it, ITER_TOMBSTONES), key, keyLen, trailer >> 8, bound >> 8)
    ) {
      const skip: u32 = kind == KIND_PUT_EXPIRING ? EXPIRY_PREFIX : 0;
      let value = srcValue(s) + skip;
      const valueLen = srcValueLength(s) - skip;
      if (!arenaRoom(arena, keyLen, count)) return full(it, count);
      if (flags & ITER_COPY_VALUES) {
        if (!arenaRoom(values, valueLen, count)) return full(it, count);
        value = toArena(values, value, valueLen);
      }
      emit(out, count++, toArena(arena, key, keyLen), keyLen, value, valueLen);
    }
    bufSetLength(saved, 0);
    bufAppend(saved, key, keyLen);
    store<u32>(it, 1, 8);
    miAdvance(m);
  }
  return count;
}

function fillReverse(it: usize, out: usize, max: i32, flags: u32, arena: usize, values: usize): i32 {
  const m = mergeOf(it);
  const bound = load<u64>(it, 16);
  const saved = <usize>load<u32>(it, 40);
  const savedValue = <usize>load<u32>(it, 44);
  let count = 0;
  store<u32>(it, STATUS_MORE, 52);
  while (count < max) {
    if (!settle(it)) return count;
    const top = miTop(m);
    const collecting = load<u32>(it, 8) == 1;
    let key: usize = 0;
    let keyLen: u32 = 0;
    if (top >= 0) {
      const s = child(m, <u32>top);
      key = srcUserKey(s);
      keyLen = srcUserKeyLength(s);
    }
    if (collecting && (top < 0 || compareBytes(key, keyLen, bufData(saved), bufLength(saved)) != 0)) {
      // Every version of the saved key has been seen: emit its newest visible one.
      if (
        load<u32>(it, 12) == <u32>KIND_PUT &&
        !rtHides(<usize>load<u32>(it, ITER_TOMBSTONES), bufData(saved), bufLength(saved), load<u64>(it, 64) >> 8, bound >> 8)
      ) {
        if (!arenaRoom(arena, bufLength(saved), count) || !arenaRoom(values, bufLength(savedValue), count)) {
          return full(it, count);
        }
        const k = toArena(arena, bufData(saved), bufLength(saved));
        const v = toArena(values, bufData(savedValue), bufLength(savedValue));
        emit(out, count++, k, bufLength(saved), v, bufLength(savedValue));
      }
      store<u32>(it, 0, 8);
      continue;
    }
    if (top < 0) {
      store<u32>(it, STATUS_DONE, 52);
      return count;
    }
    const s = child(m, <u32>top);
    if (!collecting) {
      if (flags & ITER_HAS_LOWER) {
        const c = compareLower(it, key, keyLen);
        if (c < 0 || (c == 0 && !(flags & ITER_LOWER_INCLUSIVE))) {
          store<u32>(it, STATUS_DONE, 52);
          return count;
        }
      }
      bufSetLength(saved, 0);
      bufAppend(saved, key, keyLen);
      store<u32>(it, NONE, 12);
      store<u32>(it, 1, 8);
    }
    // Versions come oldest first: the last one at or below the snapshot wins.
    const trailer = srcTrailer(s);
    if (trailer <= bound) {
      const kind = <u8>(trailer & 0xff);
      const visible = visibleKind(kind, srcValue(s), srcValueLength(s), load<f64>(it, ITER_NOW));
      const skip: u32 = kind == KIND_PUT_EXPIRING ? EXPIRY_PREFIX : 0;
      store<u32>(it, <u32>visible, 12);
      store<u64>(it, trailer, 64);
      bufSetLength(savedValue, 0);
      if (visible == KIND_PUT) bufAppend(savedValue, srcValue(s) + skip, srcValueLength(s) - skip);
    }
    miAdvance(m);
  }
  return count;
}
