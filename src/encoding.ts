// Key and value encodings: what users pass and get back, and the bytes stored.
//
//   "binary" (default)  in: string (stored as UTF-8) or Uint8Array; out: Uint8Array
//   "utf8"              in: string or Uint8Array; out: string
//   "json"              in: any JSON-serializable value; out: the parsed value
//
// Encoding yields either a string (written to linear memory as UTF-8 by the
// caller, without an intermediate copy) or a Uint8Array.

import { copyOut, textAt } from "./_wasm.ts";
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof ArrayBuffer) return "an ArrayBuffer (wrap it in a Uint8Array)";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} (pass a Uint8Array)`;
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function bytesOrText(value: unknown, what: string): string | Uint8Array {
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  throw invalidArgument(`${what} must be a string or a Uint8Array, got ${describe(value)}`);
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

/** The encoding with this name, or INVALID_ARGUMENT naming the option. */
export function encodingNamed(name: unknown, option: string): Encoding<unknown> {
  if (typeof name === "string" && Object.hasOwn(encodings, name)) return encodings[name as EncodingName];
  throw invalidArgument(`${option} must be "binary", "utf8" or "json", got ${JSON.stringify(name) ?? describe(name)}`);
}
