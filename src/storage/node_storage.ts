// Storage on node:fs, for Node and Bun.

import * as fs from "node:fs";
import { bunFlock, ioError } from "../_runtime.ts";
import { acquireLease } from "./lock/lease_lock.ts";
import { nodeLeaseOps } from "./lock/node_lease_ops.ts";
import type { LockOptions, OpenFileOptions, Storage, StorageFile, StorageLock } from "./storage.ts";

class NodeFile implements StorageFile {
  #fd: number;
  #size: number;
  /** Appends at the tracked size (the file was opened without O_APPEND); false: at the end (O_APPEND). */
  #positional: boolean;
  readonly path: string;

  constructor(path: string, fd: number, positional: boolean) {
    this.path = path;
    this.#fd = fd;
    this.#size = fs.fstatSync(fd).size;
    this.#positional = positional;
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
        const at = this.#positional ? this.#size + done : null;
        done += await new Promise<number>((ok, fail) =>
          fs.write(this.#fd, data, done, data.length - done, at, (err, n) => err ? fail(err) : ok(n))
        );
      }
    } catch (err) {
      throw ioError("append to", this.path, err);
    } finally {
      this.#size += done;
    }
  }

  appendSync(data: Uint8Array): void {
    this.#writeSync(this.#positional ? this.#size : null, data, "append to");
  }

  writeAt(position: number, data: Uint8Array): void {
    if (!this.#positional) throw new Error(`siltdb internal error: ${this.path} was not opened for positional writes`);
    this.#writeSync(position, data, "write to");
  }

  /** Writes all of data at position (null: at the end, O_APPEND); the size grows by what got written. */
  #writeSync(position: number | null, data: Uint8Array, what: string): void {
    let done = 0;
    try {
      while (done < data.length) {
        done += fs.writeSync(this.#fd, data, done, data.length - done, position === null ? null : position + done);
      }
    } catch (err) {
      throw ioError(what, this.path, err);
    } finally {
      this.#size = position === null ? this.#size + done : Math.max(this.#size, position + done);
    }
  }

  sync(): Promise<void> {
    return new Promise((ok, fail) =>
      fs.fdatasync(this.#fd, (err) => err ? fail(ioError("sync", this.path, err)) : ok())
    );
  }

  syncNow(): void {
    try {
      fs.fdatasyncSync(this.#fd);
    } catch (err) {
      throw ioError("sync", this.path, err);
    }
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
    const positional = write === true && options.positional === true;
    let flags = write ? fs.constants.O_RDWR : fs.constants.O_RDONLY;
    if (write && !positional) flags |= fs.constants.O_APPEND;
    if (options.create) flags |= fs.constants.O_CREAT;
    if (options.exclusive) flags |= fs.constants.O_EXCL;
    try {
      return new NodeFile(path, fs.openSync(path, flags, 0o644), positional);
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

  link(from: string, to: string): void {
    try {
      fs.linkSync(from, to);
    } catch (err) {
      throw ioError(`link to ${to}:`, from, err);
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
