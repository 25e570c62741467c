// Errors of SiltLevel: siltdb's SiltError codes mapped to the codes of the
// Level ecosystem (abstract-level's README, "Errors"), with the SiltError kept
// as `cause`.

import { SiltError } from "../errors.ts";

/**
 * An error thrown by {@linkcode SiltLevel}: a Level error `code`
 * (`LEVEL_LOCKED`, `LEVEL_CORRUPTION`, `LEVEL_IO_ERROR`, ...) and the
 * siltdb {@linkcode SiltError} behind it as `cause`.
 *
 * @example
 * ```ts
 * import { SiltLevel, SiltLevelError } from "siltdb/level";
 * const db = new SiltLevel("./data");
 * try {
 *   await db.open();
 * } catch (err) {
 *   // abstract-level wraps open failures: LEVEL_DATABASE_NOT_OPEN, cause LEVEL_LOCKED
 *   const cause = (err as Error).cause;
 *   if (cause instanceof SiltLevelError && cause.code === "LEVEL_LOCKED") console.log("in use elsewhere");
 * }
 * ```
 */
export class SiltLevelError extends Error {
  /** The Level error code (or siltdb's own code where Level has none: NOT_FOUND, EXISTS, INVALID_ARGUMENT, INTERNAL). */
  readonly code: string;

  /**
   * An error with a Level code.
   *
   * @param code the Level error code
   * @param message what went wrong
   * @param cause the underlying error
   */
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "SiltLevelError";
    this.code = code;
  }
}

/**
 * Thrown by an iterator call whose `signal` was aborted meanwhile: code
 * `LEVEL_ABORTED`, name `AbortError` (as abstract-level's own).
 *
 * @example
 * ```ts
 * import type { SiltLevel } from "./silt_level.ts";
 * declare const db: SiltLevel;
 * const ac = new AbortController();
 * const it = db.iterator({ signal: ac.signal });
 * const pending = it.next();
 * ac.abort();
 * await pending.catch((err: Error) => console.log(err.name)); // AbortError
 * ```
 */
export class SiltLevelAbortError extends SiltLevelError {
  /**
   * An abort.
   *
   * @param cause the signal's reason
   */
  constructor(cause?: unknown) {
    super("LEVEL_ABORTED", "Operation has been aborted", cause);
    this.name = "AbortError";
  }
}

/** Level code of each SiltError code (siltdb's own code where Level has none). */
const CODES: Record<string, string> = {
  LOCKED: "LEVEL_LOCKED",
  CORRUPTION: "LEVEL_CORRUPTION",
  IO_ERROR: "LEVEL_IO_ERROR",
  READ_ONLY: "LEVEL_READONLY",
  CLOSED: "LEVEL_DATABASE_NOT_OPEN",
  RELEASED: "LEVEL_SNAPSHOT_NOT_OPEN",
};

/**
 * A SiltError as a SiltLevelError (other errors pass through).
 *
 * @example
 * ```ts
 * import { SiltError } from "../errors.ts";
 * toLevelError(new SiltError("LOCKED", "./data is locked")); // a SiltLevelError, code "LEVEL_LOCKED"
 * ```
 */
export function toLevelError(err: unknown): unknown {
  if (!(err instanceof SiltError)) return err;
  let code = CODES[err.code] ?? err.code;
  let message = err.message;
  if (err.code === "INVALID_ARGUMENT") {
    // siltdb names the culprit first: "key is 70000 bytes, over the maximum ..."
    if (/^key\b/.test(message)) code = "LEVEL_INVALID_KEY";
    else if (/^value\b/.test(message)) code = "LEVEL_INVALID_VALUE";
  } else if (err.code === "NOT_FOUND") {
    message = `Database does not exist: ${message}`;
  } else if (err.code === "EXISTS") {
    message = `Database already exists: ${message}`;
  }
  return new SiltLevelError(code, message, err);
}
