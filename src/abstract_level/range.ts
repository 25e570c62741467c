// Range options of abstract-level (gt/gte/lt/lte, gte and lte taking
// precedence, limit -1 for none, reverse) as siltdb scan options, and the
// range left after iterator.seek().

import type { ScanOptions } from "../read/scan_options.ts";
import { compareKeys, type SiltData, toSilt } from "./format.ts";

/** One end of a range. */
export interface Bound {
  key: SiltData;
  inclusive: boolean;
}

/** A key range of siltdb's order, with direction and limit. */
export interface KeyRange {
  lower: Bound | undefined;
  upper: Bound | undefined;
  reverse: boolean;
  /** At most this many entries (Infinity: no limit). */
  limit: number;
}

/** The private-API options of an iterator or clear() (range options already encoded). */
export interface LevelRangeOptions {
  gt?: unknown;
  gte?: unknown;
  lt?: unknown;
  lte?: unknown;
  reverse?: boolean;
  limit?: number;
}

function bound(inclusive: unknown, exclusive: unknown): Bound | undefined {
  if (inclusive !== undefined) return { key: toSilt(inclusive), inclusive: true };
  if (exclusive !== undefined) return { key: toSilt(exclusive), inclusive: false };
  return undefined;
}

/**
 * The range of abstract-level range options.
 *
 * @example
 * ```ts
 * rangeOf({ gte: "a", lt: "b", limit: -1 });
 * // { lower: { key: "a", inclusive: true }, upper: { key: "b", inclusive: false }, reverse: false, limit: Infinity }
 * ```
 */
export function rangeOf(options: LevelRangeOptions): KeyRange {
  const limit = options.limit;
  return {
    lower: bound(options.gte, options.gt),
    upper: bound(options.lte, options.lt),
    reverse: options.reverse === true,
    limit: typeof limit === "number" && Number.isInteger(limit) && limit >= 0 ? limit : Infinity,
  };
}

/**
 * siltdb scan options for a range, at most `limit` entries.
 *
 * @example
 * ```ts
 * scanOptionsOf({ key: "a", inclusive: true }, { key: "b", inclusive: false }, false, 10); // { gte: "a", lt: "b", limit: 10 }
 * ```
 */
export function scanOptionsOf(
  lower: Bound | undefined,
  upper: Bound | undefined,
  reverse: boolean,
  limit: number,
): ScanOptions {
  const o: ScanOptions = {};
  if (lower) o[lower.inclusive ? "gte" : "gt"] = lower.key;
  if (upper) o[upper.inclusive ? "lte" : "lt"] = upper.key;
  if (reverse) o.reverse = true;
  if (limit !== Infinity) o.limit = limit;
  return o;
}

/**
 * The bounds after seeking to `target`: going forward, the first key at or
 * after target (but not before the range); in reverse, the last key at or
 * before target (but not after the range).
 *
 * @example
 * ```ts
 * seekBounds(rangeOf({ gte: "a", lt: "m" }), "c"); // [{ key: "c", inclusive: true }, { key: "m", inclusive: false }]
 * ```
 */
export function seekBounds(range: KeyRange, target: SiltData): [Bound | undefined, Bound | undefined] {
  if (!range.reverse) {
    const lower = range.lower === undefined || compareKeys(target, range.lower.key) > 0
      ? { key: target, inclusive: true }
      : range.lower;
    return [lower, range.upper];
  }
  const upper = range.upper === undefined || compareKeys(target, range.upper.key) < 0
    ? { key: target, inclusive: true }
    : range.upper;
  return [range.lower, upper];
}
