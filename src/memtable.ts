// A memtable in the core module: the JavaScript handle and its operations.
// The skip list itself (layout, ordering) is in core/skiplist.ts.

import { bytes, core, maxEncodedLength, RESULT, scratch, words, writeData } from "./_wasm.ts";

/** Outcome of a point lookup (values returned by core mtGet). */
export const Lookup = {
  /** No version of the key at or below the sequence. */
  Absent: 0,
  /** A value: its address and length are in valueAt()/valueLength(). */
  Found: 1,
  /** The newest visible version is a tombstone. */
  Deleted: 2,
} as const;
/** Outcome of a point lookup. */
export type Lookup = typeof Lookup[keyof typeof Lookup];

/**
 * One skip-list memtable in linear memory. Call free() when done: the memory
 * is not garbage collected.
 *
 * @example
 * ```ts
 * const mt = new Memtable();
 * mt.add("k", 1, KIND_PUT, "v");
 * mt.lookup("k", 1);   // Uint8Array of "v"
 * mt.free();
 * ```
 */
export class Memtable {
  /** Address of the memtable header in linear memory. */
  readonly ptr: number;
  #freed = false;

  constructor() {
    this.ptr = core.mtNew();
  }

  /** Number of entries (every version counts). */
  get count(): number {
    return core.mtCount(this.ptr);
  }

  /** Bytes of nodes, keys and values: what fills the memtable. */
  get bytesUsed(): number {
    return core.mtBytesUsed(this.ptr);
  }

  /** Bytes reserved from linear memory. */
  get memoryUsage(): number {
    return core.mtMemoryUsage(this.ptr);
  }

  /** Inserts one version. (key, sequence) must be new. */
  add(key: string | Uint8Array, sequence: number, kind: number, value: string | Uint8Array = ""): void {
    const ptr = scratch(maxEncodedLength(key) + maxEncodedLength(value));
    const keyLen = writeData(ptr, key);
    const valueLen = writeData(ptr + keyLen, value);
    core.mtAdd(this.ptr, ptr, keyLen, sequence, kind, ptr + keyLen, valueLen);
  }

  /** Lookup of keyLen bytes at keyPtr as of sequence; on Found, see valueAt()/valueLength(). */
  lookupAt(keyPtr: number, keyLen: number, sequence: number): Lookup {
    return core.mtGet(this.ptr, keyPtr, keyLen, sequence) as Lookup;
  }

  /** Value of a key as of sequence: bytes, null for a tombstone, undefined when absent. */
  lookup(key: string | Uint8Array, sequence: number): Uint8Array | null | undefined {
    const ptr = scratch(maxEncodedLength(key));
    const result = this.lookupAt(ptr, writeData(ptr, key), sequence);
    if (result === Lookup.Absent) return undefined;
    if (result === Lookup.Deleted) return null;
    const at = valueAt();
    return bytes().slice(at, at + valueLength());
  }

  /** Validates and applies a write batch payload in linear memory; entry count, or -1 if malformed. */
  applyBatch(payload: number, length: number): number {
    return core.batchApplyTo(this.ptr, payload, length);
  }

  /** Stamps sequence into the record at ptr, seals it, applies it; entry count or -1. */
  commitRecord(record: number, payloadLength: number, sequence: number): number {
    return core.recordCommit(this.ptr, record, payloadLength, sequence);
  }

  /** Every entry in internal-key order (for tests and tools). */
  *entries(): Generator<{ key: Uint8Array; sequence: number; kind: number; value: Uint8Array }> {
    for (let node = core.mtFirst(this.ptr); node !== 0; node = core.mtNextNode(node)) {
      yield nodeEntry(node);
    }
  }

  /** Frees the memtable's memory. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    core.mtFree(this.ptr);
  }
}

/** A memtable in the database, and what keeps it alive. */
export interface MemtableHandle {
  mt: Memtable;
  /** Smallest log file holding its data. */
  firstLog: number;
  /** Readers (scans) using it. */
  refs: number;
  /** Flushed: freed when the last reader goes. */
  retired: boolean;
}

/** Marks a flushed memtable retired; frees it now if no reader holds it. */
export function retireMemtable(handle: MemtableHandle): void {
  handle.retired = true;
  if (handle.refs === 0) handle.mt.free();
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

/** Address of the value found by the last Found lookup. */
export function valueAt(): number {
  return words()[RESULT >>> 2];
}

/** Length of the value found by the last Found lookup. */
export function valueLength(): number {
  return words()[(RESULT >>> 2) + 1];
}
