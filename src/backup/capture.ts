// The state of a live database at one sequence, as checkpoints and backups
// copy it: the table version (referenced, so that the obsolete-file deleter
// keeps its tables while they are copied), and the logs the version does
// not cover, read in the same synchronous step and trimmed at the sequence.
//
// Why the log tail and not a flush first: a flush would cost every
// checkpoint a small L0 table and wait on the flush lane; the logs numbered
// at or above the manifest's log number hold at most the unflushed
// memtables (a few times memtableSize), which is what RocksDB copies too.
//
// Exactness: the version, its log number and the logs are taken with no
// await in between, so the tables hold a prefix of the writes and the logs
// the rest. Records after `sequence` (the last write visible to reads) are
// cut off: the state captured is exactly the writes up to `sequence`. With
// bufferWrites, writes visible but still in the pending group are handed to
// the log first (the capture waits for the log when it is not ready).
//
// Log records (docs/format.md): 13-byte header (u32 header CRC, u32 payload
// length N, u8 type, u32 payload CRC), payload (a write batch: u64 first
// sequence, u32 entry count, entries), end mark 0xA5. Trimming walks whole
// records by their lengths and stops at the first record past `sequence`
// (or at anything that is not a whole batch record).

import { SiltError } from "../errors.ts";
import { LOG_HEADER_SIZE, RECORD_END_MARK, RECORD_HEADER_SIZE, RECORD_TYPE_BATCH } from "../format/log_format.ts";
import { BATCH_HEADER_SIZE } from "../format/batch_format.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { logFileName, parseFileName } from "../version/file_names.ts";
import type { Version } from "../version/version.ts";
import type { VersionSet } from "../version/version_set.ts";

/** A log file of the captured state, trimmed at its sequence. */
export interface CapturedLog {
  number: number;
  bytes: Uint8Array;
}

/** The state of a database at one sequence (see the header). Call release() when done. */
export interface CapturedState {
  /** The directory of the database. */
  dir: string;
  fs: Storage;
  /** The tables (referenced until release()). */
  version: Version;
  /** Every write up to this sequence is in the tables or the logs, and none after it. */
  sequence: number;
  /** Logs numbered below hold nothing outside the tables. */
  logNumber: number;
  /** Above every file number in use. */
  nextFileNumber: number;
  logs: CapturedLog[];
  /** Gives the version back (its tables may then be deleted). */
  release(): void;
}

/** What a capture needs from its database. */
export interface CaptureSource {
  dir: string;
  fs: Storage;
  versions: VersionSet;
  visibleSequence(): number;
  /** Resolves once every acknowledged write is in the log (undefined: read-only, nothing to write). */
  drain?(): Promise<void>;
  /**
   * With bufferWrites: hands the pending group to the log now, or returns
   * what to wait for when the log is not ready yet (a new log waits for the
   * previous one's sync).
   */
  writePending?(): Promise<void> | undefined;
  /** Throws when the database cannot be read (closed). */
  checkOpen(): void;
}

/**
 * Captures the state of a live database directory (see the header).
 *
 * @example
 * ```ts
 * declare const source: CaptureSource; // wired by src/db_backups.ts
 * const state = await captureState(source);
 * try {
 *   console.log(state.sequence, [...state.version.files()].length, state.logs.length);
 * } finally {
 *   state.release();
 * }
 * ```
 */
export async function captureState(source: CaptureSource): Promise<CapturedState> {
  for (let attempt = 0;; attempt++) {
    source.checkOpen();
    await source.drain?.();
    source.checkOpen();
    const wait = source.writePending?.();
    if (wait !== undefined) {
      if (attempt > 100) {
        throw new SiltError("IO_ERROR", `${source.dir}: the log did not become ready for a checkpoint`);
      }
      await wait;
      continue;
    }
    return captureNow(source);
  }
}

/** The synchronous step: version, counters and logs with no await in between. */
function captureNow(source: CaptureSource): CapturedState {
  const { dir, fs, versions } = source;
  const sequence = source.visibleSequence();
  const logNumber = versions.logNumber;
  const version = versions.current.ref();
  try {
    const logs: CapturedLog[] = [];
    for (const name of fs.list(dir)) {
      const p = parseFileName(name);
      if (p?.kind !== "log" || p.number < logNumber) continue;
      logs.push({ number: p.number, bytes: trimLog(fs.readFile(joinPath(dir, logFileName(p.number))), sequence) });
    }
    logs.sort((a, b) => a.number - b.number);
    let released = false;
    return {
      dir,
      fs,
      version,
      sequence,
      logNumber,
      nextFileNumber: versions.nextFileNumber,
      logs,
      release: () => {
        if (!released) version.unref();
        released = true;
      },
    };
  } catch (err) {
    version.unref();
    throw err;
  }
}

/**
 * The whole batch records of a log whose writes are at or below `sequence`
 * (the header kept; an empty or torn log as it is, up to its header).
 *
 * @example
 * ```ts
 * declare const log: Uint8Array; // a log file's bytes
 * const upTo42 = trimLog(log, 42); // no record of a write after sequence 42
 * ```
 */
export function trimLog(log: Uint8Array, sequence: number): Uint8Array {
  if (log.length <= LOG_HEADER_SIZE) return log;
  const dv = new DataView(log.buffer, log.byteOffset, log.byteLength);
  let at = LOG_HEADER_SIZE;
  while (at + RECORD_HEADER_SIZE + BATCH_HEADER_SIZE + 1 <= log.length) {
    const length = dv.getUint32(at + 4, true);
    const end = at + RECORD_HEADER_SIZE + length + 1;
    if (length < BATCH_HEADER_SIZE || end > log.length || log[at + 8] !== RECORD_TYPE_BATCH) break;
    if (log[end - 1] !== RECORD_END_MARK) break;
    const payload = at + RECORD_HEADER_SIZE;
    const first = dv.getUint32(payload, true) + dv.getUint32(payload + 4, true) * 2 ** 32;
    const count = dv.getUint32(payload + 8, true);
    if (first + count - 1 > sequence) break;
    at = end;
  }
  return log.subarray(0, at);
}
