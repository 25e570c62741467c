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
    truncate?: boolean;
  }): DenoFile;
  readDirSync(path: string): Iterable<{ name: string; isFile: boolean; isDirectory: boolean }>;
  mkdirSync(path: string, options?: { recursive?: boolean }): void;
  renameSync(from: string, to: string): void;
  removeSync(path: string, options?: { recursive?: boolean }): void;
  statSync(path: string): { size: number; isFile: boolean; isDirectory: boolean };
  readFileSync(path: string): Uint8Array;
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
  sync(): Promise<void>;
  truncateSync(len?: number): void;
  statSync(): { size: number };
  close(): void;
}

const globals = globalThis as { Deno?: DenoNamespace; Bun?: unknown };

/** The Deno namespace when running in Deno. */
export const deno: DenoNamespace | undefined = globals.Deno;

/** Which runtime this is. */
export const runtime: RuntimeName = deno !== undefined ? "deno" : globals.Bun !== undefined ? "bun" : "node";

/** True when a process with this id is running on this machine. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as { code?: string }).code === "EPERM";
  }
}

/** This process's id. */
export const pid: number = process.pid;

/** The errno-style code of a runtime I/O error ("ENOENT", ...), if any. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  // Deno errors also carry their kind in the class name.
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "NotFound") return "ENOENT";
  if (name === "AlreadyExists") return "EEXIST";
  return undefined;
}

/** Wraps a runtime I/O error as an IO_ERROR naming the operation and file. */
export function ioError(op: string, file: string, err: unknown): SiltError {
  if (err instanceof SiltError) return err;
  const code = errnoCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  return new SiltError("IO_ERROR", `${op} ${file} failed${code ? ` (${code})` : ""}: ${detail}`, { file }, err);
}
