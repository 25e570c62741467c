// Test helpers over the core's memtable: one-entry inserts and lookups the
// engine does not need (it writes sealed log records, src/wasm/records.ts,
// and reads through the read state), and a skip list node copied out.

import { Lookup, resultValue, resultValueLength } from "../src/wasm/abi.ts";
import { bytes, core, maxEncodedLength, scratch, writeData } from "../src/wasm/instance.ts";
import { Memtable } from "../src/wasm/memtable.ts";
import { commitBatchRecord } from "../src/wasm/records.ts";

/** A memtable with single-entry inserts and lookups, for tests. */
export class TestMemtable extends Memtable {
  /** Inserts one version. (key, sequence) must be new. */
  add(key: string | Uint8Array, sequence: number, kind: number, value: string | Uint8Array = ""): void {
    const ptr = scratch(maxEncodedLength(key) + maxEncodedLength(value));
    const keyLen = writeData(ptr, key);
    const valueLen = writeData(ptr + keyLen, value);
    core.mtAdd(this.ptr, ptr, keyLen, sequence, kind, ptr + keyLen, valueLen);
  }

  /** Lookup of keyLen bytes at keyPtr as of sequence; on Found, see resultValue()/resultValueLength(). */
  lookupAt(keyPtr: number, keyLen: number, sequence: number): Lookup {
    return core.mtGet(this.ptr, keyPtr, keyLen, sequence) as Lookup;
  }

  /** Value of a key as of sequence: bytes, null for a tombstone, undefined when absent. */
  lookup(key: string | Uint8Array, sequence: number): Uint8Array | null | undefined {
    const ptr = scratch(maxEncodedLength(key));
    const result = this.lookupAt(ptr, writeData(ptr, key), sequence);
    if (result === Lookup.Absent) return undefined;
    if (result === Lookup.Deleted) return null;
    const at = resultValue();
    return bytes().slice(at, at + resultValueLength());
  }

  /** Stamps sequence into the record at ptr, seals it, applies it; entry count or -1. */
  commitRecord(record: number, payloadLength: number, sequence: number): number {
    return commitBatchRecord(this, record, payloadLength, sequence);
  }
}

/** The entry of a skip list node, copied out. */
export function nodeEntry(node: number): { key: Uint8Array; sequence: number; kind: number; value: Uint8Array } {
  const kp = core.nodeKeyPtr(node);
  const vp = core.nodeValuePtr(node);
  const mem = bytes();
  return {
    key: mem.slice(kp, kp + core.nodeKeyLength(node)),
    sequence: core.nodeSequence(node),
    kind: core.nodeKind(node),
    value: mem.slice(vp, vp + core.nodeValueLength(node)),
  };
}

/** Guard bytes written around codec outputs: a write outside the output changes them. */
const GUARD = 64;

/**
 * The core's LZ4 compressor (core/lz4.ts) over data, with an output of at
 * most cap bytes: the stream, or undefined when it does not fit. Throws if
 * the compressor wrote outside its output.
 */
export function lz4Compress(
  data: Uint8Array,
  cap = data.length + Math.ceil(data.length / 255) + 16,
): Uint8Array | undefined {
  const src = core.bufferAlloc(Math.max(1, data.length));
  const dst = core.bufferAlloc(cap + 2 * GUARD);
  try {
    bytes().set(data, src);
    bytes().fill(0xa5, dst, dst + cap + 2 * GUARD);
    const n = core.lz4CompressTo(src, data.length, dst + GUARD, cap);
    const mem = bytes();
    for (const at of [dst, dst + GUARD + cap]) {
      if (mem.subarray(at, at + GUARD).some((b) => b !== 0xa5)) {
        throw new Error("lz4 compress wrote outside its output");
      }
    }
    return n === 0 ? undefined : mem.slice(dst + GUARD, dst + GUARD + n);
  } finally {
    core.bufferFree(src);
    core.bufferFree(dst);
  }
}

/**
 * The core's LZ4 decompressor over stream, into exactly rawLength bytes:
 * the output, or undefined when the core refuses the stream. Throws if it
 * wrote outside its output.
 */
export function lz4Decompress(stream: Uint8Array, rawLength: number): Uint8Array | undefined {
  const src = core.bufferAlloc(Math.max(1, stream.length));
  const dst = core.bufferAlloc(rawLength + 2 * GUARD);
  try {
    bytes().set(stream, src);
    bytes().fill(0x5a, dst, dst + rawLength + 2 * GUARD);
    const ok = core.lz4DecompressTo(src, stream.length, dst + GUARD, rawLength) !== 0;
    const mem = bytes();
    for (const at of [dst, dst + GUARD + rawLength]) {
      if (mem.subarray(at, at + GUARD).some((b) => b !== 0x5a)) {
        throw new Error("lz4 decompress wrote outside its output");
      }
    }
    return ok ? mem.slice(dst + GUARD, dst + GUARD + rawLength) : undefined;
  } finally {
    core.bufferFree(src);
    core.bufferFree(dst);
  }
}
