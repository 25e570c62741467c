// Storage on Deno's own file APIs.

import { deno, type DenoFile, type DenoNamespace, errnoCode, ioError } from "../_runtime.ts";
import { SiltError } from "../errors.ts";
import { acquireLease } from "./lock/lease_lock.ts";
import { denoLeaseOps } from "./lock/deno_lease_ops.ts";
import {
  asPromise,
  type LockOptions,
  type OpenFileOptions,
  type Storage,
  type StorageFile,
  type StorageLock,
} from "./storage.ts";

const SEEK_START = 0;

class DenoStorageFile implements StorageFile {
  #file: DenoFile | undefined;
  #size: number;
  /** Opened without append: every write goes to its position (appends: the tracked size). */
  #positional: boolean;
  /**
   * The handle's file offset where this object last left it (undefined:
   * unknown). Deno has no positional read or write: a read or a positional
   * write seeks first, unless the offset is already there (a log's records
   * follow one another: one system call a record instead of two).
   */
  #offset: number | undefined;
  readonly path: string;

  constructor(path: string, file: DenoFile, positional: boolean) {
    this.path = path;
    this.#file = file;
    this.#size = file.statSync().size;
    this.#positional = positional;
  }

  #handle(): DenoFile {
    if (this.#file === undefined) throw new SiltError("IO_ERROR", `${this.path} is closed`, { file: this.path });
    return this.#file;
  }

  size(): number {
    return this.#size;
  }

  read(position: number, into: Uint8Array): number {
    const file = this.#handle();
    this.#seekTo(file, position, "read");
    let done = 0;
    try {
      while (done < into.length) {
        const n = file.readSync(into.subarray(done));
        if (n === null || n === 0) break;
        done += n;
      }
      this.#offset = position + done;
      return done;
    } catch (err) {
      this.#offset = undefined;
      throw ioError("read", this.path, err);
    }
  }

  async append(data: Uint8Array): Promise<void> {
    // A positional file's offset is shared with reads: seek and write in one synchronous step.
    if (this.#positional) return asPromise(() => this.appendSync(data));
    const file = this.#handle();
    this.#offset = undefined; // append mode moves it to the end, wherever that is
    let done = 0;
    try {
      while (done < data.length) done += await file.write(data.subarray(done));
    } catch (err) {
      throw ioError("append to", this.path, err);
    } finally {
      this.#size += done;
      this.#offset = undefined; // a read meanwhile may have set it before the write moved it
    }
  }

  appendSync(data: Uint8Array): void {
    this.#writeSync(this.#positional ? this.#size : null, data, "append to");
  }

  writeAt(position: number, data: Uint8Array): void {
    if (!this.#positional) throw new Error(`siltdb internal error: ${this.path} was not opened for positional writes`);
    this.#writeSync(position, data, "write to");
  }

  /** Writes all of data at position (null: at the end, append mode); the size grows by what got written. */
  #writeSync(position: number | null, data: Uint8Array, what: string): void {
    const file = this.#handle();
    if (position !== null) this.#seekTo(file, position, what);
    else this.#offset = undefined;
    let done = 0;
    try {
      while (done < data.length) done += file.writeSync(data.subarray(done));
      if (position !== null) this.#offset = position + done;
    } catch (err) {
      this.#offset = undefined;
      throw ioError(what, this.path, err);
    } finally {
      this.#size = position === null ? this.#size + done : Math.max(this.#size, position + done);
    }
  }

  /** Moves the handle's offset to position, unless this object left it there (what: the call, for its error). */
  #seekTo(file: DenoFile, position: number, what: string): void {
    if (this.#offset === position) return;
    this.#offset = undefined;
    try {
      file.seekSync(position, SEEK_START);
    } catch (err) {
      throw ioError(what, this.path, err);
    }
    this.#offset = position;
  }

  async sync(): Promise<void> {
    try {
      await this.#handle().syncData();
    } catch (err) {
      throw ioError("sync", this.path, err);
    }
  }

  syncNow(): void {
    try {
      this.#handle().syncDataSync();
    } catch (err) {
      throw ioError("sync", this.path, err);
    }
  }

  close(): void {
    const file = this.#file;
    this.#file = undefined;
    file?.close();
  }
}

/**
 * Storage on the real file system through Deno's APIs: the default in Deno.
 *
 * @example
 * ```ts
 * import { DenoStorage, open } from "siltdb";
 * const db = await open("./data", { fs: new DenoStorage() });
 * await db.close();
 * ```
 */
export class DenoStorage implements Storage {
  readonly kind = "deno";
  readonly #deno: DenoNamespace;

  constructor() {
    if (deno === undefined) throw new SiltError("INVALID_ARGUMENT", "DenoStorage needs the Deno runtime");
    this.#deno = deno;
  }

  open(path: string, options: OpenFileOptions = {}): StorageFile {
    const write = options.write || options.create;
    const positional = write === true && options.positional === true;
    try {
      const file = this.#deno.openSync(path, {
        read: true,
        ...(positional ? { write: true } : { append: write }),
        create: options.create && !options.exclusive,
        createNew: options.create && options.exclusive,
      });
      return new DenoStorageFile(path, file, positional);
    } catch (err) {
      throw ioError("open", path, err);
    }
  }

  readFile(path: string): Uint8Array {
    try {
      return this.#deno.readFileSync(path);
    } catch (err) {
      throw ioError("read", path, err);
    }
  }

  list(dir: string): string[] {
    try {
      return [...this.#deno.readDirSync(dir)].map((entry) => entry.name);
    } catch (err) {
      throw ioError("list", dir, err);
    }
  }

  exists(path: string): boolean {
    try {
      this.#deno.statSync(path);
      return true;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return false;
      throw ioError("stat", path, err);
    }
  }

  mkdir(path: string): void {
    try {
      this.#deno.mkdirSync(path, { recursive: true });
    } catch (err) {
      throw ioError("create directory", path, err);
    }
  }

  rename(from: string, to: string): void {
    try {
      this.#deno.renameSync(from, to);
    } catch (err) {
      throw ioError(`rename to ${to}:`, from, err);
    }
  }

  link(from: string, to: string): void {
    try {
      this.#deno.linkSync(from, to);
    } catch (err) {
      throw ioError(`link to ${to}:`, from, err);
    }
  }

  remove(path: string): void {
    try {
      this.#deno.removeSync(path);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw ioError("remove", path, err);
    }
  }

  async syncDir(dir: string): Promise<void> {
    let handle: DenoFile | undefined;
    try {
      handle = this.#deno.openSync(dir, { read: true });
      await handle.sync();
    } catch (err) {
      throw ioError("sync directory", dir, err);
    } finally {
      handle?.close();
    }
  }

  lock(path: string, options?: LockOptions): Promise<StorageLock> {
    return acquireLease(path, denoLeaseOps(this.#deno), options);
  }
}
