// Key ranges: the range options users pass (gt, gte, lt, lte, prefix), and
// their resolution to at most one lower and one upper bound in stored bytes.
//
// A prefix is the range [prefix, successor(prefix)) intersected with the
// other bounds: `{ prefix: "user:", gte: "user:m" }` is every "user:" key
// from "user:m" on. successor() is the shortest key after every key starting
// with the prefix: trailing 0xff bytes dropped, the last byte incremented
// (no upper bound when nothing is left, e.g. for "" or 0xff 0xff).

import { checkedSize, describe, type Encoding } from "../encoding.ts";
import { invalidArgument } from "../errors.ts";
import { compareUserKeys } from "../format/internal_key.ts";

/**
 * A range of keys: every key that satisfies every bound given (none: every
 * key). Bounds use the key encoding of the database. `prefix` selects the
 * keys that start with it and may be combined with the other bounds (the
 * range is then their intersection).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * console.log(await db.count({ prefix: "user:" }));            // every key starting with "user:"
 * console.log(await db.count({ prefix: "user:", gte: "user:m" })); // the same, from "user:m" on
 * await db.close();
 * ```
 */
export interface RangeOptions<K = Uint8Array> {
  /** Only keys greater than this. */
  gt?: K | string | Uint8Array;
  /** Only keys greater than or equal to this. */
  gte?: K | string | Uint8Array;
  /** Only keys less than this. */
  lt?: K | string | Uint8Array;
  /** Only keys less than or equal to this. */
  lte?: K | string | Uint8Array;
  /**
   * Only keys that start with these bytes (a string: its UTF-8 bytes). With
   * the "json" key encoding, a string prefix selects the string keys that
   * start with it, and a Uint8Array is matched against the keys' JSON text.
   * The empty prefix selects every key.
   */
  prefix?: string | Uint8Array;
}

/**
 * Names of the range options, for option checks.
 *
 * @example
 * ```ts
 * import { checkCallOptions } from "../options.ts";
 * checkCallOptions({ prefix: "user:" }, "count", RANGE_OPTIONS); // { prefix: "user:" }
 * ```
 */
export const RANGE_OPTIONS = ["gt", "gte", "lt", "lte", "prefix"] as const;

/**
 * One side of a range: its key (bytes, or text to store as UTF-8) and whether the key itself is in the range.
 *
 * @example
 * ```ts
 * const from: Bound = ["user:", true]; // gte "user:"
 * ```
 */
export type Bound = [data: string | Uint8Array, inclusive: boolean];

/**
 * A resolved range: its bounds, and `empty` when no key can be in it.
 *
 * @example
 * ```ts
 * import { encodingNamed } from "../encoding.ts";
 * const utf8 = encodingNamed("utf8", "keyEncoding");
 * const { empty }: ResolvedRange = resolveRange({ prefix: "a", gte: "b" }, utf8, 65536, "scan"); // empty: true
 * ```
 */
export interface ResolvedRange {
  lower: Bound | undefined;
  upper: Bound | undefined;
  empty: boolean;
}

const encoder = new TextEncoder();
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

const toBytes = (data: string | Uint8Array): Uint8Array => typeof data === "string" ? encoder.encode(data) : data;

function side(
  options: Record<string, unknown>,
  exclusive: "gt" | "lt",
  inclusive: "gte" | "lte",
  keyEncoding: Encoding<unknown>,
  maxKeySize: number,
  call: string,
): Bound | undefined {
  const ex = options[exclusive];
  const inc = options[inclusive];
  if (ex !== undefined && inc !== undefined) {
    throw invalidArgument(`${call} options ${exclusive} and ${inclusive} cannot both be set`);
  }
  const name = ex !== undefined ? exclusive : inclusive;
  const value = ex !== undefined ? ex : inc;
  if (value === undefined) return undefined;
  const data = keyEncoding.encode(value, `${call} option ${name}`);
  checkedSize(data, maxKeySize, `${call} option ${name}`, "maxKeySize");
  return [data, ex === undefined];
}

/** The stored bytes every key with this prefix starts with. */
function prefixBytes(prefix: unknown, keyEncoding: Encoding<unknown>, maxKeySize: number, call: string): Uint8Array {
  if (prefix instanceof Uint8Array) {
    checkedSize(prefix, maxKeySize, `${call} option prefix`, "maxKeySize");
    return prefix;
  }
  if (typeof prefix !== "string") {
    throw invalidArgument(`${call} option prefix must be a string or a Uint8Array, got ${describe(prefix)}`);
  }
  if (!isWellFormed(prefix)) {
    throw invalidArgument(
      `${call} option prefix is not a well-formed Unicode string (it holds a lone surrogate, which UTF-8 cannot store)`,
    );
  }
  // A JSON string key is stored as its JSON text: the prefix is that text without the closing quote.
  const text = keyEncoding.name === "json" ? JSON.stringify(prefix).slice(0, -1) : prefix;
  const data = encoder.encode(text);
  checkedSize(data, maxKeySize, `${call} option prefix`, "maxKeySize");
  return data;
}

/**
 * The smallest key after every key that starts with prefix, or undefined when there is none.
 *
 * @example
 * ```ts
 * successor(new Uint8Array([0x61, 0xff])); // Uint8Array [0x62]
 * successor(new Uint8Array([0xff]));       // undefined: no upper bound
 * ```
 */
export function successor(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const next = prefix.slice(0, end);
  next[end - 1]++;
  return next;
}

/**
 * Checks the range options of `options` (already checked for unknown names)
 * and resolves them to bounds; INVALID_ARGUMENT names the bad option.
 *
 * @example
 * ```ts
 * import { encodingNamed } from "../encoding.ts";
 * const keyEncoding = encodingNamed("utf8", "keyEncoding");
 * const range = resolveRange({ prefix: "user:", lt: "user:5" }, keyEncoding, 65536, "scan");
 * // range.lower: ["user:" bytes, true], range.upper: ["user:5", false]
 * ```
 */
export function resolveRange(
  options: Record<string, unknown>,
  keyEncoding: Encoding<unknown>,
  maxKeySize: number,
  call: string,
): ResolvedRange {
  let lower = side(options, "gt", "gte", keyEncoding, maxKeySize, call);
  let upper = side(options, "lt", "lte", keyEncoding, maxKeySize, call);
  if (options.prefix === undefined) return { lower, upper, empty: false };
  const prefix = prefixBytes(options.prefix, keyEncoding, maxKeySize, call);
  if (prefix.length > 0 && (lower === undefined || compareUserKeys(toBytes(lower[0]), prefix) < 0)) {
    lower = [prefix, true];
  }
  const end = successor(prefix);
  if (end !== undefined && (upper === undefined || compareUserKeys(toBytes(upper[0]), end) >= 0)) upper = [end, false];
  let empty = false;
  if (lower !== undefined && upper !== undefined) {
    const c = compareUserKeys(toBytes(lower[0]), toBytes(upper[0]));
    empty = c > 0 || (c === 0 && !(lower[1] && upper[1]));
  }
  return { lower, upper, empty };
}

/**
 * A bound's key as bytes.
 *
 * @example
 * ```ts
 * boundBytes(["ab", true]); // Uint8Array [0x61, 0x62]
 * ```
 */
export function boundBytes(bound: Bound): Uint8Array {
  return toBytes(bound[0]);
}
