// About how many bytes of table files the keys of a range take, as
// LevelDB's GetApproximateSizes: a table entirely inside the range counts
// whole; one that straddles a bound counts from the data block holding the
// first key of the range to the one holding the last (offsets from the
// table's index), so the result is off by up to a data block per table at
// each bound. Memtables are not counted.

import type { Encoding } from "../encoding.ts";
import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import { checkCallOptions } from "../options.ts";
import type { TableCache } from "../table/table_cache.ts";
import type { Levels } from "../version/version.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { indexEntries } from "../wasm/blocks.ts";
import { boundBytes, RANGE_OPTIONS, resolveRange } from "./range.ts";

/**
 * Bytes of the tables of `levels` holding the keys of `range` (range
 * options, checked: INVALID_ARGUMENT names a bad one; none: the whole store).
 *
 * @example
 * ```ts
 * import type { ResolvedOptions } from "../options.ts";
 * import type { TableCache } from "../table/table_cache.ts";
 * import type { VersionSet } from "../version/version_set.ts";
 * declare const versions: VersionSet, tables: TableCache, options: ResolvedOptions; // the database's
 * const bytes = await approximateSize({ prefix: "user:" }, versions.current.levels, tables, options);
 * ```
 */
export async function approximateSize(
  range: unknown,
  levels: Levels,
  tables: TableCache,
  keys: { keyEncoding: Encoding<unknown>; maxKeySize: number },
): Promise<number> {
  const r = checkCallOptions(range, "approximateSize", RANGE_OPTIONS) ?? {};
  const { lower, upper, empty } = resolveRange(r, keys.keyEncoding, keys.maxKeySize, "approximateSize");
  if (empty) return 0;
  const lo = lower && boundBytes(lower);
  const hi = upper && boundBytes(upper);
  let total = 0;
  for (const files of levels) for (const f of files) total += await bytesIn(f, tables, lo, hi);
  return total;
}

/** About how many bytes of table f hold keys from lo to hi. */
async function bytesIn(
  f: FileMeta,
  tables: TableCache,
  lo: Uint8Array | undefined,
  hi: Uint8Array | undefined,
): Promise<number> {
  const smallest = userKeyOf(f.smallest);
  const largest = userKeyOf(f.largest);
  if (lo !== undefined && compareUserKeys(largest, lo) < 0) return 0;
  if (hi !== undefined && compareUserKeys(smallest, hi) > 0) return 0;
  const cutLow = lo !== undefined && compareUserKeys(smallest, lo) < 0;
  const cutHigh = hi !== undefined && compareUserKeys(largest, hi) > 0;
  if (!cutLow && !cutHigh) return f.size;
  const table = await tables.getAsync(f.number);
  const blocks = indexEntries(table.index.ptr, table.index.size) ?? [];
  const dataEnd = blocks.reduce((end, b) => b.handle ? Math.max(end, b.handle.offset + b.handle.size) : end, 0);
  // The offset of the data block that holds key (or would), as LevelDB's ApproximateOffsetOf.
  const offsetOf = (key: Uint8Array): number => {
    for (const b of blocks) if (b.handle && compareUserKeys(userKeyOf(b.lastKey), key) >= 0) return b.handle.offset;
    return dataEnd;
  };
  const start = cutLow ? offsetOf(lo!) : 0;
  const end = cutHigh ? offsetOf(hi!) : f.size;
  return Math.max(0, end - start);
}
