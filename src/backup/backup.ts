// db.backup(backupDir): an incremental backup of a live database directory
// (layout: backup_format.ts). The state is captured as for a checkpoint
// (capture.ts: its version referenced while the tables are read); each table
// is copied into shared/ only when no earlier backup put it there; the
// logs, a new MANIFEST and CURRENT go to private/<id>-<name>; the metadata
// file is written last (temp, sync, rename, directory sync). A crash before
// the rename leaves no listed backup, only files the next purge removes.

import { invalidArgument } from "../errors.ts";
import { writeFileAtomically } from "../storage/atomic_file.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { logFileName, tableFileName } from "../version/file_names.ts";
import {
  type BackupFile,
  backupIdName,
  type BackupInfo,
  encodeBackupMeta,
  fileChecksum,
  META_DIR,
  parseBackupId,
  PRIVATE_DIR,
  SHARED_DIR,
  sharedTableName,
} from "./backup_format.ts";
import type { CapturedState } from "./capture.ts";
import { manifestFiles } from "./checkpoint.ts";
import { mkdirDurably } from "./target.ts";

/**
 * What a backup wrote.
 *
 * @example
 * ```ts
 * declare const result: BackupResult;
 * console.log(`backup ${result.id}: ${result.tablesCopied} tables copied, ${result.tablesShared} already there`);
 * ```
 */
export interface BackupResult extends BackupInfo {
  /** Tables copied into shared/ by this backup. */
  tablesCopied: number;
  /** Tables found in shared/ already (put there by an earlier backup). */
  tablesShared: number;
}

/**
 * Checks that `backupDir` is a directory (or does not exist) and creates
 * its folders; INVALID_ARGUMENT naming it otherwise.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * await prepareBackupDir(fs, "/backups"); // /backups/shared, /backups/private, /backups/meta
 * ```
 */
export async function prepareBackupDir(fs: Storage, backupDir: string): Promise<void> {
  checkBackupDir(fs, backupDir, true);
  for (const d of [SHARED_DIR, PRIVATE_DIR, META_DIR]) await mkdirDurably(fs, joinPath(backupDir, d));
}

/**
 * INVALID_ARGUMENT unless `backupDir` is a directory (or, with
 * `mayBeMissing`, does not exist).
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * checkBackupDir(new MemoryStorage(), "/backups", true); // fine: it will be created
 * ```
 */
export function checkBackupDir(fs: Storage, backupDir: string, mayBeMissing: boolean): void {
  if (typeof backupDir !== "string" || backupDir === "") {
    throw invalidArgument("the backup directory must be a non-empty string");
  }
  if (!fs.exists(backupDir)) {
    if (mayBeMissing) return;
    throw invalidArgument(`the backup directory ${backupDir} does not exist`);
  }
  try {
    fs.list(backupDir);
  } catch {
    throw invalidArgument(`the backup directory ${backupDir} exists and is not a directory`);
  }
}

/**
 * Ids in use in a backup directory: listed backups and leftovers of
 * unfinished ones (private files without metadata), so that a new id never
 * reuses a leftover's files.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * const next = Math.max(0, ...idsInUse(fs, "/backups")) + 1;
 * ```
 */
export function idsInUse(fs: Storage, backupDir: string): number[] {
  const ids = fs.list(joinPath(backupDir, META_DIR)).map(parseBackupId).filter((id) => id !== undefined);
  for (const name of fs.list(joinPath(backupDir, PRIVATE_DIR))) {
    const id = parseBackupId(name.slice(0, 10));
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** Backups under way in this process, by backup directory: one at a time per directory (ids and files). */
const running = new Map<string, Promise<unknown>>();

/**
 * Runs `work` when no other backup of this process writes into
 * `backupDir`: two at once would take the same id. (Backups of two
 * processes into one directory at once are not supported.)
 *
 * @example
 * ```ts
 * const result = await oneAtATime("/backups", () => Promise.resolve(42));
 * ```
 */
export function oneAtATime<T>(backupDir: string, work: () => Promise<T>): Promise<T> {
  const before = running.get(backupDir) ?? Promise.resolve();
  const mine = before.then(work, work);
  const settled = mine.then(() => {}, () => {});
  running.set(backupDir, settled);
  void settled.then(() => {
    if (running.get(backupDir) === settled) running.delete(backupDir);
  });
  return mine;
}

/**
 * Writes backup of the captured state into `backupDir` (see the header).
 * `checksums`: the checksums of this open store's tables summed by earlier
 * backups (by table number), filled in as tables are summed.
 *
 * @example
 * ```ts
 * import type { CapturedState } from "./capture.ts";
 * import type { Storage } from "../storage/storage.ts";
 * declare const state: CapturedState, fs: Storage;
 * const { id, tablesCopied } = await writeBackup(state, "/backups", fs);
 * ```
 */
export async function writeBackup(
  state: CapturedState,
  backupDir: string,
  fs: Storage,
  checksums?: Map<number, string>,
): Promise<BackupResult> {
  await prepareBackupDir(fs, backupDir);
  const sharedDir = joinPath(backupDir, SHARED_DIR);
  const privateDir = joinPath(backupDir, PRIVATE_DIR);
  const shared = new Set(fs.list(sharedDir));
  const id = Math.max(0, ...idsInUse(fs, backupDir)) + 1;
  const prefix = `${backupIdName(id)}-`;
  const files: BackupFile[] = [];
  let tablesCopied = 0;
  let tables = 0;
  for (const file of state.version.files()) {
    const name = tableFileName(file.number);
    // A table this store already summed (its numbers are never reused while it is open) is not read again
    // when shared/ holds it; any other is read, summed and, if shared/ lacks it, copied.
    let checksum = checksums?.get(file.number);
    let data: Uint8Array | undefined;
    if (checksum === undefined || !shared.has(sharedTableName(file.number, file.size, checksum))) {
      data = state.fs.readFile(joinPath(state.dir, name));
      checksum = fileChecksum(data);
      checksums?.set(file.number, checksum);
    }
    const size = data?.length ?? file.size;
    const sharedName = sharedTableName(file.number, size, checksum);
    if (!shared.has(sharedName)) {
      const bytes = data!;
      await writeFileAtomically(fs, sharedDir, sharedName, (f) => f.append(bytes), { syncDir: false });
      shared.add(sharedName);
      tablesCopied++;
    }
    files.push({ name, path: `${SHARED_DIR}/${sharedName}`, size, checksum });
    tables++;
  }
  const addPrivate = (name: string, data: Uint8Array) =>
    files.push({ name, path: `${PRIVATE_DIR}/${prefix}${name}`, size: data.length, checksum: fileChecksum(data) });
  for (const log of state.logs) {
    const name = logFileName(log.number);
    await writeFileAtomically(fs, privateDir, prefix + name, (f) => f.append(log.bytes), { syncDir: false });
    addPrivate(name, log.bytes);
  }
  for (const { name, bytes } of manifestFiles(state)) {
    await writeFileAtomically(fs, privateDir, prefix + name, (f) => f.append(bytes), { syncDir: false });
    addPrivate(name, bytes);
  }
  await fs.syncDir(sharedDir);
  await fs.syncDir(privateDir);
  const time = Date.now();
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const meta = { id, sequence: state.sequence, time, bytes, files };
  await writeFileAtomically(
    fs,
    joinPath(backupDir, META_DIR),
    backupIdName(id),
    (f) => f.append(encodeBackupMeta(meta)),
  );
  return { id, sequence: state.sequence, time, bytes, tablesCopied, tablesShared: tables - tablesCopied };
}
