// The write options siltdb knows, picked from abstract-level's (which carry
// encodings and other names siltdb would refuse).

import type { WriteOptions } from "../options.ts";

const NONE: WriteOptions = Object.freeze({});
const SYNC: WriteOptions = Object.freeze({ sync: true });
const NO_SYNC: WriteOptions = Object.freeze({ sync: false });

/**
 * `{ sync }` if the options set it (as classic-level's `sync`), else no options.
 *
 * @example
 * ```ts
 * writeOptions({ sync: true }); // { sync: true }
 * writeOptions(undefined); // {}
 * ```
 */
export function writeOptions(options: { sync?: unknown } | undefined): WriteOptions {
  const sync = options?.sync;
  return sync === true ? SYNC : sync === false ? NO_SYNC : NONE;
}
