// Building a store directory that must open whole or not at all: a
// checkpoint (checkpoint.ts) or a restore (restore.ts).
//
//   1. the target must not exist or be empty (INVALID_ARGUMENT naming it,
//      nothing changed);
//   2. INCOMPLETE is created, synced, and the directory synced, before any
//      other file: any file of the target that survives a crash was created
//      after the mark was durable;
//   3. the files are written (or linked) and synced, then CURRENT;
//   4. the directory is synced, INCOMPLETE removed, the directory synced.
//
// open() refuses a directory holding INCOMPLETE with CORRUPTION
// (src/recovery.ts), so a crash at any step leaves either a complete store
// or one that is refused: never one silently missing data. After a failure
// (not a crash) the files written are removed, the mark last.

import { invalidArgument } from "../errors.ts";
import { dirName, joinPath, type Storage } from "../storage/storage.ts";
import { INCOMPLETE_FILE } from "../version/file_names.ts";

/**
 * Throws INVALID_ARGUMENT unless `dir` does not exist or is an empty directory.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * checkEmptyTarget(fs, "/backup/new", "checkpoint"); // fine: it does not exist
 * ```
 */
export function checkEmptyTarget(fs: Storage, dir: string, what: string): void {
  if (typeof dir !== "string" || dir === "") throw invalidArgument(`${what}: the directory must be a non-empty string`);
  if (!fs.exists(dir)) return;
  let names: string[];
  try {
    names = fs.list(dir);
  } catch {
    throw invalidArgument(`${what}: ${dir} exists and is not a directory`);
  }
  if (names.length > 0) throw invalidArgument(`${what}: ${dir} exists and is not empty (${names.length} entries)`);
}

/**
 * Creates `dir` and its missing parents, and syncs the parent of each one
 * created, so that the new directories survive a crash of the machine.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * await mkdirDurably(new MemoryStorage(), "/backups/2024/06");
 * ```
 */
export async function mkdirDurably(fs: Storage, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !fs.exists(d); d = dirName(d)) {
    missing.push(d);
    if (dirName(d) === d) break;
  }
  if (missing.length === 0) return;
  fs.mkdir(dir);
  for (const d of missing) await fs.syncDir(dirName(d));
}

/**
 * A directory being built (see the header): files go in with write() and
 * link(); finish() makes it a store; abort() removes what was written.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * const target = await Target.begin(fs, "/copy", "restore");
 * await target.write("000007.log", new Uint8Array(0));
 * await target.finish(); // INCOMPLETE removed: the directory opens
 * ```
 */
export class Target {
  readonly fs: Storage;
  readonly dir: string;

  private constructor(fs: Storage, dir: string) {
    this.fs = fs;
    this.dir = dir;
  }

  /** Checks the target, creates it and its INCOMPLETE mark (durably). */
  static async begin(fs: Storage, dir: string, what: string): Promise<Target> {
    checkEmptyTarget(fs, dir, what);
    await mkdirDurably(fs, dir);
    let mark;
    try {
      mark = fs.open(joinPath(dir, INCOMPLETE_FILE), { create: true, exclusive: true });
    } catch (err) {
      if (fs.exists(joinPath(dir, INCOMPLETE_FILE))) {
        throw invalidArgument(`${what}: ${dir} is being written by another checkpoint or restore`);
      }
      throw err;
    }
    try {
      await mark.append(new TextEncoder().encode(`siltdb: ${what} under way\n`));
      await mark.sync();
    } finally {
      mark.close();
    }
    await fs.syncDir(dir);
    return new Target(fs, dir);
  }

  /** Writes file `name` with `data`, synced. */
  async write(name: string, data: Uint8Array): Promise<void> {
    const path = joinPath(this.dir, name);
    const file = this.fs.open(path, { create: true, exclusive: true });
    try {
      await file.append(data);
      await file.sync();
    } finally {
      file.close();
    }
  }

  /**
   * Puts the file `from` of storage `source` (durable already) in as
   * `name`: a hard link where the storage can (same storage), else a synced
   * copy. Returns true when linked.
   */
  async linkOrCopy(source: Storage, from: string, name: string): Promise<boolean> {
    const to = joinPath(this.dir, name);
    if (source === this.fs && this.fs.link) {
      try {
        this.fs.link(from, to);
        return true;
      } catch {
        // EXDEV, EPERM...: copied below
        if (this.fs.exists(to)) this.fs.remove(to);
      }
    }
    await this.write(name, source.readFile(from));
    return false;
  }

  /** Syncs the directory, removes the mark, syncs again: the directory is a store. */
  async finish(): Promise<void> {
    await this.fs.syncDir(this.dir);
    this.fs.remove(joinPath(this.dir, INCOMPLETE_FILE));
    await this.fs.syncDir(this.dir);
  }

  /**
   * After a failure: removes every file but the mark (the directory was
   * empty before), then the mark; at the first failure it stops, the mark kept.
   */
  async abort(): Promise<void> {
    try {
      for (const name of this.fs.list(this.dir)) {
        if (name !== INCOMPLETE_FILE) this.fs.remove(joinPath(this.dir, name));
      }
      await this.fs.syncDir(this.dir);
      this.fs.remove(joinPath(this.dir, INCOMPLETE_FILE));
      await this.fs.syncDir(this.dir);
    } catch {
      // the mark stays: the directory is refused on open
    }
  }
}
