// The only export surface of the siltdb core module: flat functions over
// pointers and lengths into linear memory. TypeScript (src/_wasm.ts) writes
// arguments into the scratch region, calls one function per operation, and
// reads results from the result area or from the returned pointers.
//
// Sequences cross the boundary as f64 (exact below 2^53) so that no call
// needs BigInt.
//
// Result area (RESULT, 32 bytes; offsets exported as RESULT_* below):
//   +0 u32 value pointer   +4 u32 value length      (mtGet, dbGet; blockLoadAt: the block decompressed)
//   +8 f64 sequence of the version found            (dbGet: Found, Deleted)
//   +8 f64 block offset    +16 f64 block size       (dbGet: NeedBlock)
//   +24 u32 file number                             (dbGet)
//   +28 u32 kind of the version found               (dbGet: scratch)
//
// Statuses, flags, offsets and on-disk constants that TypeScript needs are
// exported as WebAssembly globals (the end of this file). scripts/build.mjs
// copies their values and the types of these functions into the generated
// src/wasm/_core_abi.ts; tests/wasm_abi.test.ts fails if that file, or an
// on-disk constant of src/format/, differs from this module.

import { BATCH_HEADER, KIND_DELETE, KIND_PUT, RECORD_END_MARK, RECORD_HEADER, RECORD_OVERHEAD, RECORD_TYPE_BATCH, batchApply, recordHeaderOk, recordPayloadOk, recordSeal, recordSealAndApply, recordsApply, recordStampAndSeal } from "./write_batch";
import { crc32cExtend, maskCrc, unmaskCrc } from "./crc32c";
import { bufData, bufLength } from "./buffer";
import { BLOCK_LZ4, BLOCK_RAW, BLOCK_TRAILER_SIZE, CODEC_LZ4, CODEC_NONE, FOOTER_SIZE, PROPERTIES_VERSION, TABLE_FORMAT_VERSION, TABLE_MAGIC, tbAdd, tbAddMemtable, tbAddRangeTombstone, tbRangeTombstones, tbClearStaged, tbEntries, tbFileSize, tbFinish, tbFree, tbLargestKey, tbLargestKeyLength, tbLargestSequence, tbNew, tbSmallestKey, tbSmallestKeyLength, tbSmallestSequence, tbStaged, tbStagedLength } from "./table_builder";
import { blockEntryCount, blockLoad, decodeHandle, LOAD_CHECKSUM_MISMATCH, LOAD_DECOMPRESSED, LOAD_MALFORMED, LOAD_RAW, loadedBlock, loadedLength } from "./table_reader";
import { lz4Compress, lz4Decompress } from "./lz4";
import { biCorrupted, biFirst, biFree, biInit, biKey, biKeyLength, biNew, biNext, biValue, biValueLength } from "./block_reader";
import { bcBlock, bcBlocks, bcBlockSize, bcBytes, bcClear, bcForgetFile, bcHits, bcInsert, bcLookup, bcMisses, bcPin, bcUnpin } from "./block_cache";
import { ABSENT, CORRUPT_BLOCK, CORRUPT_INDEX, DELETED, FOUND, NEED_BLOCK, NEED_TABLE, OUT_BLOCK_OFFSET, OUT_BLOCK_SIZE, OUT_FILE, OUT_SEQUENCE, OUT_VALUE, OUT_VALUE_LENGTH, pointGet } from "./point_get";
import { FILE_SIZE, MAX_MEMTABLES, RS_TOMBSTONES, rsAddTable, rsBloomChecked, rsBloomUseful, rsCache, rsFree, rsNew, rsRemoveTable, rsSetMemtables, rsSetVersion, rsVersion, tableNew, tableRelease } from "./read_state";
import { blockChecksum, xxh64 } from "./xxhash64";
import { ITER_COPY_VALUES, ITER_HAS_LOWER, ITER_HAS_UPPER, ITER_LOWER_INCLUSIVE, ITER_REVERSE, ITER_UPPER_INCLUSIVE, iterFill, iterFree, iterNew, iterStatus, STATUS_CORRUPT, STATUS_DONE, STATUS_MORE, STATUS_NEED } from "./db_iter";
import { child, miNeedChild, miNew } from "./merge_iter";
import { CI_TOMBSTONES, CI_CORRUPT, CI_DONE, CI_FILE_FULL, CI_NEED, CI_STAGED, ciDropped, ciFree, ciMerge, ciNew, ciRead, ciRun } from "./compaction_iter";
import { CI_FILTER, ciDecide, ciExpired, ciFiltered, ciFilterCandidates, ciSetFilter, ciSetNow } from "./compaction_iter";
import { FQ_CANDIDATE } from "./filter_queue";
import { EXPIRY_PREFIX, FOUND_EXPIRING, KIND_PUT_EXPIRING, resolveFound } from "./expiry";
import { CORRUPT, EXHAUSTED, memSourceNew, NEED_BLOCK as SOURCE_NEEDS_BLOCK, NEED_INDEX, READY, runBlockOffset, runBlockSize, runFileNumber, runProvideCached, runProvideTable, runSourceNew, runSourceOfLevel, srcState } from "./sources";
import { FRAGMENT_SIZE, KIND_RANGE_DELETE, rtApplied, rtMemList, rtNewestCovering, rtRef, rtUnref } from "./range_tombstones";
import {
  mtBytesUsed, mtCount, mtFind, mtFirst, mtFree, mtInsert, mtLast, mtMemoryUsage, mtNew, mtNext, mtPrev, mtSeek,
  nodeKey, nodeKeyLen, nodeTrailer, nodeValue, nodeValueLen,
} from "./skiplist";

const RESULT: usize = memory.data(32, 16);
let scratchPtr: usize = 0;
let scratchCap: usize = 0;

// ---- memory ---------------------------------------------------------------

/** Address of the result area. */
export function resultArea(): usize { return RESULT; }

/**
 * Address of the scratch region, grown to at least size bytes. Its contents
 * are not preserved when it grows. May grow linear memory.
 */
export function scratch(size: usize): usize {
  if (size > scratchCap) {
    if (scratchPtr != 0) heap.free(scratchPtr);
    let cap: usize = scratchCap > 0 ? scratchCap : 64 << 10;
    while (cap < size) cap <<= 1;
    scratchPtr = heap.alloc(cap);
    scratchCap = cap;
  }
  return scratchPtr;
}

/** Allocates a buffer of size bytes in linear memory. May grow memory. */
export function bufferAlloc(size: usize): usize { return heap.alloc(size); }

/** Frees a buffer from bufferAlloc. */
export function bufferFree(ptr: usize): void { heap.free(ptr); }

// ---- checksums ------------------------------------------------------------

/** Plain CRC-32C of len bytes at ptr. */
export function crc32c(ptr: usize, len: usize): u32 { return crc32cExtend(0, ptr, len); }
/** Masked form of a CRC, as stored on disk. */
export function crcMask(crc: u32): u32 { return maskCrc(crc); }
/** Inverse of crcMask. */
export function crcUnmask(masked: u32): u32 { return unmaskCrc(masked); }

/** Low 32 bits of XXH64 of len bytes at ptr: the table checksum. */
export function checksum32(ptr: usize, len: usize): u32 { return blockChecksum(ptr, len); }
/** High 32 bits of XXH64 (with checksum32, the whole hash; for tests). */
export function xxh64High(ptr: usize, len: usize): u32 { return <u32>(xxh64(ptr, len) >> 32); }

// ---- memtable -------------------------------------------------------------

export { mtNew, mtFree, mtCount, mtMemoryUsage, mtBytesUsed, mtFirst, mtLast, mtPrev };

/** Inserts one entry (kind 1 = put, 0 = delete) with the given sequence. */
export function mtAdd(mt: usize, key: usize, keyLen: u32, sequence: f64, kind: u32, value: usize, valueLen: u32): void {
  mtInsert(mt, key, keyLen, (<u64>sequence << 8) | <u64>(kind & 0xff), value, valueLen);
}

/**
 * Point lookup as of a sequence: 1 = found (value pointer and length in the
 * result area), 2 = deleted (a tombstone is the newest visible version),
 * 0 = not present.
 */
export function mtGet(mt: usize, key: usize, keyLen: u32, sequence: f64): i32 {
  const node = mtFind(mt, key, keyLen, (<u64>sequence << 8) | 0xff);
  if (node == 0) return 0;
  if ((nodeTrailer(node) & 0xff) == 0) return 2;
  store<u32>(RESULT, <u32>nodeValue(node));
  store<u32>(RESULT, nodeValueLen(node), 4);
  return 1;
}

/** First node at or after (key, sequence, kind), or 0. */
export function mtSeekTo(mt: usize, key: usize, keyLen: u32, sequence: f64, kind: u32): usize {
  return mtSeek(mt, key, keyLen, (<u64>sequence << 8) | <u64>(kind & 0xff));
}

/** Node after node, or 0. */
export function mtNextNode(node: usize): usize { return mtNext(node); }

/** Accessors of a node: key, value, sequence and kind. */
export function nodeKeyPtr(node: usize): usize { return nodeKey(node); }
export function nodeKeyLength(node: usize): u32 { return nodeKeyLen(node); }
export function nodeValuePtr(node: usize): usize { return nodeValue(node); }
export function nodeValueLength(node: usize): u32 { return nodeValueLen(node); }
export function nodeSequence(node: usize): f64 { return <f64>(nodeTrailer(node) >> 8); }
export function nodeKind(node: usize): u32 { return <u32>(nodeTrailer(node) & 0xff); }

// ---- write batches and WAL records -----------------------------------------

/** Validates and applies a batch payload; entry count, or -1 if malformed. */
export function batchApplyTo(mt: usize, payload: usize, len: usize): i32 { return batchApply(mt, payload, len); }

/** Stamps the sequence, seals the record and applies it; entry count or -1. See write_batch.ts. */
export function recordCommit(mt: usize, record: usize, payloadLen: usize, sequence: f64): i32 {
  return recordSealAndApply(mt, record, payloadLen, sequence);
}

/** Stamps the sequence and seals the record without applying it; entry count or -1. */
export function recordStamp(record: usize, payloadLen: usize, sequence: f64): i32 {
  return recordStampAndSeal(record, payloadLen, sequence);
}

/** Seals a record of any type whose payload is in place (length, type, checksums). */
export function recordSealAs(record: usize, payloadLen: usize, type: u32): void {
  recordSeal(record, payloadLen, <u8>type);
}

/** Applies the sealed batch records in [ptr, ptr + len) to mt; record count, or -1 (nothing applied). */
export function recordsApplyTo(mt: usize, ptr: usize, len: usize): i32 { return recordsApply(mt, ptr, len); }

/** True when the record's header checksum matches. */
export function recordHeaderVerify(record: usize): bool { return recordHeaderOk(record); }

/** True when the record's payload checksum matches. */
export function recordPayloadVerify(record: usize, payloadLen: usize): bool { return recordPayloadOk(record, payloadLen); }

// ---- iterators ------------------------------------------------------------------

export { memSourceNew, runSourceNew, runSourceOfLevel, srcState, runFileNumber, runBlockOffset, runBlockSize, runProvideTable, runProvideCached };
export { iterFill, iterFree, iterStatus };

/**
 * Creates a visible-entry iterator (db_iter.ts) over a merge of the n sources
 * whose pointers are at children, newest source first; see db_iter.ts for
 * flags. `now` (epoch ms) is the time it reads expiring puts at
 * (core/expiry.ts); `tombstones` its range-tombstone fragment list (it takes
 * a reference; 0: none).
 */
export function iterCreate(
  children: usize, n: u32, sequence: f64, flags: u32,
  lower: usize, lowerLen: u32, upper: usize, upperLen: u32, now: f64, tombstones: usize,
): usize {
  return iterNew(miNew(n, children), <u64>sequence, flags, lower, lowerLen, upper, upperLen, now, tombstones);
}

/** The index of the source the last fill stopped on (status NEED or CORRUPT). */
export function iterNeedChild(it: usize): u32 { return miNeedChild(load<u32>(it)); }

/** The source pointer of child i. */
export function iterChild(it: usize, i: u32): usize { return child(load<u32>(it), i); }

// ---- table building ------------------------------------------------------------

export { tbNew, tbFree, tbAddMemtable, tbFinish, tbStaged, tbStagedLength, tbClearStaged, tbEntries, tbFileSize, tbSmallestSequence, tbLargestSequence, tbSmallestKey, tbSmallestKeyLength, tbLargestKey, tbLargestKeyLength };

/** Adds one entry to a table builder (sequence as f64, kind 0/1). */
export function tbAddEntry(tb: usize, key: usize, keyLen: u32, sequence: f64, kind: u32, value: usize, valueLen: u32): void {
  tbAdd(tb, key, keyLen, (<u64>sequence << 8) | <u64>(kind & 0xff), value, valueLen);
}

// ---- table reading ---------------------------------------------------------------

export { blockEntryCount };

/**
 * Checks a block read from storage (stored bytes at ptr, its trailer after
 * them) and decompresses it if it is compressed: BLOCK_LOAD_RAW (use it in
 * place), BLOCK_LOAD_DECOMPRESSED (a new allocation at RESULT +0, its
 * length at +4; the stored bytes are still the caller's), or
 * BLOCK_LOAD_CHECKSUM_MISMATCH / BLOCK_LOAD_MALFORMED.
 */
export function blockLoadAt(ptr: usize, len: u32): i32 {
  const status = blockLoad(ptr, len);
  if (status == LOAD_DECOMPRESSED) {
    store<u32>(RESULT, <u32>loadedBlock);
    store<u32>(RESULT, loadedLength, 4);
  }
  return status;
}

/** LZ4 (lz4.ts) of len bytes at src into dst: the stream's length, or 0 when it exceeds cap. For tests. */
export function lz4CompressTo(src: usize, len: u32, dst: usize, cap: u32): u32 { return lz4Compress(src, len, dst, cap); }

/** Decodes the LZ4 stream of len bytes at src into exactly dstLen bytes at dst; false when malformed. For tests. */
export function lz4DecompressTo(src: usize, len: u32, dst: usize, dstLen: u32): bool { return lz4Decompress(src, len, dst, dstLen); }

// ---- block walks (inspection: siltdb dump-sst) --------------------------------

/** A new block cursor (free it with blockWalkFree). */
export function blockWalkNew(): usize { return biNew(); }

/** Frees a block cursor. */
export function blockWalkFree(bi: usize): void { biFree(bi); }

/** Positions the cursor at the first entry of the block at [ptr, ptr + len); false at the end or when malformed. */
export function blockWalkFirst(bi: usize, ptr: usize, len: u32): bool { return biInit(bi, ptr, len) && biFirst(bi); }

/** Moves to the next entry; false at the end or when malformed. */
export function blockWalkNext(bi: usize): bool { return biNext(bi); }

/** True when the walk stopped on a malformed entry. */
export function blockWalkCorrupt(bi: usize): bool { return biCorrupted(bi); }

/** The current entry's whole key (address; length from blockWalkKeyLength). */
export function blockWalkKey(bi: usize): usize { return biKey(bi); }
export function blockWalkKeyLength(bi: usize): u32 { return biKeyLength(bi); }

/** The current entry's value (address; length from blockWalkValueLength). */
export function blockWalkValue(bi: usize): usize { return biValue(bi); }
export function blockWalkValueLength(bi: usize): u32 { return biValueLength(bi); }

/** Decodes the current (index) entry's value as a block handle into out (+0 f64 offset, +8 f64 size). */
export function blockWalkHandle(bi: usize, out: usize): bool { return decodeHandle(biValue(bi), biValueLength(bi), out); }

// ---- point lookups and the block cache -------------------------------------------

export { rsNew, rsFree, rsCache, rsSetMemtables, rsSetVersion, rsVersion, rsAddTable, rsRemoveTable, rsBloomChecked, rsBloomUseful, tableNew, tableRelease };
export { bcLookup, bcInsert, bcBlock, bcBlockSize, bcPin, bcUnpin, bcForgetFile, bcClear, bcHits, bcMisses, bcBytes, bcBlocks };

/**
 * The whole point lookup (point_get.ts) as of now (epoch ms; expiring puts,
 * core/expiry.ts; NaN: see dbResolveExpiring): 1 found (value at RESULT +0/+4),
 * 2 deleted, 0 absent, 3 needs table RESULT+24, 4 needs block (file +24,
 * offset +8, size +16), 5/6 malformed index/data block. resume: go on
 * where the previous call stopped (after providing the table or block).
 */
export function dbGet(rs: usize, key: usize, keyLen: u32, sequence: f64, resume: bool, now: f64): i32 {
  const status = pointGet(rs, key, keyLen, sequence, RESULT, resume, now);
  const tombstones = <usize>load<u32>(rs, RS_TOMBSTONES);
  if ((status != FOUND && status != FOUND_EXPIRING) || tombstones == 0) return status;
  // A range tombstone newer than the version found hides it (range_tombstones.ts).
  const covering = rtNewestCovering(tombstones, key, keyLen, <u64>sequence);
  if (covering <= <u64>load<f64>(RESULT + OUT_SEQUENCE)) return status;
  store<f64>(RESULT + OUT_SEQUENCE, <f64>covering);
  return DELETED;
}

/**
 * After dbGet returned 7 (an expiring version, now given as NaN): resolves
 * it at now (epoch ms): 1 found (value at RESULT, the expiry prefix
 * skipped) or 2 deleted (expired). Reads of unexpiring data never need the clock.
 */
export function dbResolveExpiring(now: f64): i32 { return resolveFound(RESULT, now); }

// ---- range tombstones (range_tombstones.ts) ---------------------------------------

export { rtApplied, rtRef, rtUnref };

/** The range-tombstone skip list of memtable mt (walk it with mtFirst/mtNextNode), or 0. */
export function mtRangeDeletes(mt: usize): usize { return rtMemList(mt); }

/** Installs a fragment list in a read state (its one reference passes over; 0: none). */
export function rsSetTombstones(rs: usize, list: usize): void {
  const previous = <usize>load<u32>(rs, RS_TOMBSTONES);
  if (previous != 0) rtUnref(previous);
  store<u32>(rs, <u32>list, RS_TOMBSTONES);
}

/** The fragment list of a read state (0: none). */
export function rsTombstones(rs: usize): usize { return <usize>load<u32>(rs, RS_TOMBSTONES); }

/** Gives a compaction the fragment list of its inputs (it takes a reference; 0: none). */
export function ciSetTombstones(ci: usize, list: usize): void {
  if (list != 0) rtRef(list);
  store<u32>(ci, <u32>list, CI_TOMBSTONES);
}

/** The newest sequence at or below snapshot of a tombstone of list covering the key (0: none). */
export function rtCovering(list: usize, key: usize, keyLen: u32, snapshot: f64): f64 {
  return <f64>rtNewestCovering(list, key, keyLen, <u64>snapshot);
}

/** Adds a range tombstone [start, end) to a table builder (sorted by start, newest first). */
export function tbAddRangeDelete(tb: usize, start: usize, startLen: u32, end: usize, endLen: u32, sequence: f64): void {
  tbAddRangeTombstone(tb, start, startLen, end, endLen, <u64>sequence);
}

export { tbRangeTombstones };

// ---- compaction ------------------------------------------------------------------

export { ciRun, ciFree, ciRead, ciDropped };
// Expiry and the compaction filter (compaction_iter.ts, expiry.ts).
export { ciSetNow, ciExpired, ciFiltered, ciDecide };

/** Turns the compaction filter on for newest versions above sequence `above` (the newest live snapshot's, or 0). */
export function ciFilterAbove(ci: usize, above: f64): void { ciSetFilter(ci, <u64>above); }

/**
 * The candidates of the batch waiting for the compaction filter (status
 * COMPACTION_FILTER): their address (FILTER_CANDIDATE_SIZE bytes each,
 * layout in filter_queue.ts), their number at RESULT +0.
 */
export function ciFilterBatch(ci: usize): usize { return ciFilterCandidates(ci, RESULT); }

/**
 * A compaction (compaction_iter.ts) over a merge of the n run sources at
 * children; oldest = the oldest live snapshot's sequence; deeper = packed key
 * ranges of the levels below the output (or 0).
 */
export function ciCreate(children: usize, n: u32, oldest: f64, deeper: usize): usize {
  return ciNew(miNew(n, children), <u64>oldest, deeper);
}

/** The last user key the compaction handled (the last key of an output it reported full): its buffer's data. */
export function ciLastKey(ci: usize): usize { return bufData(<usize>load<u32>(ci, 4)); }
export function ciLastKeyLength(ci: usize): u32 { return bufLength(<usize>load<u32>(ci, 4)); }

/** The index of the source the compaction stopped on (CI_NEED or CI_CORRUPT). */
export function ciNeedChild(ci: usize): u32 { return miNeedChild(ciMerge(ci)); }

/** The source pointer of child i. */
export function ciChild(ci: usize, i: u32): usize { return child(ciMerge(ci), i); }

// ---- constants shared with TypeScript (see the header) --------------------------

// Outcomes of dbGet (and mtGet: absent, found, deleted).
export const LOOKUP_ABSENT: i32 = ABSENT;
export const LOOKUP_FOUND: i32 = FOUND;
export const LOOKUP_DELETED: i32 = DELETED;
export const LOOKUP_NEED_TABLE: i32 = NEED_TABLE;
export const LOOKUP_NEED_BLOCK: i32 = NEED_BLOCK;
export const LOOKUP_CORRUPT_INDEX: i32 = CORRUPT_INDEX;
export const LOOKUP_CORRUPT_BLOCK: i32 = CORRUPT_BLOCK;
export const LOOKUP_FOUND_EXPIRING: i32 = FOUND_EXPIRING;

// Offsets in the result area.
export const RESULT_VALUE: u32 = <u32>OUT_VALUE;
export const RESULT_VALUE_LENGTH: u32 = <u32>OUT_VALUE_LENGTH;
export const RESULT_SEQUENCE: u32 = <u32>OUT_SEQUENCE;
export const RESULT_BLOCK_OFFSET: u32 = <u32>OUT_BLOCK_OFFSET;
export const RESULT_BLOCK_SIZE: u32 = <u32>OUT_BLOCK_SIZE;
export const RESULT_FILE: u32 = <u32>OUT_FILE;

// iterCreate flags and iterFill/iterStatus statuses (db_iter.ts).
export const SCAN_REVERSE: u32 = ITER_REVERSE;
export const SCAN_HAS_LOWER: u32 = ITER_HAS_LOWER;
export const SCAN_LOWER_INCLUSIVE: u32 = ITER_LOWER_INCLUSIVE;
export const SCAN_HAS_UPPER: u32 = ITER_HAS_UPPER;
export const SCAN_UPPER_INCLUSIVE: u32 = ITER_UPPER_INCLUSIVE;
export const SCAN_COPY_VALUES: u32 = ITER_COPY_VALUES;
export const SCAN_MORE: u32 = STATUS_MORE;
export const SCAN_DONE: u32 = STATUS_DONE;
export const SCAN_NEED: u32 = STATUS_NEED;
export const SCAN_CORRUPT: u32 = STATUS_CORRUPT;

// srcState of a run source (sources.ts).
export const SOURCE_READY: u32 = READY;
export const SOURCE_EXHAUSTED: u32 = EXHAUSTED;
export const SOURCE_NEED_INDEX: u32 = NEED_INDEX;
export const SOURCE_NEED_BLOCK: u32 = SOURCE_NEEDS_BLOCK;
export const SOURCE_CORRUPT: u32 = CORRUPT;

// ciRun statuses (compaction_iter.ts).
export const COMPACTION_DONE: u32 = CI_DONE;
export const COMPACTION_NEED: u32 = CI_NEED;
export const COMPACTION_CORRUPT: u32 = CI_CORRUPT;
export const COMPACTION_STAGED: u32 = CI_STAGED;
export const COMPACTION_FILE_FULL: u32 = CI_FILE_FULL;
export const COMPACTION_FILTER: u32 = CI_FILTER;
export const FILTER_CANDIDATE_SIZE: u32 = <u32>FQ_CANDIDATE;

// Read state limits and packed layouts (read_state.ts).
export const READ_STATE_MAX_MEMTABLES: u32 = MAX_MEMTABLES;
export const FILE_RECORD_SIZE: u32 = <u32>FILE_SIZE;

// On disk: log records and write batches (write_batch.ts), tables (table_builder.ts).
export const LOG_RECORD_HEADER_SIZE: u32 = <u32>RECORD_HEADER;
export const LOG_RECORD_OVERHEAD: u32 = <u32>RECORD_OVERHEAD;
export const LOG_RECORD_END_MARK: u32 = RECORD_END_MARK;
export const LOG_RECORD_TYPE_BATCH: u32 = RECORD_TYPE_BATCH;
export const BATCH_HEADER_SIZE: u32 = <u32>BATCH_HEADER;
export const ENTRY_KIND_DELETE: u32 = KIND_DELETE;
export const ENTRY_KIND_PUT: u32 = KIND_PUT;
export const ENTRY_KIND_PUT_EXPIRING: u32 = KIND_PUT_EXPIRING;
export const ENTRY_EXPIRY_PREFIX: u32 = EXPIRY_PREFIX;
export const ENTRY_KIND_RANGE_DELETE: u32 = KIND_RANGE_DELETE;
export const RANGE_FRAGMENT_SIZE: u32 = <u32>FRAGMENT_SIZE;
export const TABLE_FOOTER_SIZE: u32 = <u32>FOOTER_SIZE;
export const TABLE_VERSION: u32 = TABLE_FORMAT_VERSION;
export const TABLE_MAGIC_LOW: u32 = <u32>(TABLE_MAGIC & 0xffffffff);
export const TABLE_MAGIC_HIGH: u32 = <u32>(TABLE_MAGIC >> 32);
export const TABLE_BLOCK_TRAILER_SIZE: u32 = <u32>BLOCK_TRAILER_SIZE;
export const TABLE_PROPERTIES_VERSION: u32 = PROPERTIES_VERSION;
export const TABLE_BLOCK_RAW: u32 = BLOCK_RAW;
export const TABLE_BLOCK_LZ4: u32 = BLOCK_LZ4;
export const TABLE_CODEC_NONE: u32 = CODEC_NONE;
export const TABLE_CODEC_LZ4: u32 = CODEC_LZ4;

// blockLoadAt outcomes (table_reader.ts).
export const BLOCK_LOAD_RAW: i32 = LOAD_RAW;
export const BLOCK_LOAD_DECOMPRESSED: i32 = LOAD_DECOMPRESSED;
export const BLOCK_LOAD_CHECKSUM_MISMATCH: i32 = LOAD_CHECKSUM_MISMATCH;
export const BLOCK_LOAD_MALFORMED: i32 = LOAD_MALFORMED;
