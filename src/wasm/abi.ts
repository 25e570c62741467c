// The core's ABI seen from TypeScript: what its statuses, flags and result
// offsets mean. The values come from the module itself (the generated
// _core_abi.ts holds the constants core/index.ts exports), so no number is
// written twice; tests/wasm_abi.test.ts fails if that file is stale or if an
// on-disk constant of src/format/ differs from the core's.

import * as abi from "./_core_abi.ts";
import { RESULT, view, words } from "./instance.ts";

/**
 * Outcome of a point lookup (core dbGet and mtGet): a value, a tombstone,
 * nothing, or a request for a table or a block (or damage found on the way).
 *
 * @example
 * ```ts
 * declare const status: Lookup; // what a lookup returned
 * if (status === Lookup.Found) console.log(resultValueLength());
 * ```
 */
export const Lookup = {
  /** No version of the key at or below the sequence. */
  Absent: abi.LOOKUP_ABSENT,
  /** A value: its address and length are resultValue()/resultValueLength(). */
  Found: abi.LOOKUP_FOUND,
  /** The newest visible version is a tombstone. */
  Deleted: abi.LOOKUP_DELETED,
  /** Needs table resultFile() opened (registered with the read state). */
  NeedTable: abi.LOOKUP_NEED_TABLE,
  /** Needs block (resultFile(), resultBlockOffset(), resultBlockSize()) in the cache. */
  NeedBlock: abi.LOOKUP_NEED_BLOCK,
  /** The index block of table resultFile() is malformed. */
  CorruptIndex: abi.LOOKUP_CORRUPT_INDEX,
  /** The data block at resultBlockOffset() of table resultFile() is malformed. */
  CorruptBlock: abi.LOOKUP_CORRUPT_BLOCK,
} as const;
/** Outcome of a point lookup. */
export type Lookup = typeof Lookup[keyof typeof Lookup];

/**
 * Flags of a scan iterator (core iterCreate).
 *
 * @example
 * ```ts
 * const flags = ScanFlag.Reverse | ScanFlag.HasLower | ScanFlag.LowerInclusive;
 * ```
 */
export const ScanFlag = {
  Reverse: abi.SCAN_REVERSE,
  HasLower: abi.SCAN_HAS_LOWER,
  LowerInclusive: abi.SCAN_LOWER_INCLUSIVE,
  HasUpper: abi.SCAN_HAS_UPPER,
  UpperInclusive: abi.SCAN_UPPER_INCLUSIVE,
  /** Forward fills copy values one after the other into the iterator's value arena. */
  CopyValues: abi.SCAN_COPY_VALUES,
} as const;

/**
 * Status of a scan iterator after a fill (core iterStatus).
 *
 * @example
 * ```ts
 * import type { BlockProvider } from "../table/block_provider.ts";
 * import type { CoreScan } from "./scan_iterator.ts";
 * declare const scan: CoreScan, provider: BlockProvider;
 * if (scan.status === ScanStatus.Need) provider.answerSource(scan.stoppedSource());
 * ```
 */
export const ScanStatus = {
  /** More entries may follow: fill again. */
  More: abi.SCAN_MORE,
  /** No more entries. */
  Done: abi.SCAN_DONE,
  /** A source needs a table or a block (stoppedSource()). */
  Need: abi.SCAN_NEED,
  /** A source found a malformed block. */
  Corrupt: abi.SCAN_CORRUPT,
} as const;
/** Status of a scan iterator. */
export type ScanStatus = typeof ScanStatus[keyof typeof ScanStatus];

/**
 * State of a run source (core srcState).
 *
 * @example
 * ```ts
 * import type { TableReader } from "../table/table_reader.ts";
 * import { core } from "./instance.ts";
 * import { provideTable } from "./run_source.ts";
 * declare const source: number, table: TableReader; // a stopped run source; the table of the file it needs
 * if (core.srcState(source) === SourceState.NeedIndex) provideTable(source, table.handle);
 * ```
 */
export const SourceState = {
  Ready: abi.SOURCE_READY,
  Exhausted: abi.SOURCE_EXHAUSTED,
  /** Needs the index of its current file: the table, opened. */
  NeedIndex: abi.SOURCE_NEED_INDEX,
  /** Needs a data block of its current file. */
  NeedBlock: abi.SOURCE_NEED_BLOCK,
  Corrupt: abi.SOURCE_CORRUPT,
} as const;

/**
 * Status of a compaction step (core ciRun).
 *
 * @example
 * ```ts
 * declare const status: CompactionStatus, stage: () => Promise<void>; // a step's status; writes out what is staged
 * if (status === CompactionStatus.Staged) await stage();
 * ```
 */
export const CompactionStatus = {
  /** Every input entry was handled. */
  Done: abi.COMPACTION_DONE,
  /** A source needs a table or a block (stoppedSource()). */
  Need: abi.COMPACTION_NEED,
  /** A source found a malformed block. */
  Corrupt: abi.COMPACTION_CORRUPT,
  /** The builder's staging buffer is full: write it out, then go on. */
  Staged: abi.COMPACTION_STAGED,
  /** The output reached its target size: finish it, start the next, go on. */
  FileFull: abi.COMPACTION_FILE_FULL,
  /** An entry waits for the compaction filter's decision (CoreCompaction.pendingEntry, decide). */
  Filter: abi.COMPACTION_FILTER,
} as const;
/** Status of a compaction step. */
export type CompactionStatus = typeof CompactionStatus[keyof typeof CompactionStatus];

/**
 * Most memtables a read state holds (the active one and the immutable ones).
 *
 * @example
 * ```ts
 * import type { Memtable } from "./memtable.ts";
 * declare const active: Memtable, immutables: readonly Memtable[];
 * const memtables = [active, ...immutables]; // what ReadState.setMemtables takes: at most MAX_MEMTABLES
 * ```
 */
export const MAX_MEMTABLES: number = abi.READ_STATE_MAX_MEMTABLES;
/**
 * Bytes of one file record of a packed version or a run (core/read_state.ts).
 *
 * @example
 * ```ts
 * import { allocBuffer } from "./instance.ts";
 * import { type FileBounds, packedSize, packFiles } from "./read_state.ts";
 * declare const files: readonly FileBounds[];
 * const ptr = allocBuffer(packedSize(files));
 * packFiles(files, ptr, ptr + files.length * FILE_RECORD_SIZE); // the records first, then their keys
 * ```
 */
export const FILE_RECORD_SIZE: number = abi.FILE_RECORD_SIZE;
/**
 * Bytes of one fragment of a range-tombstone fragment list (core/range_tombstones.ts).
 *
 * @example
 * ```ts
 * declare const fragmentCount: number;
 * const headerAndFragments = 8 + fragmentCount * RANGE_FRAGMENT_SIZE; // keys and sequences follow
 * ```
 */
export const RANGE_FRAGMENT_SIZE: number = abi.RANGE_FRAGMENT_SIZE;

const VALUE_WORD = (RESULT + abi.RESULT_VALUE) >>> 2;
const VALUE_LENGTH_WORD = (RESULT + abi.RESULT_VALUE_LENGTH) >>> 2;
const FILE_WORD = (RESULT + abi.RESULT_FILE) >>> 2;

/**
 * Address of the value the last Found lookup returned.
 *
 * @example
 * ```ts
 * import { bytes } from "./instance.ts";
 * const value = bytes().slice(resultValue(), resultValue() + resultValueLength());
 * ```
 */
export function resultValue(): number {
  return words()[VALUE_WORD];
}

/**
 * Length of the value the last Found lookup returned.
 *
 * @example
 * ```ts
 * console.log(`${resultValueLength()} bytes`);
 * ```
 */
export function resultValueLength(): number {
  return words()[VALUE_LENGTH_WORD];
}

/**
 * The sequence of the version the last Found (or Deleted) lookup met: the
 * write that produced it, its version.
 *
 * @example
 * ```ts
 * declare const status: Lookup;
 * if (status === Lookup.Found) console.log(`version ${resultSequence()}`);
 * ```
 */
export function resultSequence(): number {
  return view().getFloat64(RESULT + abi.RESULT_SEQUENCE, true);
}

/**
 * The file a lookup's request or damage report names.
 *
 * @example
 * ```ts
 * import type { TableCache } from "../table/table_cache.ts";
 * declare const status: Lookup, tables: TableCache;
 * if (status === Lookup.NeedTable) tables.get(resultFile()); // opens the table the lookup asks for
 * ```
 */
export function resultFile(): number {
  return words()[FILE_WORD];
}

/**
 * Offset of the block a lookup's request or damage report names.
 *
 * @example
 * ```ts
 * const handle = { offset: resultBlockOffset(), size: resultBlockSize() };
 * ```
 */
export function resultBlockOffset(): number {
  return view().getFloat64(RESULT + abi.RESULT_BLOCK_OFFSET, true);
}

/**
 * Size (without trailer) of the block a lookup's request names.
 *
 * @example
 * ```ts
 * const handle = { offset: resultBlockOffset(), size: resultBlockSize() };
 * ```
 */
export function resultBlockSize(): number {
  return view().getFloat64(RESULT + abi.RESULT_BLOCK_SIZE, true);
}
