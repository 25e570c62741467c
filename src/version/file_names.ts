// Names of the files in a database directory.
//
//   NNNNNN.log   write-ahead log, NNNNNN = file number, zero-padded to 6+ digits
//   LOCK         directory lock (see src/storage/_pid_lock.ts)

/** Name of the lock file. */
export const LOCK_FILE = "LOCK";

/** Name of log file number n. */
export function logFileName(n: number): string {
  return `${String(n).padStart(6, "0")}.log`;
}

/** The file number of a log file name, or undefined for any other name. */
export function parseLogFileName(name: string): number | undefined {
  const m = /^(\d{6,})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
