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

/** Appends n bytes from src. */
export function bufAppend(b: usize, src: usize, n: u32): void {
  memory.copy(bufReserve(b, n), src, n);
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
