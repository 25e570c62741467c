// Writing the tables repair makes: salvaged entries of a damaged table
// (entry by entry) and merges of tables whose sequence ranges interleave
// (through the compactor), both through the one table writer
// (src/table/table_writer.ts).

import { runCompaction } from "../compaction/compactor.ts";
import type { Storage } from "../storage/storage.ts";
import { tableFiles } from "../table/table_files.ts";
import { type TableOptions, writeTable } from "../table/table_writer.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { TableRangeTombstone } from "../format/table_format.ts";
import type { BlockEntry } from "../wasm/blocks.ts";

/**
 * Writes entries (internal keys, in order; at least one) to table file
 * `number` of dir, with the range tombstones of the table they came from
 * (its range-tombstone block, when intact).
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { BlockEntry } from "../wasm/blocks.ts";
 * declare const fs: Storage, entries: BlockEntry[]; // the intact entries salvaged from a damaged table
 * const meta = await writeEntries(fs, "/db", 12, entries, { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4" });
 * ```
 */
export async function writeEntries(
  fs: Storage,
  dir: string,
  number: number,
  entries: BlockEntry[],
  o: TableOptions,
  rangeTombstones: readonly TableRangeTombstone[] = [],
): Promise<FileMeta> {
  const meta = await writeTable({ fs, dir }, number, o, async (builder, stage) => {
    for (const { key, value } of entries) {
      builder.addEntry(key, value);
      await stage();
    }
    builder.addRangeTombstones(rangeTombstones);
  });
  if (meta === undefined) throw new Error("siltdb internal error: a salvaged table without entries");
  return meta;
}

/**
 * Merges tables (intact) into one table file `number`: older versions a
 * newer one shadows are dropped; tombstones are kept when any of `others`
 * may hold their key.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { FileMeta } from "../version/version_edit.ts";
 * declare const fs: Storage, lastSequence: number;
 * declare const a: FileMeta, b: FileMeta, c: FileMeta; // merge a and b; c may hold their keys
 * const merged = await mergeTables(fs, "/db", [a, b], [c], 20, lastSequence, { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4" });
 * ```
 */
export async function mergeTables(
  fs: Storage,
  dir: string,
  files: FileMeta[],
  others: FileMeta[],
  number: number,
  lastSequence: number,
  o: TableOptions,
): Promise<FileMeta[]> {
  const result = await runCompaction({ files: tableFiles({ fs, dir }) }, {
    task: { inputs: [{ level: 0, files }], outputLevel: 0, trivialMove: false, reason: "repair" },
    oldestSnapshot: lastSequence,
    older: others.map((f) => [f]),
    fileNumbers: [number],
    blockSize: o.blockSize,
    bloomBitsPerKey: o.bloomBitsPerKey,
    compression: o.compression,
    targetFileSize: Number.MAX_SAFE_INTEGER,
    now: 0, // repair judges no expiry: expiring puts stay as they are
  });
  return result.outputs;
}
