// Flush: writes a memtable to a level-0 table file, whole or not at all
// (src/storage/atomic_file.ts). The bytes come from the core's table builder
// (core/table_builder.ts draws the layout). Used by the scheduler for
// immutable memtables and by recovery for the memtable replayed from logs.

import { core } from "../_wasm.ts";
import { RESTART_INTERVAL } from "../format/table_format.ts";
import type { Memtable } from "../memtable.ts";
import { writeFileAtomically } from "../storage/atomic_file.ts";
import type { Storage } from "../storage/storage.ts";
import { finishTable, takeStaged } from "../table/table_builder.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** How tables are built. */
export interface TableOptions {
  blockSize: number;
  bloomBitsPerKey: number;
}

const STAGE_BYTES = 256 << 10;

/**
 * Writes every entry of a non-empty memtable (that no one writes to any
 * more) to table file `number` in dir, durably, and returns its metadata.
 *
 * @example
 * ```ts
 * const meta = await writeLevel0Table(fs, "/db", 12, memtable, { blockSize: 4096, bloomBitsPerKey: 10 });
 * ```
 */
export async function writeLevel0Table(
  fs: Storage,
  dir: string,
  number: number,
  memtable: Memtable,
  options: TableOptions,
): Promise<FileMeta> {
  const tb = core.tbNew(options.blockSize, RESTART_INTERVAL, options.bloomBitsPerKey);
  try {
    return await writeFileAtomically(fs, dir, tableFileName(number), async (file) => {
      // Bytes are copied out of linear memory before each await: other work
      // may grow memory (detaching views) while a write is in flight.
      for (let cursor = core.mtFirst(memtable.ptr); cursor !== 0;) {
        cursor = core.tbAddMemtable(tb, cursor, STAGE_BYTES);
        const chunk = takeStaged(tb);
        if (chunk.length > 0) await file.append(chunk);
      }
      return await finishTable(tb, file, number);
    });
  } finally {
    core.tbFree(tb);
  }
}
