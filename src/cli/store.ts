// How commands open a store and read key arguments.

import type { Db } from "../db.ts";
import { open } from "../open.ts";
import { SiltError } from "../errors.ts";
import { UsageError } from "./args.ts";
import { fromHex } from "./display.ts";

/** A store opened by a command: keys and values as bytes. */
export type Store = Db<Uint8Array, Uint8Array>;

/**
 * Opens the store at dir for a command. Reading commands open it read-only
 * (they write nothing and fail with LOCKED while a writer holds it); writing
 * commands may create it when `create` is set.
 *
 * @example
 * ```ts
 * const db = await openStore("./data", { write: false });
 * ```
 */
export async function openStore(dir: string, how: { write: boolean; create?: boolean }): Promise<Store> {
  try {
    return await open(dir, { readOnly: !how.write, createIfMissing: how.create ?? false }) as Store;
  } catch (err) {
    if (err instanceof SiltError && err.code === "NOT_FOUND" && !how.create) {
      throw new SiltError("NOT_FOUND", `no siltdb store at ${dir}`, { file: dir });
    }
    throw err;
  }
}

const encoder = new TextEncoder();

/**
 * A key or value given on the command line: UTF-8 text, or hex with --hex.
 *
 * @example
 * ```ts
 * bytesArg("user:1", false, "key"); // the UTF-8 bytes of "user:1"
 * bytesArg("00ff", true, "key");    // Uint8Array [0, 255]
 * ```
 */
export function bytesArg(text: string, hex: boolean, what: string): Uint8Array {
  if (!hex) return encoder.encode(text);
  const bytes = fromHex(text);
  if (bytes === undefined) throw new UsageError(`${what} ${JSON.stringify(text)} is not hex (--hex is set)`);
  return bytes;
}
