// db.checkpoint(dir): an openable copy of a live database directory at one
// sequence (RocksDB's Checkpoint). The state is captured by capture.ts (the
// version referenced, so its tables outlive compactions while they are
// linked or copied, and the log tail trimmed at the sequence); the target
// is built by target.ts (INCOMPLETE first, removed last). In the target:
//
//   NNNNNN.sst        the version's tables: hard links where the storage can
//                     (Storage.link), synced copies otherwise (OPFS, EXDEV, EPERM)
//   NNNNNN.log        the logs at or above the log number, trimmed at the sequence
//   MANIFEST-NNNNNN   a new manifest holding exactly the version, the log
//                     number and the sequence (numbered above every file)
//   CURRENT           naming it
//
// Everything (files and the directory) is synced before the promise resolves.

import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import { logFileHeader } from "../format/log_format.ts";
import { CURRENT_FILE, logFileName, manifestFileName, tableFileName } from "../version/file_names.ts";
import { sealEdit } from "../version/version_set.ts";
import type { CapturedState } from "./capture.ts";
import { Target } from "./target.ts";

/**
 * What a checkpoint made.
 *
 * @example
 * ```ts
 * declare const info: CheckpointInfo;
 * console.log(`${info.dir} at sequence ${info.sequence}: ${info.linked} linked, ${info.copied} copied`);
 * ```
 */
export interface CheckpointInfo {
  /** The directory of the checkpoint (a store in a bucket: its location). */
  dir: string;
  /** The checkpoint holds every write up to this sequence, and none after it. */
  sequence: number;
  /** Tables hard-linked (in a bucket: the tables the checkpoint pins). */
  linked: number;
  /** Tables copied (no hard link possible). */
  copied: number;
  /** A store in a bucket: the checkpoint's id (`open(url, { readOnly: true, checkpoint: id })`). */
  id?: string;
  /** A store in a bucket: the manifest it pins. */
  manifest?: number;
}

/**
 * Writes the captured state into `dir`, which must not exist or be empty
 * (checked first: INVALID_ARGUMENT naming it, nothing changed).
 *
 * @example
 * ```ts
 * import { captureState, type CaptureSource } from "./capture.ts";
 * declare const source: CaptureSource;
 * const state = await captureState(source);
 * try {
 *   await writeCheckpoint(state, "/backups/today", source.fs);
 * } finally {
 *   state.release();
 * }
 * ```
 */
export async function writeCheckpoint(state: CapturedState, dir: string, fs: Storage): Promise<CheckpointInfo> {
  const target = await Target.begin(fs, dir, "checkpoint");
  try {
    let linked = 0;
    let copied = 0;
    const added = state.version.levels.flatMap((files, level) => files.map((file) => ({ level, file })));
    for (const { file } of added) {
      const name = tableFileName(file.number);
      if (await target.linkOrCopy(state.fs, joinPath(state.dir, name), name)) linked++;
      else copied++;
    }
    for (const log of state.logs) await target.write(logFileName(log.number), log.bytes);
    for (const { name, bytes } of manifestFiles(state)) await target.write(name, bytes);
    await target.finish();
    return { dir, sequence: state.sequence, linked, copied };
  } catch (err) {
    await target.abort();
    throw err;
  }
}

/**
 * The manifest of the captured state (one snapshot edit: the version, the
 * log number and the sequence; numbered above every file of the state) and
 * CURRENT naming it, as files to write (the manifest first).
 *
 * @example
 * ```ts
 * import type { CapturedState } from "./capture.ts";
 * declare const state: CapturedState;
 * for (const { name, bytes } of manifestFiles(state)) console.log(name, bytes.length); // MANIFEST-000031, CURRENT
 * ```
 */
export function manifestFiles(state: CapturedState): { name: string; bytes: Uint8Array }[] {
  const number = state.nextFileNumber;
  const added = state.version.levels.flatMap((files, level) => files.map((file) => ({ level, file })));
  const header = logFileHeader();
  const record = sealEdit({
    logNumber: state.logNumber,
    nextFileNumber: number + 1,
    lastSequence: state.sequence,
    added,
  });
  const manifest = new Uint8Array(header.length + record.length);
  manifest.set(header);
  manifest.set(record, header.length);
  return [
    { name: manifestFileName(number), bytes: manifest },
    { name: CURRENT_FILE, bytes: new TextEncoder().encode(`${manifestFileName(number)}\n`) },
  ];
}
