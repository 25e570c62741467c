// Instantiates the core WebAssembly module once per realm and wraps it: the
// ONLY importer of the generated module. Everything else reaches the core
// through `core` and these helpers.
//
// Linear memory can grow during any call that allocates; growing replaces
// memory.buffer and detaches old views, so callers take views through
// bytes()/view() after each such call instead of keeping them.

import { CORE_WASM_BASE64 } from "./_core_wasm.ts";
import { runtime } from "./_runtime.ts";
import { encodeUtf8Into } from "./_utf8.ts";

/** The raw exports of core/index.ts (see that file for each function's contract). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  resultArea(): number;
  scratch(size: number): number;
  bufferAlloc(size: number): number;
  bufferFree(ptr: number): void;
  crc32c(ptr: number, len: number): number;
  crcMask(crc: number): number;
  crcUnmask(masked: number): number;
  mtNew(): number;
  mtFree(mt: number): void;
  mtCount(mt: number): number;
  mtMemoryUsage(mt: number): number;
  mtBytesUsed(mt: number): number;
  mtAdd(mt: number, key: number, keyLen: number, sequence: number, kind: number, value: number, valueLen: number): void;
  mtGet(mt: number, key: number, keyLen: number, sequence: number): number;
  mtSeekTo(mt: number, key: number, keyLen: number, sequence: number, kind: number): number;
  mtFirst(mt: number): number;
  mtLast(mt: number): number;
  mtNextNode(node: number): number;
  mtPrev(mt: number, node: number): number;
  nodeKeyPtr(node: number): number;
  nodeKeyLength(node: number): number;
  nodeValuePtr(node: number): number;
  nodeValueLength(node: number): number;
  nodeSequence(node: number): number;
  nodeKind(node: number): number;
  batchApplyTo(mt: number, payload: number, len: number): number;
  recordCommit(mt: number, record: number, payloadLen: number, sequence: number): number;
  recordStamp(record: number, payloadLen: number, sequence: number): number;
  recordSealAs(record: number, payloadLen: number, type: number): void;
  recordsApplyTo(mt: number, ptr: number, len: number): number;
  recordHeaderVerify(record: number): number;
  recordPayloadVerify(record: number, payloadLen: number): number;
  memSourceNew(mt: number): number;
  runSourceNew(count: number, bounds: number): number;
  srcState(source: number): number;
  runFile(source: number): number;
  runBlockOffset(source: number): number;
  runBlockSize(source: number): number;
  runProvideIndex(source: number, index: number, len: number): void;
  runProvideBlock(source: number, block: number, len: number): void;
  runSourceOfLevel(rs: number, version: number, level: number, first: number): number;
  runFileNumber(source: number): number;
  runProvideTable(source: number, table: number): void;
  runProvideCached(source: number, entry: number): void;
  iterCreate(
    children: number,
    n: number,
    sequence: number,
    flags: number,
    lower: number,
    lowerLen: number,
    upper: number,
    upperLen: number,
  ): number;
  iterFill(it: number, out: number, max: number): number;
  iterStatus(it: number): number;
  iterNeedChild(it: number): number;
  iterChild(it: number, i: number): number;
  iterFree(it: number): void;
  ciCreate(children: number, n: number, oldest: number, deeper: number): number;
  ciRun(ci: number, tb: number, maxStaged: number, targetSize: number): number;
  ciNeedChild(ci: number): number;
  ciChild(ci: number, i: number): number;
  ciRead(ci: number): number;
  ciDropped(ci: number): number;
  ciFree(ci: number): void;
  tbNew(blockSize: number, restartInterval: number, bloomBitsPerKey: number): number;
  tbFree(tb: number): void;
  tbAddEntry(
    tb: number,
    key: number,
    keyLen: number,
    sequence: number,
    kind: number,
    value: number,
    valueLen: number,
  ): void;
  tbAddMemtable(tb: number, cursor: number, maxStaged: number): number;
  tbFinish(tb: number): void;
  tbStaged(tb: number): number;
  tbStagedLength(tb: number): number;
  tbClearStaged(tb: number): void;
  tbEntries(tb: number): number;
  tbFileSize(tb: number): number;
  tbSmallestSequence(tb: number): number;
  tbLargestSequence(tb: number): number;
  tbSmallestKey(tb: number): number;
  tbSmallestKeyLength(tb: number): number;
  tbLargestKey(tb: number): number;
  tbLargestKeyLength(tb: number): number;
  blockVerify(block: number, len: number): number;
  blockEntryCount(block: number, len: number): number;
  blockWalkNew(): number;
  blockWalkFree(bi: number): void;
  blockWalkFirst(bi: number, ptr: number, len: number): number;
  blockWalkNext(bi: number): number;
  blockWalkCorrupt(bi: number): number;
  blockWalkKey(bi: number): number;
  blockWalkKeyLength(bi: number): number;
  blockWalkValue(bi: number): number;
  blockWalkValueLength(bi: number): number;
  blockWalkHandle(bi: number, out: number): number;
  checksum32(ptr: number, len: number): number;
  xxh64High(ptr: number, len: number): number;
  rsNew(cacheCapacity: number): number;
  rsFree(rs: number): void;
  rsCache(rs: number): number;
  rsSetMemtables(rs: number, list: number, count: number): void;
  rsSetVersion(rs: number, version: number): void;
  rsAddTable(rs: number, table: number): void;
  rsRemoveTable(rs: number, file: number): void;
  rsBloomChecked(rs: number): number;
  rsBloomUseful(rs: number): number;
  tableNew(file: number, index: number, indexLen: number, filter: number, filterLen: number): number;
  tableRelease(table: number): void;
  rsVersion(rs: number): number;
  bcLookup(cache: number, file: number, offset: number): number;
  bcInsert(cache: number, file: number, offset: number, block: number, size: number): number;
  bcBlock(cache: number, entry: number): number;
  bcBlockSize(cache: number, entry: number): number;
  bcPin(cache: number, entry: number): void;
  bcUnpin(cache: number, entry: number): void;
  bcForgetFile(cache: number, file: number): void;
  bcClear(cache: number): void;
  bcHits(cache: number): number;
  bcMisses(cache: number): number;
  bcBytes(cache: number): number;
  bcBlocks(cache: number): number;
  dbGet(rs: number, key: number, keyLen: number, sequence: number, resume: number): number;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(CORE_WASM_BASE64) as BufferSource), {});

/**
 * The core module's exports. A plain object (not the frozen exports object),
 * so that a test can stand in a function that traps.
 */
export const core: CoreExports = { ...(instance.exports as unknown as CoreExports) };

// The core's memory is not shared: its buffer is an ArrayBuffer (some lib
// typings declare ArrayBuffer | SharedArrayBuffer).
let buffer: ArrayBuffer = core.memory.buffer as ArrayBuffer;
let u8 = new Uint8Array(buffer);
let u32 = new Uint32Array(buffer);
let dv = new DataView(buffer);

// Text out of linear memory: Node's Buffer (a global in Node, Bun and Deno)
// decodes UTF-8 with utf8Slice in 43-62 ns for a 16-byte key, against 79-123
// ns for a JavaScript loop and ~100 ns for TextDecoder (measured in all three
// runtimes). Where there is no Buffer (browsers), TextDecoder does it.
interface Utf8Slicer {
  utf8Slice(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
}
const NodeBuffer = (globalThis as unknown as { Buffer?: { from(b: ArrayBuffer): Utf8Slicer } }).Buffer;
const canSlice = NodeBuffer !== undefined && typeof NodeBuffer.from(new ArrayBuffer(1)).utf8Slice === "function";
let text: Utf8Slicer | undefined = canSlice ? NodeBuffer!.from(buffer) : undefined;
const canSliceLatin1 = canSlice && typeof NodeBuffer!.from(new ArrayBuffer(1)).latin1Slice === "function";

function refresh(): void {
  buffer = core.memory.buffer as ArrayBuffer;
  u8 = new Uint8Array(buffer);
  u32 = new Uint32Array(buffer);
  dv = new DataView(buffer);
  if (canSlice) text = NodeBuffer!.from(buffer);
}

// Growing linear memory detaches the old buffer, and views of a detached
// buffer have length 0: a cheaper test than reading memory.buffer each time.

/** A byte view of all of linear memory, valid until the next call that allocates. */
export function bytes(): Uint8Array {
  if (u8.length === 0) refresh();
  return u8;
}

/** A u32 view of all of linear memory (index = address / 4), valid until the next call that allocates. */
export function words(): Uint32Array {
  if (u32.length === 0) refresh();
  return u32;
}

/** A DataView of all of linear memory, valid until the next call that allocates. */
export function view(): DataView {
  if (u8.length === 0) refresh();
  return dv;
}

/** Address of the result area (see core/index.ts). */
export const RESULT: number = core.resultArea();

let scratchCap = 64 << 10;
let scratchPtr = core.scratch(scratchCap);

/** Address of a scratch region of at least size bytes; contents are not kept across growth. */
export function scratch(size: number): number {
  if (size > scratchCap) {
    scratchPtr = core.scratch(size);
    while (scratchCap < size) scratchCap *= 2;
  }
  return scratchPtr;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Most bytes a value can take in memory: exact for bytes, 3 per UTF-16 unit for strings. */
export function maxEncodedLength(data: string | Uint8Array): number {
  return typeof data === "string" ? data.length * 3 : data.length;
}

/**
 * Writes a string (as UTF-8) or bytes at ptr and returns the byte count. The
 * caller must have room for maxEncodedLength(data) bytes.
 */
export function writeData(ptr: number, data: string | Uint8Array): number {
  const mem = bytes();
  if (typeof data !== "string") {
    mem.set(data, ptr);
    return data.length;
  }
  return encodeUtf8Into(data, mem, ptr);
}

// Copies handed to users. In V8 (Node, Deno) every typed array with its own
// buffer above a small size costs an off-heap allocation (~0.4-0.6 µs), more
// than the lookup itself, so small copies are carved out of a shared 8 KiB
// slab, as Node's Buffer pool does; JavaScriptCore (Bun) allocates small
// arrays cheaply, so Bun copies with slice(). A pooled copy's .buffer is the
// slab: use byteOffset/byteLength when reaching for the buffer.
const SLAB_SIZE = 8192;
const POOL_MAX = 1024;
const POOL_MIN = runtime === "bun" ? Infinity : runtime === "node" ? 65 : 0;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** The table checksum of data (low 32 bits of XXH64, as stored on disk). */
export function tableChecksum(data: Uint8Array): number {
  const ptr = core.bufferAlloc(Math.max(1, data.length));
  try {
    bytes().set(data, ptr);
    return core.checksum32(ptr, data.length) >>> 0;
  } finally {
    core.bufferFree(ptr);
  }
}

/** A copy of len bytes at ptr. */
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

/** The UTF-8 text of len bytes at ptr (malformed sequences become U+FFFD, as with TextDecoder). */
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
