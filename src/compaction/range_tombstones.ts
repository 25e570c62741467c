// Range tombstones in a compaction (RocksDB's CompactionRangeDelAggregator):
// the inputs' tombstones, cut into fragments, decide which entries the core
// drops (core/compaction_iter.ts: an entry covered by a newer tombstone that
// every snapshot sees), and go on to the outputs, each output keeping the
// part of them between the previous output's last key and its own (the last
// output: to their end), so that the outputs' key ranges never overlap.
//
// Of a fragment's sequences, those above the oldest snapshot stay (a
// snapshot below them must not see them), and the newest at or below it
// stays while a run older than the output may hold keys in the fragment's
// range; below that one, sequences are redundant (every snapshot sees the
// newer one), and with no older run there is nothing left to hide: RocksDB
// drops a tombstone at the bottommost level the same way.

import { compareUserKeys } from "../format/internal_key.ts";
import type { Fragment } from "../format/range_tombstone_format.ts";
import { clip, fragment, successor } from "../read/range_tombstones.ts";
import type { TableRangeTombstone } from "../format/table_format.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { KeyRange } from "../wasm/compaction_iter.ts";

/** The range tombstones of a compaction: all of the inputs', and what the outputs keep. */
export interface CompactionTombstones {
  /** Every tombstone of the inputs, as fragments (the core's drop rule). */
  all: Fragment[];
  /** What the outputs keep. */
  kept: Fragment[];
}

/**
 * The tombstones of a compaction's inputs and what its outputs keep, given
 * the oldest snapshot and the user-key ranges of the runs older than the
 * output (each sorted by key).
 *
 * @example
 * ```ts
 * import type { FileMeta } from "../version/version_edit.ts";
 * declare const inputs: FileMeta[], oldestSnapshot: number;
 * const { all, kept } = compactionTombstones(inputs, oldestSnapshot, []); // bottommost: kept drops what is below the snapshot
 * ```
 */
export function compactionTombstones(
  inputs: readonly FileMeta[],
  oldest: number,
  older: readonly (readonly KeyRange[])[],
): CompactionTombstones {
  const all = fragment(inputs.flatMap((f) => f.rangeTombstones ?? []));
  const kept: Fragment[] = [];
  for (const f of all) {
    const sequences = f.sequences.filter((s) => s > oldest);
    const visible = f.sequences.find((s) => s <= oldest);
    if (visible !== undefined && older.some((run) => run.some((r) => overlaps(r, f)))) sequences.push(visible);
    if (sequences.length > 0) kept.push({ start: f.start, end: f.end, sequences });
  }
  return { all, kept };
}

/** True when the run file's user keys [smallest, largest] meet the fragment [start, end). */
function overlaps(r: KeyRange, f: Fragment): boolean {
  return compareUserKeys(r.largest, f.start) >= 0 && (f.end === undefined || compareUserKeys(r.smallest, f.end) < 0);
}

/**
 * Cuts the kept tombstones between outputs: each call gives the part for
 * the next output, whose last user key is `lastKey` (undefined: the last
 * output, which takes the rest).
 *
 * @example
 * ```ts
 * import type { Fragment } from "../format/range_tombstone_format.ts";
 * declare const kept: Fragment[];
 * const cutter = new OutputTombstones(kept);
 * const first = cutter.next(new TextEncoder().encode("m")); // up to and with "m"
 * const rest = cutter.next(undefined);
 * ```
 */
export class OutputTombstones {
  readonly #kept: readonly Fragment[];
  #from: Uint8Array | undefined;

  constructor(kept: readonly Fragment[]) {
    this.#kept = kept;
  }

  /** The tombstones of the next output (sorted by start, newest first). */
  next(lastKey: Uint8Array | undefined): TableRangeTombstone[] {
    const upTo = lastKey === undefined ? undefined : successor(lastKey);
    const part = clip(this.#kept, this.#from, upTo);
    this.#from = upTo;
    return part;
  }
}
