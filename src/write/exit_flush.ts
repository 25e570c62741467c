// Pending log writes at process exit. A write resolves only once its bytes
// are in the OS, but writes committed without awaiting (and, with
// bufferWrites, acknowledged ones) may still wait in a group when the
// process ends: process.exit(), the end of the program, or an uncaught
// exception. These hooks hand them to the OS synchronously then.
// Nothing can run at SIGKILL: buffered writes are lost there, as documented.

import process from "node:process";

const pending = new Set<() => void>();
let installed = false;

function writeAll(): void {
  for (const write of pending) {
    try {
      write();
    } catch {
      // the process is ending: nothing left to report to
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", writeAll);
  // Deno runs no "exit" listener on an uncaught exception; these events do run.
  const target = globalThis as { Deno?: unknown; addEventListener?: (type: string, fn: () => void) => void };
  if (target.Deno !== undefined && typeof target.addEventListener === "function") {
    for (const type of ["unload", "error", "unhandledrejection"]) target.addEventListener(type, writeAll);
  }
}

/**
 * Registers a function that writes a database's pending group; it runs when
 * the process exits. Returns the function that unregisters it (at close).
 *
 * @example
 * ```ts
 * import type { CommitPipeline } from "./commit.ts";
 * declare const pipeline: CommitPipeline;
 * const untrack = trackPendingWrites(() => pipeline.writePending()); // at open
 * untrack(); // at close
 * ```
 */
export function trackPendingWrites(write: () => void): () => void {
  install();
  pending.add(write);
  return () => pending.delete(write);
}
