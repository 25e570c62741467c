// K-way merge of sources (sources.ts) in internal-key order, forward (min
// heap) or reverse (max heap). Children whose position changed are "dirty"
// until settled; a dirty child in a NEED state stops the merge until
// TypeScript provides what it needs. Ties between equal internal keys go to
// the child with the lower index (sources are ordered newest first).
//
// Merge state (heap, MI_SIZE bytes):
//   +0 u32 child count n      +4 u32 children (n u32 source pointers)
//   +8 u32 heap (n u32 child indices)   +12 u32 heap size
//   +16 u32 dirty children (n u32)      +20 u32 dirty count
//   +24 u32 1 when reverse              +28 u32 child that needs data (when settle fails)
//   +32 u32 capacity of the three arrays (children)
//
// A freed merge is kept (up to POOL_MAX) and reused by a merge of as many
// children or fewer: a scan makes one and frees it at its end.

import { copyBytes } from "./buffer";
import { compareBytes } from "./coding";
import {
  CORRUPT, EXHAUSTED, READY, srcFirst, srcFree, srcLast, srcNext, srcPrev, srcSeekGE, srcSeekLT, srcState,
  srcTrailer, srcUserKey, srcUserKeyLength,
} from "./sources";

const MI_SIZE: usize = 36;
/** Freed merges kept for reuse. */
const POOL_MAX: i32 = 16;
/** Most children a pooled merge keeps room for (a merge of more gives its arrays back). */
const POOL_CHILDREN_MAX: u32 = 256;
const pool = new StaticArray<usize>(POOL_MAX);
let pooled: i32 = 0;

/** Takes a pooled merge with room for n children (the most recently freed that has it), or 0. */
function fromPool(n: u32): usize {
  for (let i = pooled - 1; i >= 0; i--) {
    const m = unchecked(pool[i]);
    if (load<u32>(m, 32) >= n) {
      unchecked(pool[i] = pool[--pooled]);
      return m;
    }
  }
  return 0;
}

/** A merge over n sources whose pointers are at children (copied; the merge owns the sources). */
export function miNew(n: u32, children: usize): usize {
  const bytes = <usize>n << 2;
  let m = fromPool(n);
  if (m == 0) {
    m = heap.alloc(MI_SIZE);
    const capacity = n < 8 ? 8 : n;
    const room = (<usize>capacity << 2) + 4;
    store<u32>(m, <u32>heap.alloc(room), 4);
    store<u32>(m, <u32>heap.alloc(room), 8);
    store<u32>(m, <u32>heap.alloc(room), 16);
    store<u32>(m, capacity, 32);
  }
  copyBytes(<usize>load<u32>(m, 4), children, <u32>bytes);
  store<u32>(m, n);
  store<u32>(m, 0, 12);
  store<u32>(m, 0, 20);
  store<u32>(m, 0, 24);
  store<u32>(m, 0, 28);
  return m;
}

/** Frees the merge and its sources (the merge itself is kept for reuse while the pool has room). */
export function miFree(m: usize): void {
  const n = load<u32>(m);
  for (let i: u32 = 0; i < n; i++) srcFree(child(m, i));
  if (pooled < POOL_MAX && load<u32>(m, 32) <= POOL_CHILDREN_MAX) {
    unchecked(pool[pooled++] = m);
    return;
  }
  heap.free(<usize>load<u32>(m, 4));
  heap.free(<usize>load<u32>(m, 8));
  heap.free(<usize>load<u32>(m, 16));
  heap.free(m);
}

// @ts-ignore: decorator
@inline export function child(m: usize, i: u32): usize { return <usize>load<u32>(<usize>load<u32>(m, 4) + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function heapAt(m: usize, i: u32): u32 { return load<u32>(<usize>load<u32>(m, 8) + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function heapSet(m: usize, i: u32, c: u32): void { store<u32>(<usize>load<u32>(m, 8) + (<usize>i << 2), c); }

/** The child that needs data (after miSettle returned false). */
export function miNeedChild(m: usize): u32 { return load<u32>(m, 28); }

/** True when child a's entry comes before child b's in the merge direction. */
function before(m: usize, a: u32, b: u32): bool {
  const sa = child(m, a);
  const sb = child(m, b);
  let c = compareBytes(srcUserKey(sa), srcUserKeyLength(sa), srcUserKey(sb), srcUserKeyLength(sb));
  if (c == 0) {
    const ta = srcTrailer(sa);
    const tb = srcTrailer(sb);
    c = ta > tb ? -1 : ta < tb ? 1 : 0;
  }
  if (load<u32>(m, 24)) c = -c;
  return c < 0 || (c == 0 && a < b);
}

function siftUp(m: usize, i: u32): void {
  const c = heapAt(m, i);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heapAt(m, parent);
    if (!before(m, c, p)) break;
    heapSet(m, i, p);
    i = parent;
  }
  heapSet(m, i, c);
}

function siftDown(m: usize, i: u32): void {
  const size = load<u32>(m, 12);
  const c = heapAt(m, i);
  while (true) {
    let best = i * 2 + 1;
    if (best >= size) break;
    if (best + 1 < size && before(m, heapAt(m, best + 1), heapAt(m, best))) best++;
    if (!before(m, heapAt(m, best), c)) break;
    heapSet(m, i, heapAt(m, best));
    i = best;
  }
  heapSet(m, i, c);
}

function markAllDirty(m: usize, reverse: bool): void {
  const n = load<u32>(m);
  const dirty = <usize>load<u32>(m, 16);
  for (let i: u32 = 0; i < n; i++) store<u32>(dirty + (<usize>i << 2), i);
  store<u32>(m, n, 20);
  store<u32>(m, 0, 12);
  store<u32>(m, reverse ? 1 : 0, 24);
}

/** Forward from the first entry at or after (userKey, trailer). */
export function miSeekGE(m: usize, userKey: usize, userKeyLen: u32, trailer: u64): void {
  markAllDirty(m, false);
  const n = load<u32>(m);
  for (let i: u32 = 0; i < n; i++) srcSeekGE(child(m, i), userKey, userKeyLen, trailer);
}

/** Reverse from the last entry before (userKey, trailer). */
export function miSeekLT(m: usize, userKey: usize, userKeyLen: u32, trailer: u64): void {
  markAllDirty(m, true);
  const n = load<u32>(m);
  for (let i: u32 = 0; i < n; i++) srcSeekLT(child(m, i), userKey, userKeyLen, trailer);
}

/** Forward from the first entry. */
export function miFirst(m: usize): void {
  markAllDirty(m, false);
  const n = load<u32>(m);
  for (let i: u32 = 0; i < n; i++) srcFirst(child(m, i));
}

/** Reverse from the last entry. */
export function miLast(m: usize): void {
  markAllDirty(m, true);
  const n = load<u32>(m);
  for (let i: u32 = 0; i < n; i++) srcLast(child(m, i));
}

/**
 * Puts settled dirty children into the heap. Returns 0 when the merge is
 * settled, 1 when a child needs data (miNeedChild), 2 when a child is corrupt
 * (also miNeedChild).
 */
export function miSettle(m: usize): i32 {
  let count = load<u32>(m, 20);
  const dirty = <usize>load<u32>(m, 16);
  while (count > 0) {
    const c = load<u32>(dirty + (<usize>(count - 1) << 2));
    const state = srcState(child(m, c));
    if (state == READY) {
      const size = load<u32>(m, 12);
      heapSet(m, size, c);
      store<u32>(m, size + 1, 12);
      siftUp(m, size);
    } else if (state != EXHAUSTED) {
      store<u32>(m, count, 20);
      store<u32>(m, c, 28);
      return state == CORRUPT ? 2 : 1;
    }
    count--;
  }
  store<u32>(m, 0, 20);
  return 0;
}

/** The child holding the current entry, or -1 when the merge is exhausted. REQUIRES: settled. */
export function miTop(m: usize): i32 {
  return load<u32>(m, 12) == 0 ? -1 : <i32>heapAt(m, 0);
}

/** Takes the current child off the heap (to move it); it goes back once settled (miSettle). */
// @ts-ignore: decorator
@inline function takeTop(m: usize): u32 {
  const c = heapAt(m, 0);
  const size = load<u32>(m, 12) - 1;
  store<u32>(m, size, 12);
  if (size > 0) {
    heapSet(m, 0, heapAt(m, size));
    siftDown(m, 0);
  }
  const dirty = <usize>load<u32>(m, 16);
  const count = load<u32>(m, 20);
  store<u32>(dirty + (<usize>count << 2), c);
  store<u32>(m, count + 1, 20);
  return c;
}

/**
 * Forward only: moves the current child past every entry of userKey at once
 * (a seek to its last possible position, trailer 0: no entry has sequence 0)
 * instead of stepping over its older versions one by one. REQUIRES: settled,
 * miTop >= 0, not reverse.
 */
export function miSkipKey(m: usize, userKey: usize, userKeyLen: u32): void {
  srcSeekGE(child(m, takeTop(m)), userKey, userKeyLen, 0);
}

/**
 * Moves past the current entry in the merge direction. REQUIRES: settled,
 * miTop >= 0. The child stays at the root while it moves and is sifted
 * down from there (its key only moved later in the merge order): one sift
 * instead of taking it off the heap and putting it back, which compared
 * keys twice as often in a long run from one child. A child that ran out,
 * needs data or is corrupt is taken off the heap as before (miSettle takes
 * it from there).
 */
export function miAdvance(m: usize): void {
  const s = child(m, heapAt(m, 0));
  if (load<u32>(m, 24)) srcPrev(s);
  else srcNext(s);
  if (srcState(s) == READY) siftDown(m, 0);
  else takeTop(m);
}
