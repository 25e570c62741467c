// A live entry: a stored entry read back with its versionstamp, unless it
// has expired by the time of the read (then it is absent, whatever the
// sweep has done yet). The one place that turns a siltdb entry (value and
// version) into a siltdb/kv entry.

import { versionstamp } from "./layout.ts";
import { readStored, type StoredValue } from "./value_codec.ts";

/** A live entry as read: its key's bytes, its stored value and its versionstamp. */
export interface LiveEntry {
  key: Uint8Array;
  stored: StoredValue;
  versionstamp: string;
}

/**
 * The live entry of a siltdb entry read at `now` (ms since the epoch; -Infinity reads expired entries too).
 *
 * @example
 * ```ts
 * liveEntry(new Uint8Array([2, 0x61, 0]), undefined, undefined, Date.now()); // undefined: absent
 * ```
 */
export function liveEntry(
  key: Uint8Array,
  value: Uint8Array | undefined,
  version: number | undefined,
  now: number,
): LiveEntry | undefined {
  if (value === undefined || version === undefined) return undefined;
  const stored = readStored(value);
  if (stored.expireAt !== undefined && stored.expireAt <= now) return undefined;
  return { key, stored, versionstamp: versionstamp(version - stored.index) };
}
