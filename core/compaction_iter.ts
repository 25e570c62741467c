// Compaction: merges input tables (merge_iter.ts over run sources) into
// output tables (table_builder.ts), dropping what no reader can see:
//
// - an older version of a user key, when a newer version of it is visible to
//   every live snapshot (its sequence is at or below the oldest snapshot);
// - a tombstone at or below the oldest snapshot, when no level deeper than
//   the output holds the key (nothing older is left for it to hide);
// - a version covered by a newer range tombstone of the inputs at or below
//   the oldest snapshot (range_tombstones.ts; TypeScript carries the
//   tombstones themselves to the outputs).
//
// Outputs are cut at a target size, between user keys (all versions of a key
// stay in one output file). Blocks come from TypeScript through the sources'
// NEED protocol, as for scans.
//
// State (heap, CI_SIZE bytes):
//   +0  u32 merge          +4  u32 current user key (buffer)   +8 u32 1 when a current key is set
//   +12 u32 deeper ranges: u32 level count, then per level u32 file count and per file
//       u32 smallest user key ptr, u32 len, u32 largest user key ptr, u32 len (sorted by key)
//   +16 u64 oldest snapshot sequence   +24 u64 sequence of the last kept/seen entry of the current key
//   +32 u64 entries read   +40 u64 entries dropped   +48 u32 status   +52 u32 1 once started
//   +56 u32 range-tombstone fragment list of the inputs (referenced; 0 = none)

import { bufAppend, bufData, bufFree, bufLength, bufNew, bufSetLength } from "./buffer";
import { compareBytes } from "./coding";
import { child, miAdvance, miFirst, miFree, miSettle, miTop } from "./merge_iter";
import { srcTrailer, srcUserKey, srcUserKeyLength, srcValue, srcValueLength } from "./sources";
import { tbAdd, tbFileSize, tbStagedLength } from "./table_builder";
import { rtHides, rtUnref } from "./range_tombstones";

const CI_SIZE: usize = 64;
export const CI_TOMBSTONES: usize = 56;
const NO_SEQUENCE: u64 = 0xffffffffffffffff;

export const CI_DONE: u32 = 1; // every input entry was handled
export const CI_NEED: u32 = 2; // a source needs a block (see the merge's need child)
export const CI_CORRUPT: u32 = 3;
export const CI_STAGED: u32 = 4; // the builder's staging buffer is full: write it, then call again
export const CI_FILE_FULL: u32 = 5; // the output reached its target size: finish it, start another, call again

/** A compaction over merge m (owned), keeping what snapshots at or above `oldest` can see. */
export function ciNew(m: usize, oldest: u64, deeper: usize): usize {
  const ci = heap.alloc(CI_SIZE);
  memory.fill(ci, 0, CI_SIZE);
  store<u32>(ci, <u32>m);
  store<u32>(ci, <u32>bufNew(64), 4);
  store<u32>(ci, <u32>deeper, 12);
  store<u64>(ci, oldest, 16);
  store<u64>(ci, NO_SEQUENCE, 24);
  return ci;
}

/** Frees the compaction state, its merge, sources and the deeper ranges. */
export function ciFree(ci: usize): void {
  miFree(<usize>load<u32>(ci));
  bufFree(<usize>load<u32>(ci, 4));
  const deeper = <usize>load<u32>(ci, 12);
  if (deeper != 0) heap.free(deeper);
  const tombstones = <usize>load<u32>(ci, CI_TOMBSTONES);
  if (tombstones != 0) rtUnref(tombstones);
  heap.free(ci);
}

/** The merge (for the need child and its sources). */
export function ciMerge(ci: usize): usize { return <usize>load<u32>(ci); }
/** Entries read and dropped so far. */
export function ciRead(ci: usize): f64 { return <f64>load<u64>(ci, 32); }
export function ciDropped(ci: usize): f64 { return <f64>load<u64>(ci, 40); }

/** True when a level deeper than the output may hold the user key. */
function inDeeperLevel(ci: usize, key: usize, keyLen: u32): bool {
  let p = <usize>load<u32>(ci, 12);
  if (p == 0) return false;
  const levels = load<u32>(p);
  p += 4;
  for (let l: u32 = 0; l < levels; l++) {
    const count = load<u32>(p);
    const files = p + 4;
    // The first file whose largest key is at or after the key.
    let lo: u32 = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const f = files + (<usize>mid << 4);
      if (compareBytes(<usize>load<u32>(f, 8), load<u32>(f, 12), key, keyLen) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < count) {
      const f = files + (<usize>lo << 4);
      if (compareBytes(<usize>load<u32>(f), load<u32>(f, 4), key, keyLen) <= 0) return true;
    }
    p = files + (<usize>count << 4);
  }
  return false;
}

/**
 * Moves entries into table builder tb until the staging buffer holds
 * maxStaged bytes, the output reaches targetSize (at a user key change), a
 * source needs a block, or the inputs are done. Returns the reason (CI_*).
 */
export function ciRun(ci: usize, tb: usize, maxStaged: u32, targetSize: f64): u32 {
  const m = <usize>load<u32>(ci);
  if (!load<u32>(ci, 52)) {
    miFirst(m);
    store<u32>(ci, 1, 52);
  }
  const current = <usize>load<u32>(ci, 4);
  const oldest = load<u64>(ci, 16);
  while (true) {
    const settled = miSettle(m);
    if (settled == 1) return CI_NEED;
    if (settled == 2) return CI_CORRUPT;
    const top = miTop(m);
    if (top < 0) return CI_DONE;
    const s = child(m, <u32>top);
    const key = srcUserKey(s);
    const keyLen = srcUserKeyLength(s);
    const trailer = srcTrailer(s);
    const sequence = trailer >> 8;
    const newKey = !load<u32>(ci, 8) || compareBytes(key, keyLen, bufData(current), bufLength(current)) != 0;
    if (newKey) {
      // Cut outputs only between user keys.
      if (tbFileSize(tb) >= targetSize) return CI_FILE_FULL;
      if (tbStagedLength(tb) >= maxStaged) return CI_STAGED;
      bufSetLength(current, 0);
      bufAppend(current, key, keyLen);
      store<u32>(ci, 1, 8);
      store<u64>(ci, NO_SEQUENCE, 24);
    }
    let drop = false;
    if (load<u64>(ci, 24) <= oldest) {
      drop = true; // a newer version of this key is visible to every snapshot
    } else if ((trailer & 0xff) == 0 && sequence <= oldest && !inDeeperLevel(ci, key, keyLen)) {
      drop = true; // a tombstone with nothing older left to hide
    } else if (rtHides(<usize>load<u32>(ci, CI_TOMBSTONES), key, keyLen, sequence, oldest)) {
      drop = true; // a range tombstone every snapshot sees covers it
    }
    store<u64>(ci, sequence, 24);
    store<u64>(ci, load<u64>(ci, 32) + 1, 32);
    if (drop) store<u64>(ci, load<u64>(ci, 40) + 1, 40);
    else tbAdd(tb, key, keyLen, trailer, srcValue(s), srcValueLength(s));
    miAdvance(m);
  }
}
