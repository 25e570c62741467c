// Writing the tables repair makes: salvaged entries of a damaged table
// (through the core's table builder, entry by entry), and merges of tables
// whose sequence ranges interleave (through the compactor). Every file is
// written whole by src/storage/atomic_file.ts.

import { bytes, core, maxEncodedLength, scratch } from "../_wasm.ts";
import { runCompaction } from "../compaction/compactor.ts";
import { sequenceOf, userKeyOf } from "../format/internal_key.ts";
import { RESTART_INTERVAL } from "../format/table_format.ts";
import { writeFileAtomically } from "../storage/atomic_file.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { finishTable, takeStaged } from "../table/table_builder.ts";
import { TableReader } from "../table/table_reader.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { BlockEntry } from "../table/block_walk.ts";

/** How repair builds tables. */
export interface BuildOptions {
  blockSize: number;
  bloomBitsPerKey: number;
}

const STAGE_BYTES = 256 << 10;

/**
 * Writes entries (internal keys, in order) to table file `number` of dir.
 *
 * @example
 * ```ts
 * const meta = await writeEntries(fs, "/db", 12, entries, { blockSize: 4096, bloomBitsPerKey: 10 });
 * ```
 */
export async function writeEntries(
  fs: Storage,
  dir: string,
  number: number,
  entries: BlockEntry[],
  o: BuildOptions,
): Promise<FileMeta> {
  const tb = core.tbNew(o.blockSize, RESTART_INTERVAL, o.bloomBitsPerKey);
  try {
    return await writeFileAtomically(fs, dir, tableFileName(number), async (file) => {
      for (const { key, value } of entries) {
        const user = userKeyOf(key);
        const ptr = scratch(maxEncodedLength(user) + maxEncodedLength(value));
        const mem = bytes();
        mem.set(user, ptr);
        mem.set(value, ptr + user.length);
        core.tbAddEntry(tb, ptr, user.length, sequenceOf(key), key[key.length - 8], ptr + user.length, value.length);
        if (core.tbStagedLength(tb) >= STAGE_BYTES) await file.append(takeStaged(tb));
      }
      return await finishTable(tb, file, number);
    });
  } finally {
    core.tbFree(tb);
  }
}

/**
 * Merges tables (intact) into one table file `number`: older versions a
 * newer one shadows are dropped; tombstones are kept when any of `others`
 * may hold their key.
 *
 * @example
 * ```ts
 * const merged = await mergeTables(fs, "/db", [a, b], [c], 20, lastSequence, { blockSize: 4096, bloomBitsPerKey: 10 });
 * ```
 */
export async function mergeTables(
  fs: Storage,
  dir: string,
  files: FileMeta[],
  others: FileMeta[],
  number: number,
  lastSequence: number,
  o: BuildOptions,
): Promise<FileMeta[]> {
  const result = await runCompaction({
    fs,
    dir,
    openTable: (n) => TableReader.open(fs, joinPath(dir, tableFileName(n)), n),
    closeTable: (t) => t.close(),
  }, {
    task: { inputs: [{ level: 0, files }], outputLevel: 0, trivialMove: false, reason: "repair" },
    oldestSnapshot: lastSequence,
    older: others.map((f) => [f]),
    fileNumbers: [number],
    blockSize: o.blockSize,
    bloomBitsPerKey: o.bloomBitsPerKey,
    targetFileSize: Number.MAX_SAFE_INTEGER,
  });
  return result.outputs;
}
