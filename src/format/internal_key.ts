// Internal keys: user key + 8-byte trailer, trailer = (sequence << 8) | kind.
// Order: user key bytewise ascending, then trailer descending, so the newest
// version of a key comes first. Sequences start at 1 and are below 2^53 (they
// cross into JavaScript as exact numbers). Do not change: these are on disk.

/**
 * Kind of an entry that removes its key (a tombstone).
 *
 * @example
 * ```ts
 * const tombstone = internalKey(new TextEncoder().encode("a"), 7, KIND_DELETE); // "a" deleted at sequence 7
 * ```
 */
export const KIND_DELETE = 0;
/**
 * Kind of an entry that sets its key.
 *
 * @example
 * ```ts
 * const key = internalKey(new TextEncoder().encode("a"), 7, KIND_PUT);
 * console.log(key[key.length - 8]); // 1: the trailer's low byte is the kind
 * ```
 */
export const KIND_PUT = 1;
/**
 * Kind of a batch entry that deletes a range of keys (a range tombstone:
 * key = start, value = the end, see src/format/range_tombstone_format.ts).
 * It never appears in a table's data blocks: tables keep range tombstones
 * in a block of their own.
 *
 * @example
 * ```ts
 * import { rangeDeleteValue } from "./range_tombstone_format.ts";
 * const end = rangeDeleteValue(new TextEncoder().encode("b")); // the value of a range delete up to "b"
 * console.log(KIND_RANGE_DELETE, end); // 2 Uint8Array [1, 98]
 * ```
 */
export const KIND_RANGE_DELETE = 2;
/**
 * Kind of an entry that sets its key until an expiry time: its value starts
 * with that time (u64 epoch ms, little-endian; core/expiry.ts), and once it
 * has passed the entry reads as a tombstone.
 *
 * @example
 * ```ts
 * const key = internalKey(new TextEncoder().encode("session"), 9, KIND_PUT_EXPIRING); // a put with { ttl }
 * ```
 */
export const KIND_PUT_EXPIRING = 3;
/**
 * Bytes of the expiry time in front of an expiring put's value.
 *
 * @example
 * ```ts
 * declare const stored: Uint8Array; // the value of a KIND_PUT_EXPIRING entry
 * const userValue = stored.subarray(EXPIRY_PREFIX_SIZE);
 * ```
 */
export const EXPIRY_PREFIX_SIZE = 8;
/**
 * Largest sequence siltdb assigns (2^53 - 1).
 *
 * @example
 * ```ts
 * declare const lastSequence: number, count: number; // the last sequence handed out; the entries of a batch
 * // as the commit pipeline checks a batch:
 * if (lastSequence + count > MAX_SEQUENCE) throw new Error("no sequence numbers left");
 * ```
 */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

/**
 * Compares internal keys (user key + 8-byte little-endian trailer): user key ascending, trailer descending.
 *
 * @example
 * ```ts
 * const a = new TextEncoder().encode("a");
 * compareInternalKeys(internalKey(a, 9, KIND_PUT), internalKey(a, 3, KIND_PUT)) < 0; // true: newest version first
 * ```
 */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const al = a.length - 8;
  const bl = b.length - 8;
  const n = Math.min(al, bl);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  if (al !== bl) return al - bl;
  for (let i = 7; i >= 0; i--) if (a[al + i] !== b[bl + i]) return b[bl + i] - a[al + i];
  return 0;
}

/**
 * The user key part of an internal key (a view).
 *
 * @example
 * ```ts
 * userKeyOf(internalKey(new Uint8Array([97]), 7, KIND_PUT)); // Uint8Array [97]
 * ```
 */
export function userKeyOf(internal: Uint8Array): Uint8Array {
  return internal.subarray(0, internal.length - 8);
}

/**
 * An internal key from a user key, a sequence and a kind.
 *
 * @example
 * ```ts
 * const key = internalKey(new TextEncoder().encode("user:1"), 42, KIND_PUT); // 14 bytes: "user:1" and the trailer
 * ```
 */
export function internalKey(userKey: Uint8Array, sequence: number, kind: number): Uint8Array {
  const key = new Uint8Array(userKey.length + 8);
  key.set(userKey);
  // trailer = (sequence << 8) | kind, little-endian u64: byte 0 = kind, bytes 1-7 = sequence
  const dv = new DataView(key.buffer);
  const at = userKey.length;
  dv.setUint8(at, kind);
  dv.setUint32(at + 1, sequence % 4294967296, true);
  const high = Math.floor(sequence / 4294967296);
  dv.setUint16(at + 5, high & 0xffff, true);
  dv.setUint8(at + 7, high >>> 16);
  return key;
}

/**
 * Compares two user keys bytewise.
 *
 * @example
 * ```ts
 * compareUserKeys(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])) < 0; // true: a prefix sorts first
 * ```
 */
export function compareUserKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * The sequence number in an internal key's trailer.
 *
 * @example
 * ```ts
 * sequenceOf(internalKey(new Uint8Array([97]), 42, KIND_PUT)); // 42
 * ```
 */
export function sequenceOf(internal: Uint8Array): number {
  const dv = new DataView(internal.buffer, internal.byteOffset, internal.byteLength);
  const at = internal.length - 8;
  return dv.getUint32(at + 1, true) + (dv.getUint16(at + 5, true) + dv.getUint8(at + 7) * 65536) * 4294967296;
}
