// Reading a backup directory (layout: backup_format.ts): listBackups,
// restoreBackup and purgeOldBackups, exported by siltdb (mod.ts).
//
// A restore verifies every file of the backup (size and checksum) before it
// writes anything, then builds the store as a checkpoint is built
// (target.ts: INCOMPLETE first, removed last), checking each file again as
// it copies it: a crash mid-restore leaves a directory that open() refuses.
//
// A purge deletes the metadata of the old backups first (then they are no
// longer listed), then the files no remaining backup lists, and leftovers of
// unfinished backups (private files without metadata, temp files).

import { defaultStorage } from "../storage/default_storage.ts";
import { corruption, invalidArgument, SiltError } from "../errors.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { checkBackupDir } from "./backup.ts";
import {
  backupIdName,
  type BackupInfo,
  type BackupMeta,
  decodeBackupMeta,
  fileChecksum,
  META_DIR,
  parseBackupId,
  PRIVATE_DIR,
  SHARED_DIR,
} from "./backup_format.ts";
import { Target } from "./target.ts";

/**
 * Options of the backup functions.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "siltdb";
 * const options: BackupOptions = { fs: new MemoryStorage() };
 * ```
 */
export interface BackupOptions {
  /** The storage of the backup directory (and of the restored store). Default: the runtime's file system. */
  fs?: Storage;
  /** restoreBackup: the storage of the restored store, when not `fs` (in a browser: another OPFS directory). */
  targetFs?: Storage;
}

function storageOf(options: BackupOptions | undefined): Storage {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalidArgument("options must be an object");
  }
  return options?.fs ?? defaultStorage();
}

/** Every backup's metadata, oldest first. */
function readMetas(fs: Storage, backupDir: string): BackupMeta[] {
  checkBackupDir(fs, backupDir, false);
  const metaDir = joinPath(backupDir, META_DIR);
  if (!fs.exists(metaDir)) return [];
  const ids = fs.list(metaDir).map(parseBackupId).filter((id) => id !== undefined).sort((a, b) => a - b);
  return ids.map((id) => {
    const path = joinPath(metaDir, backupIdName(id));
    const meta = decodeBackupMeta(fs.readFile(path), path);
    if (meta.id !== id) throw corruption(path, 0, `backup metadata names id ${meta.id}`);
    return meta;
  });
}

/**
 * The backups in `backupDir`, oldest first. INVALID_ARGUMENT if it does not
 * exist or is not a directory; CORRUPTION naming a damaged metadata file.
 *
 * @example
 * ```ts
 * import { listBackups } from "siltdb";
 * for (const b of await listBackups("./backups")) {
 *   console.log(b.id, b.sequence, new Date(b.time).toISOString(), b.bytes);
 * }
 * ```
 */
export function listBackups(backupDir: string, options?: BackupOptions): Promise<BackupInfo[]> {
  try {
    const fs = storageOf(options);
    return Promise.resolve(
      readMetas(fs, backupDir).map(({ id, sequence, time, bytes }) => ({ id, sequence, time, bytes })),
    );
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Restores backup `id` (undefined: the latest) of `backupDir` into
 * `targetDir`, which must not exist or be empty (INVALID_ARGUMENT naming
 * it). Every file is checked against its size and checksum before anything
 * is written: CORRUPTION naming the file, nothing changed. NOT_FOUND for an
 * unknown id. Resolves with the backup restored, once the store is synced;
 * a crash before leaves a directory open() refuses (CORRUPTION).
 *
 * @example
 * ```ts
 * import { open, restoreBackup } from "siltdb";
 * const restored = await restoreBackup("./backups", undefined, "./data-restored");
 * console.log(`backup ${restored.id} at sequence ${restored.sequence}`);
 * const db = await open("./data-restored");
 * await db.close();
 * ```
 */
export async function restoreBackup(
  backupDir: string,
  id: number | undefined,
  targetDir: string,
  options?: BackupOptions,
): Promise<BackupInfo> {
  const fs = storageOf(options);
  if (id !== undefined && (!Number.isSafeInteger(id) || id < 1)) {
    throw invalidArgument(`backup id must be a positive integer, got ${String(id)}`);
  }
  const metas = readMetas(fs, backupDir);
  const meta = id === undefined ? metas.at(-1) : metas.find((m) => m.id === id);
  if (meta === undefined) {
    throw new SiltError(
      "NOT_FOUND",
      id === undefined ? `${backupDir} holds no backup` : `${backupDir} holds no backup ${id}`,
      { file: backupDir },
    );
  }
  const read = (f: BackupMeta["files"][number]) => {
    const path = joinPath(backupDir, f.path);
    if (!fs.exists(path)) throw corruption(path, 0, `backup ${meta.id} lists ${f.path}, which is missing`);
    const data = fs.readFile(path);
    if (data.length !== f.size) throw corruption(path, 0, `${data.length} bytes, backup ${meta.id} lists ${f.size}`);
    const sum = fileChecksum(data);
    if (sum !== f.checksum) throw corruption(path, 0, `checksum ${sum}, backup ${meta.id} lists ${f.checksum}`);
    return data;
  };
  for (const f of meta.files) read(f);
  const target = await Target.begin(options?.targetFs ?? fs, targetDir, "restore");
  try {
    // CURRENT after the rest (the mark makes the order safe; this keeps a readable order).
    const files = [...meta.files].sort((a, b) => Number(a.name === "CURRENT") - Number(b.name === "CURRENT"));
    for (const f of files) await target.write(f.name, read(f));
    await target.finish();
  } catch (err) {
    await target.abort();
    throw err;
  }
  return { id: meta.id, sequence: meta.sequence, time: meta.time, bytes: meta.bytes };
}

/**
 * Keeps the newest `keep` backups of `backupDir` and deletes the others:
 * their metadata first, then every file no remaining backup lists (and
 * leftovers of unfinished backups). Resolves with the ids deleted. Do not
 * run it while a backup into the same directory is under way: that
 * backup's files are not listed yet.
 *
 * @example
 * ```ts
 * import { purgeOldBackups } from "siltdb";
 * const deleted = await purgeOldBackups("./backups", 7); // keep a week of daily backups
 * console.log(`deleted backups ${deleted.join(", ")}`);
 * ```
 */
export async function purgeOldBackups(backupDir: string, keep: number, options?: BackupOptions): Promise<number[]> {
  const fs = storageOf(options);
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw invalidArgument(`keep must be a non-negative integer, got ${String(keep)}`);
  }
  const metas = readMetas(fs, backupDir);
  const old = metas.slice(0, Math.max(0, metas.length - keep));
  const metaDir = joinPath(backupDir, META_DIR);
  for (const m of old) fs.remove(joinPath(metaDir, backupIdName(m.id)));
  if (old.length > 0) await fs.syncDir(metaDir);
  const kept = metas.slice(old.length);
  const listed = new Set(kept.flatMap((m) => m.files.map((f) => f.path)));
  for (const name of fs.exists(metaDir) ? fs.list(metaDir) : []) {
    if (parseBackupId(name) === undefined) fs.remove(joinPath(metaDir, name)); // a metadata file never renamed
  }
  for (const folder of [SHARED_DIR, PRIVATE_DIR]) {
    const dir = joinPath(backupDir, folder);
    if (!fs.exists(dir)) continue;
    for (const name of fs.list(dir)) {
      if (listed.has(`${folder}/${name}`)) continue;
      fs.remove(joinPath(dir, name));
    }
    await fs.syncDir(dir);
  }
  return old.map((m) => m.id);
}
