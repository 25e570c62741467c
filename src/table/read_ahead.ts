// Read-ahead for tables read in order (a compaction's inputs, a long scan):
// a read that starts where the last one of the same table ended fetches a
// window past it, and the reads that fall inside the window cost no call.
// A read elsewhere (a point lookup) fetches its block alone and drops the
// window.
//
// - A table on disk (readAheadFile): the window starts at 32 KiB and doubles
//   up to 256 KiB. A compaction read each 4 KiB block with its own positional
//   read: 18% of the compaction worker's time in a fill of 200,000 1 KiB
//   values went to those calls. Windows are held against one budget per
//   thread (WINDOW_BUDGET): past it the window used least recently is dropped,
//   so a thousand open tables never hold a thousand windows. Their buffers
//   are reused (a new buffer per window kept the worker's GC busy).
// - A table in a bucket (readAheadObject): the window starts at 64 KiB and
//   doubles up to 1 MiB; each window is one ranged GET.

import { corruption } from "../errors.ts";
import type { ObjectStore } from "../object_store/object_store.ts";

/** Reads `into.length` bytes at `position` synchronously; returns how many there were. */
export type ReadSync = (position: number, into: Uint8Array) => number;

const FILE_WINDOW_MIN = 32 << 10;
const OBJECT_WINDOW_MIN = 64 << 10;
const FILE_WINDOW_MAX = 256 << 10;
const OBJECT_WINDOW_MAX = 1 << 20;
/** Bytes of read-ahead windows of files held at once by a thread. */
const WINDOW_BUDGET = 16 << 20;
/** Window buffers kept for reuse once given back. */
const SPARE_BUFFERS = 8;

/** A table file's window: the bytes read at `start`. */
interface Window {
  start: number;
  data: Uint8Array;
}

/** The owners of the file windows held, least recently used first (a Map keeps insertion order). */
const held = new Map<{ drop(): void }, Uint8Array>();
/** Window buffers (FILE_WINDOW_MAX bytes each) given back, for the next window: no garbage per window. */
const spare: Uint8Array[] = [];

/** A buffer for `owner`'s window, dropping the window used least recently when the budget is spent. */
function take(owner: { drop(): void }): Uint8Array {
  if (held.size >= WINDOW_BUDGET / FILE_WINDOW_MAX) held.keys().next().value!.drop();
  const buffer = spare.pop() ?? new Uint8Array(FILE_WINDOW_MAX);
  held.set(owner, buffer);
  return buffer;
}

function giveBack(owner: { drop(): void }): void {
  const buffer = held.get(owner);
  if (buffer === undefined) return;
  held.delete(owner);
  if (spare.length < SPARE_BUFFERS) spare.push(buffer);
}

/** Sequential reads of a table file through a window; `close` gives the window back. */
export interface ReadAheadFile {
  read: ReadSync;
  close(): void;
}

/**
 * Reads of a file of `size` bytes through `read` that read ahead while they
 * go in order. Files are immutable while open, so a window never goes stale.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * declare const file: StorageFile;
 * const ahead = readAheadFile((position, into) => file.read(position, into), file.size());
 * ahead.read(0, new Uint8Array(4096));    // one call
 * ahead.read(4096, new Uint8Array(4096)); // in order: reads a 32 KiB window
 * ahead.read(8192, new Uint8Array(4096)); // from the window, no call
 * ahead.close();
 * ```
 */
export function readAheadFile(read: ReadSync, size: number): ReadAheadFile {
  let window: Window | undefined;
  let next = -1;
  let span = 0;
  const owner = {
    drop() {
      window = undefined;
      span = 0;
      giveBack(owner);
    },
  };
  return {
    read(position, into) {
      const w = window;
      if (w !== undefined && position >= w.start && position + into.length <= w.start + w.data.length) {
        into.set(w.data.subarray(position - w.start, position - w.start + into.length));
        next = position + into.length;
        const buffer = held.get(owner)!;
        held.delete(owner); // now the most recently used
        held.set(owner, buffer);
        return into.length;
      }
      const inOrder = position === next;
      next = position + into.length;
      if (!inOrder) {
        owner.drop();
        return read(position, into);
      }
      span = Math.min(FILE_WINDOW_MAX, Math.max(FILE_WINDOW_MIN, span * 2));
      const want = Math.min(span, size - position);
      if (want <= into.length) return read(position, into);
      const buffer = held.get(owner) ?? take(owner);
      window = undefined; // its bytes are being overwritten: a failed read must not leave them readable
      const got = read(position, buffer.subarray(0, want));
      window = { start: position, data: buffer.subarray(0, got) };
      const n = Math.min(into.length, got);
      into.set(buffer.subarray(0, n));
      return n;
    },
    close: () => owner.drop(),
  };
}

/**
 * Ranged reads of a table object that read ahead while they go in order.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "../object_store/object_store.ts";
 * declare const store: ObjectStore;
 * const read = readAheadObject(store, "sst/00000000000000000012.sst", "s3://bucket/db/sst/00000000000000000012.sst", 1 << 20);
 * const block = await read(0, 4101); // one GET; the next read in order fetches a 64 KiB window
 * ```
 */
export function readAheadObject(
  store: ObjectStore,
  key: string,
  path: string,
  size: number,
): (offset: number, length: number) => Promise<Uint8Array> {
  let ahead: Window | undefined;
  let next = -1;
  let span = 0;
  return async (offset, length) => {
    const w = ahead;
    if (w !== undefined && offset >= w.start && offset + length <= w.start + w.data.length) {
      next = offset + length;
      return w.data.subarray(offset - w.start, offset - w.start + length);
    }
    span = offset === next ? Math.min(OBJECT_WINDOW_MAX, Math.max(OBJECT_WINDOW_MIN, span * 2)) : 0;
    ahead = undefined;
    next = offset + length;
    const want = Math.max(length, Math.min(span, size - offset));
    const got = await store.get(key, { offset, length: want });
    if (got === undefined) throw corruption(path, offset, "the table object is missing");
    if (want > length) ahead = { start: offset, data: got.data };
    return got.data.subarray(0, length);
  };
}
