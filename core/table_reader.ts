// Point reads inside a table whose blocks are already in linear memory:
// checksum verification and decompression of a block read from storage,
// index seek, data block lookup (point_get.ts puts them together with the
// bloom filter and the block cache). The file I/O is TypeScript (src/table/).

import { biCorrupted, biFirst, biInit, biKey, biKeyLength, biNew, biNext, biTrailer, biValue, biValueLength } from "./block_reader";
import { biSeekPrefixed } from "./index_prefixes";
import { compareBytes, getVarint, varintValue } from "./coding";
import { blockChecksum } from "./xxhash64";
import { lz4Decompress } from "./lz4";
import { BLOCK_LZ4, BLOCK_RAW } from "./table_builder";

// One block iterator reused by every point read (reads are not reentrant).
const probe: usize = biNew();

/** True when the 5-byte trailer after the block (a known type + checksum of block and type) matches it. */
function blockVerify(block: usize, len: u32): bool {
  const trailer = block + <usize>len;
  const type = load<u8>(trailer);
  if (type != BLOCK_RAW && type != BLOCK_LZ4) return false;
  return load<u32>(trailer + 1) == blockChecksum(block, <usize>len + 1);
}

/** Outcomes of blockLoad. */
export const LOAD_RAW: i32 = 0;
export const LOAD_DECOMPRESSED: i32 = 1;
export const LOAD_CHECKSUM_MISMATCH: i32 = -1;
export const LOAD_MALFORMED: i32 = -2;

// No block is larger: one entry of the largest key (16 MiB) and value (256 MiB), with room to spare.
const MAX_BLOCK: u64 = 320 << 20;

/** The block blockLoad decompressed: address (a heap allocation) and length. */
export let loadedBlock: usize = 0;
export let loadedLength: u32 = 0;

/**
 * Checks a block read from storage (len stored bytes, its trailer after
 * them), then, when it is compressed, decompresses it into a new heap
 * allocation (loadedBlock, loadedLength; the caller owns it, and still owns
 * the stored bytes). LOAD_RAW: intact and stored as is (use it in place);
 * LOAD_DECOMPRESSED; LOAD_CHECKSUM_MISMATCH (or an unknown type);
 * LOAD_MALFORMED: the checksum holds but the compressed stream does not
 * decode (a table written wrongly, or made to deceive).
 */
export function blockLoad(block: usize, len: u32): i32 {
  if (!blockVerify(block, len)) return LOAD_CHECKSUM_MISMATCH;
  if (load<u8>(block + <usize>len) == BLOCK_RAW) return LOAD_RAW;
  const end = block + <usize>len;
  const stream = getVarint(block, end);
  if (stream == 0 || varintValue > MAX_BLOCK) return LOAD_MALFORMED;
  const raw = <u32>varintValue;
  const streamLen = <u32>(end - stream);
  // An LZ4 stream grows at most about 255 times (a 255 byte adds 255 to a length).
  if (<u64>raw > <u64>streamLen * 255 + 16) return LOAD_MALFORMED;
  const out = heap.alloc(raw > 0 ? <usize>raw : 1);
  if (!lz4Decompress(stream, streamLen, out, raw)) {
    heap.free(out);
    return LOAD_MALFORMED;
  }
  loadedBlock = out;
  loadedLength = raw;
  return LOAD_DECOMPRESSED;
}

/**
 * Finds the data block that may hold (userKey, trailer), through the index
 * block's prefix array when there is one (index_prefixes.ts; 0: none): 1 with the handle in
 * out (+0 f64 offset, +8 f64 size), 0 when the key is past the table's last
 * block, -1 when the index block is malformed.
 */
export function indexSeek(
  index: usize,
  len: u32,
  prefixes: usize,
  userKey: usize,
  userKeyLen: u32,
  trailer: u64,
  out: usize,
): i32 {
  if (!biInit(probe, index, len)) return -1;
  if (!biSeekPrefixed(probe, prefixes, userKey, userKeyLen, trailer)) return biCorrupted(probe) ? -1 : 0;
  return decodeHandle(biValue(probe), biValueLength(probe), out) ? 1 : -1;
}

/** Decodes a block handle (two varint64s) into out (+0 f64 offset, +8 f64 size). */
export function decodeHandle(p: usize, len: u32, out: usize): bool {
  const limit = p + <usize>len;
  const q = getVarint(p, limit);
  if (q == 0) return false;
  store<f64>(out, <f64>varintValue);
  if (getVarint(q, limit) == 0) return false;
  store<f64>(out, <f64>varintValue, 8);
  return true;
}

/**
 * The newest version of userKey at or below the trailer bound in a data
 * block, searched through its prefix array (index_prefixes.ts; 0: none):
 * 1 found (value address and length at out +0/+4), 2 deleted (the
 * version's sequence at out +8 for both), 0 absent, -1 malformed block.
 */
export function blockGet(
  block: usize,
  len: u32,
  prefixes: usize,
  userKey: usize,
  userKeyLen: u32,
  bound: u64,
  out: usize,
): i32 {
  if (!biInit(probe, block, len)) return -1;
  if (!biSeekPrefixed(probe, prefixes, userKey, userKeyLen, bound)) return biCorrupted(probe) ? -1 : 0;
  if (compareBytes(biKey(probe), biKeyLength(probe) - 8, userKey, userKeyLen) != 0) return 0;
  store<f64>(out, <f64>(biTrailer(probe) >> 8), 8); // the version's sequence (point_get.ts: OUT_SEQUENCE)
  if ((biTrailer(probe) & 0xff) == 0) return 2;
  store<u32>(out, <u32>biValue(probe));
  store<u32>(out, biValueLength(probe), 4);
  store<u32>(out, <u32>(biTrailer(probe) & 0xff), 28); // its kind (point_get.ts: OUT_KIND)
  return 1;
}

/** Number of entries in a block (walks it); -1 when malformed. For tests and tools. */
export function blockEntryCount(block: usize, len: u32): i32 {
  if (!biInit(probe, block, len)) return -1;
  let n = 0;
  let ok = biFirst(probe);
  while (ok) {
    n++;
    ok = biNext(probe);
  }
  return biCorrupted(probe) ? -1 : n;
}
