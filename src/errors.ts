/**
 * siltdb's one error type. Every failure the library reports is a
 * {@linkcode SiltError} with a machine-readable {@linkcode SiltErrorCode} and
 * a message that says what was wrong and where (file, offset).
 *
 * @module
 */

/**
 * What went wrong, for programs to branch on.
 *
 * - `INVALID_ARGUMENT`: a key, value, range or option of the wrong type or size.
 * - `CLOSED`: the database (or the iterator or batch) was already closed or used up.
 * - `RELEASED`: the snapshot was released.
 * - `LOCKED`: another open database (in this or another process) holds the directory.
 * - `NOT_FOUND`: the directory holds no database and `createIfMissing` is false.
 * - `EXISTS`: the directory holds a database and `errorIfExists` is true.
 * - `READ_ONLY`: a write on a database opened with `readOnly: true`.
 * - `CORRUPTION`: stored bytes fail a checksum or a structural check.
 * - `IO_ERROR`: the storage failed (disk full, permission, I/O error...), now
 *   or in the background; writes are refused until `db.resume()` succeeds.
 * - `INTERNAL`: siltdb's WebAssembly core failed (a trap). The database was
 *   closed to protect its files; other databases go on. Please report it.
 * - `ABORTED`: the `signal` given to a scan was aborted (the error's `cause`
 *   is the signal's reason).
 * - `FENCED`: a store in a bucket was opened by another writer since this one
 *   opened it; this writer refuses every write from then on (reopen to go on).
 * - `UNSUPPORTED`: the store (or the call on it) lacks something siltdb needs,
 *   such as conditional writes in a bucket; the message names it.
 * - `CONFLICT`: a transaction's commit kept conflicting with other writes
 *   after its retries; nothing of it was written.
 * - `OUT_OF_RANGE`: a change feed asked for changes older than the database
 *   still keeps (they were flushed to tables, or came before its last open).
 */
export type SiltErrorCode =
  | "INVALID_ARGUMENT"
  | "CLOSED"
  | "RELEASED"
  | "LOCKED"
  | "NOT_FOUND"
  | "EXISTS"
  | "READ_ONLY"
  | "CORRUPTION"
  | "IO_ERROR"
  | "INTERNAL"
  | "ABORTED"
  | "FENCED"
  | "UNSUPPORTED"
  | "CONFLICT"
  | "OUT_OF_RANGE";

/** Where a problem was found on disk. */
export interface SiltErrorLocation {
  /** The file, as a path inside the database directory or absolute. */
  file?: string;
  /** Byte offset in the file. */
  offset?: number;
}

/**
 * A siltdb failure: a code to branch on and a message for humans.
 *
 * @example
 * ```ts
 * import { open, SiltError } from "siltdb";
 * try {
 *   await open("./data", { createIfMissing: false });
 * } catch (err) {
 *   if (err instanceof SiltError && err.code === "NOT_FOUND") console.log("no database yet");
 * }
 * ```
 */
export class SiltError extends Error {
  /** What went wrong. */
  readonly code: SiltErrorCode;
  /** File involved, when there is one. */
  readonly file?: string;
  /** Byte offset in `file`, when known. */
  readonly offset?: number;

  /**
   * An error with a code, a message, and the file and offset involved.
   *
   * @param code what went wrong
   * @param message what was wrong, in words
   * @param where the file and offset involved, if any
   * @param cause the underlying error, if any
   */
  constructor(code: SiltErrorCode, message: string, where: SiltErrorLocation = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "SiltError";
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.offset !== undefined) this.offset = where.offset;
  }
}

/**
 * Shorthand for an INVALID_ARGUMENT error.
 *
 * @example
 * ```ts
 * const err = invalidArgument("option maxKeySize must be a positive integer");
 * console.log(err.code); // "INVALID_ARGUMENT"
 * ```
 */
export function invalidArgument(message: string): SiltError {
  return new SiltError("INVALID_ARGUMENT", message);
}

/**
 * A CORRUPTION error naming the file and byte offset.
 *
 * @example
 * ```ts
 * const err = corruption("000004.log", 128, "record checksum mismatch");
 * console.log(err.message, err.offset); // "000004.log at offset 128: record checksum mismatch" 128
 * ```
 */
export function corruption(file: string, offset: number, what: string): SiltError {
  return new SiltError("CORRUPTION", `${file} at offset ${offset}: ${what}`, { file, offset });
}

/**
 * True for a trap of the WebAssembly core (a RuntimeError: unreachable, out of bounds...).
 *
 * @example
 * ```ts
 * isTrap(new WebAssembly.RuntimeError("unreachable")); // true
 * isTrap(new Error("disk full")); // false
 * ```
 */
export function isTrap(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError;
}
