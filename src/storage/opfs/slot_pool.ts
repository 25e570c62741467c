// The slot pool of OpfsStorage: the slot files of one OPFS directory
// ("slot-00001.silt", ...), each opened once with a sync access handle, and
// the header writes that give a slot to a virtual file or take it back.
// Slot layout and header encoding: ./slot_header.ts.
//
// Why a pool: OPFS reads and writes synchronously only through a
// FileSystemSyncAccessHandle (read/write at an offset, getSize, truncate,
// flush, close), but every way to get one (getFileHandle,
// createSyncAccessHandle) and every change to a directory (removeEntry, move)
// is asynchronous, while Storage.open/rename/remove/list are synchronous. So
// every slot file is opened when the pool opens, and after that no OPFS
// directory operation happens except in the background refill, which adds
// slot files so that `spare` of them are always free. Those asynchronous
// calls: ./slot_directory.ts.
//
// A slot's state is the valid copy (magic, version and checksum good) with
// the higher generation; a slot with no valid copy, or shorter than 4096
// bytes, is free. Every header change writes the copy that is NOT the
// current one, with a generation above every generation in the pool, then
// flushes: a torn header write (a crash in the middle of it) leaves the
// other copy, the slot's previous state, intact. So a header change is
// atomic: a crash leaves the old state or the new one.
//
// - claim (create a file): truncate a free slot to 4096 bytes, flush (no old
//   bytes can reappear past the new header), write the header, flush.
// - free (remove): write a free header, flush, truncate to 4096 (gives the
//   space back to the quota; not flushed, the header already says free).
// - Two slots claiming one path (a rename cut short by a crash): open()
//   keeps the higher generation and frees the other.
//
// A slot freed while a StorageFile still has it open (a table removed while
// a reader holds it, as POSIX allows) is not reused until the last such file
// is closed: its bytes stay readable through the open files.
//
// May import: ./slot_directory.ts, ./slot_header.ts, ./slot_file.ts,
// ./opfs_api.ts (types), ../../_runtime.ts, ../../errors.ts.

import { SiltError } from "../../errors.ts";
import { ioError } from "../../_runtime.ts";
import type { OpfsDirectoryHandle } from "./opfs_api.ts";
import { closeSlots, createSlotFiles, listSlotNumbers, openSlotFiles, readSlotHeader } from "./slot_directory.ts";
import { Slot, type SlotOwner, withCode } from "./slot_file.ts";
import { COPY_SIZE, encodeCopy, SLOT_HEADER_SIZE, slotFileName } from "./slot_header.ts";

/**
 * The slot files of one OPFS directory and their headers. Owned by an
 * OpfsStorage, which keeps the names (./namespace.ts) and hands the pool to
 * the files it opens (as their {@linkcode SlotOwner}).
 *
 * @example
 * ```ts ignore
 * import { SlotPool } from "./slot_pool.ts";
 * const pool = await SlotPool.open(dir, 16);   // dir: an OPFS directory handle
 * const slot = pool.claim("/db/CURRENT");      // a free slot, its header now names the path
 * pool.free(slot, "remove");
 * await pool.close();
 * ```
 */
export class SlotPool implements SlotOwner {
  readonly #dir: OpfsDirectoryHandle;
  readonly #spare: number;
  #slots: Slot[] = [];
  #free: Slot[] = [];
  #maxGeneration = 0;
  #nextSlotNumber = 1;
  #refill: Promise<void> | undefined;
  #refillError: unknown;
  #closed = false;

  private constructor(dir: OpfsDirectoryHandle, spare: number) {
    this.#dir = dir;
    this.#spare = spare;
  }

  /**
   * Opens every slot file in `dir` (taking its sync access handle), reads
   * the headers, settles paths claimed twice (the higher generation wins)
   * and makes sure `spare` free slots exist. Fails with LOCKED if a slot is
   * held by another handle, IO_ERROR on other failures.
   */
  static async open(dir: OpfsDirectoryHandle, spare: number): Promise<SlotPool> {
    const pool = new SlotPool(dir, spare);
    await pool.#load();
    return pool;
  }

  async #load(): Promise<void> {
    const numbers = await listSlotNumbers(this.#dir);
    if (numbers.length > 0) this.#nextSlotNumber = Math.max(this.#nextSlotNumber, numbers[numbers.length - 1] + 1);
    try {
      this.#slots = await openSlotFiles(this.#dir, numbers);
      for (const slot of this.#slots) this.#maxGeneration = Math.max(this.#maxGeneration, readSlotHeader(slot));
      // Paths claimed by several slots: a rename cut short by a crash.
      const claims = new Map<string, Slot>();
      for (const slot of this.#slots) {
        if (slot.path === null) continue;
        const other = claims.get(slot.path);
        if (other === undefined) claims.set(slot.path, slot);
        else if (other.generation < slot.generation) {
          claims.set(slot.path, slot);
          this.free(other, "settle");
        } else this.free(slot, "settle");
      }
      for (const slot of this.#slots) if (slot.path === null && !this.#free.includes(slot)) this.#free.push(slot);
      await this.#fill();
    } catch (err) {
      closeSlots(this.#slots);
      throw err;
    }
  }

  /** The slots that hold a file (one per path once open() settled double claims). */
  held(): Slot[] {
    return this.#slots.filter((slot) => slot.path !== null);
  }

  /**
   * Writes a new header naming `path` (null: free) on the other copy, with a
   * new highest generation, and flushes: the one atomic step of every
   * change. Throws the runtime's error (the caller names the operation).
   */
  writeHeader(slot: Slot, path: string | null): void {
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

  /**
   * Gives a free slot to a new file at `path` (emptied, its header naming
   * the path, flushed). IO_ERROR when no slot is free (a background refill
   * starts) or the header cannot be written (the slot stays free).
   */
  claim(path: string): Slot {
    const slot = this.#free.shift();
    if (slot === undefined) {
      this.#maybeRefill();
      const why = this.#refillError === undefined
        ? "refilling has not caught up"
        : `refilling failed: ${(this.#refillError as Error)?.message ?? String(this.#refillError)}`;
      throw new SiltError(
        "IO_ERROR",
        `create ${path} failed: the OPFS slot pool is exhausted (${this.#slots.length} slots, none free; ${why})`,
        { file: path },
        this.#refillError,
      );
    }
    try {
      if (slot.handle.getSize() !== SLOT_HEADER_SIZE) {
        slot.handle.truncate(SLOT_HEADER_SIZE);
        slot.handle.flush();
      }
      slot.size = 0;
      this.writeHeader(slot, path);
    } catch (err) {
      // The header was not (fully) written: the slot's old copy still says free.
      slot.path = null;
      this.#free.unshift(slot);
      throw ioError("create", path, err);
    } finally {
      this.#maybeRefill();
    }
    return slot;
  }

  /** Frees a slot: a free header, flushed; back to the pool unless files have it open. */
  free(slot: Slot, op: string): void {
    try {
      this.writeHeader(slot, null);
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

  /** @internal Throws when the pool (its storage) was closed. */
  checkOpen(op: string, path: string): void {
    if (this.#closed) {
      throw new SiltError("IO_ERROR", `${op} ${path} failed: the OPFS storage is closed`, { file: path });
    }
  }

  /** Creates slot files until `spare` are free. */
  async #fill(): Promise<void> {
    while (this.#free.length < this.#spare && !this.#closed) {
      // The missing slots at once (creating them one by one costs a round
      // trip each); a failure leaves the others in the pool.
      const names = Array.from({ length: this.#spare - this.#free.length }, () => slotFileName(this.#nextSlotNumber++));
      const created = await createSlotFiles(this.#dir, names);
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

  /** Creates slot files until `spare` are free, now; rejects with the IO_ERROR if it cannot. */
  async refill(): Promise<void> {
    await this.idle();
    this.#refillError = undefined;
    this.#maybeRefill();
    await this.idle();
    if (this.#refillError !== undefined) throw this.#refillError;
  }

  /** Resolves once no background refill runs. */
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

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every sync access handle (after any running refill); files on the slots stop working. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#refill?.catch(() => {});
    closeSlots(this.#slots);
  }
}
