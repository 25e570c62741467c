// The slot files of OpfsStorage (./opfs_storage.ts; the pool that reads
// and writes them: ./slot_pool.ts): a header with two copies, then the
// virtual file's bytes. On disk (docs/format.md, "OPFS slot files"): do not
// change; a change of layout gets a new format version.
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
//
// May import: ../../wasm/checksum.ts (the checksum).

import { tableChecksum } from "../../wasm/checksum.ts";

/**
 * Bytes before a slot's data (the two header copies). On disk: do not change.
 *
 * @example
 * ```ts
 * import { SLOT_HEADER_SIZE } from "./slot_header.ts";
 * const slotFileSize = 10_000;
 * console.log(slotFileSize - SLOT_HEADER_SIZE); // 5904: the virtual file's size
 * ```
 */
export const SLOT_HEADER_SIZE = 4096;
/**
 * Bytes of one of the two header copies (copy B starts here). On disk: do not change.
 *
 * @example
 * ```ts
 * import { COPY_SIZE } from "./slot_header.ts";
 * const copyB = (header: Uint8Array) => header.subarray(COPY_SIZE, 2 * COPY_SIZE);
 * console.log(copyB(new Uint8Array(4096)).length); // 2048
 * ```
 */
export const COPY_SIZE = 2048;
/**
 * Longest virtual path, in UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { MAX_PATH_BYTES } from "./slot_header.ts";
 * console.log(new TextEncoder().encode("/db/000005.sst").length <= MAX_PATH_BYTES); // true
 * ```
 */
export const MAX_PATH_BYTES = 1024;
/**
 * Slot header format version. On disk: a change of layout gets a new one.
 *
 * @example
 * ```ts
 * import { SLOT_FORMAT_VERSION } from "./slot_header.ts";
 * console.log(SLOT_FORMAT_VERSION); // 1
 * ```
 */
export const SLOT_FORMAT_VERSION = 1;
const MAGIC = new TextEncoder().encode("SILTOPFS");
const CHECKSUM_AT = COPY_SIZE - 4;
/**
 * The names of slot files; group 1 is the slot's number. Other files in the
 * directory are not slots.
 *
 * @example
 * ```ts
 * import { SLOT_NAME } from "./slot_header.ts";
 * console.log(SLOT_NAME.exec("slot-00012.silt")?.[1], SLOT_NAME.test("notes.txt")); // "00012" false
 * ```
 */
export const SLOT_NAME = /^slot-(\d{5,})\.silt$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The name of slot file number n.
 *
 * @example
 * ```ts
 * import { slotFileName } from "./slot_header.ts";
 * console.log(slotFileName(7), slotFileName(123456)); // "slot-00007.silt" "slot-123456.silt"
 * ```
 */
export function slotFileName(n: number): string {
  return `slot-${String(n).padStart(5, "0")}.silt`;
}

/**
 * A decoded header copy: the path held (null: the slot is free) and the
 * copy's generation.
 *
 * @example
 * ```ts
 * import type { HeaderCopy } from "./slot_header.ts";
 * const free: HeaderCopy = { path: null, generation: 12 };
 * console.log(free.path === null); // true
 * ```
 */
export interface HeaderCopy {
  path: string | null;
  generation: number;
}

/**
 * The bytes of a header copy (COPY_SIZE of them) naming path (null: free)
 * with generation.
 *
 * @example
 * ```ts
 * import { decodeCopy, encodeCopy } from "./slot_header.ts";
 * const bytes = encodeCopy("/db/CURRENT", 5);
 * console.log(decodeCopy(bytes)); // { path: "/db/CURRENT", generation: 5 }
 * ```
 */
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

/**
 * Decodes a header copy; undefined when it is not a valid one (magic,
 * checksum, version, state or path wrong: a torn or never written copy).
 *
 * @example
 * ```ts
 * import { decodeCopy, encodeCopy } from "./slot_header.ts";
 * const bytes = encodeCopy(null, 9);
 * bytes[100] ^= 1;                    // damage: the checksum no longer holds
 * console.log(decodeCopy(bytes));     // undefined
 * ```
 */
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
