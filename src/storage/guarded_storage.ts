// A database's view of its storage: every operation first checks that the
// database still holds its directory lock. With in-memory storage, a
// simulated crash takes the lock away, and a database object from before the
// crash (whose process would be dead) then fails instead of touching the
// files of the database opened after it.

import { SiltError } from "../errors.ts";
import type { OpenFileOptions, Storage, StorageFile, StorageLock } from "./storage.ts";

/** Wraps storage so that every operation requires the lock to be valid. */
export function guardStorage(fs: Storage, lock: StorageLock): Storage {
  const check = (path: string) => {
    if (lock.valid === false) throw new SiltError("IO_ERROR", `${path}: the database lost its directory lock (simulated crash)`, { file: path });
  };
  return {
    kind: fs.kind,
    open(path: string, options?: OpenFileOptions): StorageFile {
      check(path);
      return fs.open(path, options);
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
    lock(path: string) {
      return fs.lock(path);
    },
  };
}
