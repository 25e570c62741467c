// Range tombstones on disk (RocksDB's DeleteRange): a tombstone deletes every
// key in [start, end) whose sequence is below its own. Do not change: these
// bytes are on disk (core/range_tombstones.ts and core/table_builder.ts
// write and read the same layouts).
//
// In a write batch (src/format/batch_format.ts), an entry of kind 2
// (KIND_RANGE_DELETE): key = start, value =
//
//   +--------+---------------+
//   | u8 1   | end key bytes |     bounded: deletes [start, end)
//   +--------+---------------+
//   | u8 0   |                     open: deletes every key from start on
//   +--------+
//
// In a table, the range-tombstone block (between the index and the
// properties block; properties version 2 hold its handle and count): the
// table's fragments sorted by start, then newest first, each
//
//   +----------------+-------+--------------+-----+--------------+
//   | u32 start len  | start | u32 end len  | end | u64 sequence |
//   +----------------+-------+--------------+-----+--------------+
//
// An end in a table is always bounded: a flush bounds an open end just past
// the largest key the store holds (every key it can delete is older, so it
// is in the store already).

import { corruption } from "../errors.ts";
import { compareUserKeys as compareBytes } from "./internal_key.ts";
import type { TableRangeTombstone } from "./table_format.ts";

/** A range tombstone: deletes the keys in [start, end) (end undefined: every key from start on) older than sequence. */
export interface RangeTombstone {
  start: Uint8Array;
  /** Exclusive; undefined: no end. */
  end: Uint8Array | undefined;
  sequence: number;
}

/** A piece of the key space [start, end) (end undefined: no end) and the sequences of the tombstones covering all of it. */
export interface Fragment {
  start: Uint8Array;
  end: Uint8Array | undefined;
  /** Newest first, no repeats. */
  sequences: number[];
}

/**
 * The value of a range-delete batch entry whose range ends at end
 * (exclusive; undefined: no end).
 *
 * @example
 * ```ts
 * rangeDeleteValue(new Uint8Array([98])); // Uint8Array [1, 98]
 * rangeDeleteValue(undefined); // Uint8Array [0]
 * ```
 */
export function rangeDeleteValue(end: Uint8Array | undefined): Uint8Array {
  if (end === undefined) return new Uint8Array([0]);
  const value = new Uint8Array(end.length + 1);
  value[0] = 1;
  value.set(end, 1);
  return value;
}

/**
 * The end a range-delete entry's value holds (a copy; undefined: no end).
 * The value must be well formed (the core checked it).
 *
 * @example
 * ```ts
 * rangeDeleteEnd(new Uint8Array([1, 98])); // Uint8Array [98]
 * rangeDeleteEnd(new Uint8Array([0])); // undefined
 * ```
 */
export function rangeDeleteEnd(value: Uint8Array): Uint8Array | undefined {
  return value[0] === 1 ? value.slice(1) : undefined;
}

/**
 * Decodes a table's range-tombstone block; CORRUPTION naming the file and
 * the block's offset when malformed.
 *
 * @example
 * ```ts
 * declare const block: Uint8Array; // the block's bytes, checksum verified
 * for (const t of decodeRangeTombstoneBlock(block, "/db/000012.sst", 4096)) console.log(t.start, t.end, t.sequence);
 * ```
 */
export function decodeRangeTombstoneBlock(bytes: Uint8Array, file: string, offset: number): TableRangeTombstone[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string) => corruption(file, offset, `range-tombstone block: ${what}`);
  const out: TableRangeTombstone[] = [];
  let at = 0;
  const key = (): Uint8Array => {
    if (at + 4 > bytes.length) throw bad("key length past the end");
    const len = dv.getUint32(at, true);
    if (at + 4 + len > bytes.length) throw bad("key past the end");
    const k = bytes.slice(at + 4, at + 4 + len);
    at += 4 + len;
    return k;
  };
  while (at < bytes.length) {
    const start = key();
    const end = key();
    if (at + 8 > bytes.length) throw bad("sequence past the end");
    const sequence = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
    at += 8;
    if (sequence < 1 || sequence > Number.MAX_SAFE_INTEGER) throw bad(`sequence ${sequence} out of range`);
    if (compareBytes(start, end) >= 0) throw bad("a tombstone's start is not before its end");
    const previous = out[out.length - 1];
    if (previous !== undefined && compareBytes(previous.start, start) > 0) throw bad("tombstones out of order");
    out.push({ start, end, sequence });
  }
  return out;
}
