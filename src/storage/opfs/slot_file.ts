// One slot of the OPFS pool (Slot) and a virtual file open on it (OpfsFile):
// reads and appends at 4096 + offset through the slot's sync access handle.
// The pool that owns the slots and writes their headers: ./slot_pool.ts.
//
// May import: ./slot_header.ts, ./opfs_api.ts (types), ../storage.ts,
// ../../_runtime.ts, ../../errors.ts.

import { ioError } from "../../_runtime.ts";
import { SiltError } from "../../errors.ts";
import { asPromise, type StorageFile } from "../storage.ts";
import type { OpfsSyncAccessHandle } from "./opfs_api.ts";
import { SLOT_HEADER_SIZE } from "./slot_header.ts";

/**
 * What an open file needs from the pool of its slot.
 *
 * @example
 * ```ts
 * import type { Slot, SlotOwner } from "./slot_file.ts";
 * const owner: SlotOwner = {
 *   checkOpen() {},                    // never closed
 *   released: (slot: Slot) => console.log(`${slot.name} has ${slot.openFiles} open files`),
 * };
 * owner.checkOpen("read", "/db/CURRENT");
 * ```
 */
export interface SlotOwner {
  /** Throws when the storage is closed. */
  checkOpen(op: string, path: string): void;
  /** A file on slot closed: the slot may go back to the pool. */
  released(slot: Slot): void;
}

/**
 * An Error with a Node-style code, for ioError().
 *
 * @example
 * ```ts
 * import { withCode } from "./slot_file.ts";
 * console.log((withCode("no such file", "ENOENT") as Error & { code: string }).code); // "ENOENT"
 * ```
 */
export function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * One slot file and what it holds.
 *
 * @example
 * ```ts ignore
 * import { Slot } from "./slot_file.ts";
 * const slot = new Slot("slot-00001.silt", await fileHandle.createSyncAccessHandle());
 * console.log(slot.path); // null: free until the pool reads or writes its header
 * ```
 */
export class Slot {
  /** The virtual path held, or null when free. */
  path: string | null = null;
  /** Generation of the current header copy. */
  generation = 0;
  /** Which copy (0: A, 1: B) is the current one; the next write goes to the other. */
  current = 1;
  /** Virtual file size (bytes after the header). */
  size = 0;
  /** StorageFiles open on this slot. */
  openFiles = 0;
  /** Freed while files were open: back to the pool once they close. */
  zombie = false;

  constructor(readonly name: string, readonly handle: OpfsSyncAccessHandle) {}
}

/**
 * A virtual file open on a slot: offset 0 of the file is byte 4096 of the
 * slot file. OpfsStorage.open hands these out.
 *
 * @example
 * ```ts ignore
 * import { OpfsFile } from "./slot_file.ts";
 * const file = new OpfsFile("/db/000007.log", slot, pool, true); // writable
 * file.appendSync(new TextEncoder().encode("bytes"));
 * await file.sync();
 * file.close();                                                 // pool.released(slot)
 * ```
 */
export class OpfsFile implements StorageFile {
  readonly path: string;
  #closed = false;

  constructor(
    path: string,
    private readonly slot: Slot,
    private readonly storage: SlotOwner,
    private readonly writable: boolean,
  ) {
    this.path = path;
    slot.openFiles++;
  }

  #check(op: string): Slot {
    if (this.#closed) {
      throw new SiltError("IO_ERROR", `${op} ${this.path} failed: the file is closed`, { file: this.path });
    }
    this.storage.checkOpen(op, this.path);
    return this.slot;
  }

  size(): number {
    return this.#check("size of").size;
  }

  read(position: number, into: Uint8Array): number {
    const slot = this.#check("read");
    const n = Math.max(0, Math.min(into.length, slot.size - position));
    if (n === 0) return 0;
    try {
      let done = 0;
      while (done < n) {
        const got = slot.handle.read(into.subarray(done, n), { at: SLOT_HEADER_SIZE + position + done });
        if (got <= 0) break;
        done += got;
      }
      return done;
    } catch (err) {
      throw ioError("read", this.path, err);
    }
  }

  append(data: Uint8Array): Promise<void> {
    return asPromise(() => this.appendSync(data));
  }

  appendSync(data: Uint8Array): void {
    const slot = this.#check("append to");
    if (!this.writable) {
      throw ioError("append to", this.path, withCode("the file was opened read-only", "EBADF"));
    }
    let done = 0;
    try {
      while (done < data.length) {
        const n = slot.handle.write(data.subarray(done), { at: SLOT_HEADER_SIZE + slot.size + done });
        if (n <= 0) throw withCode(`wrote ${done} of ${data.length} bytes`, "EIO");
        done += n;
      }
    } catch (err) {
      throw ioError("append to", this.path, err);
    } finally {
      slot.size += done;
    }
  }

  sync(): Promise<void> {
    try {
      const slot = this.#check("sync");
      slot.handle.flush();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(ioError("sync", this.path, err));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.slot.openFiles--;
    this.storage.released(this.slot);
  }
}
