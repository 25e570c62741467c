// The only deleter of database files, at run time and at open: a file goes
// when nothing can need it any more.
//
//   NNNNNN.sst      no version a reader holds lists it, and no job writes it
//                   (pending outputs, and outputs of an edit whose manifest
//                   write failed: the edit may be on disk)
//   NNNNNN.log      numbered below the manifest's log number: its data is in tables
//   MANIFEST-N      not the manifest CURRENT names (only while the manifest
//                   is healthy: after a failed switch CURRENT may name either)
//   NAME.tmp        left by a crash or a failed step, unless a job writes it now
//
// Deletion is best effort: a file that cannot be removed now is removed the
// next time. A crash between deletions leaves only more files to delete.

import { joinPath, type Storage } from "../storage/storage.ts";
import { parseFileName } from "../version/file_names.ts";

/** What is live in the directory. */
export interface LiveFiles {
  /** Table numbers listed by any version in use. */
  tables: ReadonlySet<number>;
  /** File numbers being written, or otherwise not to be touched. */
  keep: ReadonlySet<number>;
  /** Logs below this number hold nothing that is not in tables. */
  logNumber: number;
  /** The manifest CURRENT names, or undefined to keep every manifest and CURRENT.tmp. */
  manifestNumber: number | undefined;
}

/**
 * Removes the obsolete files of dir; returns the table numbers removed (for
 * the caller to drop from its caches).
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * removeObsoleteFiles(fs, "/db", { tables: new Set([7]), keep: new Set(), logNumber: 9, manifestNumber: 8 });
 * ```
 */
export function removeObsoleteFiles(fs: Storage, dir: string, live: LiveFiles): number[] {
  let names: string[];
  try {
    names = fs.list(dir);
  } catch {
    return [];
  }
  const removed: number[] = [];
  for (const name of names) {
    const p = parseFileName(name);
    if (p === undefined) continue;
    let obsolete = false;
    if (p.kind === "table") obsolete = !live.tables.has(p.number) && !live.keep.has(p.number);
    else if (p.kind === "log") obsolete = p.number < live.logNumber;
    else if (p.kind === "manifest") obsolete = live.manifestNumber !== undefined && p.number !== live.manifestNumber;
    else if (p.kind === "temp") {
      obsolete = p.number === 0 ? live.manifestNumber !== undefined : !live.keep.has(p.number);
    }
    if (!obsolete) continue;
    try {
      fs.remove(joinPath(dir, name));
      if (p.kind === "table") removed.push(p.number);
    } catch {
      // removed next time
    }
  }
  return removed;
}
