// Key and value encodings: what users pass and get back, and the bytes stored.
//
//   "binary" (default)  in: string (stored as UTF-8) or Uint8Array; out: Uint8Array
//   "utf8"              in: string or Uint8Array; out: string
//   "json"              in: any JSON-serializable value; out: the parsed value
//
// Encoding yields either a string (written to linear memory as UTF-8 by the
// caller, without an intermediate copy) or a Uint8Array.

import { copyOut, textAt } from "./wasm/values.ts";
import { invalidArgument } from "./errors.ts";

/** Names of the built-in encodings. */
export type EncodingName = "binary" | "utf8" | "json";

/** Converts between user values and stored bytes. */
export interface Encoding<T> {
  readonly name: EncodingName;
  /** Checks and converts a user value; throws INVALID_ARGUMENT naming `what`. */
  encode(value: unknown, what: string): string | Uint8Array;
  /** Decodes len stored bytes at ptr in linear memory. */
  decode(ptr: number, len: number): T;
}

/**
 * A value described for a message: "undefined", "null", "a number", "an object"...
 *
 * @example
 * ```ts
 * describe(42); // "a number"
 * describe(new ArrayBuffer(8)); // "an ArrayBuffer (wrap it in a Uint8Array)"
 * ```
 */
export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof ArrayBuffer) return "an ArrayBuffer (wrap it in a Uint8Array)";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} (pass a Uint8Array)`;
  const type = typeof value;
  return type === "object" ? "an object" : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function bytesOrText(value: unknown, what: string): string | Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") {
    if (!isWellFormed(value)) {
      throw invalidArgument(
        `${what} is not a well-formed Unicode string (it holds a lone surrogate, which UTF-8 cannot store)`,
      );
    }
    return value;
  }
  throw invalidArgument(`${what} must be a string or a Uint8Array, got ${describe(value)}`);
}

/**
 * Exact UTF-8 length of a string (well-formed: no lone surrogates).
 *
 * @example
 * ```ts
 * utf8Length("héllo"); // 6
 * utf8Length("a😀"); // 5
 * ```
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x800) {
      n += 2; // 3 bytes for 1 unit; a surrogate pair: 4 bytes for 2 units
      if (c >= 0xd800 && c < 0xdc00) i++;
    } else if (c >= 0x80) n += 1;
  }
  return n;
}

/**
 * Bytes to reserve for encoded data, checked against max before anything is
 * copied: INVALID_ARGUMENT naming `option` if the data is bigger. For a
 * string this is its UTF-8 length, or an upper bound (3 bytes per UTF-16
 * unit) when that bound fits.
 *
 * @example
 * ```ts
 * checkedSize("abc", 1024, "key", "maxKeySize"); // 9: 3 bytes per UTF-16 unit fits
 * checkedSize(new Uint8Array(2000), 1024, "key", "maxKeySize"); // throws INVALID_ARGUMENT
 * ```
 */
export function checkedSize(data: string | Uint8Array, max: number, what: string, option: string): number {
  if (typeof data !== "string") {
    if (data.length > max) throw tooBig(what, String(data.length), max, option);
    return data.length;
  }
  if (data.length > max) {
    throw tooBig(what, data.length <= 1 << 20 ? String(utf8Length(data)) : `at least ${data.length}`, max, option);
  }
  if (data.length * 3 <= max) return data.length * 3;
  const exact = utf8Length(data);
  if (exact > max) throw tooBig(what, String(exact), max, option);
  return exact;
}

/**
 * A key as stored bytes, encoded and checked (INVALID_ARGUMENT names `what`).
 *
 * @example
 * ```ts
 * const lo = storedKey(encodingNamed("utf8", "keyEncoding"), "user:", "start", 65536); // Uint8Array of "user:"
 * ```
 */
export function storedKey(encoding: Encoding<unknown>, key: unknown, what: string, maxKeySize: number): Uint8Array {
  const k = encoding.encode(key, what);
  checkedSize(k, maxKeySize, what, "maxKeySize");
  return typeof k === "string" ? new TextEncoder().encode(k) : k;
}

// Not a closure in checkedSize: that sits on every read's path.
function tooBig(what: string, size: string, max: number, option: string) {
  return invalidArgument(`${what} is ${size} bytes, over the maximum of ${max} (option ${option})`);
}

const binary: Encoding<Uint8Array> = {
  name: "binary",
  encode: bytesOrText,
  decode: copyOut,
};

const utf8: Encoding<string> = {
  name: "utf8",
  encode: bytesOrText,
  decode: textAt,
};

const json: Encoding<unknown> = {
  name: "json",
  encode(value: unknown, what: string): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw invalidArgument(`${what} cannot be encoded as JSON: ${(err as Error).message}`);
    }
    if (text === undefined) throw invalidArgument(`${what} cannot be encoded as JSON: got ${describe(value)}`);
    return text;
  },
  decode(ptr: number, len: number): unknown {
    const text = textAt(ptr, len);
    try {
      return JSON.parse(text);
    } catch {
      throw invalidArgument(
        `stored bytes are not JSON (written with another encoding?): ${JSON.stringify(text.slice(0, 40))}`,
      );
    }
  },
};

const encodings: Record<EncodingName, Encoding<unknown>> = { binary, utf8, json };

/**
 * The encoding with this name, or INVALID_ARGUMENT naming the option.
 *
 * @example
 * ```ts
 * const encoding = encodingNamed("utf8", "option keyEncoding"); // encoding.name === "utf8"
 * ```
 */
export function encodingNamed(name: unknown, option: string): Encoding<unknown> {
  if (typeof name === "string" && Object.hasOwn(encodings, name)) return encodings[name as EncodingName];
  throw invalidArgument(`${option} must be "binary", "utf8" or "json", got ${JSON.stringify(name) ?? describe(name)}`);
}
