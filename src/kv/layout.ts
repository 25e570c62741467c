// Where siltdb/kv keeps things in the siltdb store under it, and what a
// versionstamp is. User keys are stored as their key-codec bytes, which
// never start with 0xFF; siltdb/kv's own records live under 0xFF, past the
// end of every list (a list never reads at or beyond its selector's end,
// and no selector ends past 0xFF):
//
//   key                                         value
//   FF 00 6B 76  ("kv")                          format mark: one byte, KV_FORMAT
//   FF 00 63     ("c")                           empty; written by a commit that
//                                                writes nothing else, so that every
//                                                commit has a sequence of its own
//   FF 01 | readyAt u64 BE | id 8 bytes          a queue message (src/kv/queue_format.ts)
//   FF 02 | expireAt u64 BE | user key           expiry index: the user key was set to
//                                                expire then (src/kv/expiry.ts)
//
// A versionstamp (Deno KV's 20 hex digits) is the sequence number siltdb gave
// the first entry of the commit, as 16 hex digits, then "0000": every entry of
// one commit shares it, and it grows from commit to commit. A stored entry
// holds its index within its commit (src/kv/value_codec.ts), so its
// versionstamp is its siltdb version minus that index.
//
// DO NOT CHANGE: stored keys and versionstamps are these.

import { ByteWriter, concat } from "./_bytes.ts";

/** The layout version of a siltdb/kv store, in its format mark. */
export const KV_FORMAT = 1;

/** The format mark's key. */
export const FORMAT_KEY: Uint8Array = new Uint8Array([0xff, 0x00, 0x6b, 0x76]);
/** The key an otherwise empty commit writes. */
export const CLOCK_KEY: Uint8Array = new Uint8Array([0xff, 0x00, 0x63]);
/** First bytes of queue message keys. */
export const QUEUE_PREFIX: Uint8Array = new Uint8Array([0xff, 0x01]);
/** First bytes of expiry index keys. */
export const EXPIRY_PREFIX: Uint8Array = new Uint8Array([0xff, 0x02]);
/** First byte of every reserved key; no user key has it. */
export const RESERVED = 0xff;

/**
 * A reserved key: prefix, then a time as a u64 big-endian (so that keys sort by time), then rest.
 *
 * @example
 * ```ts
 * timedKey(QUEUE_PREFIX, 1000, new Uint8Array(8)).length; // 2 + 8 + 8
 * ```
 */
export function timedKey(prefix: Uint8Array, ms: number, rest: Uint8Array): Uint8Array {
  const w = new ByteWriter(prefix.length + 8 + rest.length);
  w.bytes(prefix);
  const time = new DataView(new ArrayBuffer(8));
  time.setBigUint64(0, BigInt(Math.max(0, Math.floor(ms))));
  w.bytes(new Uint8Array(time.buffer));
  w.bytes(rest);
  return w.finish();
}

/**
 * The time a timedKey holds (ms since the epoch).
 *
 * @example
 * ```ts
 * timeOfKey(timedKey(EXPIRY_PREFIX, 1234, new Uint8Array([2, 0x61, 0]))); // 1234
 * ```
 */
export function timeOfKey(key: Uint8Array): number {
  return Number(new DataView(key.buffer, key.byteOffset + 2, 8).getBigUint64(0));
}

/**
 * The key right after every key that starts with prefix (prefix + 0xFF... is not
 * enough for byte strings of any length; this is prefix with its last byte
 * below 0xFF raised by one).
 *
 * @example
 * ```ts
 * prefixEnd(new Uint8Array([0xff, 0x01])); // Uint8Array [0xff, 0x02]
 * ```
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return concat(prefix, new Uint8Array([0xff]));
  const end = prefix.slice(0, n);
  end[n - 1]++;
  return end;
}

/** Versionstamp text: 20 lowercase hex digits. */
const VERSIONSTAMP = /^[0-9a-f]{20}$/;

/**
 * The versionstamp of a commit whose first entry got sequence `sequence`.
 *
 * @example
 * ```ts
 * versionstamp(26); // "000000000000001a0000"
 * ```
 */
export function versionstamp(sequence: number): string {
  return sequence.toString(16).padStart(16, "0") + "0000";
}

/**
 * A check's versionstamp, checked: null, or 20 hex digits (returned in lowercase).
 * A TypeError otherwise, as Deno KV's "invalid versionstamp".
 *
 * @example
 * ```ts
 * checkedVersionstamp("000000000000001A0000"); // "000000000000001a0000"
 * ```
 */
export function checkedVersionstamp(value: unknown): string | null {
  if (value === null) return null;
  const text = typeof value === "string" ? value.toLowerCase() : undefined;
  if (text === undefined || !VERSIONSTAMP.test(text)) {
    throw new TypeError(
      `invalid versionstamp: expected null or 20 hexadecimal digits, got ${
        typeof value === "string" ? JSON.stringify(value) : typeof value
      }`,
    );
  }
  return text;
}
