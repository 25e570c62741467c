// The table checksum (low 32 bits of XXH64, core/xxhash64.ts) of bytes
// outside linear memory: table footers, OPFS slot headers.

import { bytes, core } from "./instance.ts";

/**
 * The table checksum of data (low 32 bits of XXH64, as stored on disk).
 *
 * @example
 * ```ts
 * declare const footer: Uint8Array; // the 64 bytes of a table footer
 * const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
 * const intact = view.getUint32(52, true) === tableChecksum(footer.subarray(0, 52)); // as decodeFooter checks
 * ```
 */
export function tableChecksum(data: Uint8Array): number {
  const ptr = core.bufferAlloc(Math.max(1, data.length));
  try {
    bytes().set(data, ptr);
    return core.checksum32(ptr, data.length) >>> 0;
  } finally {
    core.bufferFree(ptr);
  }
}
