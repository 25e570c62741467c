// A failure as the one line the command prints.

import { SiltError } from "../errors.ts";

/**
 * One line: the error's code and message (SiltError messages name the file and offset).
 *
 * @example
 * ```ts
 * import { SiltError } from "../errors.ts";
 * describeFailure(new SiltError("LOCKED", "./data is in use")); // "LOCKED: ./data is in use"
 * ```
 */
export function describeFailure(err: unknown): string {
  if (err instanceof SiltError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
