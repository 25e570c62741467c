// Picks the storage of the running runtime.

import { runtime } from "../_runtime.ts";
import { DenoStorage } from "./deno_storage.ts";
import { NodeStorage } from "./node_storage.ts";
import type { Storage } from "./storage.ts";

/**
 * The real file system through the running runtime's own API: Deno's APIs in
 * Deno, `node:fs` in Node and Bun.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "siltdb";
 * console.log(defaultStorage().kind); // "deno" in Deno, "node" in Node and Bun
 * ```
 */
export function defaultStorage(): Storage {
  return runtime === "deno" ? new DenoStorage() : new NodeStorage();
}
