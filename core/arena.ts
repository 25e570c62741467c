// Arena: bump allocation in chunks taken from the heap (TLSF), freed all at
// once. A memtable owns one arena; nothing in it is freed individually.
//
// Arena header (heap allocation, ARENA_SIZE bytes):
//
//   +0  u32  current chunk (0 before the first allocation)
//   +4  u32  bump pointer: next free byte in the current chunk
//   +8  u32  end of the current chunk
//   +12 u32  chunk list head (every chunk, dedicated ones too)
//   +16 u32  bytes reserved from the heap (all chunks, headers included)
//   +20 u32  bytes handed out by allocate (alignment padding included)
//   +24 u32  size of the next regular chunk (doubles up to MAX_CHUNK)
//
// Chunk: u32 next chunk | u32 size | data...
//
// Allocations are 8-byte aligned. An allocation bigger than a quarter of the
// next chunk size gets a dedicated chunk so regular chunks waste little.

const ARENA_SIZE: usize = 28;
const CHUNK_HEADER: usize = 8;
const FIRST_CHUNK: u32 = 16 << 10;
const MAX_CHUNK: u32 = 1 << 20;

/** A new empty arena. */
export function arenaNew(): usize {
  const a = heap.alloc(ARENA_SIZE);
  memory.fill(a, 0, ARENA_SIZE);
  store<u32>(a, FIRST_CHUNK, 24);
  return a;
}

function addChunk(a: usize, size: usize): usize {
  const chunk = heap.alloc(size);
  store<u32>(chunk, load<u32>(a, 12));
  store<u32>(chunk, <u32>size, 4);
  store<u32>(a, <u32>chunk, 12);
  store<u32>(a, load<u32>(a, 16) + <u32>size, 16);
  return chunk;
}

/** Allocates size bytes, 8-byte aligned, valid until arenaFree. */
export function arenaAllocate(a: usize, size: usize): usize {
  let ptr = (<usize>load<u32>(a, 4) + 7) & ~(<usize>7);
  if (ptr + size > <usize>load<u32>(a, 8) || load<u32>(a) == 0) {
    const next = <usize>load<u32>(a, 24);
    if (size > next >> 2) {
      // Dedicated chunk; the current chunk keeps serving small allocations.
      const chunk = addChunk(a, size + CHUNK_HEADER + 8);
      store<u32>(a, load<u32>(a, 20) + <u32>(size + 8), 20);
      return (chunk + CHUNK_HEADER + 7) & ~(<usize>7);
    }
    const chunk = addChunk(a, next);
    if (next < <usize>MAX_CHUNK) store<u32>(a, <u32>(next << 1), 24);
    store<u32>(a, <u32>chunk);
    store<u32>(a, <u32>(chunk + CHUNK_HEADER), 4);
    store<u32>(a, <u32>(chunk + next), 8);
    ptr = (chunk + CHUNK_HEADER + 7) & ~(<usize>7);
  }
  const used = ptr + size - <usize>load<u32>(a, 4);
  store<u32>(a, <u32>(ptr + size), 4);
  store<u32>(a, load<u32>(a, 20) + <u32>used, 20);
  return ptr;
}

/** Bytes reserved from the heap by this arena. */
export function arenaReserved(a: usize): u32 {
  return load<u32>(a, 16);
}

/** Bytes handed out by arenaAllocate. */
export function arenaUsed(a: usize): u32 {
  return load<u32>(a, 20);
}

/** Frees every chunk and the arena itself. */
export function arenaFree(a: usize): void {
  let chunk = <usize>load<u32>(a, 12);
  while (chunk != 0) {
    const next = <usize>load<u32>(chunk);
    heap.free(chunk);
    chunk = next;
  }
  heap.free(a);
}
