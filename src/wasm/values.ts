// Copies handed to users: keys and values copied out of linear memory, as
// bytes or as UTF-8 text.
//
// In V8 (Node, Deno) every typed array with its own buffer above a small
// size costs an off-heap allocation (~0.3 µs for 100 bytes), more than the
// lookup itself, so small copies are carved out of a shared 8 KiB slab, as
// Node's Buffer pool does; JavaScriptCore (Bun) allocates small arrays
// cheaply, so Bun copies with slice(). A scan copies a fill's values (or
// binary keys), which the core lays one after the other, a run of 16 or
// more at a time in slices of up to a slab's size, and hands out views of
// them (copiesAt). A pooled copy's .buffer is the slab: use
// byteOffset/byteLength when reaching for the buffer.
//
// Views are made with the constructor (`new Uint8Array(buffer, offset,
// length)`): in V8 it costs 25-30 ns against 35-45 ns for subarray(), for
// the copy's source as for the copy itself (1,024 copies of 100 bytes,
// Node 20, Node 24, Deno).
//
// Text: Node's Buffer (a global in Node, Bun and Deno) decodes UTF-8 with
// utf8Slice in 43-62 ns for a 16-byte key, against 79-123 ns for a
// JavaScript loop and ~100 ns for TextDecoder (measured in all three
// runtimes). Where there is no Buffer (browsers), TextDecoder does it.

import { runtime } from "../_runtime.ts";
import { bytes, memoryBuffer, onMemoryGrowth } from "./instance.ts";

interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
}
const NodeBuffer = (globalThis as unknown as { Buffer?: { from(b: ArrayBuffer): Utf8Slicer } }).Buffer;
const canSlice = NodeBuffer !== undefined && typeof NodeBuffer.from(new ArrayBuffer(1)).utf8Slice === "function";
let text: Utf8Slicer | undefined = canSlice ? NodeBuffer!.from(memoryBuffer()) : undefined;
if (canSlice) onMemoryGrowth(() => text = NodeBuffer!.from(memoryBuffer()));

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const SLAB_SIZE = 8192;
const POOL_MAX = 1024;
const POOL_MIN = runtime === "bun" ? Infinity : runtime === "node" ? 65 : 0;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
/**
 * Shortest run copied with one slice (copiesAt): a slice costs ~0.3 µs in
 * V8 whatever its size, a view ~30 ns less than a copy into the slab.
 */
const COPY_RUN_MIN = 16;

/**
 * True where a scan should have the core lay a fill's values one after the
 * other for copiesAt (V8); Bun copies each with slice(), which costs less
 * there than a view of a shared slice.
 */
export const copiesInRuns = runtime !== "bun";

/**
 * A copy of len bytes at ptr.
 *
 * @example
 * ```ts
 * declare const valuePtr: number, valueLength: number; // a value in linear memory
 * const value = copyOut(valuePtr, valueLength); // the caller's own bytes
 * ```
 */
export function copyOut(ptr: number, len: number): Uint8Array {
  if (len < POOL_MIN || len > POOL_MAX) return bytes().slice(ptr, ptr + len);
  if (slabUsed + len > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  slab.set(new Uint8Array(memoryBuffer(), ptr, len), at);
  slabUsed = (at + len + 7) & ~7;
  return new Uint8Array(slab.buffer, at, len);
}

/**
 * Copies of n (address, length) pairs in words: pair i at words[q + 4i +
 * field] and the next word. A run of COPY_RUN_MIN or more byte strings that
 * lie one after the other (a slab's size at most) is copied with one slice
 * and each copy is a view of it; others are copied one by one (copyOut).
 *
 * @example
 * ```ts
 * import { words } from "./instance.ts";
 * declare const out: number, n: number; // what CoreScan.fill returned (made with copyValues), and its count
 * const values = copiesAt(words(), out >>> 2, n, 2);
 * ```
 */
export function copiesAt(w: Uint32Array, q: number, n: number, field: number): Uint8Array[] {
  const copies: Uint8Array[] = new Array(n);
  for (let i = 0, at = q + field; i < n;) {
    const j = runFrom(w, at, i, n);
    if (j - i < COPY_RUN_MIN) {
      for (; i < j; i++, at += 4) copies[i] = copyOut(w[at], w[at + 1]);
      continue;
    }
    const start = w[at];
    const last = at + ((j - i - 1) << 2);
    const run = bytes().slice(start, w[last] + w[last + 1]).buffer;
    for (; i < j; i++, at += 4) copies[i] = new Uint8Array(run, w[at] - start, w[at + 1]);
  }
  return copies;
}

/**
 * The end (exclusive) of the run that starts at item i, whose pair is at
 * words[at]: the items that lie one after the other from it, SLAB_SIZE
 * bytes in all at most (one item alone may be larger).
 */
function runFrom(w: Uint32Array, at: number, i: number, n: number): number {
  const start = w[at];
  let end = start + w[at + 1];
  let j = i + 1;
  for (let next = at + 4; j < n && w[next] === end && end + w[next + 1] - start <= SLAB_SIZE; j++, next += 4) {
    end += w[next + 1];
  }
  return j;
}

/**
 * The UTF-8 text of len bytes at ptr (malformed sequences become U+FFFD, as with TextDecoder).
 *
 * @example
 * ```ts
 * declare const keyPtr: number, keyLength: number;
 * const key = textAt(keyPtr, keyLength);
 * ```
 */
export function textAt(ptr: number, len: number): string {
  const mem = bytes(); // refreshes the views (text too) after memory grew
  return text !== undefined ? text.utf8Slice(ptr, ptr + len) : decoder.decode(mem.subarray(ptr, ptr + len));
}

// A scan decodes its keys (and utf8 values) a batch at a time: the core
// copies a batch's keys one after the other (core/db_iter.ts), and one
// TextDecoder decode of a run and a substring per key cost 6-10 ns a key
// against 40-58 ns for a utf8Slice each (Node, Deno, Bun; 16-byte keys).
// A run decodes to one UTF-16 unit per byte, and holds no U+FFFD, only when
// every byte is ASCII: then byte offsets are text offsets. (The ASCII test of
// a latin1Slice with a regular expression cost 15-25 ns a key in Bun.) Runs
// are cut at a slab's size: a substring keeps its whole run alive.
const REPLACEMENT = "\uFFFD";
/** Shortest run decoded in one go: a TextDecoder call costs about what three utf8Slices do. */
const TEXT_RUN_MIN = 4;

/**
 * The UTF-8 texts of n (address, length) pairs in words: pair i at
 * words[q + 4i + field] and the next word. One decode per run of
 * TEXT_RUN_MIN or more texts that lie one after the other (8 KiB at most)
 * when the run is ASCII, else one each (as textAt).
 *
 * @example
 * ```ts
 * import { words } from "./instance.ts";
 * declare const out: number, n: number; // what CoreScan.fill returned, and its count
 * const keys = textsAt(words(), out >>> 2, n, 0); // the keys of n scan entries (16 bytes each)
 * ```
 */
export function textsAt(w: Uint32Array, q: number, n: number, field: number): string[] {
  const texts: string[] = new Array(n);
  for (let i = 0, at = q + field; i < n;) {
    const j = runFrom(w, at, i, n);
    if (j - i >= TEXT_RUN_MIN) {
      const start = w[at];
      const last = at + ((j - i - 1) << 2);
      const end = w[last] + w[last + 1];
      const run = decoder.decode(bytes().subarray(start, end));
      if (run.length === end - start && run.indexOf(REPLACEMENT) < 0) {
        for (; i < j; i++, at += 4) texts[i] = run.substring(w[at] - start, w[at] - start + w[at + 1]);
        continue;
      }
    }
    for (; i < j; i++, at += 4) texts[i] = textAt(w[at], w[at + 1]);
  }
  return texts;
}
