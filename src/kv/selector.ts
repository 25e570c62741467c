// List selectors and cursors, as Deno KV has them. A selector is
// { prefix }, { prefix, start }, { prefix, end } or { start, end }; its range
// of encoded keys is [start, end) where a prefix alone spans
// prefix ‖ 00 .. prefix ‖ FF (every key longer than the prefix that starts
// with it, never the prefix itself). A cursor is the URL-safe base64 of the
// last key returned, without the bytes every key of the range shares (the
// prefix, or the common prefix of start and end); a list given a cursor goes
// on after that key (before it, in reverse). A cursor that points outside its
// selector's range is refused, so a list never leaves its range (and never
// reaches siltdb/kv's own keys, all past 0xFF). A list goes on from the key
// of its last entry itself, not from its cursor text: a key equal to the
// common prefix has the empty cursor, which as an option means "no cursor".

import { base64url, compareBytes, concat, fromBase64url, startsWith } from "./_bytes.ts";
import { encodeKey, type KvKey } from "./key_codec.ts";
import { checkReadKey } from "./limits.ts";

/** Deno KV's KvListSelector. */
export type KvListSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey };

/** A selector with its keys encoded. */
export interface RawSelector {
  prefix?: Uint8Array;
  start?: Uint8Array;
  end?: Uint8Array;
}

/** A selector's keys, as given (copied and frozen): what a list keeps. */
export interface SelectorKeys {
  prefix?: KvKey;
  start?: KvKey;
  end?: KvKey;
}

/**
 * The keys of a selector, checked for shape (a TypeError, with Deno KV's
 * words, for a selector that is not one of the four forms).
 *
 * @example
 * ```ts
 * selectorKeys({ prefix: ["users"] }); // { prefix: ["users"] }
 * ```
 */
export function selectorKeys(selector: unknown): SelectorKeys {
  if (typeof selector !== "object" || selector === null) {
    throw new TypeError("Selector must be an object with 'prefix', or 'start' and 'end'");
  }
  const given = (name: "prefix" | "start" | "end"): KvKey | undefined => {
    const s = selector as Record<string, unknown>;
    if (!Object.hasOwn(s, name) || s[name] === undefined) return undefined;
    if (!Array.isArray(s[name])) throw new TypeError(`Selector's '${name}' must be an array of key parts`);
    return Object.freeze([...(s[name] as KvKey)]);
  };
  const [prefix, start, end] = [given("prefix"), given("start"), given("end")];
  if (prefix !== undefined) {
    if (start !== undefined && end !== undefined) {
      throw new TypeError("Selector can not specify both 'start' and 'end' key when specifying 'prefix'");
    }
    return start !== undefined ? { prefix, start } : end !== undefined ? { prefix, end } : { prefix };
  }
  if (start === undefined || end === undefined) {
    throw new TypeError("Selector must specify either 'prefix' or both 'start' and 'end' key");
  }
  return { start, end };
}

/**
 * A selector's keys encoded, with the checks Deno KV makes on them.
 *
 * @example
 * ```ts
 * rawSelector({ prefix: ["a"], start: ["a", "c"] }); // { prefix: [2, 97, 0], start: [2, 97, 0, 2, 99, 0] }
 * ```
 */
export function rawSelector(keys: SelectorKeys): RawSelector {
  const prefix = keys.prefix && encodeKey(keys.prefix, "the selector's prefix");
  const start = keys.start && encodeKey(keys.start, "the selector's start");
  const end = keys.end && encodeKey(keys.end, "the selector's end");
  if (prefix !== undefined) {
    if (start !== undefined && (!startsWith(start, prefix) || start.length === prefix.length)) {
      throw new TypeError("Start key is not in the keyspace defined by prefix");
    }
    if (end !== undefined && (!startsWith(end, prefix) || end.length === prefix.length)) {
      throw new TypeError("End key is not in the keyspace defined by prefix");
    }
  } else if (compareBytes(start!, end!) > 0) {
    throw new TypeError("Start key is greater than end key");
  }
  return { prefix, start, end };
}

/** The range [start, end) of encoded keys a selector spans. */
export function rangeOf(s: RawSelector): { start: Uint8Array; end: Uint8Array } {
  return {
    start: s.start ?? concat(s.prefix!, new Uint8Array([0x00])),
    end: s.end ?? concat(s.prefix!, new Uint8Array([0xff])),
  };
}

/** The bytes every key of the selector's range starts with. */
function commonPrefix(s: RawSelector): Uint8Array {
  if (s.prefix !== undefined) return s.prefix;
  const [a, b] = [s.start!, s.end!];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.subarray(0, i);
}

/**
 * The cursor after (or, in reverse, before) key: key without the selector's common prefix, in URL-safe base64.
 *
 * @example
 * ```ts
 * import { encodeKey } from "./key_codec.ts";
 * const s = rawSelector({ prefix: ["a"] });
 * encodeCursor(s, encodeKey(["a", "b"])); // "AmIA"
 * ```
 */
export function encodeCursor(s: RawSelector, key: Uint8Array): string {
  return base64url(key.subarray(commonPrefix(s).length));
}

/**
 * The key a cursor stands for: the selector's common prefix, then the
 * cursor's bytes. TypeErrors for a cursor that is not one ("invalid
 * cursor"), or whose key lies outside the selector's range ("cursor out of
 * bounds").
 *
 * @example
 * ```ts
 * const s = rawSelector({ prefix: ["a"] });
 * cursorKey(s, "AmIA"); // the bytes of ["a", "b"]
 * ```
 */
export function cursorKey(s: RawSelector, cursor: string): Uint8Array {
  const tail = typeof cursor === "string" ? fromBase64url(cursor) : undefined;
  if (tail === undefined) throw new TypeError("invalid cursor");
  const key = concat(commonPrefix(s), tail);
  const range = rangeOf(s);
  if (compareBytes(key, range.start) < 0 || compareBytes(key, range.end) > 0) {
    throw new TypeError("cursor out of bounds");
  }
  return key;
}

/**
 * The range to read: the selector's, or the part of it after `boundary`
 * (before it, in reverse): the key of the last entry returned, or of a
 * cursor. TypeErrors for bounds longer than Deno KV reads.
 *
 * @example
 * ```ts
 * import { encodeKey } from "./key_codec.ts";
 * const s = rawSelector({ prefix: ["a"] });
 * readRange(s, false, encodeKey(["a", "b"])); // { start: ["a", "b"] + 0x00, end: ["a"] + 0xFF }
 * ```
 */
export function readRange(
  s: RawSelector,
  reverse: boolean,
  boundary: Uint8Array | undefined,
): { start: Uint8Array; end: Uint8Array } {
  const range = rangeOf(s);
  const out = boundary === undefined
    ? range
    : reverse
    ? { start: range.start, end: boundary }
    : { start: concat(boundary, new Uint8Array([0x00])), end: range.end };
  checkReadKey(out.start);
  checkReadKey(out.end);
  return out;
}
