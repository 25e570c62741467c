// Storage on the Origin Private File System (browsers), for a dedicated
// worker: siltdb's synchronous Storage interface over a pool of pre-opened
// slot files, the design of SQLite's "opfs-sahpool" VFS. This file wires
// the parts and owns the Storage calls:
//
//   ./slot_pool.ts    the slot files, their headers, free slots, refill
//   ./slot_file.ts    a slot (Slot) and a virtual file open on it (OpfsFile)
//   ./slot_header.ts  the slot file layout (drawn there and in docs/format.md)
//   ./namespace.ts    virtual paths -> slots, and directories
//   ./web_lock.ts     Storage.lock: one writer per path (Web Locks)
//   ./opfs_api.ts     the OPFS and Web Locks API, declared structurally
//
// The directory handed to OpfsStorage.create holds only slot files. A slot
// holds one virtual file (its path is written in the slot's header) or is
// free; creating, renaming and removing a virtual file rewrite slot headers,
// synchronously, each header change atomic (./slot_pool.ts). A rename:
//
// - rename(from, to): write from's slot header with path `to` and a new,
//   highest generation, flush; then free the slot that held `to` (if any).
//   A crash between the two steps leaves two slots claiming `to`: the next
//   create() keeps the higher generation (the renamed file) and frees the
//   other. A crash before the first flush leaves `from` as it was. Either
//   the old or the new file, never neither: rename is atomic with replace.
//
// May import: ./*, ../storage.ts (types), ../../_runtime.ts, ../../errors.ts.

import { SiltError } from "../../errors.ts";
import { ioError } from "../../_runtime.ts";
import type { LockOptions, OpenFileOptions, Storage, StorageFile, StorageLock } from "../storage.ts";
import { Namespace, normalizePath, parentOf } from "./namespace.ts";
import type { OpfsDirectoryHandle, OpfsLockManager } from "./opfs_api.ts";
import { OpfsFile, type Slot, withCode } from "./slot_file.ts";
import { MAX_PATH_BYTES } from "./slot_header.ts";
import { SlotPool } from "./slot_pool.ts";
import { OpfsLocks } from "./web_lock.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode OpfsStorage.create}. */
export interface OpfsStorageOptions {
  /** Free slots kept ready for synchronous creates. Default 16. */
  spareSlots?: number;
  /**
   * The Web Locks manager that keeps other tabs and workers out. Default
   * `navigator.locks` where it exists; `null` for none (in-process only).
   */
  locks?: OpfsLockManager | null;
  /**
   * Prefix of the Web Lock names (a lock is named prefix + the lock file's
   * path). Default `"siltdb-opfs:" + dir.name + ":"`. Web Lock names are
   * shared by the whole origin: give two storages over two different
   * directories with the same name different prefixes.
   */
  lockPrefix?: string;
}

/**
 * siltdb's storage on the Origin Private File System, for a dedicated worker
 * (where `createSyncAccessHandle` exists). Virtual files live in a pool of
 * slot files inside one OPFS directory; see the layout at the top of
 * src/storage/opfs/slot_header.ts. `siltdb/browser` opens databases on it.
 *
 * @example
 * ```ts ignore
 * import { open } from "siltdb";
 * import { OpfsStorage } from "./src/storage/opfs/opfs_storage.ts";
 * const root = await navigator.storage.getDirectory();
 * const dir = await root.getDirectoryHandle("siltdb", { create: true });
 * const fs = await OpfsStorage.create(dir);
 * const db = await open("/db", { fs });
 * ```
 */
export class OpfsStorage implements Storage {
  readonly kind = "opfs";
  readonly #pool: SlotPool;
  readonly #names = new Namespace<Slot>();
  readonly #locks: OpfsLocks;

  private constructor(pool: SlotPool, locks: OpfsLockManager | null, lockPrefix: string) {
    this.#pool = pool;
    this.#locks = new OpfsLocks(locks, lockPrefix, () => pool.closed);
    for (const slot of pool.held()) {
      this.#names.setFile(slot.path!, slot);
      this.#names.mkdir(parentOf(slot.path!));
    }
  }

  /**
   * Opens every slot file in `dir` (taking its sync access handle), reads
   * the headers, settles paths claimed twice (a rename cut by a crash: the
   * higher generation wins) and makes sure `spareSlots` free slots exist.
   * Fails with LOCKED if a slot is held by another handle (another tab or
   * worker, or an OpfsStorage not closed), IO_ERROR on other failures.
   */
  static async create(dir: OpfsDirectoryHandle, options: OpfsStorageOptions = {}): Promise<OpfsStorage> {
    const spare = options.spareSlots ?? 16;
    if (!Number.isInteger(spare) || spare < 0) {
      throw new SiltError("INVALID_ARGUMENT", `spareSlots must be a non-negative integer, got ${String(spare)}`);
    }
    const nav = (globalThis as { navigator?: { locks?: OpfsLockManager } }).navigator;
    const locks = options.locks === undefined ? nav?.locks ?? null : options.locks;
    const lockPrefix = options.lockPrefix ?? `siltdb-opfs:${dir.name}:`;
    return new OpfsStorage(await SlotPool.open(dir, spare), locks, lockPrefix);
  }

  /**
   * Creates slot files until `spareSlots` are free, now (a background
   * refill does it after creates use spares up); rejects with the IO_ERROR
   * if it cannot.
   */
  refill(): Promise<void> {
    return this.#pool.refill();
  }

  /** Resolves once no background refill runs (all spare slots are there, or refilling failed). */
  idle(): Promise<void> {
    return this.#pool.idle();
  }

  /** Slot files in the pool. */
  get slotCount(): number {
    return this.#pool.slotCount;
  }

  /** Slots free for new files now. */
  get freeSlots(): number {
    return this.#pool.freeSlots;
  }

  /** The last background refill failure, if the last refill failed. */
  get refillError(): unknown {
    return this.#pool.refillError;
  }

  /**
   * Closes every sync access handle (after any running refill). Files
   * opened through this storage stop working. Another OpfsStorage (in this
   * or another worker) can then open the directory.
   */
  async close(): Promise<void> {
    if (this.#pool.closed) return;
    await this.#pool.close();
    this.#locks.releaseAll();
  }

  open(path: string, options: OpenFileOptions = {}): StorageFile {
    const p = normalizePath(path);
    this.#pool.checkOpen("open", p);
    const existing = this.#names.file(p);
    if (existing !== undefined) {
      if (options.create && options.exclusive) throw ioError("open", p, withCode("file exists", "EEXIST"));
      return new OpfsFile(p, existing, this.#pool, !!(options.write || options.create));
    }
    if (!options.create) throw ioError("open", p, withCode("no such file", "ENOENT"));
    if (this.#names.isDir(p)) throw ioError("open", p, withCode("is a directory", "EISDIR"));
    if (!this.#names.isDir(parentOf(p))) throw ioError("open", p, withCode("no such directory", "ENOENT"));
    if (encoder.encode(p).length > MAX_PATH_BYTES) {
      throw ioError("open", p, withCode(`path longer than ${MAX_PATH_BYTES} bytes`, "ENAMETOOLONG"));
    }
    const slot = this.#pool.claim(p);
    this.#names.setFile(p, slot);
    return new OpfsFile(p, slot, this.#pool, true);
  }

  readFile(path: string): Uint8Array {
    const file = this.open(path);
    try {
      const out = new Uint8Array(file.size());
      const n = file.read(0, out);
      return n === out.length ? out : out.slice(0, n);
    } finally {
      file.close();
    }
  }

  list(dir: string): string[] {
    const d = normalizePath(dir);
    this.#pool.checkOpen("list", d);
    if (this.#names.hasFile(d)) throw ioError("list", d, withCode("not a directory", "ENOTDIR"));
    if (!this.#names.isDir(d)) throw ioError("list", d, withCode("no such directory", "ENOENT"));
    return this.#names.list(d);
  }

  exists(path: string): boolean {
    const p = normalizePath(path);
    return this.#names.hasFile(p) || this.#names.isDir(p);
  }

  mkdir(path: string): void {
    const p = normalizePath(path);
    this.#pool.checkOpen("mkdir", p);
    if (this.#names.hasFile(p)) throw ioError("mkdir", p, withCode("a file exists there", "EEXIST"));
    this.#names.mkdir(p);
  }

  rename(from: string, to: string): void {
    const f = normalizePath(from);
    const t = normalizePath(to);
    this.#pool.checkOpen("rename", f);
    const slot = this.#names.file(f);
    if (slot === undefined) throw ioError(`rename to ${t}:`, f, withCode("no such file", "ENOENT"));
    if (f === t) return;
    if (!this.#names.isDir(parentOf(t))) throw ioError(`rename to ${t}:`, f, withCode("no such directory", "ENOENT"));
    if (encoder.encode(t).length > MAX_PATH_BYTES) {
      throw ioError(`rename to ${t}:`, f, withCode(`path longer than ${MAX_PATH_BYTES} bytes`, "ENAMETOOLONG"));
    }
    const replaced = this.#names.file(t);
    // Step 1, the commit point: from's slot now claims `to`, with a
    // generation above the replaced slot's.
    try {
      this.#pool.writeHeader(slot, t);
    } catch (err) {
      throw ioError(`rename to ${t}:`, f, err);
    }
    this.#names.deleteFile(f);
    this.#names.setFile(t, slot);
    // Step 2: free the replaced file's slot. If this fails (or a crash comes
    // first), the next create() sees two claims and keeps the newer one.
    if (replaced !== undefined) this.#pool.free(replaced, `rename ${f} over`);
  }

  remove(path: string): void {
    const p = normalizePath(path);
    this.#pool.checkOpen("remove", p);
    const slot = this.#names.file(p);
    if (slot === undefined) {
      this.#names.removeEmptyDir(p);
      return;
    }
    this.#pool.free(slot, "remove");
    this.#names.deleteFile(p);
  }

  syncDir(dir: string): Promise<void> {
    // Nothing to do: directory entries are slot headers, and every header
    // change (create, rename, remove) was flushed before the call returned.
    // The OPFS directory itself changes only when slot files are added,
    // which no virtual file depends on.
    if (this.#pool.closed) {
      return Promise.reject(new SiltError("IO_ERROR", `sync directory ${dir} failed: the OPFS storage is closed`));
    }
    return Promise.resolve();
  }

  async lock(path: string, options: LockOptions = {}): Promise<StorageLock> {
    const p = normalizePath(path);
    this.#pool.checkOpen("lock", p);
    return await this.#locks.take(p, options);
  }
}
