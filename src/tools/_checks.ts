// What verify and repair share: the checks of each kind of file, reporting
// every problem (file, offset, what) instead of stopping at the first. They
// reuse the database's own readers (src/table/table_reader.ts,
// src/wal/log_reader.ts in its damage-skipping mode, src/version/*) and only
// read.

import { SiltError } from "../errors.ts";
import { compareInternalKeys, compareUserKeys, MAX_SEQUENCE, sequenceOf, userKeyOf } from "../format/internal_key.ts";
import { batchHeader } from "../format/batch_format.ts";
import { RECORD_OVERHEAD, RECORD_TYPE_EDIT } from "../format/log_format.ts";
import type { BlockHandle, TableProperties, TableRangeTombstone } from "../format/table_format.ts";
import type { Memtable } from "../wasm/memtable.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { TableReader } from "../table/table_reader.ts";
import { CURRENT_FILE, manifestFileName } from "../version/file_names.ts";
import { decodeEdit } from "../version/version_edit.ts";
import { replayLog } from "../wal/log_reader.ts";
import { blockEntries, type BlockEntry, indexEntries } from "../wasm/blocks.ts";
import { bytes, freeBuffer, view } from "../wasm/instance.ts";

/**
 * One problem found in a file of the store.
 *
 * @example
 * ```ts
 * const p: Problem = { file: "000007.sst", offset: 4096, what: "block checksum mismatch" };
 * console.log(`${p.file}:${p.offset}: ${p.what}`);
 * ```
 */
export interface Problem {
  /** The file's name in the database directory. */
  file: string;
  /** Byte offset in the file where the problem is. */
  offset: number;
  /** What is wrong. */
  what: string;
}

/**
 * A problem from an error (its file and offset when it names them), for file `name`.
 *
 * @example
 * ```ts
 * import { corruption } from "../errors.ts";
 * problemOf(corruption("000007.sst", 4096, "block checksum mismatch"), "000007.sst");
 * // { file: "000007.sst", offset: 4096, what: "block checksum mismatch" }
 * ```
 */
export function problemOf(err: unknown, name: string, offset = 0): Problem {
  if (err instanceof SiltError) {
    const at = err.offset ?? offset;
    const m = /^.* at offset \d+: (.*)$/s.exec(err.message);
    return {
      file: name,
      offset: at,
      what: m ? m[1] : err.code === "CORRUPTION" ? err.message : `${err.code}: ${err.message}`,
    };
  }
  return { file: name, offset, what: err instanceof Error ? err.message : String(err) };
}

/** A data block that could not be read, and the keys it held (between two index keys). */
export interface DamagedBlock {
  offset: number;
  size: number;
  /** Largest internal key before the block (the previous index key), if any. */
  after?: Uint8Array;
  /** Largest internal key of the block (its index key). */
  upTo: Uint8Array;
}

/** What checking a table found. */
export interface TableCheck {
  /** Footer, properties, index and filter read and checked. */
  opened: boolean;
  properties?: TableProperties;
  size: number;
  /** Data blocks the index lists, and those read intact. */
  blocks: number;
  intactBlocks: number;
  /** Entries in intact blocks. */
  entries: number;
  damagedBlocks: DamagedBlock[];
  problems: Problem[];
  /** Its range tombstones (the range-tombstone block, checked when the table opened). */
  rangeTombstones: TableRangeTombstone[];
}

/**
 * Checks table `name` of dir: the footer, properties, filter and index (by
 * opening it), then every data block read from storage (checksum), decoded
 * (every entry) and its keys in order. onBlock receives each intact block's
 * entries, in order.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "../storage/default_storage.ts";
 * import type { BlockEntry } from "../wasm/blocks.ts";
 * const entries: BlockEntry[] = [];
 * const c = checkTable(defaultStorage(), "./data", "000007.sst", 7, (block) => entries.push(...block));
 * console.log(c.intactBlocks, c.blocks, c.problems);
 * ```
 */
export function checkTable(
  fs: Storage,
  dir: string,
  name: string,
  number: number,
  onBlock?: (entries: BlockEntry[], handle: BlockHandle) => void,
): TableCheck {
  const check: TableCheck = {
    opened: false,
    size: 0,
    blocks: 0,
    intactBlocks: 0,
    entries: 0,
    damagedBlocks: [],
    problems: [],
    rangeTombstones: [],
  };
  let table: TableReader;
  try {
    table = TableReader.open(fs, joinPath(dir, name), number);
  } catch (err) {
    check.problems.push(problemOf(err, name));
    try {
      const f = fs.open(joinPath(dir, name));
      check.size = f.size();
      f.close();
    } catch { /* reported above */ }
    return check;
  }
  try {
    check.opened = true;
    check.size = table.size;
    check.properties = table.properties;
    check.rangeTombstones = table.rangeTombstones;
    const { footer, properties } = table;
    const index = indexEntries(table.index.ptr, table.index.size);
    if (index === undefined) {
      check.problems.push({ file: name, offset: footer.index.offset, what: "index block is malformed" });
      return check;
    }
    check.blocks = index.length;
    let previous: Uint8Array | undefined; // last key seen (intact block) or index key (damaged block)
    let previousIndexKey: Uint8Array | undefined;
    let first: Uint8Array | undefined;
    let smallestSequence = MAX_SEQUENCE;
    let largestSequence = 0;
    for (const { lastKey: indexKey, handle } of index) {
      const damaged = (offset: number, size: number, what: string) => {
        check.problems.push({ file: name, offset, what });
        check.damagedBlocks.push({ offset, size, after: previousIndexKey, upTo: indexKey });
      };
      if (previousIndexKey !== undefined && compareInternalKeys(previousIndexKey, indexKey) >= 0) {
        check.problems.push({ file: name, offset: footer.index.offset, what: "index keys are out of order" });
      }
      if (handle === undefined || handle.offset + handle.size > footer.index.offset) {
        damaged(footer.index.offset, 0, "index entry holds a bad block handle");
        previousIndexKey = indexKey;
        continue;
      }
      let entries: BlockEntry[] | undefined;
      try {
        const block = table.readBlock(handle);
        try {
          entries = blockEntries(block.ptr, block.size);
        } finally {
          freeBuffer(block.ptr);
        }
        if (entries === undefined) {
          throw new SiltError("CORRUPTION", "data block is malformed (an entry cannot be decoded)");
        }
        if (entries.length === 0) throw new SiltError("CORRUPTION", "data block holds no entry");
        let order = previous;
        for (const e of entries) {
          if (e.key.length < 8) throw new SiltError("CORRUPTION", "data block holds a key shorter than its trailer");
          if (order !== undefined && compareInternalKeys(order, e.key) >= 0) {
            throw new SiltError("CORRUPTION", "data block keys are out of order");
          }
          order = e.key;
        }
        if (compareInternalKeys(entries[entries.length - 1].key, indexKey) > 0) {
          throw new SiltError("CORRUPTION", "data block holds keys past its index key");
        }
      } catch (err) {
        damaged(handle.offset, handle.size, problemOf(err, name, handle.offset).what);
        previous = indexKey;
        previousIndexKey = indexKey;
        continue;
      }
      check.intactBlocks++;
      check.entries += entries.length;
      first ??= entries[0].key;
      for (const e of entries) {
        const s = sequenceOf(e.key);
        if (s < smallestSequence) smallestSequence = s;
        if (s > largestSequence) largestSequence = s;
      }
      previous = entries[entries.length - 1].key;
      previousIndexKey = indexKey;
      onBlock?.(entries, handle);
    }
    if (check.damagedBlocks.length === 0) {
      const at = footer.properties.offset;
      const mismatch = (what: string) => check.problems.push({ file: name, offset: at, what: `properties: ${what}` });
      if (properties.entries !== check.entries) {
        mismatch(`${properties.entries} entries listed, ${check.entries} found`);
      }
      if (properties.dataBlocks !== check.blocks) {
        mismatch(`${properties.dataBlocks} data blocks listed, ${check.blocks} found`);
      }
      // Range tombstones widen the bounds and the sequence range (core/table_builder.ts).
      const ranges = table.rangeTombstones;
      for (const t of ranges) {
        smallestSequence = Math.min(smallestSequence, t.sequence);
        largestSequence = Math.max(largestSequence, t.sequence);
      }
      const exact = ranges.length === 0;
      if (
        first &&
        (exact
          ? compareInternalKeys(first, properties.smallest) !== 0
          : compareInternalKeys(first, properties.smallest) < 0)
      ) {
        mismatch("smallest key does not match the first entry");
      }
      if (
        previous &&
        (exact
          ? compareInternalKeys(previous, properties.largest) !== 0
          : compareInternalKeys(previous, properties.largest) > 0)
      ) {
        mismatch("largest key does not match the last entry");
      }
      if (
        ranges.some((t) =>
          compareUserKeys(t.start, userKeyOf(properties.smallest)) < 0 ||
          // An end k+"\0" covers k at most (core/table_builder.ts).
          compareUserKeys(t.end.at(-1) === 0 ? t.end.subarray(0, -1) : t.end, userKeyOf(properties.largest)) > 0
        )
      ) {
        mismatch("the smallest and largest keys do not cover the range tombstones");
      }
      if (
        check.entries > 0 &&
        (properties.smallestSequence !== smallestSequence || properties.largestSequence !== largestSequence)
      ) {
        mismatch("sequence range does not match the entries");
      }
    }
    return check;
  } finally {
    table.close();
  }
}

/** A log record that could not be used. */
export interface DamagedRecord {
  offset: number;
  /** Where reading resumed after it. */
  resumeAt: number;
  what: string;
}

/** What checking a log found. */
export interface LogCheck {
  size: number;
  /** Intact records whose batch was applied. */
  records: number;
  /** Entries of those records. */
  entries: number;
  /** Largest sequence applied (0 if none). */
  lastSequence: number;
  /** Offset and length of a torn tail (not a problem: recovery ends the log there). */
  tornAt: number;
  tornBytes: number;
  /** Zeros from the last record to the end of the file (a log's clean end: space written ahead), not in tornBytes. */
  zeroTail: number;
  damaged: DamagedRecord[];
  problems: Problem[];
}

/**
 * Checks log `name` of dir: every record's checksums (continuing past
 * damage), every batch well formed (applied to `memtable`, as recovery does)
 * and its sequence following `after` and the previous batch.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "../storage/default_storage.ts";
 * import { Memtable } from "../wasm/memtable.ts";
 * declare const lastSequence: number; // the manifest's last sequence: the log's batches follow it
 * const memtable = new Memtable();
 * const c = checkLog(defaultStorage(), "./data", "000004.log", memtable, lastSequence);
 * memtable.free();
 * ```
 */
export function checkLog(fs: Storage, dir: string, name: string, memtable: Memtable, after = 0): LogCheck {
  const path = joinPath(dir, name);
  const check: LogCheck = {
    size: 0,
    records: 0,
    entries: 0,
    lastSequence: 0,
    tornAt: 0,
    tornBytes: 0,
    zeroTail: 0,
    damaged: [],
    problems: [],
  };
  const damaged = (offset: number, resumeAt: number, what: string) => {
    check.damaged.push({ offset, resumeAt, what });
    check.problems.push({ file: name, offset, what });
  };
  let last = after;
  try {
    const file = fs.open(path);
    try {
      check.size = file.size();
      const replay = replayLog(
        file,
        path,
        (payload, length, offset) => {
          const end = offset + RECORD_OVERHEAD + length;
          const header = batchHeader(view(), payload, length, last);
          if (typeof header === "string") return damaged(offset, end, header);
          if (memtable.applyBatch(payload, length) < 0) return damaged(offset, end, "malformed write batch");
          last = header.sequence + header.count - 1;
          check.records++;
          check.entries += header.count;
        },
        undefined,
        {
          onDamage: (err, resumeAt) => damaged(err.offset ?? 0, resumeAt, problemOf(err, name).what),
        },
      );
      check.tornAt = replay.validEnd;
      check.tornBytes = replay.tornBytes - replay.zeroTail;
      check.zeroTail = replay.zeroTail;
    } finally {
      file.close();
    }
  } catch (err) {
    check.problems.push(problemOf(err, name));
  }
  check.lastSequence = last > after ? last : 0;
  return check;
}

/** What checking CURRENT and a manifest found. */
export interface ManifestCheck {
  size: number;
  /** Intact edits (each decoded). */
  records: number;
  tornBytes: number;
  problems: Problem[];
}

/**
 * Reads CURRENT; returns the manifest number it names, or a problem.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "../storage/default_storage.ts";
 * const { manifest, problem } = checkCurrent(defaultStorage(), "./data"); // manifest: 3 for "MANIFEST-000003\n"
 * ```
 */
export function checkCurrent(fs: Storage, dir: string): { manifest?: number; problem?: Problem } {
  const path = joinPath(dir, CURRENT_FILE);
  if (!fs.exists(path)) return { problem: { file: CURRENT_FILE, offset: 0, what: "CURRENT is missing" } };
  try {
    const text = new TextDecoder().decode(fs.readFile(path));
    const m = /^MANIFEST-(\d{6,})\n$/.exec(text);
    if (!m) {
      return {
        problem: {
          file: CURRENT_FILE,
          offset: 0,
          what: `CURRENT does not name a manifest: ${JSON.stringify(text.slice(0, 40))}`,
        },
      };
    }
    const manifest = Number(m[1]);
    if (!fs.exists(joinPath(dir, manifestFileName(manifest)))) {
      return {
        manifest,
        problem: {
          file: CURRENT_FILE,
          offset: 0,
          what: `CURRENT names ${manifestFileName(manifest)}, which does not exist`,
        },
      };
    }
    return { manifest };
  } catch (err) {
    return { problem: problemOf(err, CURRENT_FILE) };
  }
}

/**
 * Checks manifest `name`: every record's checksums and every edit decodes. `current`: CURRENT names it (it must hold an edit).
 *
 * @example
 * ```ts
 * import { defaultStorage } from "../storage/default_storage.ts";
 * const c = checkManifest(defaultStorage(), "./data", "MANIFEST-000003", true);
 * console.log(c.records, c.tornBytes, c.problems);
 * ```
 */
export function checkManifest(fs: Storage, dir: string, name: string, current: boolean): ManifestCheck {
  const path = joinPath(dir, name);
  const check: ManifestCheck = { size: 0, records: 0, tornBytes: 0, problems: [] };
  try {
    const file = fs.open(path);
    try {
      check.size = file.size();
      const replay = replayLog(
        file,
        path,
        (payload, length, offset) => {
          try {
            decodeEdit(bytes().slice(payload, payload + length), path, offset);
            check.records++;
          } catch (err) {
            check.problems.push(problemOf(err, name, offset));
          }
        },
        RECORD_TYPE_EDIT,
        { onDamage: (err) => void check.problems.push(problemOf(err, name)) },
      );
      check.tornBytes = replay.tornBytes;
      if (current && check.records === 0 && check.problems.length === 0) {
        check.problems.push({ file: name, offset: replay.validEnd, what: "the manifest holds no intact record" });
      }
    } finally {
      file.close();
    }
  } catch (err) {
    check.problems.push(problemOf(err, name));
  }
  return check;
}
