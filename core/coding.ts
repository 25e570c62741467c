// Byte helpers shared by every core module: key prefixes and bytewise
// comparison. All fixed-width integers in siltdb's formats are little-endian,
// which is WebAssembly's native byte order, so plain load<T>/store<T> encode
// and decode them.

/**
 * The first 8 bytes of a key as a big-endian integer, zero-padded when the key
 * is shorter. Comparing two prefixes as unsigned integers orders them like
 * their bytes; equal prefixes need a full comparison (see compareKeys).
 */
// @ts-ignore: decorator
@inline
export function keyPrefix(ptr: usize, len: u32): u64 {
  if (len >= 8) return bswap<u64>(load<u64>(ptr));
  let prefix: u64 = 0;
  for (let i: u32 = 0; i < len; i++) {
    prefix |= (<u64>load<u8>(ptr + i)) << (<u64>(56 - (i << 3)));
  }
  return prefix;
}

/** Bytewise comparison of a[0..alen) and b[0..blen): negative, zero or positive. */
export function compareBytes(a: usize, alen: u32, b: usize, blen: u32): i32 {
  const n = alen < blen ? alen : blen;
  let i: u32 = 0;
  while (i + 8 <= n) {
    const x = load<u64>(a + i);
    const y = load<u64>(b + i);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
    i += 8;
  }
  while (i < n) {
    const x = load<u8>(a + i);
    const y = load<u8>(b + i);
    if (x != y) return x < y ? -1 : 1;
    i++;
  }
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/**
 * Compares two user keys whose prefixes (keyPrefix) are already known, which
 * decides most comparisons with one integer compare.
 */
// @ts-ignore: decorator
@inline
export function compareKeys(
  aPrefix: u64, a: usize, alen: u32,
  bPrefix: u64, b: usize, blen: u32,
): i32 {
  if (aPrefix != bPrefix) return aPrefix < bPrefix ? -1 : 1;
  const n = alen < blen ? alen : blen;
  // Equal prefixes: the first min(n, 8) bytes of both keys are equal.
  if (n <= 8) return alen < blen ? -1 : alen > blen ? 1 : 0;
  return compareBytes(a + 8, alen - 8, b + 8, blen - 8);
}
