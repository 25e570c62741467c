// Opening a database inside a dedicated worker: the OPFS directory
// "siltdb-<name>", the database's Web Lock "siltdb:<name>" (taken first and
// held until close), OpfsStorage over the directory, and siltdb's own open().
// The engine runs here, compactions inline (OpfsStorage's kind is "opfs").

import type { Db } from "../db.ts";
import { open as openEngine } from "../open.ts";
import { SiltError } from "../errors.ts";
import { OpfsStorage } from "../storage/opfs/opfs_storage.ts";
import type { OpfsDirectoryHandle, OpfsLockManager } from "../storage/opfs/opfs_api.ts";
import type { BrowserOpenOptions } from "./types.ts";
import { checkName, splitOptions } from "./checks.ts";

/** An OPFS directory that can open subdirectories (the root from `navigator.storage.getDirectory()`). */
export interface OpfsRootHandle {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>;
}

/** Where a worker finds OPFS and Web Locks (tests pass fakes). */
export interface WorkerEnv {
  /** The OPFS root directory. Default `navigator.storage.getDirectory()`. */
  root?: () => Promise<OpfsRootHandle>;
  /** The Web Locks manager. Default `navigator.locks`; null for none. */
  locks?: OpfsLockManager | null;
}

interface NavigatorLike {
  storage?: { getDirectory?: () => Promise<OpfsRootHandle> };
  locks?: OpfsLockManager;
}

const navigatorLike = (): NavigatorLike | undefined =>
  (globalThis as unknown as { navigator?: NavigatorLike }).navigator;

/** Takes the Web Lock "siltdb:<name>"; resolves to its release function, or null when another holder has it. */
async function takeLock(locks: OpfsLockManager, name: string, wait: boolean): Promise<(() => void) | null> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  return await new Promise<(() => void) | null>((resolve, reject) => {
    locks.request(`siltdb:${name}`, { mode: "exclusive", ifAvailable: !wait }, (lock) => {
      if (lock === null || lock === undefined) {
        resolve(null);
        return undefined;
      }
      resolve(release);
      return held;
    }).catch((err) => reject(new SiltError("IO_ERROR", `taking the Web Lock of database "${name}" failed`, {}, err)));
  });
}

/** The OPFS root and the Web Locks of `env`, or of the browser. */
function resolveEnv(env: WorkerEnv): { locks: OpfsLockManager | null; getRoot: () => Promise<OpfsRootHandle> } {
  const nav = navigatorLike();
  const locks = env.locks === undefined ? nav?.locks ?? null : env.locks;
  const getRoot = env.root ?? (() => {
    const getDirectory = nav?.storage?.getDirectory;
    if (typeof getDirectory !== "function") {
      throw new SiltError(
        "IO_ERROR",
        "the Origin Private File System is not available here (navigator.storage.getDirectory is missing)",
      );
    }
    return getDirectory.call(nav!.storage);
  });
  return { locks, getRoot };
}

/**
 * Runs `work` on an OpfsStorage of the OPFS directory `siltdb-<name>` (a
 * database) or `siltdb-backup-<name>` (a backup directory), holding its
 * Web Lock meanwhile (LOCKED when another tab or worker holds it): the
 * target of a checkpoint or a restore, or a backup directory. The path of
 * the database in it is `/<name>`; of the backups, `/`.
 *
 * @example
 * ```ts ignore
 * declare const db: Db<unknown, unknown>;
 * await withOpfsDirectory("notes-copy", "database", {}, (fs) => db.checkpoint("/notes-copy", { fs }));
 * ```
 */
export async function withOpfsDirectory<T>(
  name: string,
  kind: "database" | "backup",
  env: WorkerEnv,
  work: (fs: OpfsStorage) => Promise<T>,
): Promise<T> {
  checkName(name);
  const { locks, getRoot } = resolveEnv(env);
  const id = kind === "database" ? name : `backup-${name}`;
  const release = locks === null ? () => {} : await takeLock(locks, id, false);
  if (release === null) throw new SiltError("LOCKED", `another tab or worker has ${kind} ${name} open`);
  let storage: OpfsStorage | undefined;
  try {
    const root = await getRoot();
    let dir: OpfsDirectoryHandle;
    try {
      dir = await root.getDirectoryHandle(`siltdb-${id}`, { create: true });
    } catch (err) {
      throw new SiltError("IO_ERROR", `opening the OPFS directory siltdb-${id} failed`, {}, err);
    }
    storage = await OpfsStorage.create(dir, { locks: null });
    return await work(storage);
  } finally {
    await storage?.close().catch(() => {});
    release();
  }
}

/**
 * Opens database `name` in this dedicated worker: OPFS directory
 * "siltdb-<name>", Web Lock "siltdb:<name>" (LOCKED when another tab or
 * worker holds it, unless `wait`), the engine itself (getSync, scanSync...).
 * Closing the database closes its storage and gives the lock back.
 *
 * @example
 * ```ts ignore
 * const db = await openInWorker("notes", { valueEncoding: "utf8" });
 * db.getSync("k");
 * await db.close();
 * ```
 */
export async function openInWorker(
  name: string,
  options?: BrowserOpenOptions,
  env: WorkerEnv = {},
): Promise<Db<unknown, unknown>> {
  checkName(name);
  const { wait, rest } = splitOptions(options);
  const { locks, getRoot } = resolveEnv(env);
  const release = locks === null ? () => {} : await takeLock(locks, name, wait);
  if (release === null) {
    throw new SiltError(
      "LOCKED",
      `another tab or worker has the database ${name} open (pass { wait: true } to wait until it is closed)`,
    );
  }
  let storage: OpfsStorage | undefined;
  try {
    const root = await getRoot();
    let dir: OpfsDirectoryHandle;
    try {
      dir = await root.getDirectoryHandle(`siltdb-${name}`, { create: true });
    } catch (err) {
      throw new SiltError("IO_ERROR", `opening the OPFS directory siltdb-${name} failed`, {}, err);
    }
    storage = await OpfsStorage.create(dir, { locks: null });
    const db = await openEngine(`/${name}`, { ...rest, fs: storage });
    const fs = storage;
    const closeEngine = db.close.bind(db);
    let cleaned: Promise<void> | undefined;
    const cleanup = () =>
      cleaned ??= (async () => {
        await fs.close().catch(() => {});
        release();
      })();
    Object.defineProperty(db, "close", {
      configurable: true,
      writable: true,
      value: async (): Promise<void> => {
        try {
          await closeEngine();
        } finally {
          if (db.status === "closed") await cleanup();
        }
      },
    });
    return db;
  } catch (err) {
    await storage?.close().catch(() => {});
    release();
    throw err;
  }
}
