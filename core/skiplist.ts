// Memtable: a skip list of internal keys in an arena.
//
// Internal key = user key + trailer, trailer = (sequence << 8) | kind.
// Order: user key bytewise ascending, then trailer descending (newest first).
// Nodes are never removed, so a node pointer stays valid (and a cursor on it
// stays usable) until the whole memtable is freed.
//
// Node (8-byte aligned, in the memtable's arena):
//
//   +0   u64  key prefix: first 8 user key bytes, big-endian, zero-padded
//   +8   u64  trailer (sequence << 8 | kind)
//   +16  u32  user key length
//   +20  u32  value length (0 for a tombstone)
//   +24  u32  height h (1..MAX_HEIGHT)
//   +28  u32  next[h]: successor on each level (0 = none)
//   +28+4h    user key bytes, then value bytes
//
// Memtable header (heap, MT_SIZE bytes):
//
//   +0   u32  arena
//   +4   u32  head node (height MAX_HEIGHT, no key)
//   +8   u32  levels in use
//   +12  u32  random state (xorshift32)
//   +16  u32  entry count
//   +20  u32  user key + value bytes stored

import { arenaAllocate, arenaFree, arenaNew, arenaReserved, arenaUsed } from "./arena";
import { compareKeys, keyPrefix } from "./coding";

export const MAX_HEIGHT: u32 = 16;
const MT_SIZE: usize = 24;
const NODE_NEXT: usize = 28;

// Predecessors found by a search, one per level.
const SPLICE: usize = memory.data(<i32>MAX_HEIGHT * 4, 8);

// ---- node accessors -------------------------------------------------------

// @ts-ignore: decorator
@inline export function nodePrefix(n: usize): u64 { return load<u64>(n); }
// @ts-ignore: decorator
@inline export function nodeTrailer(n: usize): u64 { return load<u64>(n, 8); }
// @ts-ignore: decorator
@inline export function nodeKeyLen(n: usize): u32 { return load<u32>(n, 16); }
// @ts-ignore: decorator
@inline export function nodeValueLen(n: usize): u32 { return load<u32>(n, 20); }
// @ts-ignore: decorator
@inline function nodeHeight(n: usize): u32 { return load<u32>(n, 24); }
// @ts-ignore: decorator
@inline export function nodeKey(n: usize): usize { return n + NODE_NEXT + (<usize>nodeHeight(n) << 2); }
// @ts-ignore: decorator
@inline export function nodeValue(n: usize): usize { return nodeKey(n) + <usize>nodeKeyLen(n); }
// @ts-ignore: decorator
@inline function nextOf(n: usize, level: u32): usize { return <usize>load<u32>(n + NODE_NEXT + (<usize>level << 2)); }
// @ts-ignore: decorator
@inline function setNext(n: usize, level: u32, to: usize): void { store<u32>(n + NODE_NEXT + (<usize>level << 2), <u32>to); }

/** True when node n sorts before the internal key (prefix, key, keyLen, trailer). */
// @ts-ignore: decorator
@inline
function nodeLess(n: usize, prefix: u64, key: usize, keyLen: u32, trailer: u64): bool {
  const c = compareKeys(nodePrefix(n), nodeKey(n), nodeKeyLen(n), prefix, key, keyLen);
  if (c != 0) return c < 0;
  return nodeTrailer(n) > trailer;
}

/** True when nodes a and b hold the same user key. */
export function sameUserKey(a: usize, b: usize): bool {
  return compareKeys(nodePrefix(a), nodeKey(a), nodeKeyLen(a), nodePrefix(b), nodeKey(b), nodeKeyLen(b)) == 0;
}

// ---- memtable -------------------------------------------------------------

/** Creates an empty memtable. */
export function mtNew(): usize {
  const mt = heap.alloc(MT_SIZE);
  const arena = arenaNew();
  const headSize = NODE_NEXT + (<usize>MAX_HEIGHT << 2);
  const head = arenaAllocate(arena, headSize);
  memory.fill(head, 0, headSize);
  store<u32>(head, MAX_HEIGHT, 24);
  store<u32>(mt, <u32>arena);
  store<u32>(mt, <u32>head, 4);
  store<u32>(mt, 1, 8);
  store<u32>(mt, 0x9e3779b9 ^ <u32>mt, 12);
  store<u32>(mt, 0, 16);
  store<u32>(mt, 0, 20);
  return mt;
}

/** Frees the memtable and all its nodes; cursors on it become invalid. */
export function mtFree(mt: usize): void {
  arenaFree(<usize>load<u32>(mt));
  heap.free(mt);
}

// @ts-ignore: decorator
@inline function headOf(mt: usize): usize { return <usize>load<u32>(mt, 4); }

/** Number of entries (versions) in the memtable. */
export function mtCount(mt: usize): u32 { return load<u32>(mt, 16); }

/** Bytes the memtable reserved from the heap: its memory footprint. */
export function mtMemoryUsage(mt: usize): u32 { return arenaReserved(<usize>load<u32>(mt)) + <u32>MT_SIZE; }

/** Bytes allocated for nodes, keys and values (what fills a memtable). */
export function mtBytesUsed(mt: usize): u32 { return arenaUsed(<usize>load<u32>(mt)); }

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

/**
 * First node at or after the internal key, or 0. When splice is true, fills
 * SPLICE with the last node before it on every level in use.
 */
function findGreaterOrEqual(mt: usize, key: usize, keyLen: u32, trailer: u64, splice: bool): usize {
  const prefix = keyPrefix(key, keyLen);
  let x = headOf(mt);
  let level = load<u32>(mt, 8) - 1;
  while (true) {
    const next = nextOf(x, level);
    if (next != 0 && nodeLess(next, prefix, key, keyLen, trailer)) {
      x = next;
    } else {
      if (splice) store<u32>(SPLICE + (<usize>level << 2), <u32>x);
      if (level == 0) return next;
      level--;
    }
  }
}

/** Inserts an entry. The internal key (key, trailer) must not be present yet. */
export function mtInsert(mt: usize, key: usize, keyLen: u32, trailer: u64, value: usize, valueLen: u32): void {
  findGreaterOrEqual(mt, key, keyLen, trailer, true);
  const height = randomHeight(mt);
  const inUse = load<u32>(mt, 8);
  if (height > inUse) {
    for (let l = inUse; l < height; l++) store<u32>(SPLICE + (<usize>l << 2), <u32>headOf(mt));
    store<u32>(mt, height, 8);
  }
  const links = <usize>height << 2;
  const node = arenaAllocate(<usize>load<u32>(mt), NODE_NEXT + links + <usize>keyLen + <usize>valueLen);
  store<u64>(node, keyPrefix(key, keyLen));
  store<u64>(node, trailer, 8);
  store<u32>(node, keyLen, 16);
  store<u32>(node, valueLen, 20);
  store<u32>(node, height, 24);
  memory.copy(node + NODE_NEXT + links, key, keyLen);
  memory.copy(node + NODE_NEXT + links + <usize>keyLen, value, valueLen);
  for (let l: u32 = 0; l < height; l++) {
    const prev = <usize>load<u32>(SPLICE + (<usize>l << 2));
    setNext(node, l, nextOf(prev, l));
    setNext(prev, l, node);
  }
  store<u32>(mt, load<u32>(mt, 16) + 1, 16);
  store<u32>(mt, load<u32>(mt, 20) + keyLen + valueLen, 20);
}

// ---- cursor moves: a cursor is a node pointer, 0 = not valid ---------------

/** First node at or after (key, trailer), or 0. */
export function mtSeek(mt: usize, key: usize, keyLen: u32, trailer: u64): usize {
  return findGreaterOrEqual(mt, key, keyLen, trailer, false);
}

/** First node, or 0 when empty. */
export function mtFirst(mt: usize): usize {
  return nextOf(headOf(mt), 0);
}

/** Last node, or 0 when empty. */
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

/** Node after n, or 0. */
// @ts-ignore: decorator
@inline
export function mtNext(n: usize): usize {
  return nextOf(n, 0);
}

/** Node before n, or 0. O(log n): the list has forward links only. */
export function mtPrev(mt: usize, n: usize): usize {
  const head = headOf(mt);
  const prefix = nodePrefix(n);
  const key = nodeKey(n);
  const keyLen = nodeKeyLen(n);
  const trailer = nodeTrailer(n);
  let x = head;
  let level = load<u32>(mt, 8) - 1;
  while (true) {
    const next = nextOf(x, level);
    if (next != 0 && nodeLess(next, prefix, key, keyLen, trailer)) {
      x = next;
    } else {
      if (level == 0) return x == head ? 0 : x;
      level--;
    }
  }
}
