// Storage on node:fs, for Node and Bun.

import * as fs from "node:fs";
import { bunFlock, errnoCode, type Flock, ioError } from "../_runtime.ts";
import { acquireLease, type LeaseOps } from "./_lease_lock.ts";
import type { LockOptions, OpenFileOptions, Storage, StorageFile, StorageLock } from "./storage.ts";

class NodeFile implements StorageFile {
  #fd: number;
  #size: number;
  readonly path: string;

  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
    this.#size = fs.fstatSync(fd).size;
  }

  size(): number {
    return this.#size;
  }

  read(position: number, into: Uint8Array): number {
    try {
      let done = 0;
      while (done < into.length) {
        const n = fs.readSync(this.#fd, into, done, into.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      return done;
    } catch (err) {
      throw ioError("read", this.path, err);
    }
  }

  async append(data: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < data.length) {
        done += await new Promise<number>((ok, fail) =>
          fs.write(this.#fd, data, done, data.length - done, null, (err, n) => err ? fail(err) : ok(n))
        );
      }
    } catch (err) {
      throw ioError("append to", this.path, err);
    } finally {
      this.#size += done;
    }
  }

  appendSync(data: Uint8Array): void {
    let done = 0;
    try {
      while (done < data.length) done += fs.writeSync(this.#fd, data, done, data.length - done, null);
    } catch (err) {
      throw ioError("append to", this.path, err);
    } finally {
      this.#size += done;
    }
  }

  sync(): Promise<void> {
    return new Promise((ok, fail) =>
      fs.fdatasync(this.#fd, (err) => err ? fail(ioError("sync", this.path, err)) : ok())
    );
  }

  close(): void {
    if (this.#fd < 0) return;
    try {
      fs.closeSync(this.#fd);
    } finally {
      this.#fd = -1;
    }
  }
}

/**
 * Storage on the real file system through `node:fs`: the default in Node and Bun.
 *
 * @example
 * ```ts
 * import { NodeStorage, open } from "siltdb";
 * const db = await open("./data", { fs: new NodeStorage() });
 * await db.close();
 * ```
 */
export class NodeStorage implements Storage {
  readonly kind = "node";

  open(path: string, options: OpenFileOptions = {}): StorageFile {
    const write = options.write || options.create;
    let flags = write ? fs.constants.O_RDWR | fs.constants.O_APPEND : fs.constants.O_RDONLY;
    if (options.create) flags |= fs.constants.O_CREAT;
    if (options.exclusive) flags |= fs.constants.O_EXCL;
    try {
      return new NodeFile(path, fs.openSync(path, flags, 0o644));
    } catch (err) {
      throw ioError("open", path, err);
    }
  }

  readFile(path: string): Uint8Array {
    try {
      return new Uint8Array(fs.readFileSync(path));
    } catch (err) {
      throw ioError("read", path, err);
    }
  }

  list(dir: string): string[] {
    try {
      return fs.readdirSync(dir);
    } catch (err) {
      throw ioError("list", dir, err);
    }
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  mkdir(path: string): void {
    try {
      fs.mkdirSync(path, { recursive: true });
    } catch (err) {
      throw ioError("create directory", path, err);
    }
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(from, to);
    } catch (err) {
      throw ioError(`rename to ${to}:`, from, err);
    }
  }

  remove(path: string): void {
    try {
      fs.rmSync(path, { force: true });
    } catch (err) {
      throw ioError("remove", path, err);
    }
  }

  syncDir(dir: string): Promise<void> {
    return new Promise((ok, fail) => {
      fs.open(dir, "r", (err, fd) => {
        if (err) return fail(ioError("open directory", dir, err));
        fs.fsync(fd, (syncErr) => {
          fs.close(fd, () => syncErr ? fail(ioError("sync directory", dir, syncErr)) : ok());
        });
      });
    });
  }

  async lock(path: string, options?: LockOptions): Promise<StorageLock> {
    return acquireLease(path, nodeLeaseOps(await bunFlock()), options);
  }
}

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

/** The lease protocol's file operations on node:fs; flock through bun:ffi when given. */
function nodeLeaseOps(flock: Flock | undefined): LeaseOps<number> {
  const missing = (err: unknown, code: string) => errnoCode(err) === code;
  return {
    createNew(path) {
      try {
        return fs.openSync(path, "wx+", 0o644);
      } catch (err) {
        if (missing(err, "EEXIST")) return undefined;
        throw ioError("create lock", path, err);
      }
    },
    openExisting(path, readOnly) {
      try {
        return fs.openSync(path, readOnly ? "r" : "r+");
      } catch (err) {
        if (missing(err, "ENOENT")) return undefined;
        throw ioError("open lock", path, err);
      }
    },
    writeAt0(fd, data) {
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, done);
    },
    tryOsLock(fd, exclusive) {
      if (flock === undefined) return undefined;
      return flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) === 0;
    },
    handleInode: (fd) => fs.fstatSync(fd).ino,
    close: (fd) => fs.closeSync(fd),
    readFile(path) {
      try {
        return new Uint8Array(fs.readFileSync(path));
      } catch (err) {
        if (missing(err, "ENOENT")) return undefined;
        throw ioError("read", path, err);
      }
    },
    inode(path) {
      try {
        return fs.statSync(path).ino;
      } catch (err) {
        if (missing(err, "ENOENT")) return undefined;
        throw ioError("stat", path, err);
      }
    },
    link(from, to) {
      try {
        fs.linkSync(from, to);
        return true;
      } catch (err) {
        if (missing(err, "EEXIST")) return false;
        throw ioError(`link to ${to}:`, from, err);
      }
    },
    rename(from, to) {
      try {
        fs.renameSync(from, to);
      } catch (err) {
        throw ioError(`rename to ${to}:`, from, err);
      }
    },
    remove: (path) => fs.rmSync(path, { force: true }),
    readLink(path) {
      try {
        return fs.readlinkSync(path);
      } catch {
        return undefined;
      }
    },
  };
}
