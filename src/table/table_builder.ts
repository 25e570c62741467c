// Writes a table file from a memtable. The bytes are produced by the core's
// table builder (core/table_builder.ts draws the layout); this file writes
// them to `NNNNNN.sst.tmp`, syncs, and renames to `NNNNNN.sst` (then syncs the
// directory), so a table file exists under its name only when complete.

import { bytes, core } from "../_wasm.ts";
import { RESTART_INTERVAL } from "../format/table_format.ts";
import type { Memtable } from "../memtable.ts";
import { nodeEntry } from "../memtable.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** How tables are built. */
export interface TableOptions {
  blockSize: number;
  bloomBitsPerKey: number;
}

const STAGE_BYTES = 256 << 10;

function internalKeyOfNode(node: number): Uint8Array {
  const e = nodeEntry(node);
  const key = new Uint8Array(e.key.length + 8);
  key.set(e.key);
  const dv = new DataView(key.buffer);
  dv.setUint8(e.key.length, e.kind);
  dv.setUint32(e.key.length + 1, e.sequence % 4294967296, true);
  const high = Math.floor(e.sequence / 4294967296);
  dv.setUint16(e.key.length + 5, high & 0xffff, true);
  dv.setUint8(e.key.length + 7, high >>> 16);
  return key;
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
  let entries = 0;
  let size = 0;
  try {
    let cursor = core.mtFirst(memtable.ptr);
    const first = cursor;
    // Bytes are copied out of linear memory before each await: other work
    // may grow memory (detaching views) while a write is in flight.
    while (cursor !== 0) {
      cursor = core.tbAddMemtable(tb, cursor, STAGE_BYTES);
      const chunk = bytes().slice(core.tbStaged(tb), core.tbStaged(tb) + core.tbStagedLength(tb));
      core.tbClearStaged(tb);
      if (chunk.length > 0) await file.append(chunk);
    }
    core.tbFinish(tb);
    const tail = bytes().slice(core.tbStaged(tb), core.tbStaged(tb) + core.tbStagedLength(tb));
    core.tbClearStaged(tb);
    entries = core.tbEntries(tb);
    size = core.tbFileSize(tb);
    await file.append(tail);
    await file.sync();
    const smallest = internalKeyOfNode(first);
    const largest = internalKeyOfNode(core.mtLast(memtable.ptr));
    file.close();
    fs.rename(tmp, joinPath(dir, name));
    await fs.syncDir(dir);
    return {
      number,
      size,
      smallest,
      largest,
      smallestSequence: core.tbSmallestSequence(tb),
      largestSequence: core.tbLargestSequence(tb),
      entries,
    };
  } catch (err) {
    file.close();
    fs.remove(tmp);
    throw err;
  } finally {
    core.tbFree(tb);
  }
}
