// Flush: writes a memtable to a level-0 table file through the one table
// writer (src/table/table_writer.ts). Used by the scheduler for immutable
// memtables and by recovery for the memtable replayed from logs.

import type { TableTarget } from "../table/table_files.ts";
import { STAGE_BYTES, type TableOptions, writeTable } from "../table/table_writer.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { Memtable } from "../wasm/memtable.ts";

/**
 * Writes every entry of a non-empty memtable (that no one writes to any
 * more) to table `number` at target, durably, and returns its metadata.
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
): Promise<FileMeta> {
  const meta = await writeTable(target, number, options, async (builder, stage) => {
    for (let cursor = memtable.first(); cursor !== 0;) {
      cursor = builder.addMemtable(cursor, STAGE_BYTES);
      await stage();
    }
  });
  if (meta === undefined) throw new Error("siltdb internal error: flush of an empty memtable");
  return meta;
}
