// Creating a core run source (core/sources.ts) over table files: the file
// bounds are packed into linear memory as the core expects them.
//
// Bounds allocation (owned by the source once created):
//   per file, 16 bytes: u32 smallest key ptr, u32 its length, u32 largest key ptr, u32 its length
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
  const keyBytes = files.reduce((n, f) => n + f.smallest.length + f.largest.length, 0);
  const ptr = core.bufferAlloc(files.length * 16 + keyBytes);
  const dv = view();
  const mem = bytes();
  let key = ptr + files.length * 16;
  files.forEach((f, i) => {
    for (const [k, at] of [[f.smallest, 0], [f.largest, 8]] as const) {
      mem.set(k, key);
      dv.setUint32(ptr + i * 16 + at, key, true);
      dv.setUint32(ptr + i * 16 + at + 4, k.length, true);
      key += k.length;
    }
  });
  return core.runSourceNew(files.length, ptr);
}
