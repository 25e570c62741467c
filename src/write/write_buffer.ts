// How big the active memtable may grow before it is frozen (the write
// buffer). An explicit `memtableSize` is used as is. The default starts at
// 4 MiB (LevelDB's) and doubles, up to 32 MiB, while the store's tables hold
// more than 32 times the memtable's size: 8 MiB past 128 MiB of tables,
// 16 MiB past 256 MiB, 32 MiB past 512 MiB.
//
// Why it grows: a leveled tree compacts level 0 into level 1 a few flushed
// memtables at a time, rewriting the level-1 tables they overlap, and every
// byte then moves down level by level, each step rewriting its share of the
// level below. While a big store is loaded those levels run over their
// targets and each small step is dear: filling 10,000,000 keys (1.1 GB)
// wrote 19 bytes per user byte with 4 MiB memtables and 8 with 16 MiB ones,
// and loaded 1.7x faster (docs/benchmarks.md, "Scale (issue 21)"). A small
// store keeps small memtables: a read searches the memtable before any
// table, and a bigger one costs reads more than it saves compactions.

/** The default write buffer: LevelDB's 4 MiB. */
export const BASE_WRITE_BUFFER = 4 << 20;
/** The largest write buffer the default grows to. */
export const MAX_WRITE_BUFFER = 32 << 20;
/** The default write buffer is at least this fraction of the bytes of the store's tables. */
const TABLE_BYTES_PER_BUFFER = 32;

/**
 * The bytes at which the active memtable is frozen: `memtableSize` when the
 * user set it, else the default grown with the store's table bytes.
 *
 * @example
 * ```ts
 * memtableLimit(undefined, 100 << 20); // 4194304: a store of 100 MiB keeps 4 MiB memtables
 * memtableLimit(undefined, 1 << 30); // 33554432: 1 GiB of tables, 32 MiB memtables
 * memtableLimit(1 << 20, 1 << 30); // 1048576: set by the user
 * ```
 */
export function memtableLimit(memtableSize: number | undefined, tableBytes: number): number {
  if (memtableSize !== undefined) return memtableSize;
  let limit = BASE_WRITE_BUFFER;
  while (limit < MAX_WRITE_BUFFER && limit * TABLE_BYTES_PER_BUFFER < tableBytes) limit *= 2;
  return limit;
}
