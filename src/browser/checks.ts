// Checks of siltdb/browser's open() arguments, shared by the page (before a
// worker is started) and the worker; free of the engine, so that the page
// does not load it.

import { SiltError } from "../errors.ts";

/**
 * Checks a database name: a non-empty string usable in an OPFS directory name.
 *
 * @example
 * ```ts
 * checkName("notes"); // ok
 * checkName("a/b");   // throws INVALID_ARGUMENT
 * ```
 */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name === "") {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `the database name must be a non-empty string, got ${typeof name === "string" ? '""' : typeof name}`,
    );
  }
  if (/[/\\\0]/.test(name) || name === "." || name === ".." || name.length > 200) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `the database name ${
        JSON.stringify(name)
      } cannot name an OPFS directory (no "/", "\\" or NUL, not "." or "..", at most 200 characters)`,
    );
  }
}

/**
 * Checks the options of siltdb/browser's open() and splits off `wait`.
 *
 * @example
 * ```ts
 * splitOptions({ wait: true, valueEncoding: "utf8" }); // { wait: true, rest: { valueEncoding: "utf8" } }
 * ```
 */
export function splitOptions(options: unknown): { wait: boolean; rest: Record<string, unknown> } {
  if (options === undefined) return { wait: false, rest: {} };
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `open options must be an object, got ${options === null ? "null" : typeof options}`,
    );
  }
  const { wait, fs, ...rest } = options as Record<string, unknown>;
  if (fs !== undefined) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      "siltdb/browser chooses its storage (the Origin Private File System): the fs option is not accepted here",
    );
  }
  if (wait !== undefined && typeof wait !== "boolean") {
    throw new SiltError("INVALID_ARGUMENT", `open option wait must be a boolean, got ${typeof wait}`);
  }
  return { wait: wait ?? false, rest };
}
