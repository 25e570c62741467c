// Point-lookup index of a memtable: an open-addressing hash table from user
// key to the tower of that key's newest version.
//
// A skip list search costs one cache miss per step once the memtable
// outgrows the CPU caches; a point lookup through this table costs a slot
// read and one entry read whatever the size (as RocksDB's hash-indexed
// memtables). Older versions of a key follow its newest one on level 0 of
// the skip list, so a lookup as of an older sequence walks forward from the
// entry found here.
//
// Table (heap allocation, capacity * 8 bytes, capacity a power of two):
//
//   slot i:  +0 u32 key hash   +4 u32 tower (0 = empty slot)
//
// Linear probing; the table doubles when it becomes half full. Entries are
// never removed (a memtable only grows).

/** Bytes per slot. */
export const SLOT: usize = 8;
export const INITIAL_CAPACITY: u32 = 1024;

/** A 32-bit hash of len bytes at ptr (64-bit multiply-xorshift over 8-byte words). */
export function hashKey(ptr: usize, len: u32): u32 {
  let h: u64 = 0x9e3779b97f4a7c15 ^ (<u64>len * 0xff51afd7ed558ccd);
  let p = ptr;
  const end = ptr + <usize>len;
  while (p + 8 <= end) {
    h = (h ^ load<u64>(p)) * 0xc4ceb9fe1a85ec53;
    h ^= h >> 29;
    p += 8;
  }
  if (p < end) {
    let tail: u64 = 0;
    let shift: u64 = 0;
    while (p < end) {
      tail |= (<u64>load<u8>(p)) << shift;
      shift += 8;
      p++;
    }
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53;
  }
  h ^= h >> 32;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 29;
  return <u32>h;
}

/** A new empty table of capacity slots. */
export function tableNew(capacity: u32): usize {
  const table = heap.alloc(<usize>capacity * SLOT);
  memory.fill(table, 0, <usize>capacity * SLOT);
  return table;
}

/** Moves every entry of a full table into a new one of twice the capacity; returns the new table. */
export function tableGrow(table: usize, capacity: u32): usize {
  const bigger = capacity << 1;
  const grown = tableNew(bigger);
  const mask = bigger - 1;
  for (let i: u32 = 0; i < capacity; i++) {
    const slot = table + (<usize>i) * SLOT;
    const tower = load<u32>(slot, 4);
    if (tower == 0) continue;
    const hash = load<u32>(slot);
    let j = hash & mask;
    while (load<u32>(grown + (<usize>j) * SLOT, 4) != 0) j = (j + 1) & mask;
    store<u32>(grown + (<usize>j) * SLOT, hash);
    store<u32>(grown + (<usize>j) * SLOT, tower, 4);
  }
  heap.free(table);
  return grown;
}
