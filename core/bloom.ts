// Bloom filters over user-key hashes (hash_index.ts hashKey), one per table,
// cache-local ("blocked"): a key's probes all fall in one 64-byte block, so
// a lookup costs one cache miss per table instead of one per probe (a point
// read may consult a filter in every L0 table). The false positive rate is
// a little above a plain bloom filter's at the same size.
//
// Filter (see docs/format.md):
//   blocks of 64 bytes (512 bits), B = max(1, ceil(keys * bitsPerKey / 512))
//   u8 number of probes k
//
// Key hash h (32 bits): block = (h * B) >> 32 (high bits of h pick the
// block); g = h * 0x9e3779b1, d = rotate(g, 17) | 1; probe j sets/tests bit
// (g + j * d) mod 512 of the block. k = round(bitsPerKey * ln 2), clamped to 1..30.

import { bufLength, bufReserve, bufSetLength } from "./buffer";

// @ts-ignore: decorator
@inline
function blockOf(hash: u32, blocks: u32): u32 {
  return <u32>((<u64>hash * <u64>blocks) >> 32);
}

/** Appends the filter of count 32-bit key hashes (at hashes) to buffer out. */
export function bloomBuild(hashes: usize, count: u32, bitsPerKey: u32, out: usize): void {
  let k = <u32>(<f64>bitsPerKey * 0.69 + 0.5);
  if (k < 1) k = 1;
  if (k > 30) k = 30;
  let blocks = <u32>((<u64>count * <u64>bitsPerKey + 511) >> 9);
  if (blocks < 1) blocks = 1;
  const bytes = blocks << 6;
  const start = bufLength(out);
  const array = bufReserve(out, bytes + 1);
  memory.fill(array, 0, bytes);
  for (let i: u32 = 0; i < count; i++) {
    const h = load<u32>(hashes + (<usize>i << 2));
    const block = array + (<usize>blockOf(h, blocks) << 6);
    let g = h * 0x9e3779b1;
    const delta = ((g >>> 17) | (g << 15)) | 1;
    for (let j: u32 = 0; j < k; j++) {
      const bit = g & 511;
      const at = block + <usize>(bit >> 3);
      store<u8>(at, load<u8>(at) | <u8>(<u32>1 << (bit & 7)));
      g += delta;
    }
  }
  store<u8>(array + bytes, <u8>k);
  bufSetLength(out, start + bytes + 1);
}

/** False when the key with this hash is certainly not in the filter. */
export function bloomMayMatch(filter: usize, len: u32, hash: u32): bool {
  if (len < 65 || ((len - 1) & 63) != 0) return true; // not a filter this code wrote: everything may match
  const k = <u32>load<u8>(filter + <usize>len - 1);
  if (k > 30) return true; // reserved for future encodings
  const block = filter + (<usize>blockOf(hash, (len - 1) >> 6) << 6);
  let g = hash * 0x9e3779b1;
  const delta = ((g >>> 17) | (g << 15)) | 1;
  for (let j: u32 = 0; j < k; j++) {
    const bit = g & 511;
    if ((load<u8>(block + <usize>(bit >> 3)) & <u8>(<u32>1 << (bit & 7))) == 0) return false;
    g += delta;
  }
  return true;
}
