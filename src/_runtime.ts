// Runtime detection (Deno, Bun, Node) and the mapping of runtime I/O errors to
// siltdb errors: the one place that knows which runtime it runs in.

import process from "node:process";
import { SiltError } from "./errors.ts";

/** The runtimes siltdb runs in. */
export type RuntimeName = "deno" | "bun" | "node";

/** The subset of the Deno namespace siltdb uses, typed here so the code also type-checks under Node. */
export interface DenoNamespace {
  version: { deno: string };
  pid: number;
  openSync(path: string, options: {
    read?: boolean;
    write?: boolean;
    append?: boolean;
    create?: boolean;
    createNew?: boolean;
  }): DenoFile;
  readDirSync(path: string): Iterable<{ name: string; isFile: boolean; isDirectory: boolean }>;
  mkdirSync(path: string, options?: { recursive?: boolean }): void;
  renameSync(from: string, to: string): void;
  removeSync(path: string, options?: { recursive?: boolean }): void;
  statSync(path: string): { size: number; isFile: boolean; isDirectory: boolean; ino: number | null };
  readFileSync(path: string): Uint8Array;
  readLinkSync(path: string): string;
  linkSync(from: string, to: string): void;
  realPathSync(path: string): string;
  cwd(): string;
}

/** A Deno.FsFile, reduced to what siltdb uses. */
export interface DenoFile {
  readSync(buffer: Uint8Array): number | null;
  seekSync(offset: number, whence: number): number;
  write(data: Uint8Array): Promise<number>;
  writeSync(data: Uint8Array): number;
  syncData(): Promise<void>;
  syncDataSync(): void;
  sync(): Promise<void>;
  statSync(): { size: number; ino: number | null };
  /** Deno 2.7 and later. */
  tryLockSync?(exclusive?: boolean): boolean;
  close(): void;
}

const globals = globalThis as { Deno?: DenoNamespace; Bun?: unknown };

/**
 * The Deno namespace when running in Deno.
 *
 * @example
 * ```ts
 * if (deno !== undefined) console.log(`Deno ${deno.version.deno}`); // undefined in Node and Bun
 * ```
 */
export const deno: DenoNamespace | undefined = globals.Deno;

/**
 * Which runtime this is.
 *
 * @example
 * ```ts
 * console.log(runtime); // "deno", "bun" or "node"
 * ```
 */
export const runtime: RuntimeName = deno !== undefined ? "deno" : globals.Bun !== undefined ? "bun" : "node";

/**
 * This process's id.
 *
 * @example
 * ```ts
 * console.log(`process ${pid}`); // the pid a directory lock's lease records
 * ```
 */
export const pid: number = process.pid;

/** flock(2) of the C library, loaded through bun:ffi (Bun only); undefined where it cannot be loaded. */
export type Flock = (fd: number, operation: number) => number;

let flock: Promise<Flock | undefined> | undefined;

/**
 * The C library's flock in Bun (undefined in other runtimes, or if it cannot be loaded).
 *
 * @example
 * ```ts
 * declare const fd: number; // an open file's descriptor
 * const flock = await bunFlock(); // undefined in Node and Deno
 * const held = flock !== undefined && flock(fd, 2 | 4) === 0; // LOCK_EX | LOCK_NB: taken without waiting
 * ```
 */
export function bunFlock(): Promise<Flock | undefined> {
  flock ??= (async () => {
    if (runtime !== "bun") return undefined;
    try {
      // A variable specifier: bundlers for other runtimes leave it alone.
      const specifier = "bun:ffi";
      const ffi = await import(specifier);
      const names = process.platform === "darwin"
        ? ["libc.dylib", "/usr/lib/libSystem.B.dylib"]
        : ["libc.so.6", "libc.so"];
      for (const name of names) {
        try {
          const lib = ffi.dlopen(name, { flock: { args: ["i32", "i32"], returns: "i32" } });
          return (fd: number, operation: number) => lib.symbols.flock(fd, operation) as number;
        } catch {
          // try the next name
        }
      }
    } catch {
      // no FFI: the lease alone
    }
    return undefined;
  })();
  return flock;
}

/**
 * The errno-style code of a runtime I/O error ("ENOENT", ...), if any.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * try {
 *   readFileSync("/no/such/file");
 * } catch (err) {
 *   console.log(errnoCode(err)); // "ENOENT"
 * }
 * ```
 */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  // Deno errors also carry their kind in the class name.
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "NotFound") return "ENOENT";
  if (name === "AlreadyExists") return "EEXIST";
  return undefined;
}

/**
 * Wraps a runtime I/O error as an IO_ERROR naming the operation and file.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * try {
 *   readFileSync("/db/CURRENT");
 * } catch (err) {
 *   throw ioError("read", "/db/CURRENT", err); // IO_ERROR "read /db/CURRENT failed (ENOENT): ..."
 * }
 * ```
 */
export function ioError(op: string, file: string, err: unknown): SiltError {
  if (err instanceof SiltError) return err;
  const code = errnoCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  return new SiltError("IO_ERROR", `${op} ${file} failed${code ? ` (${code})` : ""}: ${detail}`, { file }, err);
}

/**
 * Lets a timer keep the process alive (`keep` true) or not, in every
 * runtime (Node and Bun: ref/unref; Deno: Deno.refTimer/unrefTimer).
 *
 * @example
 * ```ts
 * const timer = setInterval(() => {}, 1000);
 * keepAlive(timer, false); // the process may exit while it runs
 * clearInterval(timer);
 * ```
 */
export function keepAlive(timer: ReturnType<typeof setInterval>, keep: boolean): void {
  const t = timer as unknown as { ref?: () => void; unref?: () => void };
  if (typeof t.unref === "function") {
    if (keep) t.ref?.();
    else t.unref();
    return;
  }
  const d = globals.Deno as { refTimer?(id: number): void; unrefTimer?(id: number): void } | undefined;
  if (keep) d?.refTimer?.(timer as unknown as number);
  else d?.unrefTimer?.(timer as unknown as number);
}
