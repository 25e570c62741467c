// Creating a core run source (core/sources.ts) over table files for a
// compaction: the file bounds are packed into linear memory as the core
// expects them. (Scans use the packed version of the read state instead.)
//
// Files allocation (owned by the source once created):
//   per file, 20 bytes: u32 file number, u32 smallest key ptr, u32 its length, u32 largest key ptr, u32 its length
//   then the internal keys themselves

import { bytes, core, view } from "../_wasm.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** core srcState of a run source that needs its current file's index block (else it needs a data block). */
export const NEED_INDEX = 2;

/**
 * A new core run source over files (sorted by key, disjoint; or one L0 file).
 *
 * @example
 * ```ts
 * const source = newRunSource(version.levels[1]);
 * ```
 */
export function newRunSource(files: readonly FileMeta[]): number {
  const ptr = core.bufferAlloc(files.length * FILE_RECORD + keyBytesOf(files));
  writeFileRecords(files, ptr, ptr + files.length * FILE_RECORD);
  return core.runSourceNew(files.length, ptr);
}

/** Bytes per file record (core/read_state.ts FILE_SIZE). */
export const FILE_RECORD = 20;

/** Bytes of the smallest and largest keys of files. */
export function keyBytesOf(files: readonly FileMeta[]): number {
  return files.reduce((n, f) => n + f.smallest.length + f.largest.length, 0);
}

/**
 * Writes the file records of files at `records` and their keys from `keys`
 * on (the core's FILE_SIZE layout, drawn above); returns the address after
 * the last key. Also used by the packed version of src/read/get.ts.
 */
export function writeFileRecords(files: readonly FileMeta[], records: number, keys: number): number {
  const dv = view();
  const mem = bytes();
  let key = keys;
  files.forEach((f, i) => {
    const record = records + i * FILE_RECORD;
    dv.setUint32(record, f.number, true);
    for (const [k, at] of [[f.smallest, 4], [f.largest, 12]] as const) {
      mem.set(k, key);
      dv.setUint32(record + at, key, true);
      dv.setUint32(record + at + 4, k.length, true);
      key += k.length;
    }
  });
  return key;
}
