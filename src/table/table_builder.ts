// Helpers around the core's table builder (core/table_builder.ts draws the
// layout), shared by flushes (src/background/flush.ts) and compactions
// (src/compaction/compactor.ts): staged bytes out, metadata of a finished table.

import { bytes, core } from "../_wasm.ts";
import type { FileMeta } from "../version/version_edit.ts";

/** The builder's staged bytes, copied out of linear memory (the staging buffer is cleared). */
export function takeStaged(tb: number): Uint8Array {
  const at = core.tbStaged(tb);
  const chunk = bytes().slice(at, at + core.tbStagedLength(tb));
  core.tbClearStaged(tb);
  return chunk;
}

/** Metadata of the table a builder finished, as table file `number`. */
export function builtTableMeta(tb: number, number: number): FileMeta {
  const mem = bytes();
  const s = core.tbSmallestKey(tb);
  const l = core.tbLargestKey(tb);
  return {
    number,
    size: core.tbFileSize(tb),
    smallest: mem.slice(s, s + core.tbSmallestKeyLength(tb)),
    largest: mem.slice(l, l + core.tbLargestKeyLength(tb)),
    smallestSequence: core.tbSmallestSequence(tb),
    largestSequence: core.tbLargestSequence(tb),
    entries: core.tbEntries(tb),
  };
}
