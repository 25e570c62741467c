/**
 * siltdb in the browser: the same engine and on-disk format, kept in the
 * Origin Private File System (OPFS), one tab at a time per database (Web
 * Locks). No COOP/COEP headers are needed.
 *
 * - On the main thread, {@linkcode open} starts a module worker on this
 *   module, runs the engine there and returns a {@linkcode BrowserDb}: the
 *   async API of siltdb's `Db` through messages (binary values travel as
 *   transferred buffers, scans in chunks of 256 entries).
 * - In a dedicated worker, {@linkcode open} runs the engine in that worker
 *   and returns siltdb's `Db` itself, synchronous reads included
 *   ({@linkcode openInWorker} gives it its `Db` type).
 *
 * A second tab or worker that opens the same database gets a `SiltError`
 * with code `LOCKED`, or waits until the first closes it with `{ wait: true }`.
 *
 * @example
 * ```ts ignore
 * import { open, SiltError } from "siltdb/browser";
 *
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "json" });
 * await db.put("note:1", { title: "hello" }, { sync: true });
 * console.log(await db.get("note:1"));                 // { title: "hello" }
 * await db.batch().put("note:2", { title: "bye" }).delete("note:1").write();
 * for await (const [key, note] of db.scan({ prefix: "note:" })) console.log(key, note);
 * console.log(await db.stats());
 * await db.close();                                    // ends the worker too
 * ```
 *
 * @module
 */

export { inWorker, open, openInWorker } from "./src/browser/open.ts";
export { type BrowserKvOptions, openKv } from "./src/browser/kv.ts";
export type { Kv } from "./src/kv/kv.ts";
export { KvU64 } from "./src/kv/kv_u64.ts";
export { BrowserBatch, BrowserDb, BrowserScan, BrowserSnapshot } from "./src/browser/client.ts";
export type { AsyncBatch, AsyncDb, AsyncScan, AsyncSnapshot, BrowserOpenOptions } from "./src/browser/types.ts";
export type { Db } from "./src/db.ts";
export type { DbStats } from "./src/stats.ts";
export type { Decoded } from "./src/open.ts";
export { SiltError, type SiltErrorCode, type SiltErrorLocation } from "./src/errors.ts";
export type { EncodingName } from "./src/encoding.ts";
export type { RangeOptions } from "./src/read/range.ts";
export type { ScanOptions } from "./src/read/scan_options.ts";
export type { WriteOptions } from "./src/options.ts";
export type { BatchOperation } from "./src/write/write_batch.ts";
export { VERSION } from "./src/package_version.ts";
