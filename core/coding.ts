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

/** Bytes a varint32 of v takes (1-5). */
// @ts-ignore: decorator
@inline
export function varint32Length(v: u32): u32 {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes v as a varint32 (7 bits per byte, low first) at p; returns the end. */
export function putVarint32(p: usize, v: u32): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>>= 7;
  }
  store<u8>(p++, <u8>v);
  return p;
}

/** Writes v as a varint64 at p; returns the end. */
export function putVarint64(p: usize, v: u64): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(p++, <u8>v);
  return p;
}

// Result of the last getVarint: the decoded value.
export let varintValue: u64 = 0;

/**
 * Reads a varint (up to 64 bits) at p, not past limit. Returns the address
 * after it and leaves the value in varintValue, or returns 0 when the varint
 * is malformed or runs past limit.
 */
export function getVarint(p: usize, limit: usize): usize {
  let result: u64 = 0;
  for (let shift: u64 = 0; shift <= 63 && p < limit; shift += 7) {
    const b = <u64>load<u8>(p++);
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      varintValue = result;
      return p;
    }
  }
  return 0;
}
