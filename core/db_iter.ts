// The user-visible view of a sorted stream of internal keys: for every user
// key, only the newest version at or below the snapshot sequence, tombstones
// hidden, inside optional bounds, forward or reverse.
//
// Iterator state (heap, ITER_SIZE bytes):
//
//   +0   u32  memtable (the source)
//   +4   u32  cursor: current node, 0 when exhausted
//   +8   u32  flags (below)
//   +12  u32  unused (alignment)
//   +16  u64  snapshot bound: (snapshot sequence << 8) | 0xff
//   +24  u32  lower bound bytes, +28 u32 its length
//   +32  u32  upper bound bytes, +36 u32 its length
//
// Lower and upper bounds are copied into one heap allocation owned by the
// iterator. iterFill writes each visible entry as four u32 values (key
// pointer, key length, value pointer, value length) that stay valid while the
// memtable lives.

import { compareBytes } from "./coding";
import { KIND_PUT } from "./write_batch";
import {
  mtFirst, mtLast, mtNext, mtPrev, mtSeek,
  nodeKey, nodeKeyLen, nodeTrailer, nodeValue, nodeValueLen, sameUserKey,
} from "./skiplist";

export const ITER_REVERSE: u32 = 1;
export const ITER_HAS_LOWER: u32 = 2;
export const ITER_LOWER_INCLUSIVE: u32 = 4;
export const ITER_HAS_UPPER: u32 = 8;
export const ITER_UPPER_INCLUSIVE: u32 = 16;
const ITER_STARTED: u32 = 32;

const ITER_SIZE: usize = 40;
const MAX_TRAILER: u64 = 0xffffffffffffffff;

/** Creates an iterator over memtable mt as of the snapshot sequence. */
export function iterNew(
  mt: usize, snapshot: u64, flags: u32,
  lower: usize, lowerLen: u32, upper: usize, upperLen: u32,
): usize {
  const it = heap.alloc(ITER_SIZE);
  const bounds = heap.alloc(<usize>(lowerLen + upperLen) + 1);
  memory.copy(bounds, lower, lowerLen);
  memory.copy(bounds + <usize>lowerLen, upper, upperLen);
  store<u32>(it, <u32>mt);
  store<u32>(it, 0, 4);
  store<u32>(it, flags & ~ITER_STARTED, 8);
  store<u64>(it, (snapshot << 8) | 0xff, 16);
  store<u32>(it, <u32>bounds, 24);
  store<u32>(it, lowerLen, 28);
  store<u32>(it, <u32>(bounds + <usize>lowerLen), 32);
  store<u32>(it, upperLen, 36);
  return it;
}

/** Frees the iterator and its bounds. */
export function iterFree(it: usize): void {
  heap.free(<usize>load<u32>(it, 24));
  heap.free(it);
}

// @ts-ignore: decorator
@inline function compareLower(it: usize, node: usize): i32 {
  return compareBytes(nodeKey(node), nodeKeyLen(node), <usize>load<u32>(it, 24), load<u32>(it, 28));
}
// @ts-ignore: decorator
@inline function compareUpper(it: usize, node: usize): i32 {
  return compareBytes(nodeKey(node), nodeKeyLen(node), <usize>load<u32>(it, 32), load<u32>(it, 36));
}

// @ts-ignore: decorator
@inline
function emit(out: usize, count: i32, node: usize): void {
  const q = out + (<usize>count << 4);
  store<u32>(q, <u32>nodeKey(node));
  store<u32>(q, nodeKeyLen(node), 4);
  store<u32>(q, <u32>nodeValue(node), 8);
  store<u32>(q, nodeValueLen(node), 12);
}

/**
 * Writes up to max visible entries to out (16 bytes each, see header) and
 * returns how many it wrote. Fewer than max means the iterator is exhausted.
 */
export function iterFill(it: usize, out: usize, max: i32): i32 {
  const flags = load<u32>(it, 8);
  return flags & ITER_REVERSE ? fillReverse(it, out, max, flags) : fillForward(it, out, max, flags);
}

function fillForward(it: usize, out: usize, max: i32, flags: u32): i32 {
  const mt = <usize>load<u32>(it);
  const bound = load<u64>(it, 16);
  let node = <usize>load<u32>(it, 4);
  if (!(flags & ITER_STARTED)) {
    node = flags & ITER_HAS_LOWER
      ? mtSeek(mt, <usize>load<u32>(it, 24), load<u32>(it, 28), MAX_TRAILER)
      : mtFirst(mt);
    store<u32>(it, flags | ITER_STARTED, 8);
  }
  let count = 0;
  while (node != 0 && count < max) {
    if (nodeTrailer(node) > bound) { // newer than the snapshot
      node = mtNext(node);
      continue;
    }
    // node is the newest visible version of its user key.
    if (flags & ITER_HAS_UPPER) {
      const c = compareUpper(it, node);
      if (c > 0 || (c == 0 && !(flags & ITER_UPPER_INCLUSIVE))) { node = 0; break; }
    }
    const excluded = (flags & (ITER_HAS_LOWER | ITER_LOWER_INCLUSIVE)) == ITER_HAS_LOWER &&
      compareLower(it, node) == 0;
    if (!excluded && <u8>(nodeTrailer(node) & 0xff) == KIND_PUT) emit(out, count++, node);
    const seen = node;
    node = mtNext(node);
    while (node != 0 && sameUserKey(node, seen)) node = mtNext(node);
  }
  store<u32>(it, <u32>node, 4);
  return count;
}

function fillReverse(it: usize, out: usize, max: i32, flags: u32): i32 {
  const mt = <usize>load<u32>(it);
  const bound = load<u64>(it, 16);
  let node = <usize>load<u32>(it, 4);
  if (!(flags & ITER_STARTED)) {
    if (flags & ITER_HAS_UPPER) {
      // First node past the upper bound (an inclusive bound keeps every version
      // of the bound key), then one step back.
      const past = mtSeek(mt, <usize>load<u32>(it, 32), load<u32>(it, 36),
        flags & ITER_UPPER_INCLUSIVE ? 0 : MAX_TRAILER);
      node = past != 0 ? mtPrev(mt, past) : mtLast(mt);
    } else {
      node = mtLast(mt);
    }
    store<u32>(it, flags | ITER_STARTED, 8);
  }
  let count = 0;
  while (node != 0 && count < max) {
    // Walking back through one user key meets its versions oldest first; the
    // last one at or below the snapshot is the visible one.
    const first = node;
    let visible: usize = 0;
    while (node != 0 && sameUserKey(node, first)) {
      if (nodeTrailer(node) <= bound) visible = node;
      node = mtPrev(mt, node);
    }
    if (flags & ITER_HAS_LOWER) {
      const c = compareLower(it, first);
      if (c < 0 || (c == 0 && !(flags & ITER_LOWER_INCLUSIVE))) { node = 0; break; }
    }
    if (visible != 0 && <u8>(nodeTrailer(visible) & 0xff) == KIND_PUT) emit(out, count++, visible);
  }
  store<u32>(it, <u32>node, 4);
  return count;
}
