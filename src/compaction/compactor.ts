// Runs one compaction task: merges the input tables through the core's
// compaction iterator (core/compaction_iter.ts: drop rules, output cuts; the
// range tombstones: range_tombstones.ts) and
// writes the outputs through the one table writer (src/table/table_writer.ts),
// then syncs the directory once. The same code runs on the main thread
// (inline mode) and in the compaction worker (src/compaction/worker.ts),
// each with its own core instance; its reads go through its own read state
// (a small block cache and its own open tables) and the one block provider,
// so they never evict the database's cached blocks. It never touches the
// manifest: the caller records the result.

import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import type { Compression } from "../format/table_format.ts";
import { removeQuietly } from "../storage/atomic_file.ts";
import { BlockProvider } from "../table/block_provider.ts";
import { TableCache } from "../table/table_cache.ts";
import type { TableFiles } from "../table/table_files.ts";
import { STAGE_BYTES, writeTable } from "../table/table_writer.ts";
import { tableKey } from "../object_store/bucket_layout.ts";
import { joinPath } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import { sortedRunsOf } from "../version/version.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { CompactionStatus } from "../wasm/abi.ts";
import { CoreCompaction } from "../wasm/compaction_iter.ts";
import { packFragments, releaseFragments } from "../wasm/range_tombstones.ts";
import { compactionTombstones, OutputTombstones } from "./range_tombstones.ts";
import { ReadState } from "../wasm/read_state.ts";
import type { CompactionTask } from "./task.ts";
import { filterBatch, loadCompactionFilter } from "./filter.ts";

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
  /** How the outputs' data blocks are stored. */
  compression: Compression;
  targetFileSize: number;
  /** The time (epoch ms) expiring puts are judged at: the database's clock, read when the job was made. */
  now: number;
  /** The compaction filter module's URL (open option compactionFilter), if any. */
  compactionFilter?: string;
  /** With a filter: the newest live snapshot's sequence (0: none); the filter sees only newer versions. */
  newestSnapshot?: number;
}

/** What a compaction produced. */
export interface CompactionResult {
  outputs: FileMeta[];
  bytesRead: number;
  bytesWritten: number;
  entriesRead: number;
  entriesDropped: number;
  /** Expired entries it turned into tombstones or dropped. */
  entriesExpired: number;
  /** Entries the compaction filter dropped or changed. */
  entriesFiltered: number;
}

/** Told once how a job ended: the error that stopped it, or its result. */
export type JobDone = (error: unknown, result?: CompactionResult) => void;

/** Runs a compaction job somewhere: this thread (inline_executor.ts) or a worker (worker_executor.ts). */
export interface CompactionExecutor {
  readonly mode: "inline" | "worker";
  /** Runs `job`; `done` is called once, from a later task or from takeReplies(). */
  submit(job: CompactionJob, done: JobDone): void;
  /**
   * True when a job ended and its reply waits for the event loop (a
   * worker's). Cheap: reads ask it (every 32nd read, Scheduler.catchUp).
   */
  readonly replyWaiting: boolean;
  /** Takes the replies that wait, now: their jobs' `done` run before it returns. */
  takeReplies(): void;
  close(): Promise<void>;
}

/** Where the compactor reads and writes tables. */
export interface CompactionEnv {
  files: TableFiles;
  /** Called before each output is renamed into place; throws to stop the compaction (the lock was lost). */
  beforeRename?(): void;
}

/** The compaction's own block cache: it reads each block once, so this only has to hold the blocks in use. */
const CACHE_BYTES = 1 << 20;
/** Input tables open at once (each run keeps the one it reads). */
const OPEN_TABLES = 64;
/** Tables of a bucket fetched at once before a merge starts. */
const PARALLEL_OPENS = 8;

/**
 * Runs a compaction (not a trivial move) and returns its outputs.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import { tableFiles } from "../table/table_files.ts";
 * declare const fs: Storage, job: CompactionJob;
 * const result = await runCompaction({ files: tableFiles({ fs, dir: "/db" }) }, job);
 * console.log(result.outputs.map((f) => f.number), result.entriesDropped);
 * ```
 */
export async function runCompaction(env: CompactionEnv, job: CompactionJob): Promise<CompactionResult> {
  const readState = new ReadState(CACHE_BYTES);
  const tables = new TableCache(env.files, OPEN_TABLES, readState);
  const provider = new BlockProvider(tables, readState.cache);
  const older = job.older.map((run) =>
    run.map((f) => ({ smallest: userKeyOf(f.smallest), largest: userKeyOf(f.largest) }))
      .sort((a, b) => compareUserKeys(a.smallest, b.smallest))
  );
  const inputs = job.task.inputs.flatMap((i) => i.files);
  const runs = sortedRunsOf(job.task.inputs);
  // Every L0 file is a sorted run of its own: a merge back into L0 (tiered, older L0 files left) must
  // stay one file, or it would leave as many runs as it took and be picked again, for ever.
  const targetFileSize = job.task.outputLevel === 0 ? Infinity : job.targetFileSize;
  const url = job.compactionFilter;
  const filter = url === undefined ? undefined : await loadCompactionFilter(url);
  const merge = new CoreCompaction(readState, runs, job.oldestSnapshot, older, {
    now: job.now,
    filterAbove: url === undefined ? undefined : job.newestSnapshot ?? 0,
  });
  const tombstones = compactionTombstones(inputs, job.oldestSnapshot, older);
  const list = packFragments(tombstones.all);
  merge.setTombstones(list);
  releaseFragments(list);
  const cutter = new OutputTombstones(tombstones.kept);
  const outputs: FileMeta[] = [];
  let bytesWritten = 0;
  let done = false;
  const numbers = [...job.fileNumbers];
  // Each output syncs and is renamed into place while the next one is built; all have before the end.
  const finishing: Promise<void>[] = [];
  try {
    if (!env.files.synchronous) await openFirstTables(tables, runs);
    while (!done) {
      const number = numbers.shift();
      if (number === undefined) throw new Error("siltdb internal error: compaction ran out of reserved file numbers");
      // The next output, up to targetFileSize; none when no entry was left for it. The numbers were
      // reserved by the inputs' file bytes: outputs stored less compressed than their inputs (a store
      // reopened with another codec) may need more, so the last number takes whatever is left.
      const limit = numbers.length === 0 ? Infinity : targetFileSize;
      const meta = await writeTable(env.files.target, number, {
        blockSize: job.blockSize,
        bloomBitsPerKey: job.bloomBitsPerKey,
        compression: job.compression,
        syncDir: false,
        beforeRename: env.beforeRename,
        background: (done) => finishing.push(done),
      }, async (builder, stage) => {
        for (;;) {
          const status = merge.run(builder, STAGE_BYTES, limit);
          if (status === CompactionStatus.Done) done = true;
          if (status === CompactionStatus.Done || status === CompactionStatus.FileFull) {
            builder.addRangeTombstones(cutter.next(done ? undefined : merge.lastKey()));
            return;
          }
          if (status === CompactionStatus.Staged) await stage();
          else if (status === CompactionStatus.Need) await provider.answerSourceAsync(merge.stoppedSource());
          else if (status === CompactionStatus.Corrupt) throw provider.sourceCorruption(merge.stoppedSource());
          else if (status === CompactionStatus.Filter) filterBatch(merge, builder, filter!, url!, job.task.outputLevel);
        }
      });
      if (meta !== undefined) {
        outputs.push(meta);
        bytesWritten += meta.size;
      }
    }
    await Promise.all(finishing);
    const target = env.files.target;
    if ("fs" in target) await target.fs.syncDir(target.dir);
    return {
      outputs,
      bytesRead: inputs.reduce((n, f) => n + f.size, 0),
      bytesWritten,
      entriesRead: merge.entriesRead,
      entriesDropped: merge.entriesDropped,
      entriesExpired: merge.entriesExpired,
      entriesFiltered: merge.entriesFiltered,
    };
  } catch (err) {
    await Promise.allSettled(finishing); // no rename may land after the outputs are removed
    const target = env.files.target;
    for (const out of outputs) {
      if ("fs" in target) removeQuietly(target.fs, joinPath(target.dir, tableFileName(out.number)));
      else await target.store.delete(tableKey(out.number)).catch(() => {}); // else the collector takes it
    }
    throw err;
  } finally {
    merge.free(); // its sources let go of their tables and pinned blocks
    tables.close();
    readState.free();
  }
}

/**
 * In a bucket: the first table of every run is needed before the merge can
 * start (all of them in an L0 merge), each one request away: they are
 * fetched a few at a time instead of one after the other as the merge asks.
 */
async function openFirstTables(tables: TableCache, runs: FileMeta[][]): Promise<void> {
  const first = runs.map((run) => run[0]).filter((f) => f !== undefined).slice(0, OPEN_TABLES / 2);
  for (let i = 0; i < first.length; i += PARALLEL_OPENS) {
    // Every fetch settles before the merge starts or fails (none lands in a cache already closed).
    const opened = await Promise.allSettled(first.slice(i, i + PARALLEL_OPENS).map((f) => tables.getAsync(f.number)));
    for (const o of opened) if (o.status === "rejected") throw o.reason;
  }
}
