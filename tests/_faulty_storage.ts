// A Storage over a MemoryStorage that counts every call (of the storage and
// of the files opened through it) once armed, and fails call number N: with
// an injected EIO, after running `before` (e.g. a simulated crash).

import { type MemoryStorage, SiltError, type Storage, type StorageFile } from "../mod.ts";

/** A storage whose calls can be made to fail by their index. */
export interface FaultyStorage extends Storage {
  /** Counts calls from now on; call `index` (0-based) fails (Infinity: none), after `before()`. */
  failAt(index: number, before?: () => void): void;
  /** Calls counted since failAt. */
  readonly calls: number;
}

/** Wraps `mem` (see above). */
export function faultyStorage(mem: MemoryStorage): FaultyStorage {
  let target = Infinity;
  let calls = 0;
  let before: (() => void) | undefined;
  const tick = (what: string) => {
    if (calls++ !== target) return;
    before?.();
    throw new SiltError("IO_ERROR", `injected failure of call ${target} (${what})`);
  };
  const wrapFile = (file: StorageFile): StorageFile => ({
    path: file.path,
    size: () => file.size(),
    read(position, into) {
      tick(`read ${file.path}`);
      return file.read(position, into);
    },
    append(data) {
      try {
        tick(`append ${file.path}`);
      } catch (err) {
        return Promise.reject(err);
      }
      return file.append(data);
    },
    appendSync(data) {
      tick(`appendSync ${file.path}`);
      file.appendSync(data);
    },
    writeAt(position, data) {
      tick(`writeAt ${file.path}`);
      file.writeAt!(position, data);
    },
    sync() {
      try {
        tick(`sync ${file.path}`);
      } catch (err) {
        return Promise.reject(err);
      }
      return file.sync();
    },
    syncNow() {
      tick(`syncNow ${file.path}`);
      file.syncNow!();
    },
    close: () => file.close(),
  });
  return {
    kind: mem.kind,
    failAt(index: number, run?: () => void) {
      target = index;
      calls = 0;
      before = run;
    },
    get calls() {
      return calls;
    },
    open(path, options) {
      tick(`open ${path}`);
      return wrapFile(mem.open(path, options));
    },
    readFile(path) {
      tick(`readFile ${path}`);
      return mem.readFile(path);
    },
    list(dir) {
      tick(`list ${dir}`);
      return mem.list(dir);
    },
    exists(path) {
      return mem.exists(path);
    },
    mkdir(path) {
      tick(`mkdir ${path}`);
      mem.mkdir(path);
    },
    rename(from, to) {
      tick(`rename ${from}`);
      mem.rename(from, to);
    },
    link(from, to) {
      tick(`link ${from}`);
      mem.link(from, to);
    },
    remove(path) {
      tick(`remove ${path}`);
      mem.remove(path);
    },
    async syncDir(dir) {
      tick(`syncDir ${dir}`);
      await mem.syncDir(dir);
    },
    lock(path, options) {
      return mem.lock(path, options);
    },
  };
}
