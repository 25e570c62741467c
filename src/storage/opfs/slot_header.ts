// The slot files of OpfsStorage (src/storage/opfs_storage.ts): a header
// with two copies, then the virtual file's bytes.
//
// Slot file layout:
//
//   offset 0      +--------------------------------------------+
//                 | header copy A (2048 bytes)                 |
//   offset 2048   +--------------------------------------------+
//                 | header copy B (2048 bytes)                 |
//   offset 4096   +--------------------------------------------+
//                 | the virtual file's bytes                   |
//                 | (virtual size = getSize() - 4096)          |
//                 +--------------------------------------------+
//
//   header copy (little-endian), 2048 bytes:
//     0     8  magic "SILTOPFS"
//     8     4  format version (1)
//     12    4  state: 1 = holds a file, 0 = free
//     16    4  generation, low 32 bits   } a u64 (up to 2^53 used),
//     20    4  generation, high 32 bits  } above every older header
//     24    4  path length in bytes (0..1024; 0 when free)
//     28    n  path, UTF-8 (normalized, absolute: "/db/000005.sst")
//     ...      zeros
//     2044  4  checksum of bytes 0..2043 (tableChecksum: low 32 bits of XXH64)

import { tableChecksum } from "../../wasm/checksum.ts";

/** Bytes before a slot's data. */
export const SLOT_HEADER_SIZE = 4096;
/** Bytes of one of the two header copies. */
export const COPY_SIZE = 2048;
/** Longest virtual path, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 1024;
/** Slot header format version. */
export const SLOT_FORMAT_VERSION = 1;
const MAGIC = new TextEncoder().encode("SILTOPFS");
const CHECKSUM_AT = COPY_SIZE - 4;
export const SLOT_NAME = /^slot-(\d{5,})\.silt$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The name of slot file number n. */
export function slotFileName(n: number): string {
  return `slot-${String(n).padStart(5, "0")}.silt`;
}

/** A decoded header copy. */
export interface HeaderCopy {
  path: string | null;
  generation: number;
}

/** The bytes of a header copy. */
export function encodeCopy(path: string | null, generation: number): Uint8Array {
  const buf = new Uint8Array(COPY_SIZE);
  const view = new DataView(buf.buffer);
  buf.set(MAGIC, 0);
  view.setUint32(8, SLOT_FORMAT_VERSION, true);
  view.setUint32(12, path === null ? 0 : 1, true);
  view.setUint32(16, generation % 0x1_0000_0000, true);
  view.setUint32(20, Math.floor(generation / 0x1_0000_0000), true);
  const p = path === null ? new Uint8Array(0) : encoder.encode(path);
  view.setUint32(24, p.length, true);
  buf.set(p, 28);
  view.setUint32(CHECKSUM_AT, tableChecksum(buf.subarray(0, CHECKSUM_AT)), true);
  return buf;
}

/** Decodes a header copy; undefined when it is not a valid one. */
export function decodeCopy(buf: Uint8Array): HeaderCopy | undefined {
  if (buf.length < COPY_SIZE) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(CHECKSUM_AT, true) !== tableChecksum(buf.subarray(0, CHECKSUM_AT))) return undefined;
  if (view.getUint32(8, true) !== SLOT_FORMAT_VERSION) return undefined;
  const state = view.getUint32(12, true);
  const generation = view.getUint32(16, true) + view.getUint32(20, true) * 0x1_0000_0000;
  const len = view.getUint32(24, true);
  if (state === 0) return { path: null, generation };
  if (state !== 1 || len === 0 || len > MAX_PATH_BYTES) return undefined;
  try {
    return { path: decoder.decode(buf.subarray(28, 28 + len)), generation };
  } catch {
    return undefined;
  }
}
