// Opening a database directory: create it or recover it from its logs.
//
// Recovery replays every log file, oldest first, into a fresh memtable. A torn
// tail (see src/wal/log_reader.ts) is cut off, durably, before anything new
// is appended, so new records never follow damaged bytes. In read-only mode
// nothing on disk changes: the tail is just ignored.

import { view } from "./_wasm.ts";
import { corruption, SiltError } from "./errors.ts";
import { MAX_SEQUENCE } from "./format/internal_key.ts";
import { logFileHeader } from "./format/log_format.ts";
import { Memtable } from "./memtable.ts";
import type { ResolvedOptions } from "./options.ts";
import { joinPath, type StorageFile } from "./storage/storage.ts";
import { logFileName, parseLogFileName } from "./version/file_names.ts";
import { LogWriter } from "./wal/log_writer.ts";
import { replayLog } from "./wal/log_reader.ts";

/** The state recovered from a directory. */
export interface Recovered {
  memtable: Memtable;
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

/** True when the directory holds a database (at least one log file). */
export function hasDatabase(names: string[]): boolean {
  return names.some((n) => parseLogFileName(n) !== undefined);
}

/** Replays the directory's logs into a new memtable and opens the log for new writes. */
export async function recover(dir: string, names: string[], o: ResolvedOptions): Promise<Recovered> {
  const fs = o.fs;
  const numbers = names.map(parseLogFileName).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  const memtable = new Memtable();
  let lastSequence = 0;
  let recordsReplayed = 0;
  let tornBytes = 0;
  let current: StorageFile | undefined;
  try {
    for (const number of numbers) {
      const name = logFileName(number);
      const path = joinPath(dir, name);
      const file = fs.open(path, { write: !o.readOnly });
      try {
        const replay = replayLog(file, path, (payload, length, offset) => {
          const dv = view();
          const sequence = dv.getUint32(payload, true) + dv.getUint32(payload + 4, true) * 2 ** 32;
          const count = dv.getUint32(payload + 8, true);
          if (sequence <= lastSequence || sequence + count - 1 > MAX_SEQUENCE) {
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
      if (number === numbers[numbers.length - 1] && !o.readOnly) current = file;
      else file.close();
    }
    let logNumber = numbers[numbers.length - 1] ?? 0;
    if (!o.readOnly && current === undefined) {
      logNumber = 1;
      current = await createLog(dir, logNumber, o);
    }
    return {
      memtable,
      lastSequence,
      log: current && new LogWriter(current),
      logNumber,
      recordsReplayed,
      tornBytes,
    };
  } catch (err) {
    current?.close();
    memtable.free();
    throw err;
  }
}

/** Creates log file number n with its header, durably (file and directory entry). */
async function createLog(dir: string, n: number, o: ResolvedOptions): Promise<StorageFile> {
  const path = joinPath(dir, logFileName(n));
  const file = o.fs.open(path, { create: true, exclusive: true });
  try {
    await file.append(logFileHeader());
    await file.sync();
    await o.fs.syncDir(dir);
    return file;
  } catch (err) {
    file.close();
    throw err instanceof SiltError ? err : new SiltError("IO_ERROR", `creating ${path} failed`, { file: path }, err);
  }
}
