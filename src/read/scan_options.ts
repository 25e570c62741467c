// The options of a scan (and of keys(), values(), count() and clear()):
// their type, names and checks. Range bounds are resolved in range.ts.

import { describe } from "../encoding.ts";
import { invalidArgument } from "../errors.ts";
import { RANGE_OPTIONS, type RangeOptions } from "./range.ts";

export { RANGE_OPTIONS, type RangeOptions } from "./range.ts";

/**
 * Range, direction, size and cancellation of a scan (and of keys() and
 * values()). Bounds use the key encoding of the database; `prefix` may be
 * combined with them (the scan covers their intersection).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * for await (const [key, value] of db.scan({ gte: "user:", lt: "user;", limit: 10 })) {
 *   console.log(key, value);
 * }
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 1000); // a scan still running then fails with ABORTED
 * for await (const key of db.keys({ prefix: "log:", reverse: true, signal: controller.signal })) console.log(key);
 * await db.close();
 * ```
 */
export interface ScanOptions<K = Uint8Array> extends RangeOptions<K> {
  /** Largest key first. Default false. */
  reverse?: boolean;
  /** At most this many entries: a non-negative integer, Infinity, or -1 (no limit, as abstract-level). Default: no limit. */
  limit?: number;
  /**
   * Aborting it closes the scan: the next read fails with a SiltError of
   * code `ABORTED` (an already aborted signal fails the call at once).
   */
  signal?: AbortSignal;
}

/**
 * Names of the options of a scan.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from "../options.ts";
 * checkCallOptions({ prefix: "user:", limit: 10 }, "keys", SCAN_OPTIONS); // { prefix: "user:", limit: 10 }
 * try {
 *   checkCallOptions({ limt: 10 }, "keys", SCAN_OPTIONS);
 * } catch (err) {
 *   console.log((err as Error).message); // unknown keys option "limt" (...)
 * }
 * ```
 */
export const SCAN_OPTIONS: readonly string[] = [...RANGE_OPTIONS, "reverse", "limit", "signal"];

/**
 * The `limit` option: undefined and -1 are no limit (Infinity); INVALID_ARGUMENT for anything but a non-negative integer or Infinity.
 *
 * @example
 * ```ts
 * resolveLimit(-1, "scan"); // Infinity
 * resolveLimit(10, "scan"); // 10
 * ```
 */
export function resolveLimit(limit: unknown, call: string): number {
  if (limit === undefined || limit === -1) return Infinity;
  if (typeof limit !== "number" || !(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
    throw invalidArgument(
      `${call} option limit must be a non-negative integer, Infinity or -1 (no limit), got ${
        typeof limit === "number" ? limit : describe(limit)
      }`,
    );
  }
  return limit;
}

/**
 * What each entry of a scan yields; the rest of the entry is not decoded:
 * [key, value] pairs, keys, values, keys as stored bytes whatever the key
 * encoding (for clear()), or nothing (the cursor only counts).
 *
 * @example
 * ```ts
 * const shape: Shape = "keys"; // reader.cursor(options, sequence, shape, "keys") yields keys only
 * ```
 */
export type Shape = "entries" | "keys" | "values" | "stored-keys" | "none";
