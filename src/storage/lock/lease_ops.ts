// The file operations the lease protocol (./lease_lock.ts) needs from a
// runtime (LeaseOps), and the error rule their implementations share: an
// expected outcome (the file is missing, or exists already) is an answer,
// anything else an IO_ERROR naming the operation and the file.
// Implementations: ./node_lease_ops.ts (node:fs, flock through bun:ffi in
// Bun), ./deno_lease_ops.ts (Deno's APIs, FsFile.tryLockSync).
//
// May import: ../../_runtime.ts.

import { errnoCode, ioError } from "../../_runtime.ts";

/**
 * File operations the lease protocol needs, from the runtime's own API. H is an open file.
 *
 * @example
 * ```ts
 * import type { LeaseOps } from "./lease_ops.ts";
 * // A runtime without OS locks answers tryOsLock with undefined.
 * const tryOsLock: LeaseOps<number>["tryOsLock"] = () => undefined;
 * console.log(tryOsLock(3, true)); // undefined
 * ```
 */
export interface LeaseOps<H> {
  /** Creates path exclusively (read/write); undefined if it exists. */
  createNew(path: string): H | undefined;
  /** Opens an existing file (read/write unless readOnly); undefined if it does not exist. */
  openExisting(path: string, readOnly: boolean): H | undefined;
  /** Writes data at offset 0. */
  writeAt0(handle: H, data: Uint8Array): void;
  /** Tries flock(): true if taken, false if another holds it, undefined if the runtime cannot. */
  tryOsLock(handle: H, exclusive: boolean): boolean | undefined;
  /** Inode of the open file (undefined where the runtime does not tell). */
  handleInode(handle: H): number | undefined;
  close(handle: H): void;
  /** The whole file, or undefined if it does not exist. */
  readFile(path: string): Uint8Array | undefined;
  /** Inode at path, or undefined if nothing is there. */
  inode(path: string): number | undefined;
  /** Hard link; false if `to` exists. */
  link(from: string, to: string): boolean;
  rename(from: string, to: string): void;
  /** Removes a file; no error if it is missing. */
  remove(path: string): void;
  /** Target of a symbolic link, or undefined if unreadable. */
  readLink(path: string): string | undefined;
}

/**
 * Runs a runtime call: its result; `answer` when it fails with the error
 * `code` ("ENOENT": missing, "EEXIST": exists already); an IO_ERROR naming
 * `op` and `path` when it fails otherwise.
 *
 * @example
 * ```ts
 * import { ifErrno } from "./lease_ops.ts";
 * const missing = () => {
 *   throw Object.assign(new Error("no such file"), { code: "ENOENT" });
 * };
 * console.log(ifErrno("ENOENT", undefined, "read", "/db/LOCK", missing)); // undefined
 * ```
 */
export function ifErrno<T, A>(code: "ENOENT" | "EEXIST", answer: A, op: string, path: string, call: () => T): T | A {
  try {
    return call();
  } catch (err) {
    if (errnoCode(err) === code) return answer;
    throw ioError(op, path, err);
  }
}
