// Range tombstones (RocksDB's DeleteRange): a batch entry of kind 2 deletes
// every key in [start, end) written before it, in one record.
//
// Memtable: range tombstones live beside the skip list, in a second skip
// list of the same memtable (skiplist.ts, header +40; created with the first
// one), keyed by start, trailer (sequence << 8) | 2, value = the end in the
// batch entry's form:
//
//   u8 1 (bounded) then the end key bytes   |   u8 0 (no end: to the end of the key space)
//
// Reads do not search those lists: TypeScript builds, per read state, one
// fragment list of every tombstone its memtables and tables hold
// (src/read/range_tombstones.ts), and the core searches it in O(log n):
// point lookups (dbGet, after pointGet), scans (db_iter.ts) and compactions
// (compaction_iter.ts, with the compaction's own list).
//
// Fragment list (heap, built by TypeScript; reference counted: the read
// state holds one reference, each scan iterator or compaction one more):
//   +0 u32 references   +4 u32 fragment count N
//   +8 N fragments of FRAGMENT_SIZE bytes, sorted by start, not overlapping:
//      +0 u32 start address  +4 u32 start length  +8 u32 end address  +12 u32 end length
//      +16 u32 1 when the fragment has no end   +20 u32 sequence count S   +24 u32 sequences address
//   sequences: S f64 per fragment, newest first; keys and sequences follow the fragments.

import { compareBytes } from "./coding";
import { bufAppend, bufAppendU32, bufAppendU64, bufData, bufFree, bufLength, bufNew } from "./buffer";
import { mtInsert, mtNew } from "./skiplist";

export const KIND_RANGE_DELETE: u8 = 2;
export const FRAGMENT_SIZE: usize = 28;
/** Where a memtable keeps its range-tombstone skip list (skiplist.ts header). */
export const MT_RANGE_DELETES: usize = 40;

/** Range tombstones applied to any memtable since the module started: TypeScript rebuilds lists when it changes. */
let applied: f64 = 0;

/** Count of range tombstones applied to memtables so far (by every database of this module). */
export function rtApplied(): f64 { return applied; }

/** Records a range tombstone in memtable mt (its second skip list). end: the entry's value (flag byte, end). */
export function rtMemAdd(mt: usize, start: usize, startLen: u32, trailer: u64, end: usize, endLen: u32): void {
  let list = <usize>load<u32>(mt, MT_RANGE_DELETES);
  if (list == 0) {
    list = mtNew();
    store<u32>(mt, <u32>list, MT_RANGE_DELETES);
  }
  mtInsert(list, start, startLen, trailer, end, endLen);
  applied++;
}

/** The memtable's range-tombstone skip list, or 0 when it has none. */
export function rtMemList(mt: usize): usize { return <usize>load<u32>(mt, MT_RANGE_DELETES); }

/** Adds a reference to a fragment list. */
export function rtRef(list: usize): void { store<u32>(list, load<u32>(list) + 1); }

/** Drops a reference to a fragment list; frees it with the last. */
export function rtUnref(list: usize): void {
  const refs = load<u32>(list) - 1;
  store<u32>(list, refs);
  if (refs == 0) heap.free(list);
}

/**
 * The newest sequence at or below snapshot of a tombstone of list covering
 * the user key; 0 when none does (or list is 0).
 */
export function rtNewestCovering(list: usize, key: usize, keyLen: u32, snapshot: u64): u64 {
  if (list == 0) return 0;
  const count = load<u32>(list, 4);
  const fragments = list + 8;
  // The last fragment whose start is at or before the key.
  let lo: u32 = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const f = fragments + <usize>mid * FRAGMENT_SIZE;
    if (compareBytes(<usize>load<u32>(f), load<u32>(f, 4), key, keyLen) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return 0;
  const f = fragments + <usize>(lo - 1) * FRAGMENT_SIZE;
  if (load<u32>(f, 16) == 0 && compareBytes(key, keyLen, <usize>load<u32>(f, 8), load<u32>(f, 12)) >= 0) return 0;
  const n = load<u32>(f, 20);
  const sequences = <usize>load<u32>(f, 24);
  for (let i: u32 = 0; i < n; i++) {
    const s = <u64>load<f64>(sequences + (<usize>i << 3));
    if (s <= snapshot) return s;
  }
  return 0;
}

/** True when a tombstone of list newer than sequence, and at or below snapshot, covers the key. */
// @ts-ignore: decorator
@inline
export function rtHides(list: usize, key: usize, keyLen: u32, sequence: u64, snapshot: u64): bool {
  return list != 0 && rtNewestCovering(list, key, keyLen, snapshot) > sequence;
}

// ---- tables -----------------------------------------------------------------------
//
// Range-tombstone block (written by table_builder.ts before the properties
// block, its handle in properties version 2): the table's fragments, sorted
// by start then sequence (newest first), each
//   u32 start length | start | u32 end length | end | u64 sequence
// An end is always bounded in a table (the flush bounds an open end).

/** A builder's range-tombstone buffer (created on first use). */
export function rtBuilderAdd(buffer: usize, start: usize, startLen: u32, end: usize, endLen: u32, sequence: u64): usize {
  const b = buffer != 0 ? buffer : bufNew(256);
  bufAppendU32(b, startLen);
  bufAppend(b, start, startLen);
  bufAppendU32(b, endLen);
  bufAppend(b, end, endLen);
  bufAppendU64(b, sequence);
  return b;
}

/** Frees a builder's range-tombstone buffer (0: none). */
export function rtBuilderFree(buffer: usize): void {
  if (buffer != 0) bufFree(buffer);
}

/** Address and length of a builder's range-tombstone buffer. */
export function rtBuilderData(buffer: usize): usize { return bufData(buffer); }
export function rtBuilderLength(buffer: usize): u32 { return bufLength(buffer); }
