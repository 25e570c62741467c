// Reads blocks built by block_builder.ts: a block iterator with seek, first,
// last, next and prev, over a block that is already in linear memory.
//
// Block iterator state (heap, BI_SIZE bytes):
//
//   +0   u32  block start
//   +4   u32  restart array start (= end of the entries)
//   +8   u32  number of restarts
//   +12  u32  current entry (address), 0 = not positioned
//   +16  u32  address after the current entry
//   +20  u32  key buffer (buffer.ts): the current entry's whole key
//   +24  u32  value address
//   +28  u32  value length
//   +32  u32  1 when the block turned out malformed
//
// A malformed block (possible only if a checksum missed damage) makes the
// iterator invalid with the corrupt flag set; it never reads outside the block.

import { bufData, bufLength, bufNew, bufFree, bufReserve, bufSetLength, copyBytes } from "./buffer";
import { compareBytes, getVarint, varintValue } from "./coding";

const BI_SIZE: usize = 36;

/** A new, unpositioned block iterator. */
export function biNew(): usize {
  const bi = heap.alloc(BI_SIZE);
  memory.fill(bi, 0, BI_SIZE);
  store<u32>(bi, <u32>bufNew(64), 20);
  return bi;
}

/** The iterator's key buffer (buffer.ts). */
export function biKeyBuffer(bi: usize): usize { return <usize>load<u32>(bi, 20); }

/** Makes an iterator as biNew returns it, keeping its key buffer's memory (sources.ts reuses iterators). */
export function biReset(bi: usize): void {
  const keyBuf = biKeyBuffer(bi);
  memory.fill(bi, 0, BI_SIZE);
  store<u32>(bi, <u32>keyBuf, 20);
  bufSetLength(keyBuf, 0);
}

/** Frees a block iterator (not the block). */
export function biFree(bi: usize): void {
  bufFree(<usize>load<u32>(bi, 20));
  heap.free(bi);
}

/** Points the iterator at a block; false (corrupt flag set) if the restart array is malformed. */
export function biInit(bi: usize, block: usize, len: u32): bool {
  store<u32>(bi, 0, 12);
  store<u32>(bi, 0, 32);
  if (len < 4) return biCorrupt(bi);
  const restarts = load<u32>(block + <usize>len - 4);
  if (restarts == 0 || <u64>restarts * 4 + 4 > <u64>len) return biCorrupt(bi);
  store<u32>(bi, <u32>block);
  store<u32>(bi, <u32>(block + <usize>len - 4 - (<usize>restarts << 2)), 4);
  store<u32>(bi, restarts, 8);
  return true;
}

function biCorrupt(bi: usize): bool {
  store<u32>(bi, 1, 32);
  store<u32>(bi, 0, 12);
  return false;
}

// @ts-ignore: decorator
@inline export function biValid(bi: usize): bool { return load<u32>(bi, 12) != 0; }
// @ts-ignore: decorator
@inline export function biCorrupted(bi: usize): bool { return load<u32>(bi, 32) != 0; }
// @ts-ignore: decorator
@inline export function biKey(bi: usize): usize { return bufData(<usize>load<u32>(bi, 20)); }
// @ts-ignore: decorator
@inline export function biKeyLength(bi: usize): u32 { return bufLength(<usize>load<u32>(bi, 20)); }
// @ts-ignore: decorator
@inline export function biValue(bi: usize): usize { return <usize>load<u32>(bi, 24); }
// @ts-ignore: decorator
@inline export function biValueLength(bi: usize): u32 { return load<u32>(bi, 28); }
// @ts-ignore: decorator
@inline function restartAt(bi: usize, i: u32): usize {
  return <usize>load<u32>(bi) + <usize>load<u32>(<usize>load<u32>(bi, 4) + (<usize>i << 2));
}

/** The trailer of the current key (its last 8 bytes). */
export function biTrailer(bi: usize): u64 {
  return load<u64>(biKey(bi) + <usize>biKeyLength(bi) - 8);
}

/**
 * Decodes the entry at p (the key builds on the key buffer's current content
 * for its shared prefix). Leaves the iterator positioned on it, or invalid
 * and corrupt if it is malformed.
 */
function decodeAt(bi: usize, p: usize): bool {
  const limit = <usize>load<u32>(bi, 4);
  if (p >= limit) {
    store<u32>(bi, 0, 12);
    return false;
  }
  // The three lengths are one byte each in most entries (values under 128
  // bytes): read them so, without the general varint loop.
  let shared: u32 = 0x80;
  let unshared: u32 = 0;
  let valueLen: u32 = 0;
  let q = p + 3;
  if (q <= limit) {
    shared = <u32>load<u8>(p);
    unshared = <u32>load<u8>(p, 1);
    valueLen = <u32>load<u8>(p, 2);
  }
  if ((shared | unshared | valueLen) >= 0x80) {
    q = getVarint(p, limit);
    if (q == 0) return biCorrupt(bi);
    shared = <u32>varintValue;
    q = getVarint(q, limit);
    if (q == 0) return biCorrupt(bi);
    unshared = <u32>varintValue;
    q = getVarint(q, limit);
    if (q == 0) return biCorrupt(bi);
    valueLen = <u32>varintValue;
  }
  const keyBuf = <usize>load<u32>(bi, 20);
  if (shared > bufLength(keyBuf) || <u64>q + <u64>unshared + <u64>valueLen > <u64>limit) return biCorrupt(bi);
  if (shared + unshared < 8) return biCorrupt(bi); // every block key is an internal key
  bufSetLength(keyBuf, shared);
  copyBytes(bufReserve(keyBuf, unshared), q, unshared);
  bufSetLength(keyBuf, shared + unshared);
  store<u32>(bi, <u32>p, 12);
  store<u32>(bi, <u32>(q + <usize>unshared), 24);
  store<u32>(bi, valueLen, 28);
  store<u32>(bi, <u32>(q + <usize>unshared + <usize>valueLen), 16);
  return true;
}

/** Decodes the restart entry i (its key is stored whole). */
function decodeRestart(bi: usize, i: u32): bool {
  bufSetLength(<usize>load<u32>(bi, 20), 0);
  return decodeAt(bi, restartAt(bi, i));
}

/** Moves to the first entry. */
export function biFirst(bi: usize): bool {
  return decodeRestart(bi, 0);
}

/** Moves to the next entry (invalid after the last). */
export function biNext(bi: usize): bool {
  return decodeAt(bi, <usize>load<u32>(bi, 16));
}

/** Moves to the last entry. */
export function biLast(bi: usize): bool {
  if (!decodeRestart(bi, load<u32>(bi, 8) - 1)) return false;
  const limit = <usize>load<u32>(bi, 4);
  while (<usize>load<u32>(bi, 16) < limit) {
    if (!biNext(bi)) return false;
  }
  return true;
}

/** Moves to the previous entry (invalid before the first). */
export function biPrev(bi: usize): bool {
  const current = <usize>load<u32>(bi, 12);
  // The last restart point before the current entry.
  let lo: u32 = 0;
  let hi: u32 = load<u32>(bi, 8);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (restartAt(bi, mid) < current) lo = mid;
    else hi = mid;
  }
  if (restartAt(bi, lo) >= current) {
    store<u32>(bi, 0, 12); // current was the first entry
    return false;
  }
  if (!decodeRestart(bi, lo)) return false;
  while (<usize>load<u32>(bi, 16) < current) {
    if (!biNext(bi)) return false;
  }
  return true;
}

/** Compares internal key (a, alen) with (userKey, userKeyLen, trailer). */
export function compareInternal(a: usize, alen: u32, userKey: usize, userKeyLen: u32, trailer: u64): i32 {
  const c = compareBytes(a, alen - 8, userKey, userKeyLen);
  if (c != 0) return c;
  const t = load<u64>(a + <usize>alen - 8);
  return t > trailer ? -1 : t < trailer ? 1 : 0;
}

/** The length of the internal key restartKeyAt found. */
export let restartKeyLength: u32 = 0;

/**
 * The address of the whole internal key of the restart entry at p, in place
 * (a restart entry shares nothing with the entry before it), its length in
 * restartKeyLength; 0 when the entry is malformed: it starts at or past
 * limit, shares bytes, its key is shorter than a trailer or runs past limit.
 * Binary searches over restarts (here and index_prefixes.ts) read keys
 * through it.
 */
// @ts-ignore: decorator
@inline export function restartKeyAt(p: usize, limit: usize): usize {
  if (p + 3 <= limit && load<u8>(p) == 0 && (<u32>load<u8>(p, 1) | <u32>load<u8>(p, 2)) < 0x80) {
    // One-byte lengths, as decodeAt reads them.
    const keyLen = <u32>load<u8>(p, 1);
    if (keyLen < 8 || <u64>p + 3 + <u64>keyLen > <u64>limit) return 0;
    restartKeyLength = keyLen;
    return p + 3;
  }
  if (p >= limit) return 0;
  let q = getVarint(p, limit);
  if (q == 0 || varintValue != 0) return 0;
  q = getVarint(q, limit);
  const keyLen = varintValue;
  if (q == 0) return 0;
  q = getVarint(q, limit); // the value length: skipped
  if (q == 0 || keyLen < 8 || <u64>q + keyLen > <u64>limit) return 0;
  restartKeyLength = <u32>keyLen;
  return q;
}

// Set by compareRestart when a restart entry is malformed.
let restartBad = false;

/**
 * Compares the key of restart entry i, in place, with the internal key
 * (userKey, trailer). Sets restartBad and returns 0 when the entry is
 * malformed.
 */
function compareRestart(bi: usize, i: u32, userKey: usize, userKeyLen: u32, trailer: u64): i32 {
  const key = restartKeyAt(restartAt(bi, i), <usize>load<u32>(bi, 4));
  if (key == 0) {
    restartBad = true;
    return 0;
  }
  return compareInternal(key, restartKeyLength, userKey, userKeyLen, trailer);
}

/**
 * Moves to the first entry at or after the internal key (userKey, trailer);
 * invalid if every entry is before it. For blocks whose keys carry trailers.
 * The binary search over restart points compares keys where they lie; only
 * the entries walked after the last restart before the target are decoded.
 */
export function biSeek(bi: usize, userKey: usize, userKeyLen: u32, trailer: u64): bool {
  return biSeekAmong(bi, 0, load<u32>(bi, 8) - 1, userKey, userKeyLen, trailer);
}

/**
 * biSeek, knowing that the last restart whose key is before the target (or
 * restart 0 when none is) lies in [first, last] (index_prefixes.ts ipRange).
 * REQUIRES: first <= last < number of restarts.
 */
export function biSeekAmong(bi: usize, first: u32, last: u32, userKey: usize, userKeyLen: u32, trailer: u64): bool {
  // Binary search for the last restart whose key is before the target.
  restartBad = false;
  let lo = first;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const c = compareRestart(bi, mid, userKey, userKeyLen, trailer);
    if (restartBad) return biCorrupt(bi);
    if (c < 0) lo = mid;
    else hi = mid - 1;
  }
  if (!decodeRestart(bi, lo)) return false;
  while (compareInternal(biKey(bi), biKeyLength(bi), userKey, userKeyLen, trailer) < 0) {
    if (!biNext(bi)) return false;
  }
  return true;
}
