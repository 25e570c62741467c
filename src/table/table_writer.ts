// The one way a table file is made — by a flush (src/background/flush.ts),
// a compaction (src/compaction/compactor.ts) and repair
// (src/tools/_write_tables.ts) alike: the core's table builder
// (src/wasm/table_builder.ts) produces the bytes, which are appended to a
// temp file in chunks of STAGE_BYTES (one write in flight while the next
// chunk is built), then the file is finished, synced and renamed into place
// (src/storage/atomic_file.ts; in the background when the caller asks, so
// that a compaction builds its next output meanwhile): it appears whole or
// not at all. In a bucket the chunks are gathered and the table is one PUT of
// the whole object (its number is unique: no condition needed). Bytes are
// copied out of linear memory before each await, since other work may grow
// memory (detaching views) while a write is in flight.

import type { Compression } from "../format/table_format.ts";
import { tableKey } from "../object_store/bucket_layout.ts";
import { type AtomicWriteOptions, DISCARD, writeFileAtomically } from "../storage/atomic_file.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { TableBuilder } from "../wasm/table_builder.ts";
import type { TableTarget } from "./table_files.ts";

/** How tables are built. */
export interface TableOptions {
  /** Target bytes of a data block. */
  blockSize: number;
  /** Bloom filter bits per key (0: no filter). */
  bloomBitsPerKey: number;
  /** How data blocks are stored. */
  compression: Compression;
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
 * every entry of the table is added; with no entry and no range tombstone
 * added, no file is made.
 */
export type TableFill = (builder: TableBuilder, stage: () => Promise<void>) => Promise<void>;

/**
 * Builds table `number` at `target` from what `fill` adds, durably, and
 * returns its metadata; undefined (and no file) when fill added no entry.
 * On disk, options as writeFileAtomically's (syncDir: false when the caller
 * syncs the directory once after several tables; beforeRename to stop a
 * write whose lock was lost).
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { Memtable } from "../wasm/memtable.ts";
 * declare const fs: Storage;
 * declare const memtable: Memtable;
 * const meta = await writeTable({ fs, dir: "/db" }, 12, { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4" }, async (builder, stage) => {
 *   for (let cursor = memtable.first(); cursor !== 0;) {
 *     cursor = builder.addMemtable(cursor, STAGE_BYTES);
 *     await stage();
 *   }
 * });
 * ```
 */
export async function writeTable(
  target: TableTarget,
  number: number,
  options: TableOptions & AtomicWriteOptions,
  fill: TableFill,
): Promise<FileMeta | undefined> {
  const builder = new TableBuilder(options.blockSize, options.bloomBitsPerKey, options.compression);
  try {
    if ("store" in target) {
      const chunks: Uint8Array[] = [];
      await fill(builder, () => {
        if (builder.stagedLength >= STAGE_BYTES) chunks.push(builder.takeStaged());
        return Promise.resolve();
      });
      if (builder.entries === 0 && builder.rangeTombstoneCount === 0) return undefined;
      builder.finish();
      chunks.push(builder.takeStaged());
      const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) (whole.set(c, at), at += c.length);
      await target.store.put(tableKey(number), whole);
      return { number, ...builder.built() };
    }
    const meta = await writeFileAtomically(target.fs, target.dir, tableFileName(number), async (file) => {
      // One write in flight while the builder goes on: a chunk is written while the next one is
      // built (appends stay in order: the next waits for the one before).
      let writing: Promise<void> | undefined;
      const write = async (chunk: Uint8Array): Promise<void> => {
        if (writing !== undefined) await writing;
        writing = file.append(chunk);
        writing.catch(() => {}); // awaited by the next write or at the end
      };
      const stage = async (): Promise<void> => {
        if (builder.stagedLength >= STAGE_BYTES) await write(builder.takeStaged());
      };
      try {
        await fill(builder, stage);
      } finally {
        await writing?.catch(() => {}); // settled before the file is closed, whatever happened
      }
      await writing;
      if (builder.entries === 0 && builder.rangeTombstoneCount === 0) return DISCARD;
      builder.finish();
      await file.append(builder.takeStaged());
      return { number, ...builder.built() };
    }, { syncDir: options.syncDir, beforeRename: options.beforeRename, background: options.background });
    return meta === DISCARD ? undefined : meta;
  } finally {
    builder.free();
  }
}
