// The core's range-tombstone fragment lists (core/range_tombstones.ts draws
// the layout): packing fragments (src/read/range_tombstones.ts makes them)
// into linear memory, and the core's count of range tombstones applied to
// memtables, which tells a reader its list may be stale.

import type { Fragment } from "../format/range_tombstone_format.ts";
import { RANGE_FRAGMENT_SIZE } from "./abi.ts";
import { bytes, core, view } from "./instance.ts";

/**
 * Packs fragments into linear memory (core/range_tombstones.ts), holding
 * one reference for the caller; 0 when there are none.
 *
 * @example
 * ```ts
 * import type { Fragment } from "../format/range_tombstone_format.ts";
 * declare const fragments: Fragment[];
 * const list = packFragments(fragments);
 * // ... hand the reference over: readState.setTombstones(list) ...
 * ```
 */
export function packFragments(fragments: readonly Fragment[]): number {
  if (fragments.length === 0) return 0;
  let size = 8 + fragments.length * RANGE_FRAGMENT_SIZE;
  for (const f of fragments) size += f.start.length + (f.end?.length ?? 0) + 8 * f.sequences.length;
  const ptr = core.bufferAlloc(size);
  const dv = view();
  const mem = bytes();
  dv.setUint32(ptr, 1, true);
  dv.setUint32(ptr + 4, fragments.length, true);
  let data = ptr + 8 + fragments.length * RANGE_FRAGMENT_SIZE;
  fragments.forEach((f, i) => {
    const at = ptr + 8 + i * RANGE_FRAGMENT_SIZE;
    mem.set(f.start, data);
    dv.setUint32(at, data, true);
    dv.setUint32(at + 4, f.start.length, true);
    data += f.start.length;
    const end = f.end ?? new Uint8Array(0);
    mem.set(end, data);
    dv.setUint32(at + 8, data, true);
    dv.setUint32(at + 12, end.length, true);
    dv.setUint32(at + 16, f.end === undefined ? 1 : 0, true);
    data += end.length;
    dv.setUint32(at + 20, f.sequences.length, true);
    dv.setUint32(at + 24, data, true);
    for (const s of f.sequences) {
      dv.setFloat64(data, s, true);
      data += 8;
    }
  });
  return ptr;
}

let applied = 0;

/**
 * Takes the core's count of range tombstones applied to memtables: every
 * wrapper of a core call that applies write batches calls it after the call
 * (records.ts, memtable.ts), so that reads compare a number instead of
 * asking the core on every lookup.
 *
 * @example
 * ```ts
 * import type { Memtable } from "./memtable.ts";
 * declare const memtable: Memtable, payload: number, length: number;
 * memtable.applyBatch(payload, length); // calls noteApplied() itself
 * noteApplied();
 * ```
 */
export function noteApplied(): void {
  applied = core.rtApplied();
}

/**
 * Range tombstones applied to memtables so far (every database of this
 * module): when it changes, a reader's fragment list may be stale.
 *
 * @example
 * ```ts
 * const before = rangeTombstonesApplied();
 * // ... a deleteRange is applied ...
 * console.log(rangeTombstonesApplied() > before); // true
 * ```
 */
export function rangeTombstonesApplied(): number {
  return applied;
}

/**
 * Adds a reference to a fragment list (0: none); give it back with releaseFragments.
 *
 * @example
 * ```ts
 * import type { ReadState } from "./read_state.ts";
 * declare const readState: ReadState;
 * const list = readState.tombstones;
 * retainFragments(list); // a scan's view keeps it while the reader may replace it
 * releaseFragments(list);
 * ```
 */
export function retainFragments(list: number): void {
  if (list !== 0) core.rtRef(list);
}

/**
 * Drops a reference to a fragment list (0: none); the last frees it.
 *
 * @example
 * ```ts
 * declare const list: number; // from packFragments
 * releaseFragments(list);
 * ```
 */
export function releaseFragments(list: number): void {
  if (list !== 0) core.rtUnref(list);
}
