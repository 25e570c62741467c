// The one writer of files that must appear whole or not at all (tables,
// CURRENT): write NAME.tmp, sync it, rename it to NAME, sync the directory.
// A crash or a failed step leaves either no NAME (a NAME.tmp that the next
// open, or the obsolete-file deleter, removes) or a complete NAME. A leftover
// NAME.tmp from an earlier failure is removed first, never appended to.

import { joinPath, type Storage, type StorageFile } from "./storage.ts";

/**
 * What `fill` returns to discard the file: nothing appears under its name.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const result = await writeFileAtomically(fs, "/db", "000012.sst", () => Promise.resolve(DISCARD));
 * console.log(result === DISCARD, fs.list("/db")); // true []: no file, and no temp file left
 * ```
 */
export const DISCARD: unique symbol = Symbol("discard");

/** Options of {@linkcode writeFileAtomically}. */
export interface AtomicWriteOptions {
  /**
   * Sync the directory after the rename (default true). Callers that write
   * several files may sync it once at the end instead; until then a crash
   * may forget the names.
   */
  syncDir?: boolean;
  /** Called before the rename; throwing stops the write (the temp file is removed). */
  beforeRename?: () => void;
  /**
   * Finish in the background: resolve with `fill`'s result as soon as it is
   * done, and hand `background` the promise of the rest (sync, close,
   * rename, directory sync), which rejects as the call would have. The file
   * exists under its name only once that settles. A compaction builds its
   * next output while the last one syncs.
   */
  background?: (finishing: Promise<void>) => void;
}

/**
 * Writes file `name` in `dir` whole: `fill` appends its bytes to the temp
 * file; then sync, close, rename, sync the directory. `fill` may return
 * DISCARD instead of its result: nothing appears under `name`. On failure
 * the temp file is removed (if it can be) and the error rethrown.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const bytes = new TextEncoder().encode("MANIFEST-000003\n");
 * await writeFileAtomically(fs, "/db", "CURRENT", (file) => file.append(bytes));
 * ```
 */
export async function writeFileAtomically<T>(
  fs: Storage,
  dir: string,
  name: string,
  fill: (file: StorageFile) => Promise<T>,
  options: AtomicWriteOptions = {},
): Promise<T> {
  const tmp = joinPath(dir, `${name}.tmp`);
  fs.remove(tmp);
  const file = fs.open(tmp, { create: true, exclusive: true });
  let result: T;
  try {
    result = await fill(file);
  } catch (err) {
    file.close();
    removeQuietly(fs, tmp);
    throw err;
  }
  if (options.background === undefined || result === (DISCARD as unknown)) {
    await publish(fs, dir, name, file, result !== (DISCARD as unknown), options);
  } else {
    const finishing = publish(fs, dir, name, file, true, options);
    finishing.catch(() => {}); // the caller's to await; no unhandled rejection meanwhile
    options.background(finishing);
  }
  return result;
}

/** Syncs (unless discarding), closes and renames the temp file into place, then syncs the directory. */
async function publish(
  fs: Storage,
  dir: string,
  name: string,
  file: StorageFile,
  keep: boolean,
  options: AtomicWriteOptions,
): Promise<void> {
  const tmp = joinPath(dir, `${name}.tmp`);
  try {
    if (keep) await file.sync();
  } catch (err) {
    file.close();
    removeQuietly(fs, tmp);
    throw err;
  }
  file.close();
  if (!keep) {
    removeQuietly(fs, tmp);
    return;
  }
  try {
    options.beforeRename?.();
    fs.rename(tmp, joinPath(dir, name));
  } catch (err) {
    removeQuietly(fs, tmp);
    throw err;
  }
  if (options.syncDir ?? true) await fs.syncDir(dir);
}

/**
 * Removes a file, ignoring failure (a leftover is removed later).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * removeQuietly(new MemoryStorage(), "/db/000012.sst.tmp"); // gone, or left for the next open to remove
 * ```
 */
export function removeQuietly(fs: Storage, path: string): void {
  try {
    fs.remove(path);
  } catch {
    // the next open or the obsolete-file deleter retries
  }
}
