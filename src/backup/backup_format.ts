// The layout of a backup directory (RocksDB's BackupEngine, simplified):
//
//   <backupDir>/
//     shared/<n>-<size>-<checksum>.sst   a table, byte for byte; shared by every backup that
//                                        lists it (n: its number in the store, size in bytes,
//                                        checksum: 8 hex digits, low 32 bits of XXH64 of the
//                                        whole file), so two stores' (or a repaired store's)
//                                        table n are never mistaken for each other
//     private/<id>-<name>                a file of backup <id> alone: its logs (trimmed at its
//                                        sequence), its MANIFEST-NNNNNN and CURRENT
//     meta/<id>                          the backup's metadata, written last (temp file, sync,
//                                        rename, directory sync): a backup without it does not exist
//     *.tmp                              a file being written (removed by the next backup or purge)
//
// <id> is 10 decimal digits (1, 2, ...). A metadata file is UTF-8 text: one
// line of JSON, then a line with its checksum (8 hex digits, low 32 bits of
// XXH64 of the JSON line's bytes):
//
//   {"format":"siltdb-backup","version":1,"id":3,"sequence":1200,"time":1733500000000,
//    "bytes":52331,"files":[{"name":"000012.sst","path":"shared/12-50000-0a1b2c3d.sst",
//    "size":50000,"checksum":"0a1b2c3d"}, ...]}
//   5e6f7a8b
//
// `files` lists every file of the restored store: `name` in the store,
// `path` in the backup directory, its size and checksum. `bytes` is their sum.

import { corruption } from "../errors.ts";
import { tableChecksum } from "../wasm/checksum.ts";

/** Backup metadata format version (on disk: do not change). */
export const BACKUP_FORMAT_VERSION = 1;
/** The folders of a backup directory (on disk: do not change). */
export const SHARED_DIR = "shared";
/** @see SHARED_DIR */
export const PRIVATE_DIR = "private";
/** @see SHARED_DIR */
export const META_DIR = "meta";

/** A file of a backup. */
export interface BackupFile {
  /** Its name in the restored store. */
  name: string;
  /** Its path in the backup directory (relative). */
  path: string;
  size: number;
  /** 8 hex digits: low 32 bits of XXH64 of the file. */
  checksum: string;
}

/**
 * What `listBackups` reports of a backup.
 *
 * @example
 * ```ts
 * declare const info: BackupInfo;
 * console.log(info.id, info.sequence, new Date(info.time).toISOString(), info.bytes);
 * ```
 */
export interface BackupInfo {
  /** 1, 2, ...: newer backups have larger ids. */
  id: number;
  /** The backup holds every write up to this sequence, and none after it. */
  sequence: number;
  /** When it was taken (milliseconds since 1970). */
  time: number;
  /** Bytes of the files it lists (shared tables counted in every backup listing them). */
  bytes: number;
}

/** A backup's metadata file. */
export interface BackupMeta extends BackupInfo {
  files: BackupFile[];
}

/**
 * The checksum of a file's bytes as backups record it.
 *
 * @example
 * ```ts
 * fileChecksum(new TextEncoder().encode("abc")); // 8 hex digits
 * ```
 */
export function fileChecksum(data: Uint8Array): string {
  return tableChecksum(data).toString(16).padStart(8, "0");
}

/**
 * The name of backup `id`'s metadata file (and the prefix of its private files).
 *
 * @example
 * ```ts
 * backupIdName(3); // "0000000003"
 * ```
 */
export function backupIdName(id: number): string {
  return String(id).padStart(10, "0");
}

/**
 * The id of a metadata file's name, or undefined for another name.
 *
 * @example
 * ```ts
 * parseBackupId("0000000003"); // 3
 * parseBackupId("0000000003.tmp"); // undefined
 * ```
 */
export function parseBackupId(name: string): number | undefined {
  return /^\d{10}$/.test(name) ? Number(name) : undefined;
}

/**
 * The shared name of a table: number, size and checksum.
 *
 * @example
 * ```ts
 * sharedTableName(12, 50000, "0a1b2c3d"); // "12-50000-0a1b2c3d.sst"
 * ```
 */
export function sharedTableName(number: number, size: number, checksum: string): string {
  return `${number}-${size}-${checksum}.sst`;
}

/**
 * Encodes a metadata file (see the header).
 *
 * @example
 * ```ts
 * const bytes = encodeBackupMeta({ id: 1, sequence: 10, time: Date.now(), bytes: 0, files: [] });
 * ```
 */
export function encodeBackupMeta(meta: BackupMeta): Uint8Array {
  const json = JSON.stringify({
    format: "siltdb-backup",
    version: BACKUP_FORMAT_VERSION,
    id: meta.id,
    sequence: meta.sequence,
    time: meta.time,
    bytes: meta.bytes,
    files: meta.files.map((f) => ({ name: f.name, path: f.path, size: f.size, checksum: f.checksum })),
  });
  const line = new TextEncoder().encode(json);
  return new TextEncoder().encode(`${json}\n${fileChecksum(line)}\n`);
}

/**
 * Decodes a metadata file; CORRUPTION naming `path` when it is damaged.
 *
 * @example
 * ```ts
 * const bytes = encodeBackupMeta({ id: 1, sequence: 10, time: 0, bytes: 0, files: [] });
 * console.log(decodeBackupMeta(bytes, "/backups/meta/0000000001").sequence); // 10
 * ```
 */
export function decodeBackupMeta(bytes: Uint8Array, path: string): BackupMeta {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  const bad = (what: string) => corruption(path, 0, `backup metadata ${what}`);
  if (lines.length !== 3 || lines[2] !== "") throw bad("is not two lines");
  if (fileChecksum(new TextEncoder().encode(lines[0])) !== lines[1]) throw bad("fails its checksum");
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(lines[0]);
  } catch {
    throw bad("is not JSON");
  }
  if (m.format !== "siltdb-backup") throw bad("has no siltdb-backup format mark");
  if (m.version !== BACKUP_FORMAT_VERSION) throw bad(`has unsupported version ${m.version}`);
  const nat = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (!nat(m.id) || !nat(m.sequence) || !nat(m.time) || !nat(m.bytes) || !Array.isArray(m.files)) {
    throw bad("lacks a field");
  }
  const files = (m.files as Record<string, unknown>[]).map((f) => {
    const ok = typeof f?.name === "string" && /^[A-Za-z0-9.-]+$/.test(f.name) &&
      typeof f.path === "string" && /^(shared|private)\/[A-Za-z0-9.-]+$/.test(f.path) &&
      nat(f.size) && typeof f.checksum === "string" && /^[0-9a-f]{8}$/.test(f.checksum);
    if (!ok) throw bad("lists a malformed file");
    return { name: f.name, path: f.path, size: f.size, checksum: f.checksum } as BackupFile;
  });
  return {
    id: m.id as number,
    sequence: m.sequence as number,
    time: m.time as number,
    bytes: m.bytes as number,
    files,
  };
}
