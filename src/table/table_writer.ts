// The one way a table file is made — by a flush (src/background/flush.ts),
// a compaction (src/compaction/compactor.ts) and repair
// (src/tools/_write_tables.ts) alike: the core's table builder
// (src/wasm/table_builder.ts) produces the bytes, which are appended to a
// temp file in chunks of STAGE_BYTES, then the file is finished, synced and
// renamed into place (src/storage/atomic_file.ts): it appears whole or not
// at all. Bytes are copied out of linear memory before each await, since
// other work may grow memory (detaching views) while a write is in flight.

import { type AtomicWriteOptions, DISCARD, writeFileAtomically } from "../storage/atomic_file.ts";
import type { Storage } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { TableBuilder } from "../wasm/table_builder.ts";

/** How tables are built. */
export interface TableOptions {
  /** Target bytes of a data block. */
  blockSize: number;
  /** Bloom filter bits per key (0: no filter). */
  bloomBitsPerKey: number;
}

/**
 * Staged bytes are written out once they reach this size.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * import type { TableBuilder } from "../wasm/table_builder.ts";
 * declare const builder: TableBuilder, file: StorageFile;
 * if (builder.stagedLength >= STAGE_BYTES) await file.append(builder.takeStaged()); // what stage() does
 * ```
 */
export const STAGE_BYTES = 256 << 10;

/**
 * Gives the builder entries. Calls `stage()` (and awaits it) whenever it may
 * have staged STAGE_BYTES or more: stage() writes them out. Resolves once
 * every entry of the table is added; with none added, no file is made.
 */
export type TableFill = (builder: TableBuilder, stage: () => Promise<void>) => Promise<void>;

/**
 * Builds table file `number` in dir from what `fill` adds, durably, and
 * returns its metadata; undefined (and no file) when fill added no entry.
 * Options as writeFileAtomically's (syncDir: false when the caller syncs the
 * directory once after several tables; beforeRename to stop a write whose
 * lock was lost).
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { Memtable } from "../wasm/memtable.ts";
 * declare const fs: Storage, memtable: Memtable; // a frozen memtable
 * const meta = await writeTable(fs, "/db", 12, { blockSize: 4096, bloomBitsPerKey: 10 }, async (builder, stage) => {
 *   for (let cursor = memtable.first(); cursor !== 0;) {
 *     cursor = builder.addMemtable(cursor, STAGE_BYTES);
 *     await stage();
 *   }
 * });
 * ```
 */
export async function writeTable(
  fs: Storage,
  dir: string,
  number: number,
  options: TableOptions & AtomicWriteOptions,
  fill: TableFill,
): Promise<FileMeta | undefined> {
  const builder = new TableBuilder(options.blockSize, options.bloomBitsPerKey);
  try {
    const meta = await writeFileAtomically(fs, dir, tableFileName(number), async (file) => {
      const stage = async (): Promise<void> => {
        if (builder.stagedLength >= STAGE_BYTES) await file.append(builder.takeStaged());
      };
      await fill(builder, stage);
      if (builder.entries === 0) return DISCARD;
      builder.finish();
      await file.append(builder.takeStaged());
      return { number, ...builder.built() };
    }, { syncDir: options.syncDir, beforeRename: options.beforeRename });
    return meta === DISCARD ? undefined : meta;
  } finally {
    builder.free();
  }
}
