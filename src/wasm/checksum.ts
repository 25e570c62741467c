// The table checksum (low 32 bits of XXH64, core/xxhash64.ts) of bytes
// outside linear memory: table footers, OPFS slot headers.

import { bytes, core } from "./instance.ts";

/**
 * The table checksum of data (low 32 bits of XXH64, as stored on disk).
 *
 * @example
 * ```ts
 * view.setUint32(52, tableChecksum(footer.subarray(0, 52)), true);
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
