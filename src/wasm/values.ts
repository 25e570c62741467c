// Copies handed to users: keys and values copied out of linear memory, as
// bytes or as UTF-8 text.
//
// In V8 (Node, Deno) every typed array with its own buffer above a small
// size costs an off-heap allocation (~0.4-0.6 µs), more than the lookup
// itself, so small copies are carved out of a shared 8 KiB slab, as Node's
// Buffer pool does; JavaScriptCore (Bun) allocates small arrays cheaply, so
// Bun copies with slice(). A pooled copy's .buffer is the slab: use
// byteOffset/byteLength when reaching for the buffer.
//
// Text: Node's Buffer (a global in Node, Bun and Deno) decodes UTF-8 with
// utf8Slice in 43-62 ns for a 16-byte key, against 79-123 ns for a
// JavaScript loop and ~100 ns for TextDecoder (measured in all three
// runtimes). Where there is no Buffer (browsers), TextDecoder does it.

import { runtime } from "../_runtime.ts";
import { bytes, memoryBuffer, onMemoryGrowth } from "./instance.ts";

interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
}
const NodeBuffer = (globalThis as unknown as { Buffer?: { from(b: ArrayBuffer): Utf8Slicer } }).Buffer;
const canSlice = NodeBuffer !== undefined && typeof NodeBuffer.from(new ArrayBuffer(1)).utf8Slice === "function";
const canSliceLatin1 = canSlice && typeof NodeBuffer!.from(new ArrayBuffer(1)).latin1Slice === "function";
let text: Utf8Slicer | undefined = canSlice ? NodeBuffer!.from(memoryBuffer()) : undefined;
if (canSlice) onMemoryGrowth(() => text = NodeBuffer!.from(memoryBuffer()));

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const SLAB_SIZE = 8192;
const POOL_MAX = 1024;
const POOL_MIN = runtime === "bun" ? Infinity : runtime === "node" ? 65 : 0;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

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
  slab.set(bytes().subarray(ptr, ptr + len), at);
  slabUsed = (at + len + 7) & ~7;
  return slab.subarray(at, at + len);
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

// A scan decodes its keys a batch at a time: the core copies a batch's keys
// one after the other (core/db_iter.ts), and when they are all ASCII one
// latin1Slice of the whole run and a substring per key cost 10-18 ns a key
// against 59-65 ns for a utf8Slice each (Node, Bun; 16-byte keys).
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The UTF-8 texts of n (address, length) pairs in words: pair i at
 * words[q + 4i + field] and the next word. One decode of the whole run when
 * the texts are contiguous and ASCII, else one each (as textAt).
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
  if (n === 0) return texts;
  const first = q + field;
  const start = w[first];
  let end = start;
  for (let i = 0, at = first; i < n; i++, at += 4) {
    if (w[at] !== end) {
      end = -1;
      break;
    }
    end += w[at + 1];
  }
  if (end >= 0 && n > 1 && canSliceLatin1) {
    bytes(); // refreshes the views (text too) after memory grew
    const run = text!.latin1Slice!(start, end);
    if (!NON_ASCII.test(run)) {
      for (let i = 0, at = first; i < n; i++, at += 4) {
        texts[i] = run.substring(w[at] - start, w[at] - start + w[at + 1]);
      }
      return texts;
    }
  }
  for (let i = 0, at = first; i < n; i++, at += 4) texts[i] = textAt(w[at], w[at + 1]);
  return texts;
}
