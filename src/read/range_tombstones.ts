// Range tombstones on the read path: every tombstone a read state's
// memtables and table files hold, cut into fragments that do not overlap
// (RocksDB's FragmentedRangeTombstoneList), each with the sequences of the
// tombstones covering it, newest first, packed into linear memory where the
// core searches it in O(log n) (core/range_tombstones.ts draws the layout):
// a point lookup asks it once after finding a version, a scan once per key
// it would return, a compaction once per entry.
//
// A list is built once per change of the memtables, the version or a
// memtable's tombstones (rebuilt lazily, at the next read), never per read;
// with no tombstone anywhere there is no list, and reads pay one zero check.
// Table files carry their tombstones in their metadata (FileMeta, recorded
// by the manifest), so building a list opens no table.

import { compareUserKeys } from "../format/internal_key.ts";
import type { Fragment, RangeTombstone } from "../format/range_tombstone_format.ts";
import type { TableRangeTombstone } from "../format/table_format.ts";
import type { Levels } from "../version/version.ts";
import type { Memtable } from "../wasm/memtable.ts";

/**
 * Cuts tombstones into fragments sorted by start that do not overlap; two
 * neighbours with the same sequences are joined.
 *
 * @example
 * ```ts
 * const k = (s: string) => new TextEncoder().encode(s);
 * fragment([{ start: k("a"), end: k("c"), sequence: 5 }, { start: k("b"), end: k("d"), sequence: 9 }]);
 * // [a, b) [5], [b, c) [9, 5], [c, d) [9]
 * ```
 */
export function fragment(tombstones: readonly RangeTombstone[]): Fragment[] {
  if (tombstones.length === 0) return [];
  const sorted = [...tombstones].sort((a, b) => compareUserKeys(a.start, b.start));
  const points: Uint8Array[] = [];
  for (const t of sorted) {
    points.push(t.start);
    if (t.end !== undefined) points.push(t.end);
  }
  points.sort(compareUserKeys);
  const unique = points.filter((p, i) => i === 0 || compareUserKeys(points[i - 1], p) !== 0);
  const out: Fragment[] = [];
  let active: RangeTombstone[] = [];
  let next = 0;
  for (let i = 0; i < unique.length; i++) {
    const at = unique[i];
    active = active.filter((t) => t.end === undefined || compareUserKeys(t.end, at) > 0);
    while (next < sorted.length && compareUserKeys(sorted[next].start, at) <= 0) active.push(sorted[next++]);
    if (active.length === 0) continue;
    const end = i + 1 < unique.length ? unique[i + 1] : undefined;
    const sequences = [...new Set(active.map((t) => t.sequence))].sort((a, b) => b - a);
    const last = out[out.length - 1];
    if (
      last !== undefined && last.end !== undefined && compareUserKeys(last.end, at) === 0 &&
      last.sequences.length === sequences.length && last.sequences.every((s, j) => s === sequences[j])
    ) {
      last.end = end;
    } else {
      out.push({ start: at, end, sequences });
    }
  }
  return out;
}

/**
 * Every range tombstone of the memtables and of the files of levels.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * import type { Memtable } from "../wasm/memtable.ts";
 * declare const active: Memtable, version: Version;
 * const all = tombstonesOf([active], version.levels);
 * ```
 */
export function tombstonesOf(memtables: readonly Memtable[], levels: Levels): RangeTombstone[] {
  const out: RangeTombstone[] = [];
  for (const mt of memtables) out.push(...mt.rangeTombstones());
  for (const files of levels) for (const f of files) if (f.rangeTombstones) out.push(...f.rangeTombstones);
  return out;
}

/**
 * The tombstones of a memtable as a table keeps them: sorted by start,
 * newest first, an open end bounded just past `largest` (the largest user
 * key the store holds: every key a tombstone deletes is older, so in the
 * store already), or just past its start when it starts after `largest`
 * (it deletes nothing; kept so that a flush always has something to write).
 *
 * @example
 * ```ts
 * const k = (s: string) => new TextEncoder().encode(s);
 * boundedTombstones([{ start: k("b"), end: undefined, sequence: 7 }], k("m")); // [b, "m\0") at 7
 * ```
 */
export function boundedTombstones(
  tombstones: readonly RangeTombstone[],
  largest: Uint8Array | undefined,
): TableRangeTombstone[] {
  const out: TableRangeTombstone[] = [];
  for (const t of tombstones) {
    let end = t.end;
    if (end === undefined) {
      end = largest !== undefined && compareUserKeys(largest, t.start) >= 0 ? successor(largest) : successor(t.start);
    }
    out.push({ start: t.start, end, sequence: t.sequence });
  }
  return out.sort((a, b) => compareUserKeys(a.start, b.start) || b.sequence - a.sequence);
}

/**
 * The largest user key the files of levels may hold (their largest bounds),
 * and of `more`; undefined when there is none.
 *
 * @example
 * ```ts
 * import type { Version } from "../version/version.ts";
 * declare const version: Version;
 * const largest = largestUserKey(version.levels, []);
 * ```
 */
export function largestUserKey(levels: Levels, more: readonly (Uint8Array | undefined)[]): Uint8Array | undefined {
  let largest: Uint8Array | undefined;
  const consider = (k: Uint8Array | undefined) => {
    if (k !== undefined && (largest === undefined || compareUserKeys(k, largest) > 0)) largest = k;
  };
  for (const files of levels) for (const f of files) consider(f.largest.subarray(0, f.largest.length - 8));
  for (const k of more) consider(k);
  return largest;
}

/**
 * The smallest key after key: key and a zero byte.
 *
 * @example
 * ```ts
 * successor(new Uint8Array([97])); // Uint8Array [97, 0]
 * ```
 */
export function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/**
 * The fragments within [lower, upper) (undefined: unbounded), clipped to
 * it, as table tombstones sorted by start, newest first.
 *
 * @example
 * ```ts
 * import type { Fragment } from "../format/range_tombstone_format.ts";
 * declare const fragments: Fragment[];
 * const k = (s: string) => new TextEncoder().encode(s);
 * const forTable = clip(fragments, k("a"), k("m")); // what a table holding keys from "a" up to "m" keeps
 * ```
 */
export function clip(
  fragments: readonly Fragment[],
  lower: Uint8Array | undefined,
  upper: Uint8Array | undefined,
): TableRangeTombstone[] {
  const out: TableRangeTombstone[] = [];
  for (const f of fragments) {
    const start = lower !== undefined && compareUserKeys(f.start, lower) < 0 ? lower : f.start;
    let end = f.end;
    if (upper !== undefined && (end === undefined || compareUserKeys(end, upper) > 0)) end = upper;
    if (end === undefined) throw new Error("siltdb internal error: an unbounded range tombstone reached a table");
    if (compareUserKeys(start, end) >= 0) continue;
    for (const sequence of f.sequences) out.push({ start, end, sequence });
  }
  return out;
}
