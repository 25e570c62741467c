// Flush: writes a memtable to a level-0 table file through the one table
// writer (src/table/table_writer.ts). Used by the scheduler for immutable
// memtables and by recovery for the memtable replayed from logs.

import type { TableTarget } from "../table/table_files.ts";
import { STAGE_BYTES, type TableOptions, writeTable } from "../table/table_writer.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { Levels } from "../version/version.ts";
import type { Memtable } from "../wasm/memtable.ts";
import { boundedTombstones, largestUserKey } from "../read/range_tombstones.ts";

/**
 * Writes every entry of a non-empty memtable (that no one writes to any
 * more) to table `number` at target, durably, and returns its metadata.
 * Its range tombstones go to the table's range-tombstone block, an open end
 * bounded just past the largest user key of `levels` (the store's tables,
 * looked at only when the memtable holds range tombstones;
 * src/read/range_tombstones.ts, boundedTombstones) or the memtable's own.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { Memtable } from "../wasm/memtable.ts";
 * declare const fs: Storage, memtable: Memtable; // an immutable, non-empty memtable
 * const meta = await writeLevel0Table({ fs, dir: "/db" }, 12, memtable, { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4" });
 * ```
 */
export async function writeLevel0Table(
  target: TableTarget,
  number: number,
  memtable: Memtable,
  options: TableOptions,
  levels: Levels = [],
): Promise<FileMeta> {
  const tombstones = memtable.rangeTombstones();
  const bounded = tombstones.length === 0
    ? []
    : boundedTombstones(tombstones, largestUserKey(levels, [memtable.lastKey()]));
  const meta = await writeTable(target, number, options, async (builder, stage) => {
    for (let cursor = memtable.first(); cursor !== 0;) {
      cursor = builder.addMemtable(cursor, STAGE_BYTES);
      await stage();
    }
    builder.addRangeTombstones(bounded);
  });
  if (meta === undefined) throw new Error("siltdb internal error: flush of an empty memtable");
  return meta;
}
