// Builds a block: sorted entries with prefix-compressed keys and restart
// points, as data blocks and index blocks of a table file are stored.
//
// Block (see also docs/format.md):
//
//   entry, repeated:
//     varint32 shared       bytes of the key shared with the previous key (0 at a restart)
//     varint32 unshared     bytes of the key that follow
//     varint32 value length
//     unshared key bytes, then value bytes
//   restarts: u32 offset of every restart entry, ascending
//   u32 number of restarts (at least 1)
//
// Keys are internal keys (user key + 8-byte trailer) in data blocks and in
// index blocks. Every `interval`-th entry is a restart: it stores its whole key,
// so a reader can binary-search the restart points.
//
// Builder state (heap, BB_SIZE bytes):
//   +0  u32 output buffer        +4  u32 restart offsets buffer
//   +8  u32 last key buffer      +12 u32 entries since the last restart
//   +16 u32 restart interval     +20 u32 entry count

import { bufAppend, bufAppendU32, bufData, bufFree, bufLength, bufNew, bufReserve, bufSetLength, copyBytes } from "./buffer";
import { putVarint32, varint32Length } from "./coding";

const BB_SIZE: usize = 24;

/** A new builder with restarts every `interval` entries. */
export function bbNew(interval: u32): usize {
  const bb = heap.alloc(BB_SIZE);
  store<u32>(bb, <u32>bufNew(4096));
  store<u32>(bb, <u32>bufNew(256), 4);
  store<u32>(bb, <u32>bufNew(64), 8);
  store<u32>(bb, 0, 12);
  store<u32>(bb, interval < 1 ? 1 : interval, 16);
  store<u32>(bb, 0, 20);
  bbReset(bb);
  return bb;
}

/** Frees the builder. */
export function bbFree(bb: usize): void {
  bufFree(<usize>load<u32>(bb));
  bufFree(<usize>load<u32>(bb, 4));
  bufFree(<usize>load<u32>(bb, 8));
  heap.free(bb);
}

/** Empties the builder for the next block. */
export function bbReset(bb: usize): void {
  bufSetLength(<usize>load<u32>(bb), 0);
  const restarts = <usize>load<u32>(bb, 4);
  bufSetLength(restarts, 0);
  bufAppendU32(restarts, 0);
  bufSetLength(<usize>load<u32>(bb, 8), 0);
  store<u32>(bb, 0, 12);
  store<u32>(bb, 0, 20);
}

/** Entries added since the last reset. */
export function bbCount(bb: usize): u32 { return load<u32>(bb, 20); }

/** Bytes the block would take if finished now. */
export function bbSizeEstimate(bb: usize): u32 {
  return bufLength(<usize>load<u32>(bb)) + bufLength(<usize>load<u32>(bb, 4)) + 4;
}

/** The last key added (address; length in bbLastKeyLength). */
export function bbLastKey(bb: usize): usize { return bufData(<usize>load<u32>(bb, 8)); }
export function bbLastKeyLength(bb: usize): u32 { return bufLength(<usize>load<u32>(bb, 8)); }

/**
 * Adds an entry whose key is userKey followed by the 8-byte trailer (pass
 * hasTrailer = false for keys that are complete, as in index blocks). Keys
 * must come in ascending internal-key order.
 */
export function bbAdd(
  bb: usize, userKey: usize, userKeyLen: u32, trailer: u64, hasTrailer: bool, value: usize, valueLen: u32,
): void {
  const out = <usize>load<u32>(bb);
  const last = <usize>load<u32>(bb, 8);
  const keyLen = userKeyLen + (hasTrailer ? 8 : 0);
  let shared: u32 = 0;
  if (load<u32>(bb, 12) < load<u32>(bb, 16)) {
    const lastLen = bufLength(last);
    const lastData = bufData(last);
    const n = lastLen < userKeyLen ? lastLen : userKeyLen;
    while (shared < n && load<u8>(lastData + shared) == load<u8>(userKey + shared)) shared++;
    // Sharing into the trailer is allowed too when the user keys are equal.
    if (hasTrailer && shared == userKeyLen && lastLen == keyLen) {
      let t: u32 = 0;
      while (t < 8 && load<u8>(lastData + userKeyLen + t) == <u8>(trailer >> (<u64>t << 3))) t++;
      shared += t;
    }
    store<u32>(bb, load<u32>(bb, 12) + 1, 12);
  } else {
    bufAppendU32(<usize>load<u32>(bb, 4), bufLength(out));
    store<u32>(bb, 1, 12);
  }
  const unshared = keyLen - shared;
  const header = varint32Length(shared) + varint32Length(unshared) + varint32Length(valueLen);
  let p = bufReserve(out, header + unshared + valueLen);
  p = putVarint32(p, shared);
  p = putVarint32(p, unshared);
  p = putVarint32(p, valueLen);
  // The unshared part of the key: from the user key and/or the trailer.
  for (let i = shared; i < keyLen; i++) {
    store<u8>(p++, i < userKeyLen ? load<u8>(userKey + i) : <u8>(trailer >> (<u64>(i - userKeyLen) << 3)));
  }
  copyBytes(p, value, valueLen);
  bufSetLength(out, bufLength(out) + header + unshared + valueLen);
  // Remember the whole key for the next entry's prefix.
  bufSetLength(last, 0);
  bufAppend(last, userKey, userKeyLen);
  if (hasTrailer) {
    const tp = bufReserve(last, 8);
    store<u64>(tp, trailer);
    bufSetLength(last, userKeyLen + 8);
  }
  store<u32>(bb, load<u32>(bb, 20) + 1, 20);
}

/**
 * Appends the restart array and count; returns the address of the finished
 * block (length in bbFinishedLength) valid until the next reset or add.
 */
export function bbFinish(bb: usize): usize {
  const out = <usize>load<u32>(bb);
  const restarts = <usize>load<u32>(bb, 4);
  const count = bufLength(restarts) >> 2;
  bufAppend(out, bufData(restarts), bufLength(restarts));
  bufAppendU32(out, count);
  return bufData(out);
}

/** Length of the finished block. */
export function bbFinishedLength(bb: usize): u32 { return bufLength(<usize>load<u32>(bb)); }
