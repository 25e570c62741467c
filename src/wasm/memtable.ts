// A memtable of the core (core/skiplist.ts, core/hash_index.ts: layout and
// order): its handle and the operations the engine needs. Writes reach it
// as sealed log records (src/wasm/records.ts); reads go through the read
// state (src/wasm/read_state.ts) and scans; flushes walk it with a cursor
// (src/wasm/table_builder.ts).

import { bytes, core } from "./instance.ts";
import { noteApplied } from "./range_tombstones.ts";
import { rangeDeleteEnd, type RangeTombstone } from "../format/range_tombstone_format.ts";

/** One entry of a memtable, copied out. */
export interface MemtableEntry {
  key: Uint8Array;
  sequence: number;
  /** KIND_PUT or KIND_DELETE (src/format/internal_key.ts). */
  kind: number;
  value: Uint8Array;
}

/**
 * One skip-list memtable in linear memory. Call free() when done: the memory
 * is not garbage collected.
 *
 * @example
 * ```ts
 * import { applyBatchRecords } from "./records.ts";
 * declare const records: number, length: number; // sealed write batch records in linear memory
 * const mt = new Memtable();
 * applyBatchRecords(mt, records, length);
 * console.log(mt.count, mt.bytesUsed);
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

  /** A cursor on the first entry in internal-key order (0 when empty), for TableBuilder.addMemtable. */
  first(): number {
    return core.mtFirst(this.ptr);
  }

  /**
   * Validates and applies a write batch payload (`length` bytes at `payload`,
   * its sequence stamped); entry count, or -1 (nothing applied) if malformed.
   */
  applyBatch(payload: number, length: number): number {
    const count = core.batchApplyTo(this.ptr, payload, length);
    noteApplied();
    return count;
  }

  /** Every entry in internal-key order, copied out (inspection: siltdb dump-wal, tests). */
  *entries(): Generator<MemtableEntry> {
    for (let node = core.mtFirst(this.ptr); node !== 0; node = core.mtNextNode(node)) {
      const kp = core.nodeKeyPtr(node);
      const vp = core.nodeValuePtr(node);
      const mem = bytes();
      yield {
        key: mem.slice(kp, kp + core.nodeKeyLength(node)),
        sequence: core.nodeSequence(node),
        kind: core.nodeKind(node),
        value: mem.slice(vp, vp + core.nodeValueLength(node)),
      };
    }
  }

  /** The smallest sequence of its entries (Infinity when empty). */
  minSequence(): number {
    let min = Infinity;
    for (let node = core.mtFirst(this.ptr); node !== 0; node = core.mtNextNode(node)) {
      const s = core.nodeSequence(node);
      if (s < min) min = s;
    }
    for (const t of this.rangeTombstones()) min = Math.min(min, t.sequence);
    return min;
  }

  /** The largest user key of its entries (a copy), undefined when it has none. */
  lastKey(): Uint8Array | undefined {
    const node = core.mtLast(this.ptr);
    if (node === 0) return undefined;
    const kp = core.nodeKeyPtr(node);
    return bytes().slice(kp, kp + core.nodeKeyLength(node));
  }

  /** Its range tombstones (core/range_tombstones.ts), copied out, sorted by start, newest first. */
  rangeTombstones(): RangeTombstone[] {
    const list = core.mtRangeDeletes(this.ptr);
    const out: RangeTombstone[] = [];
    if (list === 0) return out;
    for (let node = core.mtFirst(list); node !== 0; node = core.mtNextNode(node)) {
      const kp = core.nodeKeyPtr(node);
      const vp = core.nodeValuePtr(node);
      const mem = bytes();
      out.push({
        start: mem.slice(kp, kp + core.nodeKeyLength(node)),
        end: rangeDeleteEnd(mem.subarray(vp, vp + core.nodeValueLength(node))),
        sequence: core.nodeSequence(node),
      });
    }
    return out;
  }

  /** Frees the memtable's memory. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    core.mtFree(this.ptr);
  }
}
