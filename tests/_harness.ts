// Shared helpers for the test suite (runs unchanged in Node, Deno and Bun).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { type MemoryStorage, SiltError, type SiltErrorCode } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);
/** The string of UTF-8 bytes (undefined passes through). */
export const text = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : decoder.decode(b);

/** A fresh temporary directory; remove it with the returned cleanup. */
export function tempDir(prefix = "siltdb-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts that fn throws (or rejects with) a SiltError with this code; returns it. */
export async function rejectsWith(
  code: SiltErrorCode,
  fn: () => unknown,
  message?: RegExp,
): Promise<SiltError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SiltError, `expected a SiltError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Bytewise comparison, the order siltdb keeps keys in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A small deterministic random generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many fast-check runs: SILTDB_FC_RUNS or the given default. */
export function fcRuns(fallback: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const n = Number(env?.SILTDB_FC_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The runtime running this test. */
export const currentRuntime: "node" | "deno" | "bun" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The three runtimes. */
export const RUNTIMES = ["node", "deno", "bun"] as const;
/** One of the three runtimes. */
export type Runtime = typeof RUNTIMES[number];

/**
 * Command and arguments that run a TypeScript file in the given runtime
 * (Deno with every permission unless denoPermissions says which).
 */
export function runtimeCommand(
  runtime: Runtime,
  script: string,
  args: string[],
  denoPermissions = ["-A"],
): [string, string[]] {
  const root = new URL("..", import.meta.url).pathname;
  const bin = (name: string) => `${root}node_modules/.bin/${name}`;
  if (runtime === "deno") return [bin("deno"), ["run", ...denoPermissions, script, ...args]];
  if (runtime === "bun") return [bin("bun"), [script, ...args]];
  return ["node", ["--import", "tsx", script, ...args]];
}

/** Replaces a file of a MemoryStorage with `image`, durably (as damage found on disk would be). */
export async function replaceFile(fs: MemoryStorage, path: string, image: Uint8Array): Promise<void> {
  fs.remove(path);
  const file = fs.open(path, { create: true });
  await file.append(image);
  await file.sync();
  file.close();
  await fs.syncDir(path.slice(0, path.lastIndexOf("/")) || "/");
}

/** Tiny memtables, blocks, files and levels: flushes and compactions happen constantly. */
export const TINY = {
  memtableSize: 1024,
  blockSize: 256,
  targetFileSize: 4096,
  levelBaseBytes: 4096,
  l0CompactionTrigger: 2,
  l0SlowdownTrigger: 4,
  l0StopTrigger: 6,
} as const;

/**
 * Runs a child writer and SIGKILLs it once `ack` has counted `after` of its
 * stdout lines (ack: true for a line that acknowledges a write); resolves
 * once it is dead, rejects (with its stderr) if it exits any other way.
 */
export function killAfterAcks(
  runtime: Runtime,
  script: string,
  args: string[],
  ack: (line: string) => boolean,
  after: number,
): Promise<void> {
  const [cmd, argv] = runtimeCommand(runtime, script, args);
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let count = 0;
    let buffered = "";
    let stderr = "";
    proc.stderr.on("data", (d) => stderr += d);
    proc.stdout.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (ack(line) && ++count === after) proc.kill("SIGKILL");
    });
    proc.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`the ${runtime} writer exited with ${code}: ${stderr}`));
    });
  });
}
