// Names of the files in a database directory.
//
//   CURRENT           name of the current manifest, then "\n"
//   MANIFEST-NNNNNN   version edits (a log file of records of type 2)
//   NNNNNN.log        write-ahead log
//   NNNNNN.sst        table file
//   *.tmp             a file being written (removed on open)
//   LOCK              directory lock (see src/storage/_pid_lock.ts)
//
// NNNNNN is a file number, zero-padded to at least 6 digits. One counter
// numbers logs, tables and manifests.

/** Name of the lock file. */
export const LOCK_FILE = "LOCK";
/** Name of the file naming the current manifest. */
export const CURRENT_FILE = "CURRENT";

const pad = (n: number) => String(n).padStart(6, "0");

/** Name of log file number n. */
export function logFileName(n: number): string {
  return `${pad(n)}.log`;
}

/** Name of table file number n. */
export function tableFileName(n: number): string {
  return `${pad(n)}.sst`;
}

/** Name of manifest number n. */
export function manifestFileName(n: number): string {
  return `MANIFEST-${pad(n)}`;
}

/** What a directory entry is. */
export type FileKind = "log" | "table" | "manifest" | "current" | "lock" | "temp";

/** The kind and number of a directory entry, or undefined for a foreign file. */
export function parseFileName(name: string): { kind: FileKind; number: number } | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(\d{6,})\.log$/.exec(name))) return { kind: "log", number: Number(m[1]) };
  if ((m = /^(\d{6,})\.sst$/.exec(name))) return { kind: "table", number: Number(m[1]) };
  if ((m = /^MANIFEST-(\d{6,})$/.exec(name))) return { kind: "manifest", number: Number(m[1]) };
  if (name === CURRENT_FILE) return { kind: "current", number: 0 };
  if (name === LOCK_FILE) return { kind: "lock", number: 0 };
  if (name.endsWith(".tmp")) return { kind: "temp", number: 0 };
  return undefined;
}

/** The file number of a log file name, or undefined for any other name. */
export function parseLogFileName(name: string): number | undefined {
  const parsed = parseFileName(name);
  return parsed?.kind === "log" ? parsed.number : undefined;
}
