// Builds a table file (SST) from entries in internal-key order. The builder
// produces bytes in a staging buffer; TypeScript writes them to the file and
// clears the buffer (src/table/table_builder.ts). No I/O here.
//
// Table file (see src/format/table_format.ts and docs/format.md):
//
//   data block 0, trailer | data block 1, trailer | ...
//   filter block, trailer            (bloom.ts; absent when bits per key is 0)
//   index block, trailer             (last internal key of each data block -> handle)
//   properties block, trailer        (fixed layout below)
//   footer (64 bytes)
//
//   block trailer (5 bytes): u8 type | u32 checksum: low 32 bits of XXH64 of the stored block + type
//     type 0: the block stored as is
//     type 1: compressed: varint32 length of the block | the block as an LZ4 stream (lz4.ts)
//   handle (in the index): varint64 offset | varint64 size (stored, without trailer)
//
// With codec lz4, each data block is compressed unless that saves less than
// an eighth of it (then it is stored as is). Filter, index and properties
// blocks are always stored as is: they are read once, when a table opens,
// and the filter (random bits) would not shrink.
//
// Properties block:
//   +0 u32 properties version (2)    +4 u32 restart interval   +8 u32 bloom bits per key  +12 u32 0
//   +16 u64 entries  +24 u64 deletions  +32 u64 data blocks  +40 u64 data bytes (with trailers)
//   +48 u64 user key bytes  +56 u64 value bytes  +64 u64 smallest sequence  +72 u64 largest sequence
//   +80 u32 smallest internal key length, key | u32 largest internal key length, key
//   then (version 2) u64 range-tombstone block offset | u64 its size (0: none) | u64 range tombstones
//
// Range-tombstone block (range_tombstones.ts draws it), between the index and
// the properties block when the table has range tombstones. The table's
// smallest and largest keys cover them: (first start, (largest sequence << 8)
// | 2), and (last end, the same trailer), which sorts before every entry of
// the end key (an end is exclusive) — or, for an end k+"\0", (k, 0): the
// largest key it covers is k (a flush bounds an open end, and a compaction
// cuts tombstones between outputs, just past a key). A table of range tombstones alone also
// holds a point tombstone of its first start at that tombstone's sequence
// (it hides nothing the range does not), so that every table has an entry.
//
// Footer (64 bytes, at the end of the file):
//   +0 u64 filter offset  +8 u64 filter size (0: no filter)
//   +16 u64 index offset  +24 u64 index size  +32 u64 properties offset  +40 u64 properties size
//   +48 u32 table format version (3)  +52 u32 checksum (low 32 bits of XXH64) of bytes [0, 52)  +56 magic "SILTSST\n"
//
// Builder state (heap, TB_SIZE bytes):
//   +0 data block builder  +4 index block builder  +8 staging buffer  +12 key hashes (u32s)
//   +16 last user key  +20 smallest internal key  +24 largest internal key
//   +28 u32 target block size  +32 u32 bloom bits per key  +36 u32 restart interval
//   +40 u64 bytes emitted (file offset)  +48.. u64 statistics, in properties order
//   +136 u32 range tombstones (buffer, 0 = none)  +140 u32 their count
//   +144 u32 block codec (CODEC_NONE, CODEC_LZ4)
//   +148 u32 data blocks in a row that did not compress (RAW_STREAK_AT): past
//        RAW_STREAK_LIMIT, only one data block in RAW_RETRY_EVERY is tried (random
//        bytes cost a compression attempt per block and gain nothing; one that
//        compresses again ends the streak)

import { bbAdd, bbCount, bbFinish, bbFinishedLength, bbFree, bbLastKey, bbLastKeyLength, bbNew, bbReset, bbSizeEstimate } from "./block_builder";
import { bloomBuild } from "./bloom";
import { bufAppend, bufAppendU32, bufAppendU64, bufData, bufFree, bufLength, bufNew, bufReserve, bufSetLength } from "./buffer";
import { compareBytes, putVarint32, putVarint64, varint32Length } from "./coding";
import { hashKey } from "./hash_index";
import { blockChecksum } from "./xxhash64";
import { lz4Compress } from "./lz4";
import { mtNext, nodeKey, nodeKeyLen, nodeTrailer, nodeValue, nodeValueLen } from "./skiplist";
import { compareInternal } from "./block_reader";
import { KIND_RANGE_DELETE, rtBuilderAdd, rtBuilderData, rtBuilderFree, rtBuilderLength } from "./range_tombstones";

const TB_SIZE: usize = 152;
const RAW_STREAK_AT: usize = 148;
const RAW_STREAK_LIMIT: u32 = 4;
const RAW_RETRY_EVERY: u32 = 8;
export const FOOTER_SIZE: usize = 64;
export const TABLE_FORMAT_VERSION: u32 = 3;
export const TABLE_MAGIC: u64 = 0x0a545353544c4953; // "SILTSST\n" little-endian
/** Bytes after every block: u8 type and u32 checksum. */
export const BLOCK_TRAILER_SIZE: u32 = 5;
/** Block types (the trailer's first byte). Do not change: on disk. */
export const BLOCK_RAW: u8 = 0;
export const BLOCK_LZ4: u8 = 1;
/** Codecs of tbNew. */
export const CODEC_NONE: u32 = 0;
export const CODEC_LZ4: u32 = 1;
export const PROPERTIES_VERSION: u32 = 2;
const RANGES: usize = 136;
const RANGE_COUNT: usize = 140;
const CODEC_AT: usize = 144;
const STAT_ENTRIES: usize = 48;
const STAT_DELETIONS: usize = 56;
const STAT_DATA_BLOCKS: usize = 64;
const STAT_DATA_BYTES: usize = 72;
const STAT_KEY_BYTES: usize = 80;
const STAT_VALUE_BYTES: usize = 88;
const STAT_MIN_SEQ: usize = 96;
const STAT_MAX_SEQ: usize = 104;

// @ts-ignore: decorator
@inline function field(tb: usize, at: usize): usize { return <usize>load<u32>(tb + at); }

/** A new table builder; codec CODEC_LZ4 compresses data blocks. */
export function tbNew(blockSize: u32, restartInterval: u32, bloomBitsPerKey: u32, codec: u32): usize {
  const tb = heap.alloc(TB_SIZE);
  memory.fill(tb, 0, TB_SIZE);
  store<u32>(tb, <u32>bbNew(restartInterval));
  store<u32>(tb, <u32>bbNew(1), 4);
  store<u32>(tb, <u32>bufNew(blockSize * 2 + 1024), 8);
  store<u32>(tb, <u32>bufNew(1024), 12);
  store<u32>(tb, <u32>bufNew(64), 16);
  store<u32>(tb, <u32>bufNew(64), 20);
  store<u32>(tb, <u32>bufNew(64), 24);
  store<u32>(tb, blockSize, 28);
  store<u32>(tb, bloomBitsPerKey, 32);
  store<u32>(tb, restartInterval, 36);
  store<u64>(tb, 0xffffffffffffffff, STAT_MIN_SEQ);
  store<u32>(tb, codec, CODEC_AT);
  return tb;
}

/** Frees the builder. */
export function tbFree(tb: usize): void {
  bbFree(field(tb, 0));
  bbFree(field(tb, 4));
  for (let at: usize = 8; at <= 24; at += 4) bufFree(field(tb, at));
  rtBuilderFree(field(tb, RANGES));
  heap.free(tb);
}

/**
 * Appends a block and its trailer to the staging buffer, compressed when
 * `compress` and that saves at least an eighth; returns the block's offset.
 * Its stored size (without trailer) is left in `emittedSize`.
 */
function emitBlock(tb: usize, block: usize, len: u32, compress: bool): u64 {
  const stage = field(tb, 8);
  const offset = load<u64>(tb, 40);
  const start = bufLength(stage);
  let stored: u32 = 0;
  let type = BLOCK_RAW;
  const budget = len - (len >> 3); // the most a compressed block may take
  const header = varint32Length(len);
  if (compress && budget > header + 1) {
    const p = bufReserve(stage, budget + BLOCK_TRAILER_SIZE);
    const n = lz4Compress(block, len, putVarint32(p, len), budget - header);
    if (n > 0) {
      stored = header + n;
      type = BLOCK_LZ4;
    }
  }
  if (type == BLOCK_RAW) {
    stored = len;
    memory.copy(bufReserve(stage, len + BLOCK_TRAILER_SIZE), block, len);
  }
  const at = bufData(stage) + <usize>start;
  store<u8>(at + <usize>stored, type);
  store<u32>(at + <usize>stored + 1, blockChecksum(at, <usize>stored + 1));
  bufSetLength(stage, start + stored + BLOCK_TRAILER_SIZE);
  store<u64>(tb, offset + <u64>stored + BLOCK_TRAILER_SIZE, 40);
  emittedSize = stored;
  emittedCompressed = type == BLOCK_LZ4;
  return offset;
}

let emittedSize: u32 = 0;
let emittedCompressed = false;

// Scratch for an encoded block handle (two varint64s).
const HANDLE: usize = memory.data(24, 8);

function flushDataBlock(tb: usize): void {
  const data = field(tb, 0);
  if (bbCount(data) == 0) return;
  // The index key is the block's last key; keep it as the largest key too.
  const largest = field(tb, 24);
  bufSetLength(largest, 0);
  bufAppend(largest, bbLastKey(data), bbLastKeyLength(data));
  const block = bbFinish(data);
  const streak = load<u32>(tb, RAW_STREAK_AT);
  const attempt = load<u32>(tb, CODEC_AT) == CODEC_LZ4 &&
    (streak < RAW_STREAK_LIMIT || (streak - RAW_STREAK_LIMIT) % RAW_RETRY_EVERY == 0);
  const offset = emitBlock(tb, block, bbFinishedLength(data), attempt);
  store<u32>(tb, emittedCompressed ? 0 : streak + 1, RAW_STREAK_AT);
  const len = emittedSize;
  const end = putVarint64(putVarint64(HANDLE, offset), <u64>len);
  bbAdd(field(tb, 4), bufData(largest), bufLength(largest), 0, false, HANDLE, <u32>(end - HANDLE));
  store<u64>(tb, load<u64>(tb, STAT_DATA_BLOCKS) + 1, STAT_DATA_BLOCKS);
  store<u64>(tb, load<u64>(tb, STAT_DATA_BYTES) + <u64>len + BLOCK_TRAILER_SIZE, STAT_DATA_BYTES);
  bbReset(data);
}

/** Adds an entry; entries must come in ascending internal-key order. */
export function tbAdd(tb: usize, userKey: usize, userKeyLen: u32, trailer: u64, value: usize, valueLen: u32): void {
  if (load<u64>(tb, STAT_ENTRIES) == 0) {
    const smallest = field(tb, 20);
    bufAppend(smallest, userKey, userKeyLen);
    bufAppendU64(smallest, trailer);
  }
  // One filter hash per distinct user key.
  const last = field(tb, 16);
  if (load<u64>(tb, STAT_ENTRIES) == 0 || compareBytes(bufData(last), bufLength(last), userKey, userKeyLen) != 0) {
    bufAppendU32(field(tb, 12), hashKey(userKey, userKeyLen));
    bufSetLength(last, 0);
    bufAppend(last, userKey, userKeyLen);
  }
  bbAdd(field(tb, 0), userKey, userKeyLen, trailer, true, value, valueLen);
  const sequence = trailer >> 8;
  store<u64>(tb, load<u64>(tb, STAT_ENTRIES) + 1, STAT_ENTRIES);
  if ((trailer & 0xff) == 0) store<u64>(tb, load<u64>(tb, STAT_DELETIONS) + 1, STAT_DELETIONS);
  store<u64>(tb, load<u64>(tb, STAT_KEY_BYTES) + <u64>userKeyLen, STAT_KEY_BYTES);
  store<u64>(tb, load<u64>(tb, STAT_VALUE_BYTES) + <u64>valueLen, STAT_VALUE_BYTES);
  if (sequence < load<u64>(tb, STAT_MIN_SEQ)) store<u64>(tb, sequence, STAT_MIN_SEQ);
  if (sequence > load<u64>(tb, STAT_MAX_SEQ)) store<u64>(tb, sequence, STAT_MAX_SEQ);
  if (bbSizeEstimate(field(tb, 0)) >= load<u32>(tb, 28)) flushDataBlock(tb);
}

/**
 * Adds a range tombstone [start, end) at sequence; tombstones come sorted by
 * start, then newest first, each clipped to what the table needs.
 */
export function tbAddRangeTombstone(tb: usize, start: usize, startLen: u32, end: usize, endLen: u32, sequence: u64): void {
  store<u32>(tb + RANGES, <u32>rtBuilderAdd(field(tb, RANGES), start, startLen, end, endLen, sequence));
  store<u32>(tb, load<u32>(tb, RANGE_COUNT) + 1, RANGE_COUNT);
  if (sequence < load<u64>(tb, STAT_MIN_SEQ)) store<u64>(tb, sequence, STAT_MIN_SEQ);
  if (sequence > load<u64>(tb, STAT_MAX_SEQ)) store<u64>(tb, sequence, STAT_MAX_SEQ);
}

/** Range tombstones added. */
export function tbRangeTombstones(tb: usize): u32 { return load<u32>(tb, RANGE_COUNT); }

/** A table of range tombstones alone: the point tombstone of the first start, at its sequence. */
function addFirstStart(tb: usize): void {
  const p = rtBuilderData(field(tb, RANGES));
  const startLen = load<u32>(p);
  const endAt = p + 4 + <usize>startLen;
  tbAdd(tb, p + 4, startLen, load<u64>(endAt + 4 + <usize>load<u32>(endAt)) << 8, 0, 0);
}

/** After the last data block: the smallest and largest keys cover the range tombstones. */
function coverRangeTombstones(tb: usize): void {
  const ranges = field(tb, RANGES);
  let p = rtBuilderData(ranges);
  const end = p + <usize>rtBuilderLength(ranges);
  const firstStart = p + 4;
  const firstStartLen = load<u32>(p);
  const trailer = (load<u64>(tb, STAT_MAX_SEQ) << 8) | <u64>KIND_RANGE_DELETE;
  const smallest = field(tb, 20);
  if (compareInternal(bufData(smallest), bufLength(smallest), firstStart, firstStartLen, trailer) > 0) {
    bufSetLength(smallest, 0);
    bufAppend(smallest, firstStart, firstStartLen);
    bufAppendU64(smallest, trailer);
  }
  // The last end.
  let last: usize = 0;
  let lastLen: u32 = 0;
  while (p < end) {
    p += 4 + <usize>load<u32>(p);
    const len = load<u32>(p);
    if (last == 0 || compareBytes(p + 4, len, last, lastLen) > 0) {
      last = p + 4;
      lastLen = len;
    }
    p += 4 + <usize>len + 8;
  }
  // An end is exclusive: an end k+"\0" covers k at most (nothing lies between them), so the bound is
  // (k, trailer 0), after every entry of k; otherwise (end, trailer), before every entry of the end.
  let lastTrailer = trailer;
  if (lastLen > 0 && load<u8>(last + <usize>lastLen - 1) == 0) {
    lastLen--;
    lastTrailer = 0;
  }
  const largest = field(tb, 24);
  if (compareInternal(bufData(largest), bufLength(largest), last, lastLen, lastTrailer) < 0) {
    bufSetLength(largest, 0);
    bufAppend(largest, last, lastLen);
    bufAppendU64(largest, lastTrailer);
  }
}

/**
 * Adds memtable entries from the entry `cursor` on, until the staging buffer
 * holds at least maxStaged bytes; returns the entry to continue from (0 when
 * the memtable is done).
 */
export function tbAddMemtable(tb: usize, cursor: usize, maxStaged: u32): usize {
  let t = cursor;
  const stage = field(tb, 8);
  while (t != 0 && bufLength(stage) < maxStaged) {
    tbAdd(tb, nodeKey(t), nodeKeyLen(t), nodeTrailer(t), nodeValue(t), nodeValueLen(t));
    t = mtNext(t);
  }
  return t;
}

/** Writes the last data block, filter, index, properties and footer to the staging buffer. */
export function tbFinish(tb: usize): void {
  const ranges = load<u32>(tb, RANGE_COUNT) > 0;
  if (ranges && load<u64>(tb, STAT_ENTRIES) == 0) addFirstStart(tb);
  flushDataBlock(tb);
  if (ranges) coverRangeTombstones(tb);
  const stage = field(tb, 8);
  // Filter.
  let filterOffset: u64 = 0;
  let filterSize: u32 = 0;
  const bits = load<u32>(tb, 32);
  if (bits > 0) {
    const hashes = field(tb, 12);
    const filter = bufNew(16);
    bloomBuild(bufData(hashes), bufLength(hashes) >> 2, bits, filter);
    filterSize = bufLength(filter);
    filterOffset = emitBlock(tb, bufData(filter), filterSize, false);
    bufFree(filter);
  }
  // Index.
  const index = field(tb, 4);
  const indexBlock = bbFinish(index);
  const indexSize = bbFinishedLength(index);
  const indexOffset = emitBlock(tb, indexBlock, indexSize, false);
  // Range tombstones.
  let rangeOffset: u64 = 0;
  let rangeSize: u32 = 0;
  if (load<u32>(tb, RANGE_COUNT) > 0) {
    rangeSize = rtBuilderLength(field(tb, RANGES));
    rangeOffset = emitBlock(tb, rtBuilderData(field(tb, RANGES)), rangeSize, false);
  }
  // Properties.
  const props = bufNew(256);
  bufAppendU32(props, PROPERTIES_VERSION);
  bufAppendU32(props, load<u32>(tb, 36));
  bufAppendU32(props, bits);
  bufAppendU32(props, 0);
  for (let at = STAT_ENTRIES; at <= STAT_MAX_SEQ; at += 8) {
    bufAppendU64(props, at == STAT_MIN_SEQ && load<u64>(tb, STAT_ENTRIES) == 0 ? 0 : load<u64>(tb + at));
  }
  const smallest = field(tb, 20);
  const largest = field(tb, 24);
  bufAppendU32(props, bufLength(smallest));
  bufAppend(props, bufData(smallest), bufLength(smallest));
  bufAppendU32(props, bufLength(largest));
  bufAppend(props, bufData(largest), bufLength(largest));
  bufAppendU64(props, rangeOffset);
  bufAppendU64(props, <u64>rangeSize);
  bufAppendU64(props, <u64>load<u32>(tb, RANGE_COUNT));
  const propsSize = bufLength(props);
  const propsOffset = emitBlock(tb, bufData(props), propsSize, false);
  bufFree(props);
  // Footer.
  const footer = bufReserve(stage, <u32>FOOTER_SIZE);
  store<u64>(footer, filterOffset);
  store<u64>(footer, <u64>filterSize, 8);
  store<u64>(footer, indexOffset, 16);
  store<u64>(footer, <u64>indexSize, 24);
  store<u64>(footer, propsOffset, 32);
  store<u64>(footer, <u64>propsSize, 40);
  store<u32>(footer, TABLE_FORMAT_VERSION, 48);
  store<u32>(footer, blockChecksum(footer, 52), 52);
  store<u64>(footer, TABLE_MAGIC, 56);
  bufSetLength(stage, bufLength(stage) + <u32>FOOTER_SIZE);
  store<u64>(tb, load<u64>(tb, 40) + <u64>FOOTER_SIZE, 40);
}

/** Address of the staged bytes (length in tbStagedLength). */
export function tbStaged(tb: usize): usize { return bufData(field(tb, 8)); }
export function tbStagedLength(tb: usize): u32 { return bufLength(field(tb, 8)); }
/** Empties the staging buffer (after the caller wrote it). */
export function tbClearStaged(tb: usize): void { bufSetLength(field(tb, 8), 0); }
/** Entries added so far. */
export function tbEntries(tb: usize): f64 { return <f64>load<u64>(tb, STAT_ENTRIES); }
/** Bytes of the file so far (emitted, staged or written). */
export function tbFileSize(tb: usize): f64 { return <f64>load<u64>(tb, 40); }
/** Smallest and largest sequence added. */
export function tbSmallestSequence(tb: usize): f64 { return <f64>load<u64>(tb, STAT_MIN_SEQ); }
export function tbLargestSequence(tb: usize): f64 { return <f64>load<u64>(tb, STAT_MAX_SEQ); }
/** The smallest and largest internal keys added (address and length; valid until tbFree). */
export function tbSmallestKey(tb: usize): usize { return bufData(field(tb, 20)); }
export function tbSmallestKeyLength(tb: usize): u32 { return bufLength(field(tb, 20)); }
export function tbLargestKey(tb: usize): usize { return bufData(field(tb, 24)); }
export function tbLargestKeyLength(tb: usize): u32 { return bufLength(field(tb, 24)); }
