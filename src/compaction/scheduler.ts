// Decides and runs compactions for a database, one at a time, in the
// background: asks the policy (leveled.ts / tiered.ts) for a task after every
// flush and compaction, runs it through an executor (inline: the main
// thread; worker: src/compaction/worker_executor.ts), records the result in
// the manifest (only this thread edits it), and deletes the input files once
// no reader holds a version that lists them.

import { SiltError } from "../errors.ts";
import { compareUserKeys } from "../format/internal_key.ts";
import type { ResolvedOptions } from "../options.ts";
import { joinPath } from "../storage/storage.ts";
import type { BlockCache } from "../table/block_cache.ts";
import type { TableCache } from "../table/table_cache.ts";
import { parseFileName } from "../version/file_names.ts";
import type { FileMeta, VersionEdit } from "../version/version_edit.ts";
import { NUM_LEVELS, type VersionSet } from "../version/version_set.ts";
import type { CompactionJob, CompactionResult } from "./compactor.ts";
import { LEVELED_DEFAULTS, pickLeveled } from "./leveled.ts";
import { pickTiered, TIERED_DEFAULTS } from "./tiered.ts";
import { type CompactionTask, overlapping, totalBytes, userKeyRange } from "./task.ts";

/** Runs a compaction job somewhere (this thread or a worker). */
export interface CompactionExecutor {
  readonly mode: "inline" | "worker";
  run(job: CompactionJob): Promise<CompactionResult>;
  close(): Promise<void>;
}

/** Bytes moved by flushes and compactions, per level. */
export interface LevelIo {
  level: number;
  /** Bytes read from this level by compactions. */
  read: number;
  /** Bytes written to this level by flushes (L0) and compactions. */
  written: number;
}

/** Compaction figures. */
export interface CompactionStats {
  count: number;
  trivialMoves: number;
  ms: number;
  entriesDropped: number;
  io: LevelIo[];
}

export interface SchedulerContext {
  dir: string;
  options: ResolvedOptions;
  versions: VersionSet;
  tables: TableCache;
  blocks: BlockCache;
  executor: CompactionExecutor;
  /** Sequence of the oldest live snapshot, or the last sequence when there is none. */
  oldestSnapshot(): number;
  /** Called after every change of the tree (to release waiting writes). */
  changed(): void;
}

/** The compactions of one database. */
export class CompactionScheduler {
  readonly #ctx: SchedulerContext;
  /** Table numbers being written (flush or compaction outputs), not yet in a version. */
  readonly pending = new Set<number>();
  readonly stats: CompactionStats = {
    count: 0,
    trivialMoves: 0,
    ms: 0,
    entriesDropped: 0,
    io: Array.from({ length: NUM_LEVELS }, (_, level) => ({ level, read: 0, written: 0 })),
  };
  #pointers: (Uint8Array | undefined)[] = [];
  #running: Promise<void> = Promise.resolve();
  #busy = false;
  #failure: SiltError | undefined;
  #closed = false;

  constructor(ctx: SchedulerContext) {
    this.#ctx = ctx;
  }

  /** The error that stopped background compaction, if any. */
  get failure(): SiltError | undefined {
    return this.#failure;
  }

  /** True while a compaction runs. */
  get busy(): boolean {
    return this.#busy;
  }

  /** The policy's next task for the current version, if any. */
  pick(): CompactionTask | undefined {
    const o = this.#ctx.options;
    const levels = this.#ctx.versions.current.levels;
    return o.compaction === "tiered"
      ? pickTiered(levels, { ...TIERED_DEFAULTS, runTrigger: o.l0CompactionTrigger })
      : pickLeveled(levels, { ...LEVELED_DEFAULTS, l0Trigger: o.l0CompactionTrigger, baseLevelBytes: o.levelBaseBytes }, this.#pointers);
  }

  /** Starts background compactions if the policy has work (no-op while one runs). */
  schedule(): void {
    if (this.#busy || this.#closed || this.#failure) return;
    if (this.pick() === undefined) return;
    this.#busy = true;
    this.#running = this.#exclusive(async () => {
      try {
        for (let task = this.pick(); task && !this.#closed; task = this.pick()) await this.#execute(task);
      } catch (err) {
        this.#failure = err instanceof SiltError ? err : new SiltError("IO_ERROR", `compaction failed: ${String(err)}`, {}, err);
      } finally {
        this.#busy = false;
        this.#ctx.changed();
      }
    });
  }

  /** Resolves when no compaction runs. */
  async idle(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#running;
      await last.catch(() => {});
    } while (last !== this.#running);
  }

  /** Merges every table into the last level used (dropping everything no snapshot can see). */
  compactAll(): Promise<void> {
    return this.#manual(() => {
      const levels = this.#ctx.versions.current.levels;
      const inputs = levels.map((files, level) => ({ level, files: [...files] })).filter((i) => i.files.length > 0);
      if (inputs.length === 0) return undefined;
      const deepest = Math.max(1, ...inputs.map((i) => i.level));
      return { inputs, outputLevel: deepest, trivialMove: false, reason: "manual: everything" };
    });
  }

  /** Merges the tables holding keys in [lo, hi] (user keys) down to the deepest level involved. */
  compactRange(lo: Uint8Array, hi: Uint8Array): Promise<void> {
    return this.#manual(() => {
      const levels = this.#ctx.versions.current.levels;
      let [rangeLo, rangeHi] = [lo, hi];
      const inputs: { level: number; files: FileMeta[] }[] = [];
      for (let level = 0; level < levels.length; level++) {
        let files = overlapping(levels[level], rangeLo, rangeHi);
        // L0 files overlap each other: take every one that meets the growing range.
        while (level === 0 && files.length > 0) {
          [rangeLo, rangeHi] = widen(files, rangeLo, rangeHi);
          const more = overlapping(levels[0], rangeLo, rangeHi);
          if (more.length === files.length) break;
          files = more;
        }
        if (files.length > 0) {
          inputs.push({ level, files });
          [rangeLo, rangeHi] = widen(files, rangeLo, rangeHi);
        }
      }
      if (inputs.length === 0) return undefined;
      const outputLevel = Math.max(1, ...inputs.map((i) => i.level));
      // The output level must stay disjoint: take all its files in the final range.
      const atOutput = overlapping(levels[outputLevel], rangeLo, rangeHi);
      const existing = inputs.find((i) => i.level === outputLevel);
      if (existing) existing.files = atOutput;
      else if (atOutput.length > 0) inputs.push({ level: outputLevel, files: atOutput });
      return { inputs, outputLevel, trivialMove: false, reason: "manual: range" };
    });
  }

  /** Stops scheduling, waits for the running compaction, closes the executor. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
    await this.#ctx.executor.close();
  }

  /** Deletes table files no version lists and nothing is writing. */
  removeObsoleteTables(): void {
    const { versions, options, dir, tables, blocks } = this.#ctx;
    const live = versions.liveTables();
    for (const name of options.fs.list(dir)) {
      const p = parseFileName(name);
      if (p?.kind !== "table" || live.has(p.number) || this.pending.has(p.number)) continue;
      tables.evict(p.number);
      blocks.forgetFile(p.number);
      options.fs.remove(joinPath(dir, name));
    }
  }

  async #manual(build: () => CompactionTask | undefined): Promise<void> {
    if (this.#failure) throw this.#failure;
    await this.#exclusive(async () => {
      const task = build();
      if (task) await this.#execute(task);
    });
    this.#ctx.changed();
    this.schedule();
  }

  /** Runs fn after every compaction before it (one compaction at a time). */
  #exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.#running.catch(() => {}).then(fn);
    this.#running = run.catch(() => {});
    return run;
  }

  async #execute(task: CompactionTask): Promise<void> {
    const { versions, options, executor } = this.#ctx;
    const started = performance.now();
    const deleted = task.inputs.flatMap((i) => i.files.map((f) => ({ level: i.level, number: f.number })));
    let edit: VersionEdit;
    if (task.trivialMove) {
      const file = task.inputs[0].files[0];
      edit = { deleted, added: [{ level: task.outputLevel, file }] };
      await versions.logAndApply(edit);
      this.stats.trivialMoves++;
    } else {
      const inputBytes = totalBytes(task.inputs.flatMap((i) => i.files));
      const fileNumbers = Array.from({ length: Math.ceil(inputBytes / options.targetFileSize) + 4 }, () => versions.newFileNumber());
      for (const n of fileNumbers) this.pending.add(n);
      try {
        const job: CompactionJob = {
          task,
          oldestSnapshot: this.#ctx.oldestSnapshot(),
          older: this.#olderRuns(task),
          fileNumbers,
          blockSize: options.blockSize,
          bloomBitsPerKey: options.bloomBitsPerKey,
          targetFileSize: options.targetFileSize,
        };
        const result = await executor.run(job);
        edit = { deleted, added: result.outputs.map((file) => ({ level: task.outputLevel, file })) };
        await versions.logAndApply(edit);
        for (const input of task.inputs) this.stats.io[input.level].read += totalBytes(input.files);
        this.stats.io[task.outputLevel].written += result.bytesWritten;
        this.stats.entriesDropped += result.entriesDropped;
        this.stats.count++;
      } finally {
        for (const n of fileNumbers) this.pending.delete(n);
      }
    }
    for (const input of task.inputs) {
      if (input.level > 0) this.#pointers[input.level] = userKeyRange(input.files)[1];
    }
    this.stats.ms += performance.now() - started;
    this.removeObsoleteTables();
    this.#ctx.changed();
  }

  /** Runs older than the output that may hold the inputs' keys (conservative: every other file at or below the output level). */
  #olderRuns(task: CompactionTask): FileMeta[][] {
    const inputs = new Set(task.inputs.flatMap((i) => i.files.map((f) => f.number)));
    const levels = this.#ctx.versions.current.levels;
    const runs: FileMeta[][] = [];
    for (let level = task.outputLevel; level < levels.length; level++) {
      const others = levels[level].filter((f) => !inputs.has(f.number));
      if (level === 0) for (const f of others) runs.push([f]);
      else if (others.length > 0) runs.push(others);
    }
    return runs;
  }
}

function widen(files: readonly FileMeta[], lo: Uint8Array, hi: Uint8Array): [Uint8Array, Uint8Array] {
  const [flo, fhi] = userKeyRange(files);
  return [compareUserKeys(flo, lo) < 0 ? flo : lo, compareUserKeys(fhi, hi) > 0 ? fhi : hi];
}
