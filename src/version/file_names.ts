// Names of the files in a database directory.
//
//   CURRENT           name of the current manifest, then "\n"
//   MANIFEST-NNNNNN   version edits (a log file of records of type 2)
//   NNNNNN.log        write-ahead log
//   NNNNNN.sst        table file
//   NAME.tmp          a file being written under its final NAME (src/storage/atomic_file.ts);
//                     removed on open and when no job writes it
//   LOCK              directory lock (src/storage/lock/)
//   LOCK.<token>.tmp  a lease being written (the lock protocol's own; never a database file)
//
// NNNNNN is a file number, zero-padded to at least 6 digits. One counter
// numbers logs, tables and manifests.

/**
 * Name of the lock file.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * import { joinPath } from "../storage/storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const lock = await fs.lock(joinPath("/db", LOCK_FILE)); // "/db/LOCK": one open database per directory
 * lock.release();
 * ```
 */
export const LOCK_FILE = "LOCK";
/**
 * Name of the file naming the current manifest.
 *
 * @example
 * ```ts
 * import { joinPath, type Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * const text = new TextDecoder().decode(fs.readFile(joinPath("/db", CURRENT_FILE))); // "MANIFEST-000003\n"
 * ```
 */
export const CURRENT_FILE = "CURRENT";

/**
 * Name of the mark of a directory being built by a checkpoint or a restore
 * (src/backup/): written and synced first, removed last. A directory holding
 * it is refused by open (CORRUPTION): it may miss files.
 *
 * @example
 * ```ts
 * import { joinPath, type Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * const partial = fs.exists(joinPath("/checkpoint", INCOMPLETE_FILE)); // true: not a store (yet)
 * ```
 */
export const INCOMPLETE_FILE = "INCOMPLETE";

const pad = (n: number) => String(n).padStart(6, "0");

/**
 * Name of log file number n.
 *
 * @example
 * ```ts
 * logFileName(7); // "000007.log"
 * ```
 */
export function logFileName(n: number): string {
  return `${pad(n)}.log`;
}

/**
 * Name of table file number n.
 *
 * @example
 * ```ts
 * tableFileName(12); // "000012.sst"
 * ```
 */
export function tableFileName(n: number): string {
  return `${pad(n)}.sst`;
}

/**
 * Name of manifest number n.
 *
 * @example
 * ```ts
 * manifestFileName(3); // "MANIFEST-000003"
 * ```
 */
export function manifestFileName(n: number): string {
  return `MANIFEST-${pad(n)}`;
}

/** What a directory entry is. */
export type FileKind = "log" | "table" | "manifest" | "current" | "lock" | "temp";

/**
 * The kind and number of a directory entry, or undefined for a foreign file.
 * A temp file has the number of the file it becomes (0 for CURRENT).
 *
 * @example
 * ```ts
 * parseFileName("000012.sst"); // { kind: "table", number: 12 }
 * parseFileName("000012.sst.tmp"); // { kind: "temp", number: 12 }
 * parseFileName("notes.txt"); // undefined: not a database file
 * ```
 */
export function parseFileName(name: string): { kind: FileKind; number: number } | undefined {
  let m: RegExpExecArray | null;
  if (name.startsWith(`${LOCK_FILE}.`)) return undefined; // the lock protocol's files
  if (name.endsWith(".tmp")) {
    const target = parseFileName(name.slice(0, -4));
    return { kind: "temp", number: target?.number ?? 0 };
  }
  if ((m = /^(\d{6,})\.log$/.exec(name))) return { kind: "log", number: Number(m[1]) };
  if ((m = /^(\d{6,})\.sst$/.exec(name))) return { kind: "table", number: Number(m[1]) };
  if ((m = /^MANIFEST-(\d{6,})$/.exec(name))) return { kind: "manifest", number: Number(m[1]) };
  if (name === CURRENT_FILE) return { kind: "current", number: 0 };
  if (name === LOCK_FILE) return { kind: "lock", number: 0 };
  return undefined;
}
