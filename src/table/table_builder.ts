// Writes a table file from a memtable. The bytes are produced by the core's
// table builder (core/table_builder.ts draws the layout); this file writes
// them to `NNNNNN.sst.tmp`, syncs, and renames to `NNNNNN.sst` (then syncs the
// directory), so a table file exists under its name only when complete.

import { bytes, core } from "../_wasm.ts";
import { RESTART_INTERVAL } from "../format/table_format.ts";
import type { Memtable } from "../memtable.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** How tables are built. */
export interface TableOptions {
  blockSize: number;
  bloomBitsPerKey: number;
}

const STAGE_BYTES = 256 << 10;

/** The builder's staged bytes, copied out of linear memory (the staging buffer is cleared). */
export function takeStaged(tb: number): Uint8Array {
  const at = core.tbStaged(tb);
  const chunk = bytes().slice(at, at + core.tbStagedLength(tb));
  core.tbClearStaged(tb);
  return chunk;
}

/** Metadata of the table a builder finished, as table file `number`. */
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

/**
 * Writes every entry of a (non-empty, immutable) memtable to table file
 * `number` in dir, durably, and returns its metadata.
 */
export async function writeMemtableTable(
  fs: Storage,
  dir: string,
  number: number,
  memtable: Memtable,
  options: TableOptions,
): Promise<FileMeta> {
  const name = tableFileName(number);
  const tmp = joinPath(dir, `${name}.tmp`);
  const file = fs.open(tmp, { create: true });
  const tb = core.tbNew(options.blockSize, RESTART_INTERVAL, options.bloomBitsPerKey);
  try {
    // Bytes are copied out of linear memory before each await: other work
    // may grow memory (detaching views) while a write is in flight.
    for (let cursor = core.mtFirst(memtable.ptr); cursor !== 0;) {
      cursor = core.tbAddMemtable(tb, cursor, STAGE_BYTES);
      const chunk = takeStaged(tb);
      if (chunk.length > 0) await file.append(chunk);
    }
    core.tbFinish(tb);
    await file.append(takeStaged(tb));
    await file.sync();
    const meta = builtTableMeta(tb, number);
    file.close();
    fs.rename(tmp, joinPath(dir, name));
    await fs.syncDir(dir);
    return meta;
  } catch (err) {
    file.close();
    fs.remove(tmp);
    throw err;
  } finally {
    core.tbFree(tb);
  }
}
