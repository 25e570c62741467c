// In-memory storage with a crash model and fault injection, for tests.
//
// Crash model (strict POSIX, stricter than most real file systems):
// - file data is durable only up to the last sync() of that file;
// - a directory entry (creation, rename, removal) is durable only after
//   syncDir() of its directory; directories themselves are durable at once;
// - crash() keeps exactly the durable state, optionally plus a prefix of
//   the unsynced appended bytes of each file (a torn last write), or that
//   many zero bytes (a size extended without its data), or a prefix whose
//   sectors past a 512-byte boundary read as zeros (data written out only in
//   part). Unsynced bytes are lost or kept per file, independently.
//
// Faults: any single call can be made to fail (EIO, ENOSPC, EACCES), and a
// capacity turns the store into a full disk: appends past it fail with
// ENOSPC (writing what fits) until space is freed or the capacity raised.

import { posix } from "node:path";
import { SiltError } from "../errors.ts";
import { ioError } from "../_runtime.ts";
import {
  asPromise,
  type LockOptions,
  type OpenFileOptions,
  type Storage,
  type StorageFile,
  type StorageLock,
} from "./storage.ts";

/** An operation a fault can be injected into. */
export type FaultOp = "open" | "read" | "append" | "sync" | "rename" | "remove" | "syncDir" | "list" | "link";

/** A fault to inject: the next matching operations fail. */
export interface Fault {
  /** Operation to fail. */
  op: FaultOp;
  /** Only paths equal to this string or matching this pattern. Default: any path. */
  path?: string | RegExp;
  /** The error to raise. Default "EIO". */
  code?: "EIO" | "ENOSPC" | "EACCES";
  /**
   * For append (appends and positional writes, `writeAt`): write this many
   * bytes of the data before failing. Default 0.
   */
  partialBytes?: number;
  /** How many matching operations fail. Default 1. */
  times?: number;
  /** How many matching operations succeed before the first failure. Default 0. */
  after?: number;
}

/** What happens at a simulated crash to data written but not yet synced. */
export type UnsyncedFate = "drop" | "keep" | "prefix" | "zeros" | "sectors";

/** Options of {@linkcode MemoryStorage.crash}. */
export interface CrashOptions {
  /**
   * "drop" (default): only synced bytes survive. "keep": everything written
   * survives, names too (a crash of the process, the OS intact). "prefix": a random
   * prefix of each file's unsynced bytes survives (a torn write). "zeros": a
   * random number of zero bytes replaces them. "sectors": a random length
   * survives, its bytes past a random 512-byte sector boundary read as zeros.
   */
  unsynced?: UnsyncedFate;
  /** Random source for "prefix" and "zeros", in [0, 1). Default Math.random. */
  random?: () => number;
}

const SECTOR = 512;

class MemNode {
  data = new Uint8Array(64);
  length = 0;
  durable = new Uint8Array(0);
  /** Lowest offset written since the last sync (Infinity: none). */
  dirtyFrom = Infinity;

  bytes(): Uint8Array {
    return this.data.subarray(0, this.length);
  }

  write(src: Uint8Array): void {
    this.writeAt(this.length, src);
  }

  /** Writes src at position, over the bytes there or extending the file (zeros fill a gap). */
  writeAt(position: number, src: Uint8Array): void {
    const end = position + src.length;
    if (end > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < end) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.bytes());
      this.data = grown;
    }
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(src, position);
    this.length = Math.max(this.length, end);
    this.dirtyFrom = Math.min(this.dirtyFrom, position);
  }

  sync(): void {
    this.durable = this.bytes().slice();
    this.dirtyFrom = Infinity;
  }

  /**
   * Back to the durable bytes plus, per fate, some of what was written
   * since: from the lowest offset written (the end of the durable bytes for
   * appends; inside them for positional writes over synced bytes) a prefix
   * of the current bytes ("prefix"; "sectors": its part past a sector
   * boundary reads as it was before), or the bytes as they were before,
   * zeros past the durable end ("zeros").
   */
  restore(fate: UnsyncedFate, random: () => number): void {
    const current = this.bytes();
    const durable = this.durable;
    const from = Math.min(this.dirtyFrom, durable.length, current.length);
    const unsynced = current.subarray(from);
    let kept = 0; // bytes from `from` on that survive
    let written = 0; // of those, the ones that hold what was written (the rest: as before)
    if (unsynced.length > 0) {
      const some = () => Math.floor(random() * (unsynced.length + 1));
      if (fate === "keep") kept = written = unsynced.length;
      else if (fate === "prefix") kept = written = some();
      else if (fate === "zeros") kept = some();
      else if (fate === "sectors") {
        kept = some();
        written = Math.min(kept, Math.max(0, Math.floor((from + some()) / SECTOR) * SECTOR - from));
      }
    }
    const restored = new Uint8Array(Math.max(durable.length, from + kept));
    restored.set(durable);
    restored.set(unsynced.subarray(0, written), from);
    this.data = new Uint8Array(Math.max(64, restored.length));
    this.length = 0;
    this.write(restored);
    this.sync();
  }
}

class MemFile implements StorageFile {
  readonly path: string;
  #closed = false;
  constructor(
    path: string,
    private readonly node: MemNode,
    private readonly storage: MemoryStorage,
    private readonly epoch: number,
  ) {
    this.path = path;
  }

  #check(): MemNode {
    if (this.#closed) throw new SiltError("IO_ERROR", `${this.path} is closed`, { file: this.path });
    if (this.epoch !== this.storage.epoch) {
      throw new SiltError("IO_ERROR", `${this.path}: handle opened before a simulated crash`, { file: this.path });
    }
    return this.node;
  }

  size(): number {
    return this.#check().length;
  }

  read(position: number, into: Uint8Array): number {
    const node = this.#check();
    this.storage.fault("read", this.path);
    const src = node.bytes().subarray(Math.min(position, node.length), Math.min(position + into.length, node.length));
    into.set(src);
    return src.length;
  }

  append(data: Uint8Array): Promise<void> {
    return asPromise(() => this.appendSync(data));
  }

  appendSync(data: Uint8Array): void {
    this.#write(this.#check().length, data, "append to");
  }

  /** A positional write: takes "append" faults, and the disk's room for the bytes past the end. */
  writeAt(position: number, data: Uint8Array): void {
    this.#write(position, data, "write to");
  }

  #write(position: number, data: Uint8Array, what: string): void {
    const node = this.#check();
    const fault = this.storage.takeFault("append", this.path);
    if (fault) {
      node.writeAt(position, data.subarray(0, Math.min(fault.partialBytes ?? 0, data.length)));
      throw faultError(fault, what, this.path);
    }
    const fits = Math.max(node.length - position, 0) + this.storage.room();
    if (data.length > fits) {
      node.writeAt(position, data.subarray(0, fits));
      throw faultError({ op: "append", code: "ENOSPC" }, what, this.path);
    }
    node.writeAt(position, data);
  }

  sync(): Promise<void> {
    return asPromise(() => this.syncNow());
  }

  syncNow(): void {
    const node = this.#check();
    this.storage.fault("sync", this.path);
    node.sync();
  }

  close(): void {
    this.#closed = true;
  }
}

function faultError(fault: Fault, op: string, path: string): SiltError {
  const code = fault.code ?? "EIO";
  const err = Object.assign(new Error(`injected ${code}`), { code });
  return ioError(op, path, err);
}

/**
 * A file system in memory that can simulate a machine crash and failing
 * operations. Used by siltdb's crash tests; handy for yours.
 *
 * @example
 * ```ts
 * import { MemoryStorage, open } from "siltdb";
 * const fs = new MemoryStorage();
 * let db = await open("/db", { fs });
 * await db.put("a", "1", { sync: true });
 * await db.put("b", "2");               // not synced
 * fs.crash();                           // power loss: "b" is gone
 * db = await open("/db", { fs });
 * console.log(await db.get("a"));       // Uint8Array of "1"
 * ```
 */
export class MemoryStorage implements Storage {
  readonly kind = "memory";
  /** Increases at every crash; handles from an earlier epoch stop working. */
  epoch = 0;
  #files = new Map<string, MemNode>();
  #durableFiles = new Map<string, MemNode>();
  #dirs = new Set<string>(["/", "."]);
  #locks = new Set<string>();
  #faults: Fault[] = [];
  /** Bytes the files may take in all (a full disk past it); Infinity by default. */
  capacity: number = Infinity;

  /** Bytes held by all files (the space a capacity limits). */
  get usedBytes(): number {
    let n = 0;
    for (const node of new Set(this.#files.values())) n += node.length;
    return n;
  }

  /** @internal Bytes that may still be appended before the disk is full. */
  room(): number {
    return this.capacity === Infinity ? Infinity : Math.max(0, this.capacity - this.usedBytes);
  }

  /** Makes the next matching operations fail (see {@linkcode Fault}). */
  injectFault(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  /** Removes every pending injected fault. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** Faults injected and not yet used up. */
  get pendingFaults(): number {
    return this.#faults.length;
  }

  /**
   * Simulates a crash: of the machine (only durable state survives, see
   * {@linkcode CrashOptions}), or with "keep" of the process alone. Open
   * handles die, locks are freed.
   */
  crash(options: CrashOptions = {}): void {
    const fate = options.unsynced ?? "drop";
    const random = options.random ?? Math.random;
    this.epoch++;
    this.#locks.clear();
    // A crash of the process alone: the OS keeps every byte and every name,
    // durable or not (a later power loss may still drop what was unsynced).
    if (fate === "keep") return;
    this.#files = new Map(this.#durableFiles);
    for (const node of new Set(this.#files.values())) node.restore(fate, random);
  }

  /** @internal Consumes and returns a matching fault, if any. */
  takeFault(op: FaultOp, path: string): Fault | undefined {
    if (this.#faults.length === 0) return undefined;
    const i = this.#faults.findIndex((f) =>
      f.op === op &&
      (f.path === undefined || (typeof f.path === "string" ? f.path === path : f.path.test(path)))
    );
    if (i < 0) return undefined;
    const fault = this.#faults[i];
    if ((fault.after ?? 0) > 0) {
      fault.after!--;
      return undefined;
    }
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.#faults.splice(i, 1);
    return fault;
  }

  /** @internal Throws if a fault matches. */
  fault(op: FaultOp, path: string): void {
    const fault = this.takeFault(op, path);
    if (fault) throw faultError(fault, op, path);
  }

  open(path: string, options: OpenFileOptions = {}): StorageFile {
    const p = posix.normalize(path);
    this.fault("open", p);
    let node = this.#files.get(p);
    if (node !== undefined && options.create && options.exclusive) {
      throw ioError("open", p, Object.assign(new Error("file exists"), { code: "EEXIST" }));
    }
    if (node === undefined) {
      if (!options.create) throw ioError("open", p, Object.assign(new Error("no such file"), { code: "ENOENT" }));
      if (!this.#dirs.has(posix.dirname(p))) {
        throw ioError("open", p, Object.assign(new Error("no such directory"), { code: "ENOENT" }));
      }
      node = new MemNode();
      this.#files.set(p, node);
    }
    return new MemFile(p, node, this, this.epoch);
  }

  readFile(path: string): Uint8Array {
    const p = posix.normalize(path);
    const node = this.#files.get(p);
    if (node === undefined) throw ioError("read", p, Object.assign(new Error("no such file"), { code: "ENOENT" }));
    this.fault("read", p);
    return node.bytes().slice();
  }

  list(dir: string): string[] {
    const d = posix.normalize(dir);
    this.fault("list", d);
    if (!this.#dirs.has(d)) throw ioError("list", d, Object.assign(new Error("no such directory"), { code: "ENOENT" }));
    const names: string[] = [];
    for (const p of [...this.#files.keys(), ...this.#dirs]) {
      if (p !== d && posix.dirname(p) === d) names.push(posix.basename(p));
    }
    return names.sort();
  }

  exists(path: string): boolean {
    const p = posix.normalize(path);
    return this.#files.has(p) || this.#dirs.has(p);
  }

  mkdir(path: string): void {
    let p = posix.normalize(path);
    while (!this.#dirs.has(p)) {
      this.#dirs.add(p);
      p = posix.dirname(p);
    }
  }

  rename(from: string, to: string): void {
    const f = posix.normalize(from);
    const t = posix.normalize(to);
    this.fault("rename", f);
    const node = this.#files.get(f);
    if (node === undefined) {
      throw ioError(`rename to ${t}:`, f, Object.assign(new Error("no such file"), { code: "ENOENT" }));
    }
    this.#files.delete(f);
    this.#files.set(t, node);
  }

  /** A hard link: both names share the file's bytes (durable once the directory of `to` is synced). */
  link(from: string, to: string): void {
    const f = posix.normalize(from);
    const t = posix.normalize(to);
    this.fault("link", f);
    const node = this.#files.get(f);
    if (node === undefined) {
      throw ioError(`link to ${t}:`, f, Object.assign(new Error("no such file"), { code: "ENOENT" }));
    }
    if (this.#files.has(t)) {
      throw ioError(`link to ${t}:`, f, Object.assign(new Error("file exists"), { code: "EEXIST" }));
    }
    if (!this.#dirs.has(posix.dirname(t))) {
      throw ioError(`link to ${t}:`, f, Object.assign(new Error("no such directory"), { code: "ENOENT" }));
    }
    this.#files.set(t, node);
  }

  remove(path: string): void {
    const p = posix.normalize(path);
    this.fault("remove", p);
    this.#files.delete(p);
  }

  syncDir(dir: string): Promise<void> {
    return asPromise(() => {
      const d = posix.normalize(dir);
      this.fault("syncDir", d);
      for (const p of [...this.#durableFiles.keys()]) {
        if (posix.dirname(p) === d && !this.#files.has(p)) this.#durableFiles.delete(p);
      }
      for (const [p, node] of this.#files) {
        if (posix.dirname(p) === d) this.#durableFiles.set(p, node);
      }
    });
  }

  lock(path: string, options: LockOptions = {}): Promise<StorageLock> {
    const p = posix.normalize(path);
    if (this.#locks.has(p)) {
      return Promise.reject(new SiltError("LOCKED", `${p} is held by another open database`, { file: p }));
    }
    const epoch = this.epoch;
    const crashed = () => this.epoch !== epoch;
    let released = false;
    if (!options.readOnly) this.#locks.add(p);
    return Promise.resolve({
      release: () => {
        if (!crashed() && !released && !options.readOnly) this.#locks.delete(p);
        released = true;
      },
      get valid() {
        return !crashed() && !released;
      },
      get lostReason() {
        return crashed() ? "a simulated crash ended the process that held it" : undefined;
      },
    });
  }
}
