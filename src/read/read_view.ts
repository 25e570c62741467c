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

/**
 * The memtables (newest first) and the table files of a version that a
 * scan reads, referenced until `release()`: the memtables and the version
 * (the read state must be up to date with them). A class, not an object
 * with a closure: a scan takes one, and a short scan is mostly this kind of
 * setup.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * import type { VersionSet } from "../version/version_set.ts";
 * import type { ReadState } from "../wasm/read_state.ts";
 * declare const readState: ReadState, active: MemtableHandle, immutables: MemtableHandle[], versions: VersionSet;
 * const view = new ReadView(readState, [active, ...immutables], versions.current);
 * // ... scan ...
 * view.release();
 * ```
 */
export class ReadView {
  /** The core read state (open tables, block cache), up to date with this view. */
  readonly readState: ReadState;
  /** The core's packed form of the view's version (core/read_state.ts). */
  readonly packedVersion: number;
  /** The range-tombstone fragment list of the view (src/read/range_tombstones.ts; referenced; 0: none). */
  readonly tombstones: number;
  /** The memtables, newest first. */
  readonly memtables: Memtable[];
  /** File count per level of the view's version. */
  readonly fileCounts: readonly number[];
  readonly #handles: readonly MemtableHandle[];
  readonly #version: Version;
  #released = false;

  constructor(readState: ReadState, memtables: readonly MemtableHandle[], version: Version) {
    const mts: Memtable[] = new Array(memtables.length);
    for (let i = 0; i < memtables.length; i++) {
      memtables[i].refs++;
      mts[i] = memtables[i].mt;
    }
    version.ref();
    const tombstones = readState.tombstones;
    retainFragments(tombstones);
    this.readState = readState;
    this.packedVersion = readState.packedVersion;
    this.tombstones = tombstones;
    this.memtables = mts;
    this.fileCounts = version.fileCounts;
    this.#handles = memtables;
    this.#version = version;
  }

  /** Gives the view back (memtables and version may then be freed). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const h of this.#handles) releaseMemtable(h);
    this.#version.unref();
    releaseFragments(this.tombstones);
  }
}
