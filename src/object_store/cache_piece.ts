// One piece of the disk cache (disk_cache.ts): the answer to one ranged GET
// of an object, kept in a file of its own, and how that file is named. The
// format (drawn in docs/format.md, "Disk cache of a store in a bucket"):
//
//   offset  size
//   0       8     magic "siltdc\0\1"
//   8       4     checksum: low 32 bits of XXH64 of every byte from offset 12 to the end
//   12      4     identity: the same checksum of "<location>\n<key>\n<range>" (a file
//                 under another name, or of another store, is never taken for this one)
//   16      4     M, the length of the answer's description
//   20      4     D, the length of the data
//   24      8     the size of the whole object (little-endian, below 2^53)
//   32      M     description: JSON {"etag": …, "metadata": {…}} (UTF-8, at most 128 bytes)
//   32+M    D     the bytes of the range
//
// A file is trusted only whole: its length is exactly 32 + M + D and the
// checksum matches; anything else (a torn write after a power loss, a flipped
// bit, a truncated file) decodes to undefined, which the cache treats as a miss.
//
// Names: "<key, percent-encoded>@<range>", the range "s<n>" for the last n
// bytes or "<offset>+<length>"; e.g. "sst%2F00000000000000000009.sst@s65536".
// Names never end in ".tmp": the temp files of writes in flight do
// ("<name>.<milliseconds since 1970, base 36>-<32 hex digits>.tmp").

import { tableChecksum } from "../wasm/checksum.ts";
import { type ByteRange, newPutId, type StoredObject } from "./object_store.ts";

const MAGIC = [0x73, 0x69, 0x6c, 0x74, 0x64, 0x63, 0x00, 0x01]; // "siltdc\0\1"
/** Bytes before the description. */
export const PIECE_HEADER = 32;
/** The longest description kept (an answer with a longer ETag or metadata is not cached). */
export const MAX_DESCRIPTION = 128;
/** Names longer than this are not used (file systems allow 255 bytes). */
const MAX_NAME = 200;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * What a piece's name says: the object's key and the range.
 *
 * @example
 * ```ts
 * const parsed: PieceName | undefined = parsePieceName("sst%2F00000000000000000009.sst@4096+4101");
 * // { key: "sst/00000000000000000009.sst", range: { offset: 4096, length: 4101 }, spec: "4096+4101" }
 * ```
 */
export interface PieceName {
  /** The object's key. */
  key: string;
  /** The range the piece answers. */
  range: ByteRange;
  /** The range as it appears in the name. */
  spec: string;
}

/** A key percent-encoded for a file name: letters, digits, "-", "_" and "." stay. */
function escapeKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The range as it appears in a name. */
function rangeSpec(range: ByteRange): string {
  return "suffix" in range ? `s${range.suffix}` : `${range.offset}+${range.length}`;
}

/**
 * The file name of the piece answering `range` of `key`, or undefined when
 * it cannot have one (a name too long, a range that is not whole numbers).
 *
 * @example
 * ```ts
 * pieceName("sst/00000000000000000009.sst", { suffix: 65536 }); // "sst%2F00000000000000000009.sst@s65536"
 * ```
 */
export function pieceName(key: string, range: ByteRange): string | undefined {
  const numbers = "suffix" in range ? [range.suffix] : [range.offset, range.length];
  if (!numbers.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  const name = `${escapeKey(key)}@${rangeSpec(range)}`;
  return name.length <= MAX_NAME ? name : undefined;
}

/**
 * The key and range a piece's file name stands for; undefined for any other
 * name (a temp file, a stray file).
 *
 * @example
 * ```ts
 * parsePieceName("sst%2F00000000000000000009.sst@s65536")?.range; // { suffix: 65536 }
 * parsePieceName("sst%2F00000000000000000009.sst@s65536.lx2k9c1a-3f9c.tmp"); // undefined
 * ```
 */
export function parsePieceName(name: string): PieceName | undefined {
  const at = name.lastIndexOf("@");
  if (at <= 0) return undefined;
  const spec = name.slice(at + 1);
  const suffix = /^s(\d{1,15})$/.exec(spec);
  const span = /^(\d{1,15})\+(\d{1,15})$/.exec(spec);
  let range: ByteRange;
  if (suffix) range = { suffix: Number(suffix[1]) };
  else if (span) range = { offset: Number(span[1]), length: Number(span[2]) };
  else return undefined;
  let key: string;
  try {
    key = decodeURIComponent(name.slice(0, at));
  } catch {
    return undefined;
  }
  return pieceName(key, range) === name ? { key, range, spec } : undefined;
}

/**
 * A unique temp name for a piece being written: the piece's name, when it
 * was begun, and a random id (so that processes writing one piece at once
 * never share a file).
 *
 * @example
 * ```ts
 * tempName("sst%2F00000000000000000009.sst@s65536", Date.now()); // "sst%2F…@s65536.lx2k9c1a-3f9c….tmp"
 * ```
 */
export function tempName(name: string, now: number): string {
  return `${name}.${now.toString(36)}-${newPutId()}.tmp`;
}

/**
 * How long ago the write of temp file `name` began (milliseconds), Infinity
 * for a temp name without a readable time, undefined for any other name.
 *
 * @example
 * ```ts
 * tempAge(tempName("sst%2F00000000000000000009.sst@s65536", 1000), 61_000); // 60000
 * tempAge("sst%2F00000000000000000009.sst@s65536", 61_000); // undefined: a piece
 * ```
 */
export function tempAge(name: string, now: number): number | undefined {
  if (!name.endsWith(".tmp")) return undefined;
  const m = /\.([0-9a-z]{1,12})-[0-9a-f]{32}\.tmp$/.exec(name);
  return m ? now - parseInt(m[1], 36) : Infinity;
}

/**
 * The most bytes a piece of `range` can take on disk (for pieces counted
 * before their file is read; an offset range's data is exactly its length).
 *
 * @example
 * ```ts
 * pieceBytesAtMost({ offset: 0, length: 4101 }); // 4261: header, description, data
 * ```
 */
export function pieceBytesAtMost(range: ByteRange): number {
  return PIECE_HEADER + MAX_DESCRIPTION + ("suffix" in range ? range.suffix : range.length);
}

/** The identity of a piece: whose object, which range. */
function identity(location: string, key: string, range: ByteRange): number {
  return tableChecksum(encoder.encode(`${location}\n${key}\n${rangeSpec(range)}`));
}

/**
 * The bytes of the file holding `got`, the answer to `range` of `key` in the
 * store at `location`; undefined when it is not kept (a description longer
 * than MAX_DESCRIPTION).
 *
 * @example
 * ```ts
 * import type { StoredObject } from "./object_store.ts";
 * declare const got: StoredObject;
 * const file = encodePiece("s3://bucket/db/", "sst/00000000000000000009.sst", { suffix: 65536 }, got);
 * ```
 */
export function encodePiece(
  location: string,
  key: string,
  range: ByteRange,
  got: StoredObject,
): Uint8Array | undefined {
  const description = encoder.encode(JSON.stringify({ etag: got.etag, metadata: got.metadata }));
  if (description.length > MAX_DESCRIPTION || !Number.isSafeInteger(got.size)) return undefined;
  const out = new Uint8Array(PIECE_HEADER + description.length + got.data.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(12, identity(location, key, range), true);
  view.setUint32(16, description.length, true);
  view.setUint32(20, got.data.length, true);
  view.setUint32(24, got.size % 2 ** 32, true);
  view.setUint32(28, Math.floor(got.size / 2 ** 32), true);
  out.set(description, PIECE_HEADER);
  out.set(got.data, PIECE_HEADER + description.length);
  view.setUint32(8, tableChecksum(out.subarray(12)), true);
  return out;
}

/**
 * The answer a piece file holds, or undefined unless the file is whole,
 * intact and the piece of `range` of `key` in the store at `location`.
 *
 * @example
 * ```ts
 * declare const file: Uint8Array;
 * const got = decodePiece(file, "s3://bucket/db/", "sst/00000000000000000009.sst", { suffix: 65536 });
 * if (got === undefined) console.log("damaged: fetch it again");
 * ```
 */
export function decodePiece(
  file: Uint8Array,
  location: string,
  key: string,
  range: ByteRange,
): StoredObject | undefined {
  if (file.length < PIECE_HEADER || !MAGIC.every((b, i) => file[i] === b)) return undefined;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const m = view.getUint32(16, true);
  const d = view.getUint32(20, true);
  if (m > MAX_DESCRIPTION || PIECE_HEADER + m + d !== file.length) return undefined;
  if (view.getUint32(8, true) !== tableChecksum(file.subarray(12))) return undefined;
  if (view.getUint32(12, true) !== identity(location, key, range)) return undefined;
  const size = view.getUint32(24, true) + view.getUint32(28, true) * 2 ** 32;
  let description: { etag?: unknown; metadata?: unknown };
  try {
    description = JSON.parse(decoder.decode(file.subarray(PIECE_HEADER, PIECE_HEADER + m)));
  } catch {
    return undefined;
  }
  const { etag, metadata } = description;
  if (typeof etag !== "string" || typeof metadata !== "object" || metadata === null) return undefined;
  return {
    data: file.subarray(PIECE_HEADER + m),
    size,
    etag,
    metadata: { ...(metadata as Record<string, string>) },
  };
}

/**
 * True when `got` is the whole answer to `range` (a shorter answer, at the
 * end of an object that is shorter than asked, is not kept).
 *
 * @example
 * ```ts
 * import type { StoredObject } from "./object_store.ts";
 * declare const got: StoredObject;
 * if (isWholeAnswer({ offset: 0, length: 4101 }, got)) console.log("cache it");
 * ```
 */
export function isWholeAnswer(range: ByteRange, got: StoredObject): boolean {
  return "suffix" in range ? got.data.length === Math.min(range.suffix, got.size) : got.data.length === range.length;
}
