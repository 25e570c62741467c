// The data formats SiltLevel's private API takes ("utf8" and "view"; the
// "buffer" format and every other encoding are transcoded by abstract-level,
// Buffers wrapping the same bytes) to and from what siltdb takes and gives
// (string | Uint8Array in, Uint8Array out: siltdb's "binary" encoding).

/**
 * Data as siltdb takes it (and as SiltLevel's private API passes it): a
 * string (stored as UTF-8) or bytes.
 *
 * @example
 * ```ts
 * import type { SiltData } from "siltdb/level";
 * const key: SiltData = "user:1";
 * const bytes: SiltData = new Uint8Array([1, 2, 3]);
 * ```
 */
export type SiltData = string | Uint8Array;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Stored bytes in the format the private API was asked for: "utf8" decoded, "view" as they are.
 *
 * @example
 * ```ts
 * fromSilt(new Uint8Array([104, 105]), "utf8"); // "hi"
 * fromSilt(new Uint8Array([104, 105]), "view"); // the same Uint8Array
 * ```
 */
export function fromSilt(data: Uint8Array, format: string | undefined): string | Uint8Array {
  return format === "utf8" ? decoder.decode(data) : data;
}

/**
 * Encoded data from the private API as siltdb takes it: strings and
 * Uint8Arrays (Buffers included) as they are, other views as their bytes.
 *
 * @example
 * ```ts
 * import type { Db } from "../db.ts";
 * import { writeOptions } from "./write_options.ts";
 * declare const db: Db, key: unknown, value: unknown, options: { sync?: unknown }; // what SiltLevel's _put gets
 * await db.put(toSilt(key), toSilt(value), writeOptions(options));
 * ```
 */
export function toSilt(data: unknown): SiltData {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return String(data);
}

/**
 * The UTF-8 bytes of encoded data, to compare keys as siltdb orders them.
 *
 * @example
 * ```ts
 * bytesOf("é"); // Uint8Array [195, 169]
 * ```
 */
export function bytesOf(data: SiltData): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * Bytewise order, siltdb's key order.
 *
 * @example
 * ```ts
 * compareKeys("a", new Uint8Array([0x61, 0])); // < 0: a prefix sorts first
 * compareKeys("é", "z"); // > 0: 0xc3 sorts after 0x7a
 * ```
 */
export function compareKeys(a: SiltData, b: SiltData): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
