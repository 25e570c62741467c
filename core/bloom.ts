// Bloom filters over user-key hashes (hash_index.ts hashKey), one per table.
//
// Filter (see docs/format.md):
//   bit array of m bits (m = max(64, keys * bitsPerKey) rounded up to bytes)
//   u8 number of probes k
//
// Probes use double hashing as LevelDB does: h, h + d, h + 2d, ... with
// d = rotate(h, 17), k = round(bitsPerKey * ln 2) clamped to 1..30.

import { bufLength, bufReserve, bufSetLength } from "./buffer";

/** Appends the filter of count 32-bit key hashes (at hashes) to buffer out. */
export function bloomBuild(hashes: usize, count: u32, bitsPerKey: u32, out: usize): void {
  let k = <u32>(<f64>bitsPerKey * 0.69 + 0.5);
  if (k < 1) k = 1;
  if (k > 30) k = 30;
  let bits = <u64>count * <u64>bitsPerKey;
  if (bits < 64) bits = 64;
  const bytes = <u32>((bits + 7) >> 3);
  bits = <u64>bytes << 3;
  const start = bufLength(out);
  const array = bufReserve(out, bytes + 1);
  memory.fill(array, 0, bytes);
  for (let i: u32 = 0; i < count; i++) {
    let h = load<u32>(hashes + (<usize>i << 2));
    const delta = (h >>> 17) | (h << 15);
    for (let j: u32 = 0; j < k; j++) {
      const pos = <u32>(<u64>h % bits);
      const at = array + <usize>(pos >> 3);
      store<u8>(at, load<u8>(at) | <u8>(<u32>1 << (pos & 7)));
      h += delta;
    }
  }
  store<u8>(array + bytes, <u8>k);
  bufSetLength(out, start + bytes + 1);
}

/** False when the key with this hash is certainly not in the filter. */
export function bloomMayMatch(filter: usize, len: u32, hash: u32): bool {
  if (len < 2) return true; // no usable filter: everything may match
  const k = <u32>load<u8>(filter + <usize>len - 1);
  if (k > 30) return true; // reserved for future encodings
  const bits = <u64>(len - 1) << 3;
  let h = hash;
  const delta = (h >>> 17) | (h << 15);
  for (let j: u32 = 0; j < k; j++) {
    const pos = <u32>(<u64>h % bits);
    if ((load<u8>(filter + <usize>(pos >> 3)) & <u8>(<u32>1 << (pos & 7))) == 0) return false;
    h += delta;
  }
  return true;
}
