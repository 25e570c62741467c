// The range of a range delete (deleteRange, clear): the range options a
// user passes (gt, gte, lt, lte, prefix, or none: every key) turned into one
// half-open range [start, end) of stored keys (end undefined: to the end of
// the key space), which the writer commits as one range-tombstone entry
// (src/format/range_tombstone_format.ts), whatever the number of keys in it.

import { describe, type Encoding } from "../encoding.ts";
import { invalidArgument } from "../errors.ts";
import { compareUserKeys } from "../format/internal_key.ts";
import { boundBytes, resolveRange } from "../read/range.ts";

/** Stored keys [start, end): end undefined means no end. */
export interface KeySpan {
  start: Uint8Array;
  end: Uint8Array | undefined;
}

const afterKey = (key: Uint8Array): Uint8Array => {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
};

/**
 * The span of clear()'s range options (checked: INVALID_ARGUMENT names the
 * bad one); undefined when the range holds no key. `gt: k` starts just after
 * k (k and a zero byte), `lte: k` ends just after it.
 *
 * @example
 * ```ts
 * import { encodingNamed } from "../encoding.ts";
 * const utf8 = encodingNamed("utf8", "keyEncoding");
 * clearSpan({ prefix: "user:" }, utf8, 65536); // { start: "user:", end: "user;" } as bytes
 * clearSpan({}, utf8, 65536); // { start: empty, end: undefined }: every key
 * ```
 */
export function clearSpan(
  range: Record<string, unknown>,
  keyEncoding: Encoding<unknown>,
  maxKeySize: number,
): KeySpan | undefined {
  if (range.reverse !== undefined && typeof range.reverse !== "boolean") {
    throw invalidArgument(`clear option reverse must be a boolean, got ${describe(range.reverse)}`);
  }
  const { lower, upper, empty } = resolveRange(range, keyEncoding, maxKeySize, "clear");
  if (empty) return undefined;
  const start = lower === undefined ? new Uint8Array(0) : lower[1] ? boundBytes(lower) : afterKey(boundBytes(lower));
  const end = upper === undefined ? undefined : upper[1] ? afterKey(boundBytes(upper)) : boundBytes(upper);
  if (end !== undefined && compareUserKeys(start, end) >= 0) return undefined;
  return { start, end };
}

/**
 * The span [start, end) of deleteRange(start, end), both stored keys;
 * undefined when start equals end (an empty range: nothing to delete);
 * INVALID_ARGUMENT when start is after end.
 *
 * @example
 * ```ts
 * const k = (s: string) => new TextEncoder().encode(s);
 * deleteRangeSpan(k("a"), k("b")); // { start: "a", end: "b" } as bytes
 * deleteRangeSpan(k("a"), k("a")); // undefined
 * deleteRangeSpan(k("b"), k("a")); // throws INVALID_ARGUMENT
 * ```
 */
export function deleteRangeSpan(start: Uint8Array, end: Uint8Array): KeySpan | undefined {
  const c = compareUserKeys(start, end);
  if (c > 0) {
    throw invalidArgument(
      `deleteRange start must not be after end (start ${JSON.stringify(show(start))}, end ${
        JSON.stringify(show(end))
      })`,
    );
  }
  return c === 0 ? undefined : { start, end };
}

const show = (key: Uint8Array): string => {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(key.subarray(0, 64));
  return key.length > 64 ? `${text}…` : text;
};
