// The whole point lookup in one call: memtables newest first, then level 0
// files newest first, then per deeper level the one file whose range holds
// the key (binary search over the packed bounds); in each table the bloom
// filter, the index block searched in place, the block cache, and the data
// block. When a table is not open or a block is not cached, the call stops
// and says which (file, offset, size); TypeScript opens the table or reads
// the block into the cache and resumes the lookup at the file where it
// stopped (the block just inserted stays cached at least until the next
// insert, so a cache smaller than one lookup's blocks still makes progress).
//
// Result (out, 32 bytes):
//   +0 u32 value address   +4 u32 value length          (FOUND)
//   +8 f64 sequence of the version found                 (FOUND, DELETED)
//   +8 f64 block offset    +16 f64 block size           (NEED_BLOCK; offset also for CORRUPT_BLOCK)
//   +24 u32 file number                                  (NEED_TABLE, NEED_BLOCK, CORRUPT_*)
//   +28 u32 kind of the version found (scratch: an expiring put found is
//       resolved against now by core/expiry.ts, resolveFound: FOUND with
//       its prefix skipped, or DELETED; with now NaN it is FOUND_EXPIRING)

import { bcBlock, bcBlockSize, bcLookup, bcPrefixes } from "./block_cache";
import { bloomMayMatch } from "./bloom";
import { compareBytes } from "./coding";
import { hashKey } from "./hash_index";
import { FILE_SIZE, rsCache, rsTable, tableFilter, tableFilterLength, tableIndex, tableIndexLength, tableIndexPrefixes, versionFileCount, versionFiles, versionLevels } from "./read_state";
import { blockGet, indexSeek } from "./table_reader";
import { mtFind, nodeTrailer, nodeValue, nodeValueLen } from "./skiplist";
import { resolveFound } from "./expiry";

// Offsets in the result area (exported by index.ts as RESULT_*).
export const OUT_VALUE: usize = 0;
export const OUT_VALUE_LENGTH: usize = 4;
export const OUT_SEQUENCE: usize = 8;
export const OUT_BLOCK_OFFSET: usize = 8;
export const OUT_BLOCK_SIZE: usize = 16;
export const OUT_FILE: usize = 24;
export const OUT_KIND: usize = 28;

export const ABSENT: i32 = 0;
export const FOUND: i32 = 1;
export const DELETED: i32 = 2;
export const NEED_TABLE: i32 = 3;
export const NEED_BLOCK: i32 = 4;
export const CORRUPT_INDEX: i32 = 5;
export const CORRUPT_BLOCK: i32 = 6;

// The key's filter hash, computed at most once per lookup.
let keyHash: u32 = 0;
let keyHashed = false;

// @ts-ignore: decorator
@inline function fileNumber(f: usize): u32 { return load<u32>(f); }

/** Bytewise comparison of the user key with the user part of the internal key at (p, len). */
// @ts-ignore: decorator
@inline function compareToBound(key: usize, keyLen: u32, p: usize, len: u32): i32 {
  return compareBytes(key, keyLen, p, len - 8);
}

/**
 * The newest version of the key at or below sequence: FOUND (value in out),
 * DELETED, ABSENT, or NEED_TABLE / NEED_BLOCK / CORRUPT_* (see above); an
 * expiring put is judged at now (epoch ms; NaN: FOUND_EXPIRING, see +28).
 * With resume, goes on at the file where the previous call stopped (same
 * key, sequence and read state).
 */
export function pointGet(rs: usize, key: usize, keyLen: u32, sequence: f64, out: usize, resume: bool, now: f64): i32 {
  const bound = (<u64>sequence << 8) | 0xff;
  let fromLevel: u32 = 0;
  let fromFile: u32 = 0;
  if (resume) {
    fromLevel = load<u32>(rs, 72);
    fromFile = load<u32>(rs, 76);
  } else {
    const node = newestInMemtables(rs, key, keyLen, bound);
    if (node != 0) {
      store<f64>(out + OUT_SEQUENCE, <f64>(nodeTrailer(node) >> 8));
      if ((nodeTrailer(node) & 0xff) == 0) return DELETED;
      store<u32>(out + OUT_VALUE, <u32>nodeValue(node));
      store<u32>(out + OUT_VALUE_LENGTH, nodeValueLen(node));
      store<u32>(out + OUT_KIND, <u32>(nodeTrailer(node) & 0xff));
      return resolveFound(out, now);
    }
  }
  const version = <usize>load<u32>(rs, 52);
  if (version == 0) return ABSENT;
  keyHashed = false;
  const levels = versionLevels(version);
  for (let level = fromLevel; level < levels; level++) {
    const count = versionFileCount(version, level);
    if (count == 0) continue;
    const files = versionFiles(version, level);
    if (level == 0) {
      for (let i: u32 = level == fromLevel ? fromFile : 0; i < count; i++) {
        const f = files + <usize>i * FILE_SIZE;
        if (compareToBound(key, keyLen, <usize>load<u32>(f, 4), load<u32>(f, 8)) < 0) continue;
        if (compareToBound(key, keyLen, <usize>load<u32>(f, 12), load<u32>(f, 16)) > 0) continue;
        const status = tableGet(rs, fileNumber(f), key, keyLen, bound, out);
        if (status != ABSENT) return stopAt(rs, status == FOUND ? resolveFound(out, now) : status, level, i);
      }
      continue;
    }
    // The first file whose largest key is at or after the key.
    let lo: u32 = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const f = files + <usize>mid * FILE_SIZE;
      if (compareToBound(key, keyLen, <usize>load<u32>(f, 12), load<u32>(f, 16)) > 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo == count) continue;
    const f = files + <usize>lo * FILE_SIZE;
    if (compareToBound(key, keyLen, <usize>load<u32>(f, 4), load<u32>(f, 8)) < 0) continue;
    const status = tableGet(rs, fileNumber(f), key, keyLen, bound, out);
    if (status != ABSENT) return stopAt(rs, status == FOUND ? resolveFound(out, now) : status, level, lo);
  }
  return ABSENT;
}

/** Records where a lookup stopped for a table or block. */
function stopAt(rs: usize, status: i32, level: u32, file: u32): i32 {
  store<u32>(rs, level, 72);
  store<u32>(rs, file, 76);
  return status;
}

/** The newest version of the key at or below bound in the memtables (newest first), or 0. */
function newestInMemtables(rs: usize, key: usize, keyLen: u32, bound: u64): usize {
  const memtables = load<u32>(rs, 16);
  for (let i: u32 = 0; i < memtables; i++) {
    const node = mtFind(<usize>load<u32>(rs + 20 + (<usize>i << 2)), key, keyLen, bound);
    if (node != 0) return node;
  }
  return 0;
}

function tableGet(rs: usize, file: u32, key: usize, keyLen: u32, bound: u64, out: usize): i32 {
  store<u32>(out + OUT_FILE, file);
  const t = rsTable(rs, file);
  if (t == 0) return NEED_TABLE;
  const filterLen = tableFilterLength(t);
  if (filterLen > 0) {
    if (!keyHashed) {
      keyHash = hashKey(key, keyLen);
      keyHashed = true;
    }
    store<f64>(rs, load<f64>(rs, 56) + 1, 56);
    if (!bloomMayMatch(tableFilter(t), filterLen, keyHash)) {
      store<f64>(rs, load<f64>(rs, 64) + 1, 64);
      return ABSENT;
    }
  }
  const where = indexSeek(tableIndex(t), tableIndexLength(t), tableIndexPrefixes(t), key, keyLen, bound, out + OUT_BLOCK_OFFSET);
  if (where < 0) return CORRUPT_INDEX;
  if (where == 0) return ABSENT;
  const cache = rsCache(rs);
  const entry = bcLookup(cache, file, load<f64>(out + OUT_BLOCK_OFFSET));
  if (entry == 0) return NEED_BLOCK;
  const status = blockGet(bcBlock(cache, entry), bcBlockSize(cache, entry), bcPrefixes(cache, entry), key, keyLen, bound, out);
  if (status < 0) return CORRUPT_BLOCK;
  return status;
}
