// Directory locking for real file systems, the same protocol in every runtime
// (node:fs has no flock): the LOCK file holds the owner's process id.
//
// - Inside one process, a registry on globalThis (shared even by two copies
//   of this module) refuses a second lock of the same path.
// - Across processes, the LOCK file is created exclusively (O_EXCL). If it
//   exists and names a live process, the directory is LOCKED; if that process
//   is gone (it crashed or was killed), the stale file is replaced.
//
// LOCK file contents: "<pid>\n" (ASCII).

import { resolve } from "node:path";
import { SiltError } from "../errors.ts";
import { pid as ourPid, processAlive } from "../_runtime.ts";
import type { StorageLock } from "./storage.ts";

/** File operations the protocol needs, from the runtime's own API. */
export interface LockFileOps {
  /** Creates the file with the content; false if it already exists. */
  createExclusive(path: string, content: Uint8Array): boolean;
  /** Reads the file, or undefined if it does not exist. */
  read(path: string): Uint8Array | undefined;
  /** Removes the file; no error if missing. */
  remove(path: string): void;
}

const registryKey = Symbol.for("siltdb.heldLocks");
const registry: Set<string> = ((globalThis as Record<symbol, Set<string> | undefined>)[registryKey] ??= new Set());

/** Takes the lock at path or throws LOCKED. */
export function takePidLock(path: string, ops: LockFileOps): StorageLock {
  const key = resolve(path);
  if (registry.has(key)) {
    throw new SiltError("LOCKED", `${path} is held by another open database in this process`, { file: path });
  }
  const content = new TextEncoder().encode(`${ourPid}\n`);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (ops.createExclusive(path, content)) {
      registry.add(key);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          registry.delete(key);
          ops.remove(path);
        },
      };
    }
    const existing = ops.read(path);
    if (existing === undefined) continue; // removed meanwhile: try again
    const owner = Number.parseInt(new TextDecoder().decode(existing).trim(), 10);
    // Our own pid without a registry entry is a leftover of a previous process
    // that had our pid; a live other process holds the lock.
    if (owner !== ourPid && processAlive(owner)) {
      throw new SiltError("LOCKED", `${path} is held by process ${owner}`, { file: path });
    }
    ops.remove(path);
  }
  throw new SiltError("LOCKED", `${path} could not be taken: it keeps reappearing`, { file: path });
}
