// A compaction in the core (core/compaction_iter.ts: the drop rules and the
// output cuts, over core/merge_iter.ts): run sources over the input tables,
// bound to the compaction's own read state, merged into a table builder.
// run() goes on until it needs something (a table, a block: stoppedSource()),
// has staged enough bytes to write, filled an output, or is done.

import { type CompactionStatus, FILE_RECORD_SIZE } from "./abi.ts";
import { FILTER_CANDIDATE_SIZE } from "./_core_abi.ts";
import { bytes, core, RESULT, view, words } from "./instance.ts";
import { type FileBounds, packedSize, packFiles, type ReadState } from "./read_state.ts";
import type { TableBuilder } from "./table_builder.ts";

/** The user-key range of a table: its smallest and largest user keys. */
export interface KeyRange {
  smallest: Uint8Array;
  largest: Uint8Array;
}

/** Packs the user-key ranges of runs (each sorted by key) for the tombstone rule (layout in core/compaction_iter.ts). */
function packRanges(runs: readonly (readonly KeyRange[])[]): number {
  const nonEmpty = runs.filter((r) => r.length > 0);
  if (nonEmpty.length === 0) return 0;
  const files = nonEmpty.flat();
  const keyBytes = files.reduce((n, f) => n + f.smallest.length + f.largest.length, 0);
  const ptr = core.bufferAlloc(4 + nonEmpty.length * 4 + files.length * 16 + keyBytes);
  const dv = view();
  const mem = bytes();
  let at = ptr;
  let key = ptr + 4 + nonEmpty.length * 4 + files.length * 16;
  dv.setUint32(at, nonEmpty.length, true);
  at += 4;
  for (const run of nonEmpty) {
    dv.setUint32(at, run.length, true);
    at += 4;
    for (const f of run) {
      for (const k of [f.smallest, f.largest]) {
        mem.set(k, key);
        dv.setUint32(at, key, true);
        dv.setUint32(at + 4, k.length, true);
        at += 8;
        key += k.length;
      }
    }
  }
  return ptr;
}

/**
 * A compaction merging runs of tables (newest run first; each run one L0
 * table or a level's tables in key order). Call free() when done.
 *
 * @example
 * ```ts
 * import type { FileBounds, ReadState } from "./read_state.ts";
 * import type { TableBuilder } from "./table_builder.ts";
 * declare const readState: ReadState, runs: FileBounds[][], oldestSnapshot: number, deeperRanges: KeyRange[][];
 * declare const builder: TableBuilder;
 * const merge = new CoreCompaction(readState, runs, oldestSnapshot, deeperRanges);
 * const status = merge.run(builder, 256 << 10, 2 << 20); // CompactionStatus
 * merge.free();
 * ```
 */
export class CoreCompaction {
  #ci: number;

  /**
   * @param readState the compaction's own (its tables and a small block cache)
   * @param runs the input runs, newest first
   * @param oldestSnapshot the sequence of the oldest live snapshot (or the last sequence)
   * @param deeper user-key ranges of the runs below the output that may hold the same keys (tombstones stay for them)
   * @param expiry now: the time (epoch ms) expiring puts are judged at; filterAbove: with a compaction
   *   filter, the newest live snapshot's sequence (0: none): newest versions above it stop at status Filter
   */
  constructor(
    readState: ReadState,
    runs: readonly (readonly FileBounds[])[],
    oldestSnapshot: number,
    deeper: readonly (readonly KeyRange[])[],
    expiry: { now: number; filterAbove?: number } = { now: Date.now() },
  ) {
    const sources = runs.map((files) => {
      const ptr = core.bufferAlloc(packedSize(files));
      packFiles(files, ptr, ptr + files.length * FILE_RECORD_SIZE);
      return core.runSourceNew(readState.ptr, files.length, ptr);
    });
    const children = core.bufferAlloc(sources.length * 4 + 4);
    sources.forEach((s, i) => words()[(children >>> 2) + i] = s);
    this.#ci = core.ciCreate(children, sources.length, oldestSnapshot, packRanges(deeper));
    core.bufferFree(children);
    core.ciSetNow(this.#ci, expiry.now);
    if (expiry.filterAbove !== undefined) core.ciFilterAbove(this.#ci, expiry.filterAbove);
  }

  /** The candidates of the batch waiting for the filter (status Filter): copies of their keys and stored values, sequences and kinds. */
  filterCandidates(): { key: Uint8Array; value: Uint8Array; sequence: number; kind: number }[] {
    const at = core.ciFilterBatch(this.#ci);
    const dv = view();
    const mem = bytes();
    const count = dv.getUint32(RESULT, true);
    const out = [];
    for (let i = 0; i < count; i++) {
      const c = at + i * FILTER_CANDIDATE_SIZE;
      const key = dv.getUint32(c, true);
      const value = dv.getUint32(c + 8, true);
      out.push({
        key: mem.slice(key, key + dv.getUint32(c + 4, true)),
        value: mem.slice(value, value + dv.getUint32(c + 12, true)),
        sequence: dv.getFloat64(c + 16, true),
        kind: dv.getUint32(c + 24, true),
      });
    }
    return out;
  }

  /** The filter's decisions on the waiting batch, one per candidate in order: keep, drop (a tombstone), or this stored value. */
  decide(builder: TableBuilder, decisions: readonly ("keep" | "drop" | Uint8Array)[]): void {
    const extra = decisions.reduce((n, d) => n + (typeof d === "string" ? 0 : d.length), 0);
    const ptr = core.bufferAlloc(decisions.length * 12 + extra + 1);
    const dv = view();
    const mem = bytes();
    let value = ptr + decisions.length * 12;
    decisions.forEach((d, i) => {
      const at = ptr + i * 12;
      dv.setUint32(at, d === "keep" ? 0 : d === "drop" ? 1 : 2, true);
      if (typeof d !== "string") {
        mem.set(d, value);
        dv.setUint32(at + 4, value, true);
        dv.setUint32(at + 8, d.length, true);
        value += d.length;
      }
    });
    core.ciDecide(this.#ci, builder.ptr, ptr);
    core.bufferFree(ptr);
  }

  /** Expired entries turned into tombstones or dropped so far. */
  get entriesExpired(): number {
    return core.ciExpired(this.#ci);
  }

  /** Entries the compaction filter dropped or changed so far. */
  get entriesFiltered(): number {
    return core.ciFiltered(this.#ci);
  }

  /** Merges into builder until it stages maxStaged bytes, an output reaches targetSize, a source needs something, or the end. */
  run(builder: TableBuilder, maxStaged: number, targetSize: number): CompactionStatus {
    return core.ciRun(this.#ci, builder.ptr, maxStaged, targetSize) as CompactionStatus;
  }

  /**
   * Drops what the range tombstones of the inputs hide from every snapshot
   * (a fragment list, src/wasm/range_tombstones.ts; the compaction takes its
   * own reference). Before the first run().
   */
  setTombstones(list: number): void {
    core.ciSetTombstones(this.#ci, list);
  }

  /** The last user key run() handled (after FileFull: the output's last key), a copy. */
  lastKey(): Uint8Array {
    const at = core.ciLastKey(this.#ci);
    return bytes().slice(at, at + core.ciLastKeyLength(this.#ci));
  }

  /** The source the last run() stopped on (status Need or Corrupt). */
  stoppedSource(): number {
    return core.ciChild(this.#ci, core.ciNeedChild(this.#ci));
  }

  /** Entries read from the inputs so far. */
  get entriesRead(): number {
    return core.ciRead(this.#ci);
  }

  /** Entries dropped so far (shadowed versions, tombstones with nothing left to hide). */
  get entriesDropped(): number {
    return core.ciDropped(this.#ci);
  }

  /** Frees the compaction and its sources. Idempotent. */
  free(): void {
    if (this.#ci === 0) return;
    core.ciFree(this.#ci);
    this.#ci = 0;
  }
}
