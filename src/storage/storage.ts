/**
 * The storage interface: the only way siltdb touches a file system. Paths are
 * POSIX-style strings; a database passes `dir + "/" + name`.
 *
 * Implementations: {@linkcode NodeStorage} (Node and Bun, `node:fs`),
 * {@linkcode DenoStorage} (Deno APIs) and {@linkcode MemoryStorage} (in
 * memory, with simulated crashes and injected faults, for tests), exported
 * by `siltdb`; and `OpfsStorage` (src/storage/opfs/: the Origin Private File
 * System, in a dedicated worker), on which `siltdb/browser` opens databases.
 * `defaultStorage()` picks Deno's or `node:fs` for the running runtime.
 *
 * Directory locks: Node, Deno and Bun share one lease protocol on the
 * `LOCK` file (src/storage/lock/); `MemoryStorage` keeps its locks in
 * memory; `OpfsStorage` takes Web Locks (src/storage/opfs/web_lock.ts).
 *
 * Errors: implementations throw {@linkcode SiltError}s with code `IO_ERROR`
 * (or `LOCKED` from `lock`), naming the operation and the file.
 *
 * @module
 */

/** How to open a file. */
export interface OpenFileOptions {
  /** Open for appending as well as reading. Default false (read only). */
  write?: boolean;
  /** Create the file if it does not exist (implies write). */
  create?: boolean;
  /** Fail if the file exists (with create). */
  exclusive?: boolean;
  /**
   * Writes go where they are told (with write or create): appends at the
   * size this handle knows (one writer per file), {@linkcode StorageFile.writeAt}
   * at its position. Storages that cannot write at positions ignore it (and
   * have no `writeAt`). Default false: appends go to the end of the file.
   */
  positional?: boolean;
}

/** An open file: positional reads, appends at the end, data sync. */
export interface StorageFile {
  /** The path it was opened with. */
  readonly path: string;
  /** Current size in bytes. */
  size(): number;
  /**
   * Reads up to `into.length` bytes starting at `position` into `into`,
   * synchronously. Returns the number of bytes read (less only at end of file).
   */
  read(position: number, into: Uint8Array): number;
  /** Appends all of `data` at the end of the file (written to the OS, not yet durable). */
  append(data: Uint8Array): Promise<void>;
  /**
   * Appends all of `data` at the end of the file synchronously: when it
   * returns, the bytes are the operating system's (they survive a crash of
   * the process, not of the machine). The write-ahead log uses this so that a
   * write resolves only once its bytes are handed over.
   */
  appendSync(data: Uint8Array): void;
  /**
   * Optional: writes all of `data` at `position` synchronously (over what
   * is there, or extending the file), for files opened with `positional`;
   * like appendSync, the bytes are the operating system's when it returns.
   * The write-ahead log writes its records into space it filled with zeros
   * beforehand (docs/format.md), so that a sync does not change the size.
   */
  writeAt?(position: number, data: Uint8Array): void;
  /** Makes every appended byte durable (fdatasync). */
  sync(): Promise<void>;
  /**
   * Optional: sync() done synchronously, blocking the thread until the data
   * is durable. Saves the hop to a thread pool when a sync is short (the
   * write-ahead log uses it only while its syncs stay short).
   */
  syncNow?(): void;
  /** Releases the handle. Idempotent. */
  close(): void;
}

/** How to take a directory lock. */
export interface LockOptions {
  /**
   * A read-only open: write nothing, take nothing, only check that no writer
   * holds the directory (`LOCKED` if one does). Several may run at once.
   */
  readOnly?: boolean;
}

/** A held directory lock; release it on close. */
export interface StorageLock {
  /** Gives the lock up. Idempotent. */
  release(): void;
  /**
   * False once the lock is lost without a release: another process took it
   * over (the holder looked dead); with in-memory storage, a simulated
   * crash "killed" the holder; with OPFS storage, the storage was closed.
   * A database that lost its lock touches no file. Reading it may check the
   * lock file. Absent means always true.
   */
  readonly valid?: boolean;
  /** Why the lock was lost, once `valid` is false. */
  readonly lostReason?: string;
  /**
   * The holder token written in the lock file (real file systems), so that
   * helpers such as the compaction worker can check that the lock is still
   * held before they touch files.
   */
  readonly token?: string;
}

/**
 * A file system as siltdb needs it.
 *
 * @example
 * ```ts
 * import { MemoryStorage, open } from "siltdb";
 * const fs = new MemoryStorage();
 * const db = await open("/db", { fs });
 * await db.put("k", "v", { sync: true });
 * fs.crash();                       // drops everything not synced
 * ```
 */
export interface Storage {
  /**
   * A short name: "node", "deno", "memory", "opfs". Besides messages, the
   * database reads it: compactions run in a worker (which opens the real
   * file system itself) only over "node" and "deno", inline otherwise.
   */
  readonly kind: string;
  /** Opens (or creates) a file. */
  open(path: string, options?: OpenFileOptions): StorageFile;
  /** Reads a whole file. */
  readFile(path: string): Uint8Array;
  /** Names (not paths) of the entries in a directory. */
  list(dir: string): string[];
  /** True when something exists at path. */
  exists(path: string): boolean;
  /** Creates a directory and its parents; no error if it exists. */
  mkdir(path: string): void;
  /** Atomically renames a file, replacing any file at `to`. */
  rename(from: string, to: string): void;
  /** Removes a file; no error if it does not exist. */
  remove(path: string): void;
  /**
   * Optional: makes `to` a hard link to the file `from` (`to` must not
   * exist; both in one file system). Checkpoints link tables where they can
   * and copy them when this is absent or throws (EXDEV, EPERM, OPFS).
   */
  link?(from: string, to: string): void;
  /** Makes the directory's entries (creations, renames, removals) durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes the exclusive lock of a database directory, represented by the file
   * at `path`. Rejects with a `LOCKED` SiltError when another open database,
   * in this process or another, holds it. With `readOnly`, only checks.
   */
  lock(path: string, options?: LockOptions): Promise<StorageLock>;
}

/**
 * Joins a directory and a name with "/".
 *
 * @example
 * ```ts
 * joinPath("/db", "CURRENT"); // "/db/CURRENT"
 * joinPath("/db/", "CURRENT"); // "/db/CURRENT"
 * ```
 */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * The directory part of a path ("." when there is none).
 *
 * @example
 * ```ts
 * dirName("/db/000012.sst"); // "/db"
 * dirName("/CURRENT"); // "/"
 * dirName("CURRENT"); // "."
 * ```
 */
export function dirName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/**
 * Runs a synchronous step and hands its outcome over as a promise: resolved,
 * or rejected with what the step threw. For the promise-returning calls of
 * files whose work is synchronous (in memory, OPFS): they reject, never throw.
 *
 * @example
 * ```ts
 * import { asPromise } from "./storage.ts";
 * const failed = asPromise(() => {
 *   throw new Error("EIO");
 * });
 * await failed.catch((err) => console.log(err.message)); // "EIO"
 * ```
 */
export function asPromise(step: () => void): Promise<void> {
  try {
    step();
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}
