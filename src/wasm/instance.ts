// The core WebAssembly module, instantiated once per realm (each worker has
// its own), and its linear memory: the ONLY importer of the generated module
// (src/wasm/_core_wasm.ts). `core` is for the typed wrappers of src/wasm/
// alone (and for tests); the rest of siltdb calls those wrappers and uses
// the memory helpers below.
//
// Linear memory can grow during any core call that allocates; growing
// replaces memory.buffer and detaches old views, so callers take views
// through bytes()/words()/view() after each such call instead of keeping them.

import { CORE_WASM_BASE64 } from "./_core_wasm.ts";
import type { CoreExports } from "./_core_abi.ts";
import { encodeUtf8Into } from "../_utf8.ts";

export type { CoreExports } from "./_core_abi.ts";

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(CORE_WASM_BASE64) as BufferSource), {});

/**
 * The core module's functions, for src/wasm/ only. A plain object (not the
 * frozen exports object), so that a test can stand in a function that traps.
 *
 * @example
 * ```ts
 * const mt = core.mtNew(); // inside src/wasm/ only: everything else calls the typed wrappers
 * core.mtFree(mt);
 * ```
 */
export const core: CoreExports = { ...(instance.exports as unknown as CoreExports) };

/**
 * The core module's bytes as base64 text, for a worker that instantiates its own copy.
 *
 * @example
 * ```ts
 * const source = `globalThis.wasm = ${JSON.stringify(coreWasmBase64())};`;
 * ```
 */
export function coreWasmBase64(): string {
  return CORE_WASM_BASE64;
}

// The core's memory is not shared: its buffer is an ArrayBuffer (some lib
// typings declare ArrayBuffer | SharedArrayBuffer).
let buffer: ArrayBuffer = core.memory.buffer as ArrayBuffer;
let u8 = new Uint8Array(buffer);
let u32 = new Uint32Array(buffer);
let dv = new DataView(buffer);
const refreshed: (() => void)[] = [];

function refresh(): void {
  buffer = core.memory.buffer as ArrayBuffer;
  u8 = new Uint8Array(buffer);
  u32 = new Uint32Array(buffer);
  dv = new DataView(buffer);
  for (const f of refreshed) f();
}

/**
 * Calls `f` whenever linear memory grew and the views were renewed (for a
 * module that keeps a view of its own, such as the text decoder of values.ts).
 *
 * @example
 * ```ts
 * let text = Buffer.from(memoryBuffer());
 * onMemoryGrowth(() => text = Buffer.from(memoryBuffer()));
 * ```
 */
export function onMemoryGrowth(f: () => void): void {
  refreshed.push(f);
}

// Growing linear memory detaches the old buffer, and views of a detached
// buffer have length 0: a cheaper test than reading memory.buffer each time.

/**
 * A byte view of all of linear memory, valid until the next call that allocates.
 *
 * @example
 * ```ts
 * declare const ptr: number, len: number; // bytes in linear memory
 * const copy = bytes().slice(ptr, ptr + len);
 * ```
 */
export function bytes(): Uint8Array {
  if (u8.length === 0) refresh();
  return u8;
}

/**
 * A u32 view of all of linear memory (index = address / 4), valid until the next call that allocates.
 *
 * @example
 * ```ts
 * declare const ptr: number; // a 4-byte aligned address
 * const first = words()[ptr >>> 2];
 * ```
 */
export function words(): Uint32Array {
  if (u32.length === 0) refresh();
  return u32;
}

/**
 * A DataView of all of linear memory, valid until the next call that allocates.
 *
 * @example
 * ```ts
 * declare const ptr: number, count: number;
 * view().setUint32(ptr, count, true);
 * ```
 */
export function view(): DataView {
  if (u8.length === 0) refresh();
  return dv;
}

/**
 * The current ArrayBuffer of linear memory (renewed when memory grows).
 *
 * @example
 * ```ts
 * const text = Buffer.from(memoryBuffer());
 * ```
 */
export function memoryBuffer(): ArrayBuffer {
  if (u8.length === 0) refresh();
  return buffer;
}

/**
 * Bytes of linear memory (shared by every database of this thread).
 *
 * @example
 * ```ts
 * console.log(`${coreMemoryBytes() >> 20} MiB of linear memory`);
 * ```
 */
export function coreMemoryBytes(): number {
  return core.memory.buffer.byteLength;
}

/**
 * Address of the result area (see core/index.ts).
 *
 * @example
 * ```ts
 * import { RESULT_VALUE_LENGTH } from "./_core_abi.ts";
 * const valueLength = words()[(RESULT + RESULT_VALUE_LENGTH) >>> 2]; // what abi.ts's resultValueLength() reads
 * ```
 */
export const RESULT: number = core.resultArea();

let scratchCap = 64 << 10;
let scratchPtr = core.scratch(scratchCap);

/**
 * Address of a scratch region of at least size bytes; its contents are not
 * kept across growth. May grow memory.
 *
 * @example
 * ```ts
 * declare const key: string | Uint8Array;
 * const ptr = scratch(maxEncodedLength(key));
 * const len = writeData(ptr, key);
 * ```
 */
export function scratch(size: number): number {
  if (size > scratchCap) {
    scratchPtr = core.scratch(size);
    while (scratchCap < size) scratchCap *= 2;
  }
  return scratchPtr;
}

/**
 * Allocates size bytes of linear memory (free them with freeBuffer). May grow memory.
 *
 * @example
 * ```ts
 * const ptr = allocBuffer(4096);
 * freeBuffer(ptr);
 * ```
 */
export function allocBuffer(size: number): number {
  return core.bufferAlloc(size);
}

/**
 * Frees a buffer from allocBuffer (or a block read by a table reader that nothing took over).
 *
 * @example
 * ```ts
 * import type { BlockHandle } from "../format/table_format.ts";
 * import type { TableReader } from "../table/table_reader.ts";
 * declare const table: TableReader, handle: BlockHandle;
 * const block = table.readBlock(handle);
 * freeBuffer(block.ptr);
 * ```
 */
export function freeBuffer(ptr: number): void {
  core.bufferFree(ptr);
}

/**
 * A copy of bytes in a new buffer of linear memory (free it with freeBuffer). May grow memory.
 *
 * @example
 * ```ts
 * const ptr = copyIn(new Uint8Array([1, 2, 3]));
 * freeBuffer(ptr);
 * ```
 */
export function copyIn(data: Uint8Array): number {
  const ptr = core.bufferAlloc(Math.max(1, data.length));
  bytes().set(data, ptr);
  return ptr;
}

/**
 * Most bytes a value can take in memory: exact for bytes, 3 per UTF-16 unit for strings.
 *
 * @example
 * ```ts
 * maxEncodedLength("héllo"); // 15
 * ```
 */
export function maxEncodedLength(data: string | Uint8Array): number {
  return typeof data === "string" ? data.length * 3 : data.length;
}

/**
 * Writes a string (as UTF-8) or bytes at ptr and returns the byte count. The
 * caller must have room for maxEncodedLength(data) bytes.
 *
 * @example
 * ```ts
 * const ptr = scratch(maxEncodedLength("key"));
 * const len = writeData(ptr, "key"); // 3
 * ```
 */
export function writeData(ptr: number, data: string | Uint8Array): number {
  const mem = bytes();
  if (typeof data !== "string") {
    mem.set(data, ptr);
    return data.length;
  }
  return encodeUtf8Into(data, mem, ptr);
}
