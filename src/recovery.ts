// Opening a database directory: create it or recover it.
//
// 1. Read CURRENT and replay the manifest it names (src/version/version_set.ts):
//    the table files per level, the log number, the next file number and
//    the last sequence. Without CURRENT the directory holds no database yet;
//    if it holds tables or logs with records, CURRENT was lost: CORRUPTION.
// 2. Replay every log numbered at or above the log number, oldest first,
//    into a memtable. A torn tail (src/wal/log_reader.ts) ends a log; damage
//    is CORRUPTION. Old logs are never appended to.
// 3. Unless read-only: write the replayed data to L0 tables (past
//    memtableSize, and at the end), reserve the number of a new log, write a
//    new manifest holding the whole state with that log number and point
//    CURRENT at it, create the new log, and delete every file nothing needs
//    (src/background/obsolete_files.ts): the old logs, tables of a flush or
//    compaction that crashed before its manifest edit, old manifests, temp
//    files. A crash at any step leaves a directory that opens: until CURRENT
//    names the new manifest, the old one and the old logs are in effect.
//
// In read-only mode nothing on disk changes and the memtable keeps what the
// logs hold.

import { removeObsoleteFiles } from "./background/obsolete_files.ts";
import { writeLevel0Table } from "./background/flush.ts";
import { corruption } from "./errors.ts";
import { batchHeader } from "./format/batch_format.ts";
import { view } from "./wasm/instance.ts";
import { Memtable } from "./wasm/memtable.ts";
import type { ResolvedOptions } from "./options.ts";
import { joinPath } from "./storage/storage.ts";
import { CURRENT_FILE, INCOMPLETE_FILE, logFileName, parseFileName, tableFileName } from "./version/file_names.ts";
import type { FileMeta } from "./version/version_edit.ts";
import { VersionSet } from "./version/version_set.ts";
import { totalBytes } from "./version/version.ts";
import { LogWriter } from "./wal/log_writer.ts";
import { memtableLimit } from "./write/write_buffer.ts";
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
  /** Bytes of torn tails found. */
  tornBytes: number;
}

/**
 * True when the directory holds a database: it has CURRENT.
 *
 * @example
 * ```ts
 * hasDatabase(["000002.log", "CURRENT", "MANIFEST-000003"]); // true
 * hasDatabase([]); // false
 * ```
 */
export function hasDatabase(names: string[]): boolean {
  return names.includes(CURRENT_FILE);
}

/**
 * Without CURRENT: CORRUPTION if the directory holds data of a database
 * (tables, or logs with records): CURRENT was lost, and starting afresh
 * would hide that data. Empty logs and stray manifests are what a crash
 * during the very first open leaves; they are removed.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * import { MemoryStorage } from "./storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * fs.open("/db/000005.sst", { create: true }).close();
 * checkNoLostDatabase("/db", fs.list("/db"), resolveOptions({ fs })); // throws CORRUPTION: CURRENT is missing, but ...
 * ```
 */
export function checkNoLostDatabase(dir: string, names: string[], o: ResolvedOptions): void {
  for (const name of names) {
    const p = parseFileName(name);
    if (p?.kind === "table") {
      throw corruption(joinPath(dir, CURRENT_FILE), 0, `CURRENT is missing, but table ${name} is there`);
    }
    if (p?.kind !== "log") continue;
    const path = joinPath(dir, name);
    const file = o.fs.open(path);
    try {
      if (replayLog(file, path, () => {}).records > 0) {
        throw corruption(joinPath(dir, CURRENT_FILE), 0, `CURRENT is missing, but log ${name} holds writes`);
      }
    } finally {
      file.close();
    }
  }
}

/**
 * Recovers (or creates) the database in dir; see the steps above.
 *
 * @example
 * ```ts
 * import { resolveOptions } from "./options.ts";
 * import { MemoryStorage } from "./storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const state = await recover("/db", fs.list("/db"), resolveOptions({ fs })); // open() locks the directory first
 * console.log(state.logNumber, fs.list("/db")); // 2 ["000002.log", "CURRENT", "MANIFEST-000003"]
 * ```
 */
export async function recover(dir: string, names: string[], o: ResolvedOptions): Promise<Recovered> {
  const fs = o.fs;
  const writable = !o.readOnly;
  if (names.includes(INCOMPLETE_FILE)) {
    // A checkpoint or restore that did not finish (src/backup/): it may miss files.
    throw corruption(joinPath(dir, INCOMPLETE_FILE), 0, "an unfinished checkpoint or restore: remove it and redo it");
  }
  const versions = hasDatabase(names) ? VersionSet.recover(dir, fs) : VersionSet.empty(dir, fs);
  const parsed = names.map(parseFileName).filter((p) => p !== undefined);
  // Never hand out a number a file in the directory already has.
  const highest = parsed.reduce((n, p) => Math.max(n, p.number), 0);
  versions.nextFileNumber = Math.max(versions.nextFileNumber, highest + 1);
  for (const f of versions.current.files()) {
    if (!names.includes(tableFileName(f.number))) {
      throw corruption(
        joinPath(dir, CURRENT_FILE),
        0,
        `the manifest lists table ${tableFileName(f.number)}, which is missing`,
      );
    }
  }
  const logs = parsed.filter((p) => p.kind === "log" && p.number >= versions.logNumber).map((p) => p.number)
    .sort((a, b) => a - b);
  let memtable = new Memtable();
  const added: { level: number; file: FileMeta }[] = [];
  let lastSequence = 0; // of the replayed batches: they must follow one another
  let recordsReplayed = 0;
  let tornBytes = 0;
  let log: LogWriter | undefined;
  const flushMemtable = async () => {
    const number = versions.newFileNumber();
    const levels = [...versions.current.levels, added.map((a) => a.file)];
    added.push({ level: 0, file: await writeLevel0Table({ fs, dir }, number, memtable, o, levels) });
    memtable.free();
    memtable = new Memtable();
  };
  try {
    if (writable && !hasDatabase(names)) checkNoLostDatabase(dir, names, o);
    for (const number of logs) {
      const path = joinPath(dir, logFileName(number));
      const file = fs.open(path);
      try {
        const replay = replayLog(file, path, (payload, length, offset) => {
          const header = batchHeader(view(), payload, length, lastSequence);
          if (typeof header === "string") throw corruption(path, offset, header);
          if (memtable.applyBatch(payload, length) < 0) throw corruption(path, offset, "malformed write batch");
          lastSequence = header.sequence + header.count - 1;
        });
        recordsReplayed += replay.records;
        tornBytes += replay.tornBytes - replay.zeroTail; // zeros past the last record: the log's clean end
      } finally {
        file.close();
      }
      if (writable && memtable.bytesUsed >= memtableLimit(o.memtableSize, totalBytes(versions.current.levels.flat()))) {
        await flushMemtable();
      }
    }
    lastSequence = Math.max(lastSequence, versions.lastSequence);
    if (!writable) {
      return {
        versions,
        memtable,
        memtableLog: logs[0] ?? 0,
        lastSequence,
        log,
        logNumber: 0,
        recordsReplayed,
        tornBytes,
      };
    }
    if (memtable.count > 0) await flushMemtable();
    const logNumber = versions.newFileNumber();
    await versions.writeSnapshot({ added, logNumber, lastSequence });
    log = LogWriter.create(fs, joinPath(dir, logFileName(logNumber)));
    await log.whenReady();
    removeObsoleteFiles(fs, dir, {
      tables: versions.liveTables(),
      keep: new Set(),
      logNumber,
      manifestNumber: versions.manifestNumber,
    });
    return { versions, memtable, memtableLog: logNumber, lastSequence, log, logNumber, recordsReplayed, tornBytes };
  } catch (err) {
    if (log) await log.close().catch(() => {});
    await versions.close().catch(() => {});
    memtable.free();
    throw err;
  }
}
