// Storage on the Origin Private File System (browsers), for a dedicated
// worker: siltdb's synchronous Storage interface over a pool of pre-opened
// slot files, the design of SQLite's "opfs-sahpool" VFS.
//
// Why a pool: OPFS reads and writes synchronously only through a
// FileSystemSyncAccessHandle (read/write at an offset, getSize, truncate,
// flush, close), but every way to get one (getFileHandle,
// createSyncAccessHandle) and every change to a directory (removeEntry, move)
// is asynchronous, while Storage.open/rename/remove/list are synchronous. So
// the directory handed to OpfsStorage.create holds only slot files
// ("slot-00001.silt", ...), each opened once with a sync access handle when
// the storage is created. A slot either holds one virtual file (its path is
// written in the slot's header) or is free. Creating, renaming and removing
// a virtual file rewrite slot headers, synchronously; no OPFS directory
// operation happens after create() except in the background refill, which
// adds slot files so that some are always free.
//
// The slot files and their headers: src/storage/opfs/slot_header.ts.
//
// A slot's state is the valid copy (magic, version and checksum good) with
// the higher generation; a slot with no valid copy, or shorter than 4096
// bytes, is free. Every header change writes the copy that is NOT the
// current one, with a generation above every generation in the pool, then
// flushes: a torn header write (a crash in the middle of it) leaves the
// other copy, the slot's previous state, intact. So a header change is
// atomic: a crash leaves the old state or the new one.
//
// - create a file: truncate a free slot to 4096 bytes, flush (no old bytes
//   can reappear past the new header), write the header, flush.
// - rename(from, to): write from's slot header with path `to` and a new,
//   highest generation, flush; then free the slot that held `to` (if any).
//   A crash between the two steps leaves two slots claiming `to`: the next
//   create() keeps the higher generation (the renamed file) and frees the
//   other. A crash before the first flush leaves `from` as it was. Either
//   the old or the new file, never neither: rename is atomic with replace.
// - remove: write a free header, flush, truncate to 4096 (gives the space
//   back to the quota; not flushed, the header already says free).
//
// A slot freed while a StorageFile still has it open (a table removed while
// a reader holds it, as POSIX allows) is not reused until the last such file
// is closed: its bytes stay readable through the open files.

import { SiltError } from "../errors.ts";
import { ioError } from "../_runtime.ts";
import type { LockOptions, OpenFileOptions, Storage, StorageFile, StorageLock } from "./storage.ts";
import type { OpfsDirectoryHandle, OpfsLockManager, OpfsStorageOptions } from "./opfs/opfs_api.ts";
import { OpfsFile, Slot, withCode } from "./opfs/slot_file.ts";
import {
  COPY_SIZE,
  decodeCopy,
  encodeCopy,
  MAX_PATH_BYTES,
  SLOT_HEADER_SIZE,
  SLOT_NAME,
  slotFileName,
} from "./opfs/slot_header.ts";

export type {
  OpfsDirectoryHandle,
  OpfsFileHandle,
  OpfsLockManager,
  OpfsStorageOptions,
  OpfsSyncAccessHandle,
} from "./opfs/opfs_api.ts";
export { SLOT_HEADER_SIZE, slotFileName } from "./opfs/slot_header.ts";

const encoder = new TextEncoder();

/** Normalizes a path: absolute, no "." or ".." or empty segments. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Web Locks this process gave back and that are not free yet, by name. */
const releasingWebLocks = new Map<string, Promise<void>>();

/**
 * siltdb's storage on the Origin Private File System, for a dedicated worker
 * (where `createSyncAccessHandle` exists). Virtual files live in a pool of
 * slot files inside one OPFS directory; see the layout at the top of
 * src/storage/opfs_storage.ts.
 *
 * @example
 * ```ts ignore
 * import { open } from "siltdb";
 * import { OpfsStorage } from "./src/storage/opfs_storage.ts";
 * const root = await navigator.storage.getDirectory();
 * const dir = await root.getDirectoryHandle("siltdb", { create: true });
 * const fs = await OpfsStorage.create(dir);
 * const db = await open("/db", { fs });
 * ```
 */
export class OpfsStorage implements Storage {
  readonly kind = "opfs";
  readonly #dir: OpfsDirectoryHandle;
  readonly #spare: number;
  readonly #locks: OpfsLockManager | null;
  readonly #lockPrefix: string;
  #slots: Slot[] = [];
  #byPath = new Map<string, Slot>();
  #free: Slot[] = [];
  #dirs = new Set<string>(["/"]);
  #maxGeneration = 0;
  #nextSlotNumber = 1;
  #refill: Promise<void> | undefined;
  #refillError: unknown;
  #closed = false;
  #ownLocks = new Map<string, () => void>();

  private constructor(dir: OpfsDirectoryHandle, options: OpfsStorageOptions) {
    this.#dir = dir;
    const spare = options.spareSlots ?? 16;
    if (!Number.isInteger(spare) || spare < 0) {
      throw new SiltError("INVALID_ARGUMENT", `spareSlots must be a non-negative integer, got ${String(spare)}`);
    }
    this.#spare = spare;
    const nav = (globalThis as { navigator?: { locks?: OpfsLockManager } }).navigator;
    this.#locks = options.locks === undefined ? nav?.locks ?? null : options.locks;
    this.#lockPrefix = options.lockPrefix ?? `siltdb-opfs:${dir.name}:`;
  }

  /**
   * Opens every slot file in `dir` (taking its sync access handle), reads
   * the headers, settles paths claimed twice (a rename cut by a crash: the
   * higher generation wins) and makes sure `spareSlots` free slots exist.
   * Fails with LOCKED if a slot is held by another handle (another tab or
   * worker, or an OpfsStorage not closed), IO_ERROR on other failures.
   */
  static async create(dir: OpfsDirectoryHandle, options: OpfsStorageOptions = {}): Promise<OpfsStorage> {
    const storage = new OpfsStorage(dir, options);
    await storage.#load();
    return storage;
  }

  async #load(): Promise<void> {
    const numbers: number[] = [];
    try {
      for await (const entry of this.#dir.values()) {
        const m = entry.kind === "file" ? SLOT_NAME.exec(entry.name) : null;
        if (m) numbers.push(Number(m[1]));
      }
    } catch (err) {
      throw ioError("list", `OPFS directory "${this.#dir.name}"`, err);
    }
    numbers.sort((a, b) => a - b);
    if (numbers.length > 0) this.#nextSlotNumber = Math.max(this.#nextSlotNumber, numbers[numbers.length - 1] + 1);
    try {
      // All handles at once: taken one after another, a store of 22 files
      // spent ~30 ms of a ~43 ms open here (Chromium).
      const opened = await Promise.allSettled(numbers.map(async (n) => {
        const name = slotFileName(n);
        try {
          const file = await this.#dir.getFileHandle(name);
          return new Slot(name, await file.createSyncAccessHandle());
        } catch (err) {
          if ((err as { name?: unknown } | null)?.name === "NoModificationAllowedError") {
            throw new SiltError(
              "LOCKED",
              `OPFS directory "${this.#dir.name}" is open elsewhere (another tab or worker, or an OpfsStorage not closed): ${name} is held`,
              { file: name },
              err,
            );
          }
          throw ioError("open slot", name, err);
        }
      }));
      for (const result of opened) if (result.status === "fulfilled") this.#slots.push(result.value);
      const failed = opened.find((result) => result.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      for (const slot of this.#slots) this.#readHeader(slot);
      // Paths claimed by several slots: a rename cut short by a crash.
      const claims = new Map<string, Slot>();
      for (const slot of this.#slots) {
        if (slot.path === null) continue;
        const other = claims.get(slot.path);
        if (other === undefined) claims.set(slot.path, slot);
        else if (other.generation < slot.generation) {
          claims.set(slot.path, slot);
          this.#freeSlot(other, "settle");
        } else this.#freeSlot(slot, "settle");
      }
      for (const slot of this.#slots) {
        if (slot.path !== null) this.#byPath.set(slot.path, slot);
        else if (!this.#free.includes(slot)) this.#free.push(slot);
      }
      for (const path of this.#byPath.keys()) this.#addDirs(parentOf(path));
      await this.#fill();
    } catch (err) {
      this.#closeHandles();
      throw err;
    }
  }

  #readHeader(slot: Slot): void {
    try {
      const total = slot.handle.getSize();
      if (total < SLOT_HEADER_SIZE) return;
      const buf = new Uint8Array(SLOT_HEADER_SIZE);
      slot.handle.read(buf, { at: 0 });
      const a = decodeCopy(buf.subarray(0, COPY_SIZE));
      const b = decodeCopy(buf.subarray(COPY_SIZE));
      const best = a && (!b || a.generation >= b.generation) ? a : b;
      if (best === undefined) return;
      slot.current = best === a ? 0 : 1;
      slot.generation = best.generation;
      slot.path = best.path;
      slot.size = total - SLOT_HEADER_SIZE;
      this.#maxGeneration = Math.max(this.#maxGeneration, a?.generation ?? 0, b?.generation ?? 0);
    } catch (err) {
      throw ioError("read header of slot", slot.name, err);
    }
  }

  /** Writes a new header (the other copy, a new highest generation) and flushes. */
  #writeHeader(slot: Slot, path: string | null): void {
    const generation = ++this.#maxGeneration;
    const copy = 1 - slot.current;
    const bytes = encodeCopy(path, generation);
    let done = 0;
    while (done < bytes.length) {
      const n = slot.handle.write(bytes.subarray(done), { at: copy * COPY_SIZE + done });
      if (n <= 0) throw withCode(`wrote ${done} of ${bytes.length} header bytes`, "EIO");
      done += n;
    }
    slot.handle.flush();
    slot.current = copy;
    slot.generation = generation;
    slot.path = path;
  }

  /** Frees a slot: a free header, flushed; back to the pool unless files have it open. */
  #freeSlot(slot: Slot, op: string): void {
    try {
      this.#writeHeader(slot, null);
    } catch (err) {
      throw ioError(op, slot.name, err);
    }
    if (slot.openFiles > 0) {
      slot.zombie = true;
      return;
    }
    this.#recycle(slot);
  }

  #recycle(slot: Slot): void {
    slot.zombie = false;
    try {
      // Gives the space back; the header already says free, so this needs no flush.
      if (slot.handle.getSize() > SLOT_HEADER_SIZE) slot.handle.truncate(SLOT_HEADER_SIZE);
    } catch {
      // The slot is free whatever its size: the next claim truncates it again.
    }
    slot.size = 0;
    this.#free.push(slot);
  }

  /** @internal A file on the slot was closed. */
  released(slot: Slot): void {
    if (slot.zombie && slot.openFiles === 0 && !this.#closed) this.#recycle(slot);
  }

  /** @internal Throws when the storage was closed. */
  checkOpen(op: string, path: string): void {
    if (this.#closed) {
      throw new SiltError("IO_ERROR", `${op} ${path} failed: the OPFS storage is closed`, { file: path });
    }
  }

  /** Creates slot files until `spareSlots` are free. */
  async #fill(): Promise<void> {
    while (this.#free.length < this.#spare && !this.#closed) {
      // The missing slots at once (creating them one by one costs a round
      // trip each); a failure leaves the others in the pool.
      const names = Array.from({ length: this.#spare - this.#free.length }, () => slotFileName(this.#nextSlotNumber++));
      const created = await Promise.allSettled(names.map(async (name) => {
        try {
          const file = await this.#dir.getFileHandle(name, { create: true });
          return await file.createSyncAccessHandle();
        } catch (err) {
          throw ioError("create slot", name, err);
        }
      }));
      let failure: unknown;
      created.forEach((result, i) => {
        if (result.status === "rejected") {
          failure ??= result.reason;
          return;
        }
        const handle = result.value;
        if (this.#closed) {
          handle.close();
          return;
        }
        try {
          // A slot file left by an earlier, unfinished refill may hold bytes.
          if (handle.getSize() !== 0) handle.truncate(0);
        } catch (err) {
          handle.close();
          failure ??= ioError("create slot", names[i], err);
          return;
        }
        const slot = new Slot(names[i], handle);
        this.#slots.push(slot);
        this.#free.push(slot);
      });
      if (failure !== undefined) throw failure;
    }
  }

  /** Starts a background refill when the free slots ran low. */
  #maybeRefill(): void {
    if (this.#refill !== undefined || this.#closed || this.#free.length >= this.#spare) return;
    this.#refill = this.#fill().then(
      () => {
        this.#refillError = undefined;
      },
      (err) => {
        this.#refillError = err;
      },
    ).finally(() => {
      this.#refill = undefined;
      // Slots used up while this refill ran.
      if (this.#refillError === undefined) this.#maybeRefill();
    });
  }

  /**
   * Creates slot files until `spareSlots` are free, now (a background
   * refill does it after creates use spares up); rejects with the IO_ERROR
   * if it cannot.
   */
  async refill(): Promise<void> {
    await this.idle();
    this.#refillError = undefined;
    this.#maybeRefill();
    await this.idle();
    if (this.#refillError !== undefined) throw this.#refillError;
  }

  /** Resolves once no background refill runs (all spare slots are there, or refilling failed). */
  async idle(): Promise<void> {
    while (this.#refill !== undefined) await this.#refill;
  }

  /** Slot files in the pool. */
  get slotCount(): number {
    return this.#slots.length;
  }

  /** Slots free for new files now. */
  get freeSlots(): number {
    return this.#free.length;
  }

  /** The last background refill failure, if the last refill failed. */
  get refillError(): unknown {
    return this.#refillError;
  }

  /**
   * Closes every sync access handle (after any running refill). Files
   * opened through this storage stop working. Another OpfsStorage (in this
   * or another worker) can then open the directory.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#refill?.catch(() => {});
    this.#closeHandles();
    for (const release of [...this.#ownLocks.values()]) release();
    this.#ownLocks.clear();
  }

  #closeHandles(): void {
    for (const slot of this.#slots) {
      try {
        slot.handle.close();
      } catch {
        // already closed or invalidated
      }
    }
  }

  #addDirs(dir: string): void {
    let d = dir;
    while (!this.#dirs.has(d)) {
      this.#dirs.add(d);
      d = parentOf(d);
    }
  }

  #isDir(p: string): boolean {
    if (this.#dirs.has(p)) return true;
    const prefix = p === "/" ? "/" : p + "/";
    for (const path of this.#byPath.keys()) if (path.startsWith(prefix)) return true;
    return false;
  }

  open(path: string, options: OpenFileOptions = {}): StorageFile {
    const p = normalizePath(path);
    this.checkOpen("open", p);
    const existing = this.#byPath.get(p);
    if (existing !== undefined) {
      if (options.create && options.exclusive) throw ioError("open", p, withCode("file exists", "EEXIST"));
      return new OpfsFile(p, existing, this, !!(options.write || options.create));
    }
    if (!options.create) throw ioError("open", p, withCode("no such file", "ENOENT"));
    if (this.#dirs.has(p) || this.#isDir(p)) throw ioError("open", p, withCode("is a directory", "EISDIR"));
    if (!this.#isDir(parentOf(p))) throw ioError("open", p, withCode("no such directory", "ENOENT"));
    if (encoder.encode(p).length > MAX_PATH_BYTES) {
      throw ioError("open", p, withCode(`path longer than ${MAX_PATH_BYTES} bytes`, "ENAMETOOLONG"));
    }
    const slot = this.#free.shift();
    if (slot === undefined) {
      this.#maybeRefill();
      const why = this.#refillError === undefined
        ? "refilling has not caught up"
        : `refilling failed: ${(this.#refillError as Error)?.message ?? String(this.#refillError)}`;
      throw new SiltError(
        "IO_ERROR",
        `create ${p} failed: the OPFS slot pool is exhausted (${this.#slots.length} slots, none free; ${why})`,
        { file: p },
        this.#refillError,
      );
    }
    try {
      if (slot.handle.getSize() !== SLOT_HEADER_SIZE) {
        slot.handle.truncate(SLOT_HEADER_SIZE);
        slot.handle.flush();
      }
      slot.size = 0;
      this.#writeHeader(slot, p);
    } catch (err) {
      // The header was not (fully) written: the slot's old copy still says free.
      slot.path = null;
      this.#free.unshift(slot);
      throw ioError("create", p, err);
    } finally {
      this.#maybeRefill();
    }
    this.#byPath.set(p, slot);
    return new OpfsFile(p, slot, this, true);
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
    this.checkOpen("list", d);
    if (this.#byPath.has(d)) throw ioError("list", d, withCode("not a directory", "ENOTDIR"));
    if (!this.#isDir(d)) throw ioError("list", d, withCode("no such directory", "ENOENT"));
    const prefix = d === "/" ? "/" : d + "/";
    const names = new Set<string>();
    const add = (p: string) => {
      if (p.length > prefix.length && p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        const i = rest.indexOf("/");
        names.add(i < 0 ? rest : rest.slice(0, i));
      }
    };
    for (const p of this.#byPath.keys()) add(p);
    for (const p of this.#dirs) add(p);
    return [...names].sort();
  }

  exists(path: string): boolean {
    const p = normalizePath(path);
    return this.#byPath.has(p) || this.#isDir(p);
  }

  mkdir(path: string): void {
    const p = normalizePath(path);
    this.checkOpen("mkdir", p);
    if (this.#byPath.has(p)) throw ioError("mkdir", p, withCode("a file exists there", "EEXIST"));
    // Directories are implied by file paths; an empty one lives in memory
    // only (it needs no slot, and nothing is lost if it vanishes at a crash:
    // open() recreates the database directory).
    this.#addDirs(p);
  }

  rename(from: string, to: string): void {
    const f = normalizePath(from);
    const t = normalizePath(to);
    this.checkOpen("rename", f);
    const slot = this.#byPath.get(f);
    if (slot === undefined) throw ioError(`rename to ${t}:`, f, withCode("no such file", "ENOENT"));
    if (f === t) return;
    if (!this.#isDir(parentOf(t))) throw ioError(`rename to ${t}:`, f, withCode("no such directory", "ENOENT"));
    if (encoder.encode(t).length > MAX_PATH_BYTES) {
      throw ioError(`rename to ${t}:`, f, withCode(`path longer than ${MAX_PATH_BYTES} bytes`, "ENAMETOOLONG"));
    }
    const replaced = this.#byPath.get(t);
    // Step 1, the commit point: from's slot now claims `to`, with a
    // generation above the replaced slot's.
    try {
      this.#writeHeader(slot, t);
    } catch (err) {
      throw ioError(`rename to ${t}:`, f, err);
    }
    this.#byPath.delete(f);
    this.#byPath.set(t, slot);
    // Step 2: free the replaced file's slot. If this fails (or a crash comes
    // first), the next create() sees two claims and keeps the newer one.
    if (replaced !== undefined) this.#freeSlot(replaced, `rename ${f} over`);
  }

  remove(path: string): void {
    const p = normalizePath(path);
    this.checkOpen("remove", p);
    const slot = this.#byPath.get(p);
    if (slot === undefined) {
      if (this.#dirs.has(p) && !this.#isDirWithFiles(p)) this.#dirs.delete(p);
      return;
    }
    this.#freeSlot(slot, "remove");
    this.#byPath.delete(p);
  }

  #isDirWithFiles(p: string): boolean {
    const prefix = p === "/" ? "/" : p + "/";
    for (const path of this.#byPath.keys()) if (path.startsWith(prefix)) return true;
    for (const d of this.#dirs) if (d.startsWith(prefix)) return true;
    return false;
  }

  syncDir(_dir: string): Promise<void> {
    // Nothing to do: directory entries are slot headers, and every header
    // change (create, rename, remove) was flushed before the call returned.
    // The OPFS directory itself changes only when slot files are added,
    // which no virtual file depends on.
    if (this.#closed) {
      return Promise.reject(new SiltError("IO_ERROR", `sync directory ${_dir} failed: the OPFS storage is closed`));
    }
    return Promise.resolve();
  }

  async lock(path: string, options: LockOptions = {}): Promise<StorageLock> {
    const p = normalizePath(path);
    this.checkOpen("lock", p);
    const locked = () =>
      new SiltError(
        "LOCKED",
        `${p} is held by another open database (in this worker, another worker or another tab)`,
        { file: p },
      );
    // The in-process registry is per storage: only one OpfsStorage can have
    // a directory's slots open at a time (sync access handles are exclusive),
    // and two storages over two directories may use the same virtual path.
    if (this.#ownLocks.has(p)) throw locked();
    let releaseWebLock: (() => void) | undefined;
    if (this.#locks !== null) {
      const name = this.#lockPrefix + p;
      // A Web Lock given back is free only once its request settles: wait
      // for one this process gave back, so that close-then-open works.
      await releasingWebLocks.get(name);
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      let granted: boolean;
      let settled: Promise<unknown> | undefined;
      try {
        granted = await new Promise<boolean>((resolve, reject) => {
          settled = this.#locks!.request(
            name,
            { mode: options.readOnly ? "shared" : "exclusive", ifAvailable: true },
            (lock) => {
              resolve(lock !== null && lock !== undefined);
              // Held until release (a read-only check gives it up at once).
              return lock && !options.readOnly ? held : undefined;
            },
          );
          settled.catch(reject);
        });
      } catch (err) {
        throw ioError("lock", p, err);
      }
      if (!granted) throw locked();
      const done = settled!.then(() => {}, () => {}).finally(() => {
        if (releasingWebLocks.get(name) === done) releasingWebLocks.delete(name);
      });
      const giveBack = () => {
        releasingWebLocks.set(name, done);
        release();
      };
      if (options.readOnly) giveBack();
      else releaseWebLock = giveBack;
    }
    if (this.#ownLocks.has(p)) {
      releaseWebLock?.();
      throw locked();
    }
    if (options.readOnly) {
      return { release() {}, valid: true };
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (this.#ownLocks.get(p) === release) this.#ownLocks.delete(p);
      releaseWebLock?.();
    };
    this.#ownLocks.set(p, release);
    const closed = () => this.#closed;
    return {
      release,
      get valid() {
        return !released && !closed();
      },
      get lostReason() {
        return closed() ? "the OPFS storage was closed" : undefined;
      },
    };
  }
}
