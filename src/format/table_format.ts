// Table file (SST) layout: constants and the parts TypeScript decodes (footer
// and properties). Blocks themselves are built and read by the core
// (core/block_builder.ts, core/block_reader.ts, core/table_builder.ts, which
// draws the whole file). Do not change: these bytes are on disk.
//
//   data blocks, each + 5-byte trailer (u8 type | u32 checksum: low 32 bits of XXH64 of stored block + type)
//     type 0 (BLOCK_TYPE_RAW): the block as is
//     type 1 (BLOCK_TYPE_LZ4): varint32 length of the block | the block as an LZ4 block stream
//   filter block + trailer     (absent when bloomBitsPerKey is 0; filter, index, properties are always type 0)
//   index block + trailer
//   range-tombstone block + trailer   (absent when the table has none; range_tombstone_format.ts)
//   properties block + trailer        (version 2: ends with the range-tombstone block's handle and count)
//   footer, 64 bytes:
//     +0 u64 filter offset  +8 u64 filter size  +16 u64 index offset  +24 u64 index size
//     +32 u64 properties offset  +40 u64 properties size
//     +48 u32 format version (3)  +52 u32 checksum (low 32 bits of XXH64) of bytes [0, 52)  +56 "SILTSST\n"
//
// Version 2 replaced CRC-32C with XXH64 (ten times cheaper in WebAssembly);
// version 3 added block type 1 (LZ4-compressed data blocks). Older versions
// are refused with a version error (no release wrote them).

import { corruption } from "../errors.ts";

/**
 * Bytes in the footer.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * declare const file: StorageFile; // an open table file
 * const footer = new Uint8Array(FOOTER_SIZE);
 * file.read(file.size() - FOOTER_SIZE, footer); // its last 64 bytes
 * ```
 */
export const FOOTER_SIZE = 64;
/**
 * Bytes after every block: type and checksum.
 *
 * @example
 * ```ts
 * declare const handle: BlockHandle; // from the footer or the index
 * const onDisk = handle.size + BLOCK_TRAILER_SIZE; // the bytes to read: the block, its type and its checksum
 * ```
 */
export const BLOCK_TRAILER_SIZE = 5;
/**
 * Current table format version.
 *
 * @example
 * ```ts
 * declare const footer: Uint8Array; // a table's last 64 bytes
 * const supported = new DataView(footer.buffer).getUint32(48, true) === TABLE_VERSION;
 * ```
 */
export const TABLE_VERSION = 3;
/**
 * Block type (the trailer's first byte) of a block stored as is. Do not change: on disk.
 *
 * @example
 * ```ts
 * declare const stored: Uint8Array; // a block read with its trailer
 * const raw = stored[stored.length - BLOCK_TRAILER_SIZE] === BLOCK_TYPE_RAW;
 * ```
 */
export const BLOCK_TYPE_RAW = 0;
/**
 * Block type of an LZ4-compressed block: varint32 length of the block, then its LZ4 block stream. Do not change: on disk.
 *
 * @example
 * ```ts
 * declare const stored: Uint8Array; // a block read with its trailer
 * const compressed = stored[stored.length - BLOCK_TRAILER_SIZE] === BLOCK_TYPE_LZ4;
 * ```
 */
export const BLOCK_TYPE_LZ4 = 1;

/**
 * How the data blocks of new tables are stored (the `compression` open
 * option): "lz4" compresses each one that shrinks by at least an eighth,
 * "none" stores them as they are.
 *
 * @example
 * ```ts
 * const codec: Compression = "lz4";
 * ```
 */
export type Compression = "lz4" | "none";
/**
 * "SILTSST\n"
 *
 * @example
 * ```ts
 * declare const footer: Uint8Array; // a table's last 64 bytes
 * const isTable = TABLE_MAGIC.every((b, i) => footer[56 + i] === b); // it ends with "SILTSST\n"
 * ```
 */
export const TABLE_MAGIC: Uint8Array = new Uint8Array([0x53, 0x49, 0x4c, 0x54, 0x53, 0x53, 0x54, 0x0a]);
/**
 * Version of the properties block's layout.
 *
 * @example
 * ```ts
 * declare const block: Uint8Array; // a properties block
 * const known = new DataView(block.buffer).getUint32(0, true) === PROPERTIES_VERSION; // its first u32
 * ```
 */
export const PROPERTIES_VERSION = 2;
/**
 * Restart interval of data blocks.
 *
 * @example
 * ```ts
 * declare const properties: TableProperties; // of a table this siltdb wrote
 * console.log(properties.restartInterval === RESTART_INTERVAL); // true
 * ```
 */
export const RESTART_INTERVAL = 16;

/** Where a block lies in its file (size without the trailer). */
export interface BlockHandle {
  offset: number;
  size: number;
}

/** The decoded footer. */
export interface Footer {
  filter: BlockHandle;
  index: BlockHandle;
  properties: BlockHandle;
}

/** What a finished table file holds, as a version edit records it (with its file number). */
export interface TableSummary {
  /** Bytes of the file. */
  size: number;
  /** Smallest internal key (user key + 8-byte trailer). */
  smallest: Uint8Array;
  /** Largest internal key. */
  largest: Uint8Array;
  smallestSequence: number;
  largestSequence: number;
  entries: number;
  /** Its range tombstones (fragments sorted by start, newest first; ends bounded), if any. */
  rangeTombstones?: TableRangeTombstone[];
}

/** A range tombstone in a table: deletes the keys in [start, end) older than sequence. */
export interface TableRangeTombstone {
  start: Uint8Array;
  end: Uint8Array;
  sequence: number;
}

/** The decoded properties block. */
export interface TableProperties {
  restartInterval: number;
  bloomBitsPerKey: number;
  entries: number;
  deletions: number;
  dataBlocks: number;
  dataBytes: number;
  keyBytes: number;
  valueBytes: number;
  smallestSequence: number;
  largestSequence: number;
  /** Smallest internal key (user key + 8-byte trailer). */
  smallest: Uint8Array;
  /** Largest internal key. */
  largest: Uint8Array;
  /** The range-tombstone block (size 0: none; src/format/range_tombstone_format.ts). */
  rangeTombstones: BlockHandle;
  /** Range tombstones (fragments) in it. */
  rangeTombstoneCount: number;
}

function u64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
}

/**
 * Decodes and checks a footer (its last 64 bytes at fileSize - 64).
 * `checksum` computes the table checksum of bytes (the core's XXH64, low 32 bits).
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * import { tableChecksum } from "../wasm/checksum.ts";
 * declare const file: StorageFile; // an open table file
 * const bytes = new Uint8Array(FOOTER_SIZE);
 * file.read(file.size() - FOOTER_SIZE, bytes);
 * const footer = decodeFooter(bytes, file.path, file.size(), tableChecksum); // CORRUPTION if damaged
 * console.log(footer.index.offset, footer.index.size);
 * ```
 */
export function decodeFooter(
  bytes: Uint8Array,
  file: string,
  fileSize: number,
  checksum: (b: Uint8Array) => number,
): Footer {
  const at = fileSize - FOOTER_SIZE;
  if (bytes.length !== FOOTER_SIZE) {
    throw corruption(file, Math.max(0, at), `file of ${fileSize} bytes is too short for a table`);
  }
  if (!TABLE_MAGIC.every((b, i) => bytes[56 + i] === b)) {
    throw corruption(file, at + 56, "not a siltdb table (bad magic)");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(48, true);
  if (version !== TABLE_VERSION) {
    throw corruption(
      file,
      at + 48,
      `unsupported table format version ${version} (this siltdb reads version ${TABLE_VERSION})`,
    );
  }
  if (dv.getUint32(52, true) !== checksum(bytes.subarray(0, 52))) {
    throw corruption(file, at, "table footer checksum mismatch");
  }
  const handle = (o: number): BlockHandle => ({ offset: u64(dv, o), size: u64(dv, o + 8) });
  const footer = { filter: handle(0), index: handle(16), properties: handle(32) };
  for (const [name, h] of Object.entries(footer)) {
    if ((h.size > 0 || name !== "filter") && h.offset + h.size + BLOCK_TRAILER_SIZE > at) {
      throw corruption(file, at, `${name} block handle points past the footer`);
    }
  }
  return footer;
}

/**
 * Decodes a properties block.
 *
 * @example
 * ```ts
 * declare const footer: Footer;
 * declare const block: Uint8Array; // the bytes of footer.properties, without the trailer
 * const props = decodeProperties(block, "/db/000012.sst", footer.properties.offset);
 * console.log(props.entries, props.deletions, props.smallestSequence, props.largestSequence);
 * ```
 */
export function decodeProperties(bytes: Uint8Array, file: string, offset: number): TableProperties {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) => corruption(file, offset, `properties block: ${what}`);
  if (bytes.length < 88) throw bad("too short");
  if (dv.getUint32(0, true) !== PROPERTIES_VERSION) throw bad(`unknown version ${dv.getUint32(0, true)}`);
  let at = 80;
  const key = (): Uint8Array => {
    if (at + 4 > bytes.length) throw bad("key length past the end");
    const len = dv.getUint32(at, true);
    if (at + 4 + len > bytes.length || len < 8) throw bad("key past the end");
    const k = bytes.slice(at + 4, at + 4 + len);
    at += 4 + len;
    return k;
  };
  const smallest = key();
  const largest = key();
  if (at + 24 > bytes.length) throw bad("range-tombstone handle past the end");
  const rangeTombstones = { offset: u64(dv, at), size: u64(dv, at + 8) };
  const rangeTombstoneCount = u64(dv, at + 16);
  if ((rangeTombstones.size === 0) !== (rangeTombstoneCount === 0)) {
    throw bad("range-tombstone handle and count disagree");
  }
  return {
    restartInterval: dv.getUint32(4, true),
    bloomBitsPerKey: dv.getUint32(8, true),
    entries: u64(dv, 16),
    deletions: u64(dv, 24),
    dataBlocks: u64(dv, 32),
    dataBytes: u64(dv, 40),
    keyBytes: u64(dv, 48),
    valueBytes: u64(dv, 56),
    smallestSequence: u64(dv, 64),
    largestSequence: u64(dv, 72),
    smallest,
    largest,
    rangeTombstones,
    rangeTombstoneCount,
  };
}
