// The errors of siltdb/kv beyond Deno KV's TypeErrors (limits.ts): the one
// for a handle used after close(). In Deno it is a Deno.errors.BadResource,
// as Deno KV's own (code that catches that keeps working); elsewhere a
// SiltError with code CLOSED.

import { SiltError } from "../errors.ts";

type ErrorClass = new (message: string) => Error;

/**
 * The error of a call on a closed Kv (or on an iterator or operation of one).
 *
 * @example
 * ```ts
 * const err = closedError("get");
 * console.log(err.message); // "get: the Kv is closed"
 * ```
 */
export function closedError(call: string): Error {
  const message = `${call}: the Kv is closed`;
  const BadResource = (globalThis as { Deno?: { errors?: { BadResource?: ErrorClass } } }).Deno?.errors?.BadResource;
  return typeof BadResource === "function" ? new BadResource(message) : new SiltError("CLOSED", message);
}
