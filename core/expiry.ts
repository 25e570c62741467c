// Expiring puts (TTL): batch entry and internal-key kind 3. The value of
// such an entry is stored with its expiry time in front:
//
//   +0  u64  expiry time, epoch milliseconds (little-endian)
//   +8  the user's value
//
// The entry is live while now < expiry. Once expired it reads as a
// tombstone: it hides the older versions of its key on every read path, and
// compaction turns it into one (or drops it where a tombstone would be
// dropped). "now" comes from TypeScript, one value per read call (the
// database's clock option); the core never reads a clock. An entry whose
// value is shorter than its prefix (possible only after undetected damage)
// reads as expired rather than out of bounds.

export const KIND_PUT_EXPIRING: u8 = 3;
export const EXPIRY_PREFIX: u32 = 8;

/** True when the expiring value at (value, valueLen) has expired at now (epoch ms). */
export function expired(value: usize, valueLen: u32, now: f64): bool {
  if (valueLen < EXPIRY_PREFIX) return true;
  return <f64>load<u64>(value) <= now;
}

/**
 * The kind an entry of `kind` reads as at now: a live expiring put reads as a
 * put (its value starts EXPIRY_PREFIX bytes later), an expired one as a
 * delete; other kinds as themselves.
 */
export function visibleKind(kind: u8, value: usize, valueLen: u32, now: f64): u8 {
  if (kind != KIND_PUT_EXPIRING) return kind;
  return expired(value, valueLen, now) ? 0 : 1;
}

/** A point lookup found an expiring version and was given no time (now NaN): resolveFound with the time. */
export const FOUND_EXPIRING: i32 = 7;

/**
 * A point lookup found a version (result area: +0 value, +4 length, +28
 * kind; see point_get.ts): an expired one reads as deleted (2), a live
 * expiring one as found (1) with the prefix skipped. With now NaN (the
 * caller reads its clock only when it must), an expiring one is
 * FOUND_EXPIRING, the result area left as it is.
 */
export function resolveFound(out: usize, now: f64): i32 {
  if (load<u32>(out, 28) != <u32>KIND_PUT_EXPIRING) return 1;
  if (isNaN(now)) return FOUND_EXPIRING;
  const value = <usize>load<u32>(out);
  const valueLen = load<u32>(out, 4);
  if (expired(value, valueLen, now)) return 2;
  store<u32>(out, <u32>(value + EXPIRY_PREFIX));
  store<u32>(out, valueLen - EXPIRY_PREFIX, 4);
  return 1;
}
