// The OPFS directory side of the slot pool: listing, opening and creating
// slot files (every asynchronous OPFS call of the pool), and reading a
// slot's header when it is opened. These run when an OpfsStorage is created
// and in the pool's background refill, never inside a Storage call.
//
// May import: ./slot_file.ts, ./slot_header.ts, ./opfs_api.ts (types),
// ../../_runtime.ts, ../../errors.ts.

import { SiltError } from "../../errors.ts";
import { ioError } from "../../_runtime.ts";
import type { OpfsDirectoryHandle, OpfsSyncAccessHandle } from "./opfs_api.ts";
import { Slot } from "./slot_file.ts";
import { COPY_SIZE, decodeCopy, SLOT_HEADER_SIZE, SLOT_NAME, slotFileName } from "./slot_header.ts";

/**
 * The numbers of the slot files in `dir`, ascending (other files are not
 * slots). IO_ERROR if the directory cannot be listed.
 *
 * @example
 * ```ts ignore
 * import { listSlotNumbers } from "./slot_directory.ts";
 * console.log(await listSlotNumbers(dir)); // [1, 2, 3] for slot-00001.silt ... slot-00003.silt
 * ```
 */
export async function listSlotNumbers(dir: OpfsDirectoryHandle): Promise<number[]> {
  const numbers: number[] = [];
  try {
    for await (const entry of dir.values()) {
      const m = entry.kind === "file" ? SLOT_NAME.exec(entry.name) : null;
      if (m) numbers.push(Number(m[1]));
    }
  } catch (err) {
    throw ioError("list", `OPFS directory "${dir.name}"`, err);
  }
  return numbers.sort((a, b) => a - b);
}

/**
 * Opens the slot files numbered `numbers`, all at once (taken one after
 * another, a store of 22 files spent ~30 ms of a ~43 ms open here, in
 * Chromium), each with its sync access handle. If any fails, closes those
 * opened and throws: LOCKED when a file is held by another handle (another
 * tab or worker, or an OpfsStorage not closed), IO_ERROR otherwise.
 *
 * @example
 * ```ts ignore
 * import { listSlotNumbers, openSlotFiles } from "./slot_directory.ts";
 * const slots = await openSlotFiles(dir, await listSlotNumbers(dir));
 * ```
 */
export async function openSlotFiles(dir: OpfsDirectoryHandle, numbers: number[]): Promise<Slot[]> {
  const opened = await Promise.allSettled(numbers.map(async (n) => {
    const name = slotFileName(n);
    try {
      const file = await dir.getFileHandle(name);
      return new Slot(name, await file.createSyncAccessHandle());
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === "NoModificationAllowedError") {
        throw new SiltError(
          "LOCKED",
          `OPFS directory "${dir.name}" is open elsewhere (another tab or worker, or an OpfsStorage not closed): ${name} is held`,
          { file: name },
          err,
        );
      }
      throw ioError("open slot", name, err);
    }
  }));
  const slots: Slot[] = [];
  for (const result of opened) if (result.status === "fulfilled") slots.push(result.value);
  const failed = opened.find((result) => result.status === "rejected");
  if (failed !== undefined) {
    closeSlots(slots);
    throw (failed as PromiseRejectedResult).reason;
  }
  return slots;
}

/**
 * Creates the slot files named `names` (or opens them, if an earlier
 * refill left them), all at once: a round trip each otherwise. One result
 * per name, in order: the sync access handle, or the IO_ERROR.
 *
 * @example
 * ```ts ignore
 * import { createSlotFiles } from "./slot_directory.ts";
 * const [result] = await createSlotFiles(dir, ["slot-00004.silt"]);
 * if (result.status === "fulfilled") result.value.close();
 * ```
 */
export function createSlotFiles(
  dir: OpfsDirectoryHandle,
  names: string[],
): Promise<PromiseSettledResult<OpfsSyncAccessHandle>[]> {
  return Promise.allSettled(names.map(async (name) => {
    try {
      const file = await dir.getFileHandle(name, { create: true });
      return await file.createSyncAccessHandle();
    } catch (err) {
      throw ioError("create slot", name, err);
    }
  }));
}

/**
 * Reads a freshly opened slot's header into it (path, generation, current
 * copy, size; a slot without a valid copy, or shorter than the header,
 * stays free). Returns the highest generation of its two copies (0 if
 * none is valid). IO_ERROR if the slot cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readSlotHeader } from "./slot_directory.ts";
 * const highest = readSlotHeader(slot);
 * console.log(slot.path, slot.size, highest);
 * ```
 */
export function readSlotHeader(slot: Slot): number {
  try {
    const total = slot.handle.getSize();
    if (total < SLOT_HEADER_SIZE) return 0;
    const buf = new Uint8Array(SLOT_HEADER_SIZE);
    slot.handle.read(buf, { at: 0 });
    const a = decodeCopy(buf.subarray(0, COPY_SIZE));
    const b = decodeCopy(buf.subarray(COPY_SIZE));
    const best = a && (!b || a.generation >= b.generation) ? a : b;
    if (best === undefined) return 0;
    slot.current = best === a ? 0 : 1;
    slot.generation = best.generation;
    slot.path = best.path;
    slot.size = total - SLOT_HEADER_SIZE;
    return Math.max(a?.generation ?? 0, b?.generation ?? 0);
  } catch (err) {
    throw ioError("read header of slot", slot.name, err);
  }
}

/**
 * Closes the sync access handles of `slots`, ignoring handles already
 * closed or invalidated.
 *
 * @example
 * ```ts ignore
 * import { closeSlots } from "./slot_directory.ts";
 * closeSlots(slots); // another OpfsStorage may now open the directory
 * ```
 */
export function closeSlots(slots: Slot[]): void {
  for (const slot of slots) {
    try {
      slot.handle.close();
    } catch {
      // already closed or invalidated
    }
  }
}
