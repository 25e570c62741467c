// Reads a log file (layout in src/format/log_format.ts) and hands each intact
// record's payload, in linear memory, to a callback.
//
// Damage is classified, not guessed:
// - a torn tail is a damaged suffix that holds no intact record after the
//   damage (a crash cut the last append short, or the file system extended
//   the file without its data). Replay stops there and reports where the
//   intact records end, so the caller can truncate the file.
// - damage followed by any intact record cannot come from a crash: it is a
//   CORRUPTION error naming the file and the offset of the damaged record.

import { bytes, core, view } from "../_wasm.ts";
import { corruption } from "../errors.ts";
import type { StorageFile } from "../storage/storage.ts";
import {
  LOG_HEADER_SIZE,
  LOG_MAGIC,
  LOG_VERSION,
  logFileHeader,
  RECORD_HEADER_SIZE,
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
}

/** Receives one intact record: its payload's address and length in linear memory, and its file offset. */
export type RecordHandler = (payload: number, length: number, fileOffset: number) => void;

/** Why the record at an offset is not intact, or undefined if it is. */
function damageAt(base: number, pos: number, end: number, recordType: number): string | undefined {
  if (end - pos < RECORD_HEADER_SIZE) return "truncated record header";
  const dv = view();
  const length = dv.getUint32(base + pos + 4, true);
  const type = dv.getUint8(base + pos + 8);
  if (type !== recordType) return `unexpected record type ${type}`;
  if (length > end - pos - RECORD_HEADER_SIZE) return `record length ${length} runs past the end of the file`;
  if (!core.recordVerify(base + pos, length)) return "record checksum mismatch";
  return undefined;
}

function hasIntactRecordAfter(base: number, pos: number, end: number, recordType: number): boolean {
  const mem = bytes();
  for (let q = pos + 1; q + RECORD_HEADER_SIZE <= end; q++) {
    if (mem[base + q + 8] === recordType && damageAt(base, q, end, recordType) === undefined) return true;
  }
  return false;
}

/** True when the damaged record at pos is only incomplete: its header or payload runs past the end, or it is zeros. */
function isCutShort(base: number, pos: number, end: number): boolean {
  if (end - pos < RECORD_HEADER_SIZE) return true;
  if (view().getUint32(base + pos + 4, true) > end - pos - RECORD_HEADER_SIZE) return true;
  return bytes().subarray(base + pos, base + end).every((b) => b === 0);
}

function checkFileHeader(file: StorageFile, name: string, size: number): boolean {
  const header = new Uint8Array(Math.min(size, LOG_HEADER_SIZE));
  file.read(0, header);
  if (size < LOG_HEADER_SIZE) {
    // A crash while the file was being created: a prefix of the header, or zeros.
    const expected = logFileHeader();
    if (header.every((b, i) => b === expected[i]) || header.every((b) => b === 0)) return false;
    throw corruption(name, 0, "not a siltdb log file (short header)");
  }
  if (!LOG_MAGIC.every((b, i) => header[i] === b)) throw corruption(name, 0, "not a siltdb log file (bad magic)");
  const version = new DataView(header.buffer).getUint32(8, true);
  if (version !== LOG_VERSION) throw corruption(name, 8, `unsupported log format version ${version}`);
  return true;
}

/**
 * Replays the log: calls onRecord for every intact record (of recordType) in order. Throws a
 * CORRUPTION SiltError (file and offset) for damage that is not a torn tail;
 * errors thrown by onRecord propagate. With strictTail, a complete last
 * record with a bad checksum is CORRUPTION too (only a record cut short is a
 * torn tail): for files whose records were synced one by one.
 */
export function replayLog(
  file: StorageFile,
  name: string,
  onRecord: RecordHandler,
  recordType: number = RECORD_TYPE_BATCH,
  strictTail = false,
): LogReplay {
  const size = file.size();
  if (!checkFileHeader(file, name, size)) return { records: 0, validEnd: 0, tornBytes: size };
  const length = size - LOG_HEADER_SIZE;
  const base = core.bufferAlloc(Math.max(length, 1));
  try {
    const got = file.read(LOG_HEADER_SIZE, bytes().subarray(base, base + length));
    const end = got;
    let pos = 0;
    let records = 0;
    while (pos < end) {
      const damage = damageAt(base, pos, end, recordType);
      if (damage !== undefined) {
        if (hasIntactRecordAfter(base, pos, end, recordType)) throw corruption(name, LOG_HEADER_SIZE + pos, damage);
        if (strictTail && !isCutShort(base, pos, end)) throw corruption(name, LOG_HEADER_SIZE + pos, damage);
        break;
      }
      const payloadLen = view().getUint32(base + pos + 4, true);
      onRecord(base + pos + RECORD_HEADER_SIZE, payloadLen, LOG_HEADER_SIZE + pos);
      records++;
      pos += RECORD_HEADER_SIZE + payloadLen;
    }
    return { records, validEnd: LOG_HEADER_SIZE + pos, tornBytes: size - LOG_HEADER_SIZE - pos };
  } finally {
    core.bufferFree(base);
  }
}
