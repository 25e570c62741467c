// A database's view of its storage: every operation, on the storage and on
// the files opened through it, first checks that the database still holds
// its directory lock. A database that lost its lock (another process took
// the directory over because this one looked dead, or, with in-memory
// storage, a simulated crash "killed" it) then fails instead of touching the
// files of the database opened after it.

import { SiltError } from "../errors.ts";
import type { OpenFileOptions, Storage, StorageFile, StorageLock } from "./storage.ts";

/**
 * Wraps storage so that every operation requires the lock to be valid.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "./memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const guarded = guardStorage(fs, await fs.lock("/db/LOCK")); // what an open database uses
 * fs.crash(); // a simulated crash: the process that held the lock is gone
 * guarded.list("/db"); // throws LOCKED: the database lost its directory lock
 * ```
 */
export function guardStorage(fs: Storage, lock: StorageLock): Storage {
  const check = (path: string) => {
    if (lock.valid === false) {
      throw new SiltError(
        "LOCKED",
        `${path}: the database lost its directory lock (${lock.lostReason ?? "taken over"}); it touches no file`,
        {
          file: path,
        },
      );
    }
  };
  const guardFile = (file: StorageFile): StorageFile => ({
    path: file.path,
    size: () => file.size(),
    read(position, into) {
      check(file.path);
      return file.read(position, into);
    },
    append(data) {
      try {
        check(file.path);
      } catch (err) {
        return Promise.reject(err);
      }
      return file.append(data);
    },
    appendSync(data) {
      check(file.path);
      file.appendSync(data);
    },
    ...(file.writeAt && {
      writeAt(position: number, data: Uint8Array) {
        check(file.path);
        file.writeAt!(position, data);
      },
    }),
    sync() {
      try {
        check(file.path);
      } catch (err) {
        return Promise.reject(err);
      }
      return file.sync();
    },
    ...(file.syncNow && {
      syncNow() {
        check(file.path);
        file.syncNow!();
      },
    }),
    close: () => file.close(),
  });
  const link = fs.link?.bind(fs);
  return {
    kind: fs.kind,
    ...(link && {
      link(from: string, to: string) {
        check(from);
        link(from, to);
      },
    }),
    open(path: string, options?: OpenFileOptions): StorageFile {
      check(path);
      return guardFile(fs.open(path, options));
    },
    readFile(path: string) {
      check(path);
      return fs.readFile(path);
    },
    list(dir: string) {
      check(dir);
      return fs.list(dir);
    },
    exists(path: string) {
      check(path);
      return fs.exists(path);
    },
    mkdir(path: string) {
      check(path);
      fs.mkdir(path);
    },
    rename(from: string, to: string) {
      check(from);
      fs.rename(from, to);
    },
    remove(path: string) {
      check(path);
      fs.remove(path);
    },
    async syncDir(dir: string) {
      check(dir);
      await fs.syncDir(dir);
    },
    lock(path, options) {
      return fs.lock(path, options);
    },
  };
}
