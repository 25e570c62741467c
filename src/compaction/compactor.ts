// Runs one compaction task: merges the input tables through the core's
// compaction iterator (core/compaction_iter.ts: drop rules, output cuts) and
// writes the outputs whole (src/storage/atomic_file.ts), then syncs the
// directory once. The same
// code runs on the main thread (inline mode) and in the compaction worker
// (src/compaction/worker.ts), each with its own core instance. It never
// touches the manifest: the caller records the result.

import { bytes, core, view, words } from "../_wasm.ts";
import { corruption } from "../errors.ts";
import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import { RESTART_INTERVAL } from "../format/table_format.ts";
import { DISCARD, removeQuietly, writeFileAtomically } from "../storage/atomic_file.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { NEED_INDEX, newRunSource } from "../table/run_source.ts";
import { finishTable, takeStaged } from "../table/table_builder.ts";
import type { TableReader } from "../table/table_reader.ts";
import { tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";
import type { CompactionTask } from "./task.ts";

/** Everything a compaction needs besides the files themselves. */
export interface CompactionJob {
  task: CompactionTask;
  /** Sequence of the oldest live snapshot (or the last sequence when none). */
  oldestSnapshot: number;
  /** Files older than the output that may hold the same keys (per run, each sorted by key). */
  older: FileMeta[][];
  /** File numbers reserved for the outputs, in order. */
  fileNumbers: number[];
  blockSize: number;
  bloomBitsPerKey: number;
  targetFileSize: number;
}

/** What a compaction produced. */
export interface CompactionResult {
  outputs: FileMeta[];
  bytesRead: number;
  bytesWritten: number;
  entriesRead: number;
  entriesDropped: number;
}

/** Where the compactor gets tables and writes files. */
export interface CompactionEnv {
  fs: Storage;
  dir: string;
  openTable(number: number): TableReader;
  closeTable(table: TableReader): void;
  /** Called before each output is renamed into place; throws to stop the compaction (the lock was lost). */
  beforeRename?(): void;
}

// Statuses of core ciRun (core/compaction_iter.ts).
const CI_DONE = 1;
const CI_NEED = 2;
const CI_CORRUPT = 3;
const CI_STAGED = 4;
const CI_FILE_FULL = 5;
const STAGE_BYTES = 256 << 10;

/** Packs the user-key ranges of older runs for the tombstone rule (layout in core/compaction_iter.ts). */
function packOlder(runs: FileMeta[][]): number {
  const nonEmpty = runs.filter((r) => r.length > 0);
  if (nonEmpty.length === 0) return 0;
  const files = nonEmpty.flat();
  const keyBytes = files.reduce((n, f) => n + f.smallest.length + f.largest.length - 16, 0);
  const ptr = core.bufferAlloc(4 + nonEmpty.length * 4 + files.length * 16 + keyBytes);
  const dv = view();
  const mem = bytes();
  let at = ptr;
  let key = ptr + 4 + nonEmpty.length * 4 + files.length * 16;
  dv.setUint32(at, nonEmpty.length, true);
  at += 4;
  for (const run of nonEmpty) {
    const sorted = [...run].sort((a, b) => compareUserKeys(userKeyOf(a.smallest), userKeyOf(b.smallest)));
    dv.setUint32(at, sorted.length, true);
    at += 4;
    for (const f of sorted) {
      for (const k of [userKeyOf(f.smallest), userKeyOf(f.largest)]) {
        mem.set(k, key);
        dv.setUint32(at, key, true);
        dv.setUint32(at + 4, k.length, true);
        at += 8;
        key += k.length;
      }
    }
  }
  return ptr;
}

/** Runs a compaction (not a trivial move) and returns its outputs. */
export async function runCompaction(env: CompactionEnv, job: CompactionJob): Promise<CompactionResult> {
  const { task } = job;
  // Runs, newest first: every L0 input file alone, then each level's files.
  const runs: FileMeta[][] = [];
  for (const input of [...task.inputs].sort((a, b) => a.level - b.level)) {
    if (input.level === 0) {
      const l0 = [...input.files].sort((a, b) => b.largestSequence - a.largestSequence || b.number - a.number);
      for (const f of l0) runs.push([f]);
    } else {
      runs.push([...input.files].sort((a, b) => compareUserKeys(userKeyOf(a.smallest), userKeyOf(b.smallest))));
    }
  }
  const sources = runs.map((files) => newRunSource(files));
  const children = core.bufferAlloc(sources.length * 4 + 4);
  sources.forEach((s, i) => words()[(children >>> 2) + i] = s);
  const ci = core.ciCreate(children, sources.length, job.oldestSnapshot, packOlder(job.older));
  core.bufferFree(children);
  const state = runs.map(() => ({ table: undefined as TableReader | undefined, block: 0 }));
  const outputs: FileMeta[] = [];
  let bytesRead = 0;
  let bytesWritten = 0;
  let done = false;
  const numbers = [...job.fileNumbers];

  /** Feeds the source the compaction stopped on: its next index or block. */
  const provide = () => {
    const i = core.ciNeedChild(ci);
    const source = core.ciChild(ci, i);
    const run = runs[i];
    const st = state[i];
    if (core.srcState(source) === NEED_INDEX) {
      const table = env.openTable(run[core.runFile(source)].number);
      core.runProvideIndex(source, table.index.ptr, table.index.size);
      if (st.table) env.closeTable(st.table);
      st.table = table;
      bytesRead += table.size;
    } else {
      const block = st.table!.readBlock({ offset: core.runBlockOffset(source), size: core.runBlockSize(source) });
      core.runProvideBlock(source, block.ptr, block.size);
      if (st.block) core.bufferFree(st.block);
      st.block = block.ptr;
    }
  };

  /** Writes the next output file, up to targetFileSize (undefined when no entry was left for it). */
  const writeOutput = (number: number) =>
    writeFileAtomically(env.fs, env.dir, tableFileName(number), async (file): Promise<FileMeta | typeof DISCARD> => {
      const tb = core.tbNew(job.blockSize, RESTART_INTERVAL, job.bloomBitsPerKey);
      try {
        while (true) {
          const status = core.ciRun(ci, tb, STAGE_BYTES, job.targetFileSize);
          if (status === CI_DONE) {
            done = true;
            break;
          }
          if (status === CI_FILE_FULL) break;
          if (status === CI_STAGED) await file.append(takeStaged(tb));
          else if (status === CI_NEED) provide();
          else if (status === CI_CORRUPT) {
            const i = core.ciNeedChild(ci);
            throw corruption(
              state[i].table?.path ?? "an input table",
              core.runBlockOffset(core.ciChild(ci, i)),
              "malformed block",
            );
          }
        }
        if (core.tbEntries(tb) === 0) return DISCARD;
        return await finishTable(tb, file, number);
      } finally {
        core.tbFree(tb);
      }
    }, { syncDir: false, beforeRename: env.beforeRename });

  try {
    while (!done) {
      const number = numbers.shift();
      if (number === undefined) throw new Error("siltdb internal error: compaction ran out of reserved file numbers");
      const meta = await writeOutput(number);
      if (meta !== DISCARD) {
        outputs.push(meta);
        bytesWritten += meta.size;
      }
    }
    await env.fs.syncDir(env.dir);
    return { outputs, bytesRead, bytesWritten, entriesRead: core.ciRead(ci), entriesDropped: core.ciDropped(ci) };
  } catch (err) {
    for (const out of outputs) removeQuietly(env.fs, joinPath(env.dir, tableFileName(out.number)));
    throw err;
  } finally {
    core.ciFree(ci);
    for (const st of state) {
      if (st.block) core.bufferFree(st.block);
      if (st.table) env.closeTable(st.table);
    }
  }
}
