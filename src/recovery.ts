// Opening a database directory: create it or recover it.
//
// 1. Read CURRENT and replay the manifest it names (src/version/version_set.ts):
//    the table files per level, the log number, the next file number and
//    the last sequence. (A directory with logs but no CURRENT, as written by
//    format 1, is recovered from its logs alone.)
// 2. Replay every log numbered at or above the log number, oldest first,
//    into a fresh memtable. A torn tail (see src/wal/log_reader.ts) is cut
//    off, durably, before anything new is appended, so new records never
//    follow damaged bytes.
// 3. Unless read-only: write a new manifest holding the whole state and
//    point CURRENT at it, then delete every file no version refers to
//    (tables of a flush that crashed before its manifest edit, old
//    manifests, obsolete logs, temp files).
//
// In read-only mode nothing on disk changes.

import { view } from "./_wasm.ts";
import { corruption } from "./errors.ts";
import { MAX_SEQUENCE } from "./format/internal_key.ts";
import { logFileHeader } from "./format/log_format.ts";
import { Memtable } from "./memtable.ts";
import type { ResolvedOptions } from "./options.ts";
import { joinPath, type StorageFile } from "./storage/storage.ts";
import { CURRENT_FILE, logFileName, parseFileName, tableFileName } from "./version/file_names.ts";
import { VersionSet } from "./version/version_set.ts";
import { LogWriter } from "./wal/log_writer.ts";
import { replayLog } from "./wal/log_reader.ts";

/** The state recovered from a directory. */
export interface Recovered {
  versions: VersionSet;
  memtable: Memtable;
  /** Smallest log number holding data of the memtable. */
  memtableLog: number;
  lastSequence: number;
  /** The log new writes go to (undefined when read-only). */
  log: LogWriter | undefined;
  /** File number of that log. */
  logNumber: number;
  /** Intact records replayed from all logs. */
  recordsReplayed: number;
  /** Bytes of torn tails found (and cut off unless read-only). */
  tornBytes: number;
}

/** True when the directory holds a database (CURRENT, or logs of format 1). */
export function hasDatabase(names: string[]): boolean {
  return names.some((n) => {
    const kind = parseFileName(n)?.kind;
    return kind === "current" || kind === "log";
  });
}

/** Recovers (or creates) the database in dir; see the steps above. */
export async function recover(dir: string, names: string[], o: ResolvedOptions): Promise<Recovered> {
  const fs = o.fs;
  const versions = names.includes(CURRENT_FILE) ? VersionSet.recover(dir, fs) : VersionSet.empty(dir, fs);
  const parsed = names.map(parseFileName).filter((p) => p !== undefined);
  // Never hand out a number a file in the directory already has.
  const highest = parsed.reduce((n, p) => Math.max(n, p.number), 0);
  versions.nextFileNumber = Math.max(versions.nextFileNumber, highest + 1);
  for (const f of versions.current.files()) {
    if (!names.includes(tableFileName(f.number))) {
      throw corruption(joinPath(dir, CURRENT_FILE), 0, `the manifest lists table ${tableFileName(f.number)}, which is missing`);
    }
  }
  const logs = parsed.filter((p) => p.kind === "log" && p.number >= versions.logNumber).map((p) => p.number)
    .sort((a, b) => a - b);
  const memtable = new Memtable();
  let lastSequence = 0; // of the replayed batches: they must follow one another
  let recordsReplayed = 0;
  let tornBytes = 0;
  let current: StorageFile | undefined;
  let log: LogWriter | undefined;
  try {
    for (const number of logs) {
      const path = joinPath(dir, logFileName(number));
      const file = fs.open(path, { write: !o.readOnly });
      try {
        const replay = replayLog(file, path, (payload, length, offset) => {
          const dv = view();
          const sequence = dv.getUint32(payload, true) + dv.getUint32(payload + 4, true) * 2 ** 32;
          const count = dv.getUint32(payload + 8, true);
          if (sequence + count - 1 > MAX_SEQUENCE) throw corruption(path, offset, `write batch sequence ${sequence} is out of range`);
          if (sequence <= lastSequence) {
            throw corruption(path, offset, `write batch sequence ${sequence} does not follow ${lastSequence}`);
          }
          if (memtable.applyBatch(payload, length) < 0) throw corruption(path, offset, "malformed write batch");
          lastSequence = sequence + count - 1;
        });
        recordsReplayed += replay.records;
        tornBytes += replay.tornBytes;
        if (replay.tornBytes > 0 && !o.readOnly) {
          await file.truncate(replay.validEnd);
          if (replay.validEnd === 0) {
            await file.append(logFileHeader());
            await file.sync();
          }
        }
      } catch (err) {
        file.close();
        throw err;
      }
      if (number === logs[logs.length - 1] && !o.readOnly) current = file;
      else file.close();
    }
    lastSequence = Math.max(lastSequence, versions.lastSequence);
    versions.lastSequence = lastSequence;
    let logNumber = logs[logs.length - 1] ?? 0;
    if (!o.readOnly) {
      if (current !== undefined) {
        log = new LogWriter(current);
      } else {
        logNumber = versions.newFileNumber();
        log = LogWriter.create(fs, joinPath(dir, logFileName(logNumber)), Promise.resolve());
        await log.whenReady();
      }
      const oldManifest = await versions.writeSnapshot();
      removeObsolete(dir, names, versions, oldManifest, o);
    }
    return {
      versions,
      memtable,
      memtableLog: logs[0] ?? logNumber,
      lastSequence,
      log,
      logNumber,
      recordsReplayed,
      tornBytes,
    };
  } catch (err) {
    if (log) await log.close().catch(() => {});
    else current?.close();
    await versions.close().catch(() => {});
    memtable.free();
    throw err;
  }
}

/** Deletes files of the directory that no version, log or manifest needs. */
function removeObsolete(dir: string, names: string[], versions: VersionSet, oldManifest: number, o: ResolvedOptions): void {
  const live = versions.liveTables();
  for (const name of names) {
    const p = parseFileName(name);
    if (p === undefined) continue;
    const obsolete = (p.kind === "table" && !live.has(p.number)) ||
      (p.kind === "log" && p.number < versions.logNumber) ||
      (p.kind === "manifest" && (p.number === oldManifest || p.number !== versions.manifestNumber)) ||
      p.kind === "temp";
    if (obsolete) o.fs.remove(joinPath(dir, name));
  }
}
