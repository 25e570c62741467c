// Reads a log file (layout in src/format/log_format.ts) and hands each intact
// record's payload, in linear memory, to a callback. Write-ahead logs and
// manifests are read the same way.
//
// Damage is classified, not guessed. A crash can leave only these tails
// behind the last intact record (the crash model of docs/reliability.md):
// - a record cut short: fewer bytes than a record header, or an intact
//   header whose record runs past the end of the file;
// - unwritten sectors: zeros from the record's start, or from a sector
//   boundary inside it, to the end of the file; in a log written over zeros
//   written ahead (log_writer.ts), a write cut short leaves zeros from any
//   byte of the record on. A complete record ends with a non-zero mark, so
//   zeros from inside a record to the end of the file cannot be the end of a
//   complete record.
// Such a tail is torn: replay stops there and reports where the intact
// records end. Zeros from a record boundary to the end of the file are also
// what a log that writes zeros ahead of its records (log_writer.ts) ends in:
// reported apart (zeroTail), as the clean end of the log. Anything else is damage (a flipped bit, a foreign write): a
// CORRUPTION error naming the file and the offset of the damaged record,
// whether or not it is the last one. The header checksum makes the
// difference: a flipped length fails it, so it can never pass for a record
// cut short.

import { corruption, type SiltError } from "../errors.ts";
import type { StorageFile } from "../storage/storage.ts";
import { allocBuffer, bytes, freeBuffer, view } from "../wasm/instance.ts";
import { recordHeaderIntact, recordPayloadIntact } from "../wasm/records.ts";
import {
  LOG_HEADER_SIZE,
  LOG_MAGIC,
  LOG_VERSION,
  logFileHeader,
  RECORD_HEADER_SIZE,
  RECORD_OVERHEAD,
  RECORD_TYPE_BATCH,
} from "../format/log_format.ts";

/** What a replay found. */
export interface LogReplay {
  /** Intact records handed to the callback. */
  records: number;
  /** File offset where the intact records end (0 when even the file header is torn). */
  validEnd: number;
  /** Bytes past validEnd (a torn tail); 0 for a clean file. */
  tornBytes: number;
  /**
   * Of tornBytes, those that are zeros from validEnd (a record boundary) to
   * the end of the file: space the log writer filled with zeros ahead of its
   * records, or whole records a crash left unwritten. Either way the clean
   * end of the log, not a torn record: tornBytes - zeroTail is what a crash
   * cut short.
   */
  zeroTail: number;
  /** Damaged stretches skipped (only with `onDamage`; 0 otherwise). */
  damaged?: number;
}

/** How replayLog treats damage. */
export interface ReplayOptions {
  /**
   * Continue past damage instead of throwing (repair and verify): called
   * with the CORRUPTION error (file, offset of the damaged record) and the
   * offset where reading resumes: after the record when its header checksum
   * holds (its length is right), else at the next offset where an intact
   * record starts, or the end of the file when none does. Torn tails are
   * still torn tails (not reported here).
   */
  onDamage?: (err: SiltError, resumeAt: number) => void;
}

/** Receives one intact record: its payload's address and length in linear memory, and its file offset. */
export type RecordHandler = (payload: number, length: number, fileOffset: number) => void;

/** True when the file holds a complete, valid header; false for a torn one (a prefix of it, or zeros). */
function checkFileHeader(file: StorageFile, name: string, size: number, onDamage?: ReplayOptions["onDamage"]): boolean {
  try {
    return checkFileHeaderStrict(file, name, size);
  } catch (err) {
    // Skipping damage: a damaged file header hides no record; read the records after it.
    if (onDamage === undefined || size <= LOG_HEADER_SIZE) throw err;
    onDamage(err as SiltError, LOG_HEADER_SIZE);
    return true;
  }
}

function checkFileHeaderStrict(file: StorageFile, name: string, size: number): boolean {
  const header = new Uint8Array(Math.min(size, LOG_HEADER_SIZE));
  file.read(0, header);
  if (size < LOG_HEADER_SIZE) {
    // A crash while the file was being created: a prefix of the header, or zeros.
    const expected = logFileHeader();
    if (header.every((b, i) => b === expected[i]) || header.every((b) => b === 0)) return false;
    throw corruption(name, 0, "not a siltdb log file (short header)");
  }
  if (header.every((b) => b === 0)) {
    // A crash can leave the first sectors unwritten: a torn log, if nothing but zeros follows.
    const rest = new Uint8Array(size - LOG_HEADER_SIZE);
    file.read(LOG_HEADER_SIZE, rest);
    if (rest.every((b) => b === 0)) return false;
  }
  if (!LOG_MAGIC.every((b, i) => header[i] === b)) throw corruption(name, 0, "not a siltdb log file (bad magic)");
  const dv = new DataView(header.buffer);
  const version = dv.getUint32(8, true);
  if (version !== LOG_VERSION) {
    throw corruption(
      name,
      8,
      `log format version ${version} is not supported (this siltdb reads version ${LOG_VERSION})`,
    );
  }
  if (dv.getUint32(12, true) !== 0) throw corruption(name, 12, "reserved log header bytes are not zero");
  return true;
}

/** File offset where the run of zero bytes that ends the file starts (the file size if the last byte is not zero). */
function zeroTailStart(base: number, length: number): number {
  const mem = bytes();
  let i = length;
  while (i > 0 && mem[base + i - 1] === 0) i--;
  return LOG_HEADER_SIZE + i;
}

/** True when an intact record (both checksums, end mark) of at most `end` starts at file offset at. */
function intactAt(base: number, at: number, end: number): boolean {
  if (end - at < RECORD_OVERHEAD) return false;
  const p = base + at - LOG_HEADER_SIZE;
  if (!recordHeaderIntact(p)) return false;
  const payloadLen = view().getUint32(p + 4, true);
  return at + RECORD_OVERHEAD + payloadLen <= end && recordPayloadIntact(p, payloadLen);
}

/**
 * Replays the log: calls onRecord for every intact record (of recordType) in
 * order. Throws a CORRUPTION SiltError (file and offset) for damage that is
 * not a torn tail, unless `options.onDamage` is given (then it is reported
 * there and replay goes on past it); errors thrown by onRecord propagate.
 *
 * @example
 * ```ts
 * import type { StorageFile } from "../storage/storage.ts";
 * import type { Memtable } from "../wasm/memtable.ts";
 * declare const file: StorageFile, memtable: Memtable; // a write-ahead log, opened; the memtable recovery fills
 * const replay = replayLog(file, file.path, (payload, length) => memtable.applyBatch(payload, length));
 * console.log(replay.records, replay.validEnd, replay.tornBytes);
 * ```
 */
export function replayLog(
  file: StorageFile,
  name: string,
  onRecord: RecordHandler,
  recordType: number = RECORD_TYPE_BATCH,
  options: ReplayOptions = {},
): LogReplay {
  const size = file.size();
  const { onDamage } = options;
  if (!checkFileHeader(file, name, size, onDamage)) return { records: 0, validEnd: 0, tornBytes: size, zeroTail: 0 };
  const length = size - LOG_HEADER_SIZE;
  const base = allocBuffer(Math.max(length, 1));
  try {
    const end = LOG_HEADER_SIZE + file.read(LOG_HEADER_SIZE, bytes().subarray(base, base + length));
    const zeros = zeroTailStart(base, end - LOG_HEADER_SIZE);
    // The zeros that end the file start inside the record at `at` (past its start, see the loop): a
    // complete record ends with its non-zero mark, so this one was never written whole.
    const unwrittenFrom = (recordEnd: number) => zeros < recordEnd;
    let at = LOG_HEADER_SIZE; // file offset of the next record
    let records = 0;
    let damaged = 0;
    /** Damage at `at`: throws, or reports it and returns where to resume (`next`, or the next intact record). */
    const damage = (what: string, next?: number): number => {
      const err = corruption(name, at, what);
      if (onDamage === undefined) throw err;
      let resume = next ?? at + 1;
      if (next === undefined) { while (resume < end && !intactAt(base, resume, end)) resume++; }
      damaged++;
      onDamage(err, Math.min(resume, end));
      return Math.min(resume, end);
    };
    while (at < end) {
      const p = base + at - LOG_HEADER_SIZE;
      if (end - at < RECORD_HEADER_SIZE || zeros <= at) break; // cut short, or unwritten from here
      if (!recordHeaderIntact(p)) {
        if (zeros < at + RECORD_HEADER_SIZE) break; // zeros from inside the header on
        at = damage("record header checksum mismatch");
        continue;
      }
      const payloadLen = view().getUint32(p + 4, true);
      const recordEnd = at + RECORD_OVERHEAD + payloadLen;
      if (recordEnd > end) break; // cut short
      if (!recordPayloadIntact(p, payloadLen)) {
        if (unwrittenFrom(recordEnd)) break;
        at = damage("record checksum mismatch", recordEnd);
        continue;
      }
      const type = view().getUint8(p + 8);
      if (type !== recordType) {
        at = damage(`record of type ${type} where type ${recordType} belongs`, recordEnd);
        continue;
      }
      onRecord(p + RECORD_HEADER_SIZE, payloadLen, at);
      records++;
      at = recordEnd;
    }
    const zeroTail = at < end && zeros <= at ? size - at : 0;
    return onDamage === undefined
      ? { records, validEnd: at, tornBytes: size - at, zeroTail }
      : { records, validEnd: at, tornBytes: size - at, zeroTail, damaged };
  } finally {
    freeBuffer(base);
  }
}
