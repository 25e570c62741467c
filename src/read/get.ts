// Point lookups: one core call (core/point_get.ts) searches the memtables,
// the files of every level, bloom filters, indexes, the block cache and the
// data block. When the core needs a table opened or a block read, the block
// provider does the I/O and the lookup resumes where it stopped.
//
// The core's read state (src/wasm/read_state.ts) holds the memtable list,
// the current version's file bounds packed into linear memory, the open
// tables and the block cache. It is brought up to date lazily, before a
// lookup, when the memtables or the version changed (three identity checks).

import type { MemtableHandle } from "../memtable.ts";
import type { BlockProvider, LookupHolds } from "../table/block_provider.ts";
import type { Levels } from "../version/version.ts";
import { Lookup, resultBlockOffset, resultBlockSize, resultFile, resultValue, resultValueLength } from "../wasm/abi.ts";
import type { ReadState } from "../wasm/read_state.ts";
import type { Memtable } from "../wasm/memtable.ts";
import { packFragments, rangeTombstonesApplied } from "../wasm/range_tombstones.ts";
import { fragment, tombstonesOf } from "./range_tombstones.ts";

/**
 * Point lookups of one database.
 *
 * @example
 * ```ts
 * import type { MemtableHandle } from "../memtable.ts";
 * import type { BlockProvider } from "../table/block_provider.ts";
 * import type { Version } from "../version/version.ts";
 * import { maxEncodedLength, scratch, writeData } from "../wasm/instance.ts";
 * import type { ReadState } from "../wasm/read_state.ts";
 * import { copyOut } from "../wasm/values.ts";
 * declare const readState: ReadState, provider: BlockProvider, active: MemtableHandle, version: Version;
 * declare const sequence: number;
 * const reader = new PointReader(readState, provider);
 * reader.update(active, [], version.levels);
 * const keyPtr = scratch(maxEncodedLength("user:1"));
 * const value = reader.get(keyPtr, writeData(keyPtr, "user:1"), sequence, copyOut);
 * ```
 */
export class PointReader {
  readonly #rs: ReadState;
  readonly #provider: BlockProvider;
  #active: MemtableHandle | undefined;
  #immutableCount = -1;
  #levels: unknown;
  #tombstonesApplied = -1;
  #memtables: Memtable[] = [];

  constructor(readState: ReadState, provider: BlockProvider) {
    this.#rs = readState;
    this.#provider = provider;
  }

  /**
   * Brings the read state up to date with the memtables (the active one,
   * then the immutable ones, newest first) and a version's levels. Cheap
   * when nothing changed: a rotation changes the active memtable, a finished
   * flush the number of immutable ones, an installed version its levels, a
   * range delete the core's count of applied range tombstones (then the
   * fragment list is rebuilt: src/read/range_tombstones.ts).
   */
  update(active: MemtableHandle, immutables: readonly MemtableHandle[], levels: Levels): void {
    const memtablesChanged = active !== this.#active || immutables.length !== this.#immutableCount;
    const memtables = memtablesChanged ? [active.mt, ...immutables.map((h) => h.mt)] : this.#memtables;
    if (memtablesChanged) {
      this.#memtables = memtables;
      this.#rs.setMemtables(memtables);
      this.#active = active;
      this.#immutableCount = immutables.length;
    }
    const applied = rangeTombstonesApplied(); // range tombstones applied to memtables: the list may be stale
    if (levels !== this.#levels || applied !== this.#tombstonesApplied || memtablesChanged) {
      if (levels !== this.#levels) this.#rs.setLevels(levels);
      this.#levels = levels;
      this.#tombstonesApplied = applied;
      this.#rs.setTombstones(packFragments(fragment(tombstonesOf(memtables, levels))));
    }
  }

  /**
   * The value of the key (keyLen bytes at keyPtr) as of sequence, decoded by
   * `decode` while it lies in linear memory; undefined when absent or deleted.
   * The key must stay where it is while this runs (it allocates only blocks).
   */
  get<V>(keyPtr: number, keyLen: number, sequence: number, decode: (ptr: number, len: number) => V): V | undefined {
    if (this.lookup(keyPtr, keyLen, sequence) !== Lookup.Found) return undefined;
    return decode(resultValue(), resultValueLength());
  }

  /**
   * lookup, reading tables and blocks asynchronously (a store in a bucket).
   * `refresh` brings the read state up to date before each try (the memtables
   * and the version may change while a read is awaited); the caller keeps
   * the key where it is and the sequence pinned until this settles. On
   * Found, the value is in the result area until the next core call.
   */
  async lookupAsync<T>(
    keyPtr: number,
    keyLen: number,
    sequence: number,
    refresh: () => void,
    take: (status: Lookup) => T,
  ): Promise<T> {
    // Each answer lets the lookup go further: what it read stays open and pinned until it ends.
    const holds: LookupHolds = { tables: [], blocks: [] };
    try {
      for (let steps = 0; steps < 1024; steps++) {
        refresh();
        const status = this.#rs.lookup(keyPtr, keyLen, sequence, 0);
        // The result area is shared: it is read in this step, before another lookup runs.
        if (status === Lookup.Found || status === Lookup.Absent || status === Lookup.Deleted) return take(status);
        await this.#provider.answerLookupAsync(status, resultFile(), resultBlockOffset(), resultBlockSize(), holds);
      }
      throw new Error("siltdb internal error: a lookup made no progress in 1024 reads");
    } finally {
      this.#provider.release(holds);
    }
  }

  /**
   * Looks the key up with what is in memory only (memtables, open tables,
   * cached blocks): Found (its value in the result area), Deleted or Absent;
   * undefined when it needs a table opened or a block read.
   */
  lookupInMemory(keyPtr: number, keyLen: number, sequence: number): Lookup | undefined {
    const status = this.#rs.lookup(keyPtr, keyLen, sequence, 0);
    return status === Lookup.Found || status === Lookup.Absent || status === Lookup.Deleted ? status : undefined;
  }

  /** Looks the key up: Found (its value in the result area), Deleted or Absent. Opens tables and reads blocks as the core asks. */
  lookup(keyPtr: number, keyLen: number, sequence: number): Lookup {
    let askedStatus = -1, askedFile = -1, askedOffset = -1;
    for (let resume: 0 | 1 = 0;; resume = 1) {
      const status = this.#rs.lookup(keyPtr, keyLen, sequence, resume);
      if (status === Lookup.Found || status === Lookup.Absent || status === Lookup.Deleted) return status;
      // Each request is answered before the lookup resumes; the same one twice is a bug, not a loop to spin in.
      const file = resultFile(), offset = resultBlockOffset();
      if (status === askedStatus && file === askedFile && offset === askedOffset) {
        throw new Error(`siltdb internal error: a lookup asked twice for ${status}:${file}:${offset}`);
      }
      askedStatus = status;
      askedFile = file;
      askedOffset = offset;
      this.#provider.answerLookup(status);
    }
  }
}
