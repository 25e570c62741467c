// What the dump commands (dump-wal, dump-sst, dump-manifest) share: checking
// that a path exists, showing internal keys, and reading a log file
// (write-ahead log or manifest) so that damage is reported in the dump
// instead of ending it without a word.
//
// Byte layouts: docs/format.md (not redrawn here).

import { SiltError } from "../../errors.ts";
import {
  KIND_DELETE,
  KIND_PUT,
  KIND_PUT_EXPIRING,
  KIND_RANGE_DELETE,
  sequenceOf,
  userKeyOf,
} from "../../format/internal_key.ts";
import { LOG_HEADER_SIZE } from "../../format/log_format.ts";
import type { Storage, StorageFile } from "../../storage/storage.ts";
import type { FileMeta } from "../../version/version_edit.ts";
import { type RecordHandler, replayLog } from "../../wal/log_reader.ts";
import { formatBytes, formatCount, formatTable, jsonField, showBytes } from "../display.ts";
import { stdout } from "../io.ts";

/**
 * Throws NOT_FOUND (one line naming the path) when nothing is at path.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "../../storage/default_storage.ts";
 * requirePath(defaultStorage(), "./data/000004.log", "file");
 * ```
 */
export function requirePath(fs: Storage, path: string, what: "file" | "directory"): void {
  if (!fs.exists(path)) throw new SiltError("NOT_FOUND", `${path}: no such ${what}`, { file: path });
}

/**
 * The name of an entry kind: "put", "delete", "put-ttl" (an expiring put,
 * whose value starts with its 8-byte expiry time), or "kind N" for another byte.
 *
 * @example
 * ```ts
 * import { KIND_DELETE } from "../../format/internal_key.ts";
 * kindName(KIND_DELETE); // "delete"
 * ```
 */
export function kindName(kind: number): string {
  if (kind === KIND_PUT_EXPIRING) return "put-ttl";
  if (kind === KIND_RANGE_DELETE) return "range-delete";
  return kind === KIND_PUT ? "put" : kind === KIND_DELETE ? "delete" : `kind ${kind}`;
}

/**
 * An internal key for a person: user key (showBytes), sequence and kind.
 *
 * @example
 * ```ts
 * import { internalKey, KIND_PUT } from "../../format/internal_key.ts";
 * showInternalKey(internalKey(new TextEncoder().encode("a"), 7, KIND_PUT), false); // "a @7 put"
 * ```
 */
export function showInternalKey(internal: Uint8Array, hex: boolean): string {
  return `${showBytes(userKeyOf(internal), hex)} @${sequenceOf(internal)} ${kindName(internal[internal.length - 8])}`;
}

/** An internal key in JSON output. */
export type InternalKeyJson = Record<string, string | number>;

/**
 * An internal key as JSON: `{ key | keyHex, sequence, kind }`.
 *
 * @example
 * ```ts
 * import { internalKey, KIND_PUT } from "../../format/internal_key.ts";
 * const key = internalKey(new TextEncoder().encode("a"), 7, KIND_PUT);
 * internalKeyJson(key, false); // { key: "a", sequence: 7, kind: "put" }
 * ```
 */
export function internalKeyJson(internal: Uint8Array, hex: boolean): InternalKeyJson {
  return {
    ...jsonField("key", userKeyOf(internal), hex),
    sequence: sequenceOf(internal),
    kind: kindName(internal[internal.length - 8]),
  };
}

/**
 * Writes one JSON document (2-space indent) and a newline to stdout.
 *
 * @example
 * ```ts
 * await writeJson({ records: [] });
 * ```
 */
export async function writeJson(doc: unknown): Promise<void> {
  await stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** How a log file ends: intact to the end, a torn tail (recovery stops there), or damage. */
export type LogTail =
  | { state: "clean" }
  | { state: "torn"; offset: number; bytes: number }
  | { state: "corrupt"; offset: number; error: string };

/**
 * The tail for a person.
 *
 * @example
 * ```ts
 * describeTail({ state: "torn", offset: 120, bytes: 7 }); // "torn tail truncated at offset 120 (7 bytes ignored, as recovery does)"
 * ```
 */
export function describeTail(tail: LogTail): string {
  if (tail.state === "clean") return "clean";
  if (tail.state === "torn") {
    if (tail.offset === 0) return `torn: empty log (incomplete file header, ${tail.bytes} bytes)`;
    return `torn tail truncated at offset ${tail.offset} (${tail.bytes} bytes ignored, as recovery does)`;
  }
  return `corrupt record at offset ${tail.offset}: ${tail.error}`;
}

/**
 * Replays a log file (src/wal/log_reader.ts) for a dump: a CORRUPTION at a
 * record (its own, or one thrown by onRecord) ends the replay and is
 * returned as the tail, with the records before it already handed over.
 * Damage of the file header (wrong kind of file, unknown version) is thrown:
 * there is nothing to dump.
 *
 * @example
 * ```ts
 * import { RECORD_TYPE_BATCH } from "../../format/log_format.ts";
 * import type { StorageFile } from "../../storage/storage.ts";
 * declare const file: StorageFile; // a write-ahead log, opened
 * const { records, tail } = replayForDump(file, file.path, (payload, length, offset) => {}, RECORD_TYPE_BATCH);
 * console.log(`${records} records, ${describeTail(tail)}`);
 * ```
 */
export function replayForDump(
  file: StorageFile,
  path: string,
  onRecord: RecordHandler,
  recordType: number,
): { records: number; size: number; tail: LogTail } {
  let records = 0;
  const counting: RecordHandler = (payload, length, offset) => {
    onRecord(payload, length, offset);
    records++;
  };
  const size = file.size();
  try {
    const replay = replayLog(file, path, counting, recordType);
    // Zeros past the last record are a log's clean end (space written ahead of its records).
    const tornBytes = replay.tornBytes - replay.zeroTail;
    const torn = tornBytes > 0 || replay.validEnd === 0;
    return {
      records,
      size,
      tail: torn ? { state: "torn", offset: replay.validEnd, bytes: tornBytes } : { state: "clean" },
    };
  } catch (err) {
    const damage = recordDamage(err);
    if (damage === undefined) throw err;
    return { records, size, tail: { state: "corrupt", ...damage } };
  }
}

/** The offset and the description of a CORRUPTION error at a record (past the file header), else undefined. */
function recordDamage(err: unknown): { offset: number; error: string } | undefined {
  if (!(err instanceof SiltError) || err.code !== "CORRUPTION" || err.offset === undefined) return undefined;
  if (err.offset < LOG_HEADER_SIZE) return undefined;
  return { offset: err.offset, error: withoutPlace(err) };
}

/**
 * What a CORRUPTION error says, without the "<file> at offset <n>: " that
 * `corruption()` puts first (the dump shows the file and offset itself).
 *
 * @example
 * ```ts
 * import { corruption } from "../../errors.ts";
 * withoutPlace(corruption("a.log", 16, "record checksum mismatch")); // "record checksum mismatch"
 * ```
 */
export function withoutPlace(err: SiltError): string {
  const prefix = `${err.file} at offset ${err.offset}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

/**
 * The key range of a table file: "smallest .. largest" as internal keys.
 *
 * @example
 * ```ts
 * import type { FileMeta } from "../../version/version_edit.ts";
 * declare const file: FileMeta;
 * fileRange(file, false); // "a @3 put .. z @9 put"
 * ```
 */
export function fileRange(f: FileMeta, hex: boolean): string {
  return `${showInternalKey(f.smallest, hex)} .. ${showInternalKey(f.largest, hex)}`;
}

/**
 * A table file of a manifest as JSON: number, size, entries, sequences, smallest and largest key.
 *
 * @example
 * ```ts
 * import type { FileMeta } from "../../version/version_edit.ts";
 * declare const file: FileMeta;
 * console.log(JSON.stringify(fileJson(file, false)));
 * ```
 */
export function fileJson(f: FileMeta, hex: boolean): Record<string, unknown> {
  return {
    number: f.number,
    size: f.size,
    entries: f.entries,
    smallestSequence: f.smallestSequence,
    largestSequence: f.largestSequence,
    smallest: internalKeyJson(f.smallest, hex),
    largest: internalKeyJson(f.largest, hex),
  };
}

/**
 * The line of a manifest edit that adds a table: its level, number, size,
 * entries and key range.
 *
 * @example
 * ```ts
 * import type { FileMeta } from "../../version/version_edit.ts";
 * declare const file: FileMeta;
 * console.log(addedFileLine(0, file, false)); // "  + L0 #7  1.2 KiB  40 entries  a @3 put .. z @9 put"
 * ```
 */
export function addedFileLine(level: number, file: FileMeta, hex: boolean): string {
  return `  + L${level} #${file.number}  ${formatBytes(file.size)}  ${formatCount(file.entries)} entries  ${
    fileRange(file, hex)
  }`;
}

/**
 * The tables of a manifest's levels as lines: a table of every file (when
 * there is one), then each non-empty level's file count and bytes.
 *
 * @example
 * ```ts
 * import type { FileMeta } from "../../version/version_edit.ts";
 * declare const levels: FileMeta[][];
 * console.log(levelLines(levels, false).join("\n")); // ... "L0: 2 files, 8.1 KiB   L1: 1 file, 40 KiB"
 * ```
 */
export function levelLines(levels: readonly (readonly FileMeta[])[], hex: boolean): string[] {
  const lines: string[] = [];
  const rows = levels.flatMap((files, level) =>
    files.map((f) => [
      `L${level}`,
      String(f.number),
      formatBytes(f.size),
      formatCount(f.entries),
      `${f.smallestSequence}..${f.largestSequence}`,
      fileRange(f, hex),
    ])
  );
  if (rows.length > 0) {
    lines.push(formatTable(["level", "file", "size", "entries", "sequences", "keys"], rows).trimEnd());
  }
  const totals = levels.map((files, level) => [level, files] as const).filter(([, files]) => files.length > 0)
    .map(([level, files]) =>
      `L${level}: ${files.length} ${files.length === 1 ? "file" : "files"}, ${
        formatBytes(files.reduce((n, f) => n + f.size, 0))
      }`
    );
  lines.push(totals.length > 0 ? totals.join("   ") : "no table files");
  return lines;
}
