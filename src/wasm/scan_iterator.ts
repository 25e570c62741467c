// A scan's iterator in the core (core/db_iter.ts over core/merge_iter.ts):
// sources over the memtables and the tables of a packed version, merged,
// filtered to what a snapshot sees inside bounds, forward or reverse. One
// fill() copies up to max entries' (key, value) addresses into linear
// memory; when a source needs a table or a block the fill stops early and
// stoppedSource() names it. A fill's keys lie one after the other; so do
// its values when the scan was made with copyValues (always in reverse).

import { ScanFlag, type ScanStatus } from "./abi.ts";
import { core, maxEncodedLength, scratch, words, writeData } from "./instance.ts";
import type { Memtable } from "./memtable.ts";
import type { ReadState } from "./read_state.ts";

/** A bound of a scan: its key (in the store's bytes or as text) and whether it is inclusive. */
export type ScanBound = readonly [key: string | Uint8Array, inclusive: boolean];

/** What a scan reads (a read view, src/read/read_view.ts). */
export interface ScanView {
  readonly readState: ReadState;
  /** The packed version the table sources read (readState.packedVersion when the view was taken). */
  readonly packedVersion: number;
  /** Memtables, newest first. */
  readonly memtables: readonly Memtable[];
  /** The range-tombstone fragment list of the view (0: none); the iterator takes its own reference. */
  readonly tombstones: number;
  /** File count per level of the packed version. */
  readonly fileCounts: readonly number[];
}

/**
 * A core scan iterator. Call free() when done (it frees its sources, which
 * let go of their tables and pinned blocks).
 *
 * @example
 * ```ts
 * import type { BlockProvider } from "../table/block_provider.ts";
 * import { ScanStatus } from "./abi.ts";
 * declare const view: ScanView, provider: BlockProvider;
 * const it = new CoreScan(view, 42, false, ["a", true], undefined, true); // as of sequence 42, forward, from "a"
 * const out = it.fill(16); // it.count entries at out: u32 key ptr, key len, value ptr, value len each
 * if (it.status === ScanStatus.Need) provider.answerSource(it.stoppedSource());
 * it.free();
 * ```
 */
export class CoreScan {
  #it: number;
  /** Entries the last fill() produced. */
  count = 0;

  /**
   * A scan of `view` as of `sequence`, between the bounds (undefined: open),
   * reversed or not; with copyValues each fill's values lie one after the
   * other (so that they can be copied out together).
   */
  constructor(
    view: ScanView,
    sequence: number,
    reverse: boolean,
    lower: ScanBound | undefined,
    upper: ScanBound | undefined,
    copyValues = false,
  ) {
    const { readState, packedVersion, fileCounts, memtables } = view;
    // Sources first (they allocate), then the arguments in scratch.
    const children: number[] = [];
    for (let i = 0; i < memtables.length; i++) children.push(core.memSourceNew(memtables[i].ptr));
    for (let i = 0; i < fileCounts[0]; i++) {
      children.push(core.runSourceOfLevel(readState.ptr, packedVersion, 0, i));
    }
    for (let level = 1; level < fileCounts.length; level++) {
      if (fileCounts[level] > 0) children.push(core.runSourceOfLevel(readState.ptr, packedVersion, level, 0));
    }
    const lowerData = lower?.[0] ?? "";
    const upperData = upper?.[0] ?? "";
    const childBytes = children.length * 4;
    const ptr = scratch(childBytes + maxEncodedLength(lowerData) + maxEncodedLength(upperData));
    const w = words();
    for (let i = 0; i < children.length; i++) w[(ptr >>> 2) + i] = children[i];
    const lowerLen = writeData(ptr + childBytes, lowerData);
    const upperLen = writeData(ptr + childBytes + lowerLen, upperData);
    let flags = (reverse ? ScanFlag.Reverse : 0) | (copyValues ? ScanFlag.CopyValues : 0);
    if (lower) flags |= ScanFlag.HasLower | (lower[1] ? ScanFlag.LowerInclusive : 0);
    if (upper) flags |= ScanFlag.HasUpper | (upper[1] ? ScanFlag.UpperInclusive : 0);
    this.#it = core.iterCreate(
      ptr,
      children.length,
      sequence,
      flags,
      ptr + childBytes,
      lowerLen,
      ptr + childBytes + lowerLen,
      upperLen,
      readState.clock(),
      view.tombstones,
    );
  }

  /**
   * Fills up to max visible entries; returns the address of `count`
   * quadruples (u32 key address, key length, value address, value length),
   * valid until the next call on this iterator.
   */
  fill(max: number): number {
    const out = scratch(max * 16);
    this.count = core.iterFill(this.#it, out, max);
    return out;
  }

  /** Where the last fill stopped (ScanStatus). */
  get status(): ScanStatus {
    return core.iterStatus(this.#it) as ScanStatus;
  }

  /** The source the last fill stopped on (status Need or Corrupt). */
  stoppedSource(): number {
    return core.iterChild(this.#it, core.iterNeedChild(this.#it));
  }

  /** Frees the iterator and its sources. Idempotent. */
  free(): void {
    if (this.#it === 0) return;
    core.iterFree(this.#it);
    this.#it = 0;
  }
}
