// The expiry of a put (`{ ttl }` or `{ expireAt }`; RocksDB's TTL, Deno KV's
// expireIn): checked here, before anything is encoded, and turned into the
// absolute expiry time an expiring put (batch entry kind 3) carries in front
// of its value (layout: core/expiry.ts, src/format/batch_format.ts). Reads
// and compactions judge it against the database's clock (open option
// `clock`, default Date.now).

import { describe } from "../encoding.ts";
import { invalidArgument } from "../errors.ts";
import { checkCallOptions } from "../options.ts";

/** Latest expiry time: the u64 of the layout holds any safe integer. */
const MAX_EXPIRY = Number.MAX_SAFE_INTEGER;

/**
 * The expiry time (epoch ms, an integer) that `o` (options already checked
 * to be a plain object) asks for, or undefined. INVALID_ARGUMENT names the bad option.
 *
 * @example
 * ```ts
 * expiryOf({ ttl: 1000 }, () => 5000, "put"); // 6000
 * expiryOf({ expireAt: new Date(7000) }, Date.now, "put"); // 7000
 * expiryOf({ sync: true }, Date.now, "put"); // undefined
 * expiryOf({ ttl: 0 }, Date.now, "put"); // throws INVALID_ARGUMENT: put option ttl must be ...
 * ```
 */
export function expiryOf(
  o: Record<string, unknown> | undefined,
  clock: () => number,
  call: string,
): number | undefined {
  const ttl = o?.ttl;
  const expireAt = o?.expireAt;
  if (ttl !== undefined && expireAt !== undefined) {
    throw invalidArgument(`${call} options ttl and expireAt exclude each other: give one`);
  }
  if (ttl !== undefined) {
    if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0) {
      throw invalidArgument(
        `${call} option ttl must be a finite number of milliseconds > 0, got ${
          typeof ttl === "number" ? ttl : describe(ttl)
        }`,
      );
    }
    const now = clock();
    if (typeof now !== "number" || !Number.isFinite(now)) {
      throw invalidArgument(`option clock must return epoch milliseconds, it returned ${describe(now)}`);
    }
    return Math.min(MAX_EXPIRY, Math.max(0, Math.ceil(now + ttl)));
  }
  if (expireAt === undefined) return undefined;
  const at = expireAt instanceof Date ? expireAt.getTime() : expireAt;
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0 || at > MAX_EXPIRY) {
    throw invalidArgument(
      `${call} option expireAt must be a valid Date or epoch milliseconds from 0 to ${MAX_EXPIRY}, got ${
        expireAt instanceof Date ? "an invalid Date" : typeof at === "number" ? at : describe(at)
      }`,
    );
  }
  return Math.ceil(at);
}

/**
 * Splits the options of a put: the expiry time it asks for, and the rest
 * (the write options, for resolveSync). Unknown names are refused.
 *
 * @example
 * ```ts
 * const { expireAt, rest } = putExpiry({ ttl: 500, sync: true }, () => 1000, "put"); // 1500, { sync: true }
 * ```
 */
export function putExpiry(
  options: unknown,
  clock: () => number,
  call: string,
): { expireAt: number | undefined; rest: unknown } {
  const o = checkCallOptions(options, call, ["sync", "ttl", "expireAt"]);
  if (o === undefined || (o.ttl === undefined && o.expireAt === undefined)) return { expireAt: undefined, rest: o };
  const { ttl: _ttl, expireAt: _at, ...rest } = o;
  return { expireAt: expiryOf(o, clock, call), rest };
}
