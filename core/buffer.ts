// A growable byte buffer in the heap, for builders.
//
// Buffer header (heap, BUFFER_SIZE bytes):
//   +0 u32 data   +4 u32 capacity   +8 u32 length

export const BUFFER_SIZE: usize = 12;

/** A new empty buffer with room for capacity bytes. */
export function bufNew(capacity: u32): usize {
  const b = heap.alloc(BUFFER_SIZE);
  store<u32>(b, <u32>heap.alloc(<usize>capacity));
  store<u32>(b, capacity, 4);
  store<u32>(b, 0, 8);
  return b;
}

/** Frees the buffer and its data. */
export function bufFree(b: usize): void {
  heap.free(<usize>load<u32>(b));
  heap.free(b);
}

// @ts-ignore: decorator
@inline export function bufData(b: usize): usize { return <usize>load<u32>(b); }
// @ts-ignore: decorator
@inline export function bufLength(b: usize): u32 { return load<u32>(b, 8); }
// @ts-ignore: decorator
@inline export function bufCapacity(b: usize): u32 { return load<u32>(b, 4); }
// @ts-ignore: decorator
@inline export function bufSetLength(b: usize, len: u32): void { store<u32>(b, len, 8); }

/** Makes room for n more bytes; returns the address where they go. */
export function bufReserve(b: usize, n: u32): usize {
  const len = load<u32>(b, 8);
  let cap = load<u32>(b, 4);
  if (len + n > cap) {
    while (len + n > cap) cap = cap < 64 ? 64 : cap << 1;
    store<u32>(b, <u32>heap.realloc(<usize>load<u32>(b), <usize>cap));
    store<u32>(b, cap, 4);
  }
  return <usize>load<u32>(b) + <usize>len;
}

/**
 * Copies n bytes from src to dst, regions apart (no overlap). Keys and
 * short values are copied with word loads and stores in place: the
 * memory.copy instruction is a call into the engine, which costs more than
 * the copy of a 16-byte key.
 */
// @ts-ignore: decorator
@inline export function copyBytes(dst: usize, src: usize, n: u32): void {
  if (n > SHORT_COPY) {
    memory.copy(dst, src, n);
    return;
  }
  const end = <usize>n;
  let i: usize = 0;
  for (; i + 8 <= end; i += 8) store<u64>(dst + i, load<u64>(src + i));
  for (; i < end; i++) store<u8>(dst + i, load<u8>(src + i));
}

/** Copies up to this many bytes in place (copyBytes). */
const SHORT_COPY: u32 = 64;

/** Appends n bytes from src (outside the buffer). */
export function bufAppend(b: usize, src: usize, n: u32): void {
  copyBytes(bufReserve(b, n), src, n);
  store<u32>(b, load<u32>(b, 8) + n, 8);
}

/** Appends a little-endian u32. */
export function bufAppendU32(b: usize, v: u32): void {
  store<u32>(bufReserve(b, 4), v);
  store<u32>(b, load<u32>(b, 8) + 4, 8);
}

/** Appends a little-endian u64. */
export function bufAppendU64(b: usize, v: u64): void {
  store<u64>(bufReserve(b, 8), v);
  store<u32>(b, load<u32>(b, 8) + 8, 8);
}
