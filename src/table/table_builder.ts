// Helpers around the core's table builder (core/table_builder.ts draws the
// layout), shared by flushes (src/background/flush.ts), compactions
// (src/compaction/compactor.ts) and repair (src/tools/_write_tables.ts):
// staged bytes out, the end of a table, metadata of a finished table.

import { bytes, core } from "../_wasm.ts";
import type { FileMeta } from "../version/version_edit.ts";

/**
 * The builder's staged bytes, copied out of linear memory (the staging buffer is cleared).
 *
 * @example
 * ```ts
 * if (core.tbStagedLength(tb) >= STAGE_BYTES) await file.append(takeStaged(tb));
 * ```
 */
export function takeStaged(tb: number): Uint8Array {
  const at = core.tbStaged(tb);
  const chunk = bytes().slice(at, at + core.tbStagedLength(tb));
  core.tbClearStaged(tb);
  return chunk;
}

/**
 * Finishes the builder's table: appends what is still staged and the last
 * data block, filter, index, properties and footer to file; resolves with the
 * table's metadata as table file `number`.
 *
 * @example
 * ```ts
 * const meta = await finishTable(tb, file, 12);
 * ```
 */
export async function finishTable(
  tb: number,
  file: { append(data: Uint8Array): Promise<void> },
  number: number,
): Promise<FileMeta> {
  core.tbFinish(tb);
  await file.append(takeStaged(tb));
  return builtTableMeta(tb, number);
}

/**
 * Metadata of the table a builder finished, as table file `number`.
 *
 * @example
 * ```ts
 * core.tbFinish(tb);
 * await file.append(takeStaged(tb));
 * const meta = builtTableMeta(tb, 12); // meta.number === 12
 * ```
 */
export function builtTableMeta(tb: number, number: number): FileMeta {
  const mem = bytes();
  const s = core.tbSmallestKey(tb);
  const l = core.tbLargestKey(tb);
  return {
    number,
    size: core.tbFileSize(tb),
    smallest: mem.slice(s, s + core.tbSmallestKeyLength(tb)),
    largest: mem.slice(l, l + core.tbLargestKeyLength(tb)),
    smallestSequence: core.tbSmallestSequence(tb),
    largestSequence: core.tbLargestSequence(tb),
    entries: core.tbEntries(tb),
  };
}
