// What a scan reads: the memtables and the table version as of its start,
// referenced so that neither goes away while it reads — a flushed memtable
// is freed at its last reader's release, a version's files are deleted only
// once no reader lists them. The core's packed form of the version is
// referenced by the scan's sources themselves (core/sources.ts).

import { type MemtableHandle, releaseMemtable } from "../memtable.ts";
import type { Version } from "../version/version.ts";
import type { Memtable } from "../wasm/memtable.ts";
import type { ReadState } from "../wasm/read_state.ts";
import { releaseFragments, retainFragments } from "../wasm/range_tombstones.ts";

/** The memtables (newest first) and the table files of a version that a scan reads. */
export interface ReadView {
  /** The core read state (open tables, block cache), up to date with this view. */
  readState: ReadState;
  /** The core's packed form of the view's version (core/read_state.ts). */
  packedVersion: number;
  /** The range-tombstone fragment list of the view (src/read/range_tombstones.ts; referenced; 0: none). */
  tombstones: number;
  /** The memtables, newest first. */
  memtables: Memtable[];
  /** File count per level of the view's version. */
  fileCounts: readonly number[];
  /** Gives the view back (memtables and version may then be freed). Idempotent. */
  release(): void;
}

/**
 * References the memtables and the version (the read state must be up to
 * date with them) until the view is released.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * import type { VersionSet } from "../version/version_set.ts";
 * import type { ReadState } from "../wasm/read_state.ts";
 * declare const readState: ReadState, active: MemtableHandle, immutables: MemtableHandle[], versions: VersionSet;
 * const view = acquireView(readState, [active, ...immutables], versions.current);
 * // ... scan ...
 * view.release();
 * ```
 */
export function acquireView(readState: ReadState, memtables: readonly MemtableHandle[], version: Version): ReadView {
  for (const h of memtables) h.refs++;
  version.ref();
  const tombstones = readState.tombstones;
  retainFragments(tombstones);
  let released = false;
  return {
    readState,
    packedVersion: readState.packedVersion,
    tombstones,
    memtables: memtables.map((h) => h.mt),
    fileCounts: version.fileCounts,
    release: () => {
      if (released) return;
      released = true;
      for (const h of memtables) releaseMemtable(h);
      version.unref();
      releaseFragments(tombstones);
    },
  };
}
