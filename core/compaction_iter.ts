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
//   +56 f64 now (epoch ms; ciSetNow)   +64 u64 expired entries turned into tombstones or dropped
//   +72 u64 compaction filter: it sees the newest version of a key only above this sequence
//       (the newest live snapshot's), NO_SEQUENCE = no filter   +80 u64 entries the filter
//       dropped or changed   +88 u32 1 while a batch waits for the filter's decisions
//   +92 u32 the filter's queue (core/filter_queue.ts), 0 without a filter
//   +96 u32 range-tombstone fragment list of the inputs (referenced; 0 = none)
//
// Expiring puts (core/expiry.ts) past now become tombstones, then follow the
// tombstone rule. With a compaction filter (ciSetFilter), the entries kept
// wait in the queue; the candidates among them are the newest version of
// each key that no snapshot reads (a put or a live expiring put). ciRun
// stops with CI_FILTER when the queue holds a batch (or before an output
// cut, or at the end); TypeScript reads the candidates (ciFilterCandidates),
// calls the filter for each and answers with ciDecide: keep, drop (the
// entry becomes a tombstone, as RocksDB's kRemove) or a new value; the
// queue then goes to the builder in order.

import { bufAppend, bufData, bufFree, bufLength, bufNew, bufSetLength } from "./buffer";
import { compareBytes } from "./coding";
import { child, miAdvance, miFirst, miFree, miSettle, miTop } from "./merge_iter";
import { srcTrailer, srcUserKey, srcUserKeyLength, srcValue, srcValueLength } from "./sources";
import { tbAdd, tbFileSize, tbStagedLength } from "./table_builder";
import { expired, KIND_PUT_EXPIRING } from "./expiry";
import { FQ_MAX_CANDIDATES, fqBytes, fqCandidates, fqClear, fqEnd, fqFirst, fqFree, fqKey, fqKeyLen, fqNew, fqNext, fqNumber, fqPrepare, fqPush, fqRecords, fqTrailer, fqValue, fqValueLen } from "./filter_queue";
import { rtHides, rtUnref } from "./range_tombstones";

const CI_SIZE: usize = 104;
export const CI_TOMBSTONES: usize = 96;
const NO_SEQUENCE: u64 = 0xffffffffffffffff;

export const CI_DONE: u32 = 1; // every input entry was handled
export const CI_NEED: u32 = 2; // a source needs a block (see the merge's need child)
export const CI_CORRUPT: u32 = 3;
export const CI_STAGED: u32 = 4; // the builder's staging buffer is full: write it, then call again
export const CI_FILE_FULL: u32 = 5; // the output reached its target size: finish it, start another, call again
export const CI_FILTER: u32 = 6; // a batch waits for the compaction filter: ciFilterCandidates, ciDecide, then call again

/** A compaction over merge m (owned), keeping what snapshots at or above `oldest` can see. */
export function ciNew(m: usize, oldest: u64, deeper: usize): usize {
  const ci = heap.alloc(CI_SIZE);
  memory.fill(ci, 0, CI_SIZE);
  store<u32>(ci, <u32>m);
  store<u32>(ci, <u32>bufNew(64), 4);
  store<u32>(ci, <u32>deeper, 12);
  store<u64>(ci, oldest, 16);
  store<u64>(ci, NO_SEQUENCE, 24);
  store<u64>(ci, NO_SEQUENCE, 72);
  return ci;
}

/** Sets the time (epoch ms) expiring puts are judged at; call before the first run. */
export function ciSetNow(ci: usize, now: f64): void { store<f64>(ci, now, 56); }
/** Turns the compaction filter on for newest versions above sequence `above` (the newest live snapshot, or 0). */
export function ciSetFilter(ci: usize, above: u64): void {
  store<u64>(ci, above, 72);
  if (load<u32>(ci, 92) == 0) store<u32>(ci, <u32>fqNew(), 92);
}
/** Expired entries turned into tombstones or dropped so far. */
export function ciExpired(ci: usize): f64 { return <f64>load<u64>(ci, 64); }
/** Entries the filter dropped or changed so far. */
export function ciFiltered(ci: usize): f64 { return <f64>load<u64>(ci, 80); }

// @ts-ignore: decorator
@inline function bump(ci: usize, offset: usize): void { store<u64>(ci + offset, load<u64>(ci + offset) + 1); }

/** Frees the compaction state, its merge, sources and the deeper ranges. */
export function ciFree(ci: usize): void {
  miFree(<usize>load<u32>(ci));
  bufFree(<usize>load<u32>(ci, 4));
  const deeper = <usize>load<u32>(ci, 12);
  if (deeper != 0) heap.free(deeper);
  const fq = <usize>load<u32>(ci, 92);
  if (fq != 0) fqFree(fq);
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
  const fq = <usize>load<u32>(ci, 92);
  if (load<u32>(ci, 88)) return CI_FILTER; // decisions still to come
  while (true) {
    const settled = miSettle(m);
    if (settled == 1) return CI_NEED;
    if (settled == 2) return CI_CORRUPT;
    const top = miTop(m);
    if (top < 0) return fq != 0 && fqRecords(fq) > 0 ? filterStop(ci) : CI_DONE;
    const s = child(m, <u32>top);
    const key = srcUserKey(s);
    const keyLen = srcUserKeyLength(s);
    const trailer = srcTrailer(s);
    const sequence = trailer >> 8;
    const newKey = !load<u32>(ci, 8) || compareBytes(key, keyLen, bufData(current), bufLength(current)) != 0;
    if (newKey) {
      // The queue goes to the builder before a cut could be due, and once it holds a batch.
      if (fq != 0 && fqRecords(fq) > 0 && (fqCandidates(fq) >= FQ_MAX_CANDIDATES ||
        tbFileSize(tb) + <f64>fqBytes(fq) >= targetSize || tbStagedLength(tb) + fqBytes(fq) >= maxStaged)) {
        return filterStop(ci);
      }
      // Cut outputs only between user keys.
      if (tbFileSize(tb) >= targetSize) return CI_FILE_FULL;
      if (tbStagedLength(tb) >= maxStaged) return CI_STAGED;
      bufSetLength(current, 0);
      bufAppend(current, key, keyLen);
      store<u32>(ci, 1, 8);
      store<u64>(ci, NO_SEQUENCE, 24);
    }
    const newest = load<u64>(ci, 24) == NO_SEQUENCE;
    let kind = <u8>(trailer & 0xff);
    let drop = false;
    if (load<u64>(ci, 24) <= oldest) {
      drop = true; // a newer version of this key is visible to every snapshot
    } else {
      if (kind == KIND_PUT_EXPIRING && expired(srcValue(s), srcValueLength(s), load<f64>(ci, 56))) {
        kind = 0; // every reader sees an expired put as a tombstone: it becomes one
        bump(ci, 64);
      }
      if (kind == 0 && sequence <= oldest && !inDeeperLevel(ci, key, keyLen)) {
        drop = true; // a tombstone with nothing older left to hide
      } else if (rtHides(<usize>load<u32>(ci, CI_TOMBSTONES), key, keyLen, sequence, oldest)) {
        drop = true; // a range tombstone every snapshot sees covers it
      }
    }
    store<u64>(ci, sequence, 24);
    bump(ci, 32);
    if (drop) {
      bump(ci, 40);
    } else if (kind == 0 && <u8>(trailer & 0xff) == KIND_PUT_EXPIRING) {
      if (fq != 0) fqPush(fq, key, keyLen, trailer & ~(<u64>0xff), 0, 0, false);
      else tbAdd(tb, key, keyLen, trailer & ~(<u64>0xff), 0, 0);
    } else if (fq != 0) {
      const candidate = newest && (kind == 1 || kind == KIND_PUT_EXPIRING) && sequence > load<u64>(ci, 72);
      fqPush(fq, key, keyLen, trailer, srcValue(s), srcValueLength(s), candidate);
    } else {
      tbAdd(tb, key, keyLen, trailer, srcValue(s), srcValueLength(s));
    }
    miAdvance(m);
  }
}

/** Stops for the filter's decisions on the queued batch. */
function filterStop(ci: usize): u32 {
  store<u32>(ci, 1, 88);
  return CI_FILTER;
}

/** The candidates of the batch waiting for the filter (layout: filter_queue.ts), or 0; their number in count. */
export function ciFilterCandidates(ci: usize, count: usize): usize {
  const fq = <usize>load<u32>(ci, 92);
  if (fq == 0 || !load<u32>(ci, 88)) {
    store<u32>(count, 0);
    return 0;
  }
  store<u32>(count, fqCandidates(fq));
  return fqPrepare(fq);
}

/**
 * The filter's decisions on the waiting batch (12 bytes per candidate, in
 * order: u32 0 keep / 1 drop / 2 replace, u32 new value, u32 its length;
 * an expiring put's new value includes its expiry prefix). A drop makes the
 * entry a tombstone, dropped where a tombstone would be. Then every queued
 * entry goes to builder tb in order, and the compaction goes on (ciRun).
 */
export function ciDecide(ci: usize, tb: usize, decisions: usize): void {
  const fq = <usize>load<u32>(ci, 92);
  if (fq == 0 || !load<u32>(ci, 88)) return;
  store<u32>(ci, 0, 88);
  const oldest = load<u64>(ci, 16);
  const end = fqEnd(fq);
  for (let p = fqFirst(fq); p < end; p = fqNext(p)) {
    const key = fqKey(p);
    const keyLen = fqKeyLen(p);
    const trailer = fqTrailer(p);
    const number = fqNumber(p);
    const decision = number == 0 ? 0 : load<u32>(decisions + <usize>(number - 1) * 12);
    if (decision == 0) {
      tbAdd(tb, key, keyLen, trailer, fqValue(p), fqValueLen(p));
      continue;
    }
    bump(ci, 80);
    const d = decisions + <usize>(number - 1) * 12;
    if (decision == 2) {
      tbAdd(tb, key, keyLen, trailer, <usize>load<u32>(d, 4), load<u32>(d, 8));
    } else if ((trailer >> 8) <= oldest && !inDeeperLevel(ci, key, keyLen)) {
      bump(ci, 40);
    } else {
      tbAdd(tb, key, keyLen, trailer & ~(<u64>0xff), 0, 0);
    }
  }
  fqClear(fq);
}
