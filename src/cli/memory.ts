// Memory figures for --observe-memory: the process's resident set, the
// core's linear memory, the memtables and the block cache.

import process from "node:process";
import type { DbStats } from "../stats.ts";
import { formatBytes } from "./display.ts";

/**
 * One line of memory figures for a store's stats.
 *
 * @example
 * ```ts
 * import type { Db } from "../db.ts";
 * declare const db: Db;
 * console.log(memoryLine(db.stats())); // "rss 180.2 MiB, wasm 64.0 MiB, memtables 3.1 MiB, cache 12.0 MiB"
 * ```
 */
export function memoryLine(s: DbStats): string {
  return [
    `rss ${formatBytes(process.memoryUsage().rss)}`,
    `wasm ${formatBytes(s.coreMemory)}`,
    `memtables ${formatBytes(s.memtable.bytes + s.immutable.bytes)}`,
    `cache ${formatBytes(s.blockCache.bytes)}`,
  ].join(", ");
}
