// Key prefixes of a block's restarts, packed densely, so that a seek finds
// its restart by a binary search over one small array instead of over the
// block itself, where every probe reads a restart offset and then an entry
// elsewhere in the block (two cache misses per probe; an 8 MiB table's index
// has ~2,000 restarts, ~11 probes; a 4 KiB data block ~9, ~4 probes). Index
// blocks get one when their table opens (read_state.ts), data blocks when
// they enter the block cache (block_cache.ts).
//
// The keys of a table often share their first bytes ("0000000000123456",
// "user:0001..."), so each prefix is taken after the bytes that the first
// and the last restart key share: every key between them shares those
// bytes too. Prefixes are of user keys (internal keys less their 8-byte
// trailer), zero-padded, big-endian: prefix order agrees with key order,
// and keys with equal prefixes are told apart by a full comparison.
//
// Prefix array (heap, one allocation; built from a checked block and owned
// by its table, core/read_state.ts, or its cache entry, block_cache.ts):
//
//   +0   u32  restarts n
//   +4   u32  shared: bytes every restart user key starts with
//   +8   u32  address of the first restart's user key (inside the index block)
//   +12  u32  0
//   +16  u64  prefix[n]: user key bytes [shared, shared + 8) of restart i

import { biSeek, biSeekAmong, restartKeyAt, restartKeyLength } from "./block_reader";
import { compareBytes, keyPrefix } from "./coding";

const HEADER: usize = 16;

/** The user key length restartUserKey found. */
let userKeyLength: u32 = 0;

/** Address of restart i's user key in a block (its length in userKeyLength), or 0 when the entry is malformed. */
function restartUserKey(block: usize, restarts: usize, i: u32): usize {
  const key = restartKeyAt(block + <usize>load<u32>(restarts + (<usize>i << 2)), restarts);
  if (key != 0) userKeyLength = restartKeyLength - 8;
  return key;
}

/**
 * The prefix array of an index block (block, len), or 0 when the block is
 * malformed (a lookup then searches the block itself, which reports it).
 */
export function ipBuild(block: usize, len: u32): usize {
  if (len < 4) return 0;
  const n = load<u32>(block + <usize>len - 4);
  if (n == 0 || <u64>n * 4 + 4 > <u64>len) return 0;
  const restarts = block + <usize>len - 4 - (<usize>n << 2);
  const first = restartUserKey(block, restarts, 0);
  if (first == 0) return 0;
  const firstLen = userKeyLength;
  const last = restartUserKey(block, restarts, n - 1);
  if (last == 0) return 0;
  const lastLen = userKeyLength;
  let shared: u32 = 0;
  const most = firstLen < lastLen ? firstLen : lastLen;
  while (shared < most && load<u8>(first + shared) == load<u8>(last + shared)) shared++;
  const ip = heap.alloc(HEADER + (<usize>n << 3));
  store<u32>(ip, n);
  store<u32>(ip, shared, 4);
  store<u32>(ip, <u32>first, 8);
  store<u32>(ip, 0, 12);
  for (let i: u32 = 0; i < n; i++) {
    const key = restartUserKey(block, restarts, i);
    if (key == 0 || userKeyLength < shared) {
      heap.free(ip);
      return 0;
    }
    store<u64>(ip + HEADER + (<usize>i << 3), keyPrefix(key + shared, userKeyLength - shared));
  }
  return ip;
}

/** Bytes a prefix array takes (0 for none). */
export function ipBytes(ip: usize): u32 {
  return ip == 0 ? 0 : <u32>HEADER + (load<u32>(ip) << 3);
}

/** Frees a prefix array (0: nothing). */
export function ipFree(ip: usize): void {
  if (ip != 0) heap.free(ip);
}

/** The first restart of the range ipRange found; the last one is ipRangeHigh. */
export let ipRangeHigh: u32 = 0;

/**
 * The restarts among which the last one whose key is before userKey lies
 * (or restart 0 when none is): returns the lowest, ipRangeHigh the highest.
 * Restarts below the range have smaller prefixes (their keys are before
 * userKey); restarts above it have larger ones (after userKey).
 */
export function ipRange(ip: usize, userKey: usize, userKeyLen: u32): u32 {
  const n = load<u32>(ip);
  const shared = load<u32>(ip, 4);
  const head = compareBytes(<usize>load<u32>(ip, 8), shared, userKey, userKeyLen < shared ? userKeyLen : shared);
  if (head != 0) {
    // The key is before every restart key, or after every one.
    const at = head > 0 ? 0 : n - 1;
    ipRangeHigh = at;
    return at;
  }
  const prefix = keyPrefix(userKey + shared, userKeyLen - shared);
  const prefixes = ip + HEADER;
  // lo: the first restart whose prefix is >= the key's; hi: the first whose prefix is > it.
  let lo: u32 = 0;
  let hi: u32 = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (load<u64>(prefixes + (<usize>mid << 3)) < prefix) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  hi = n;
  while (end < hi) {
    const mid = (end + hi) >> 1;
    if (load<u64>(prefixes + (<usize>mid << 3)) <= prefix) end = mid + 1;
    else hi = mid;
  }
  ipRangeHigh = end > 0 ? end - 1 : 0;
  return lo > 0 ? lo - 1 : 0;
}

/**
 * biSeek over an index or data block (block iterator bi, initialized on it)
 * through its prefix array when there is one (0: a plain binary search).
 */
export function biSeekPrefixed(bi: usize, prefixes: usize, userKey: usize, userKeyLen: u32, trailer: u64): bool {
  if (prefixes == 0) return biSeek(bi, userKey, userKeyLen, trailer);
  const first = ipRange(prefixes, userKey, userKeyLen);
  return biSeekAmong(bi, first, ipRangeHigh, userKey, userKeyLen, trailer);
}
