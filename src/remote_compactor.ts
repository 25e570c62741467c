// The compactor of a store in a bucket, run in a process of its own (`siltdb
// compactor s3://…`, or runCompactor() in any program), so that compaction
// does not take the writer's CPU. The writer opens the store with
// compaction "remote" and only flushes; this compactor:
//
// - claims the compactor role on the manifest (src/object_store/
//   bucket_manifest.ts): its own epoch (a newer compactor fences it) and its
//   own range of table numbers;
// - looks at the newest manifest, asks the policy (leveled or tiered,
//   src/compaction/plan.ts) for a task, downloads the inputs (one GET per
//   table), merges them keeping every version the writer's snapshots read
//   (the manifest's writerSnapshot), uploads the outputs and commits the
//   edit. A commit racing the writer's flushes is rebased on them; an edit
//   whose inputs are gone (another compactor took them) is dropped with its
//   outputs;
// - sleeps for pollInterval when there is nothing to do.
//
// It deletes nothing but its own failed outputs: the writer's collector (or
// `siltdb gc`) deletes the inputs once no reader can need them. Killed at any
// moment, it loses nothing: uncommitted outputs are orphans the collector
// removes, and the manifest names only complete tables.

import type { CompactionEvent } from "./events.ts";
import { invalidArgument, SiltError } from "./errors.ts";
import { runCompaction } from "./compaction/compactor.ts";
import type { Compression } from "./format/table_format.ts";
import {
  compactionJob,
  compactionStart,
  outputNumbersFor,
  pickTask,
  type PlanOptions,
  recordTask,
} from "./compaction/plan.ts";
import { tableKey } from "./object_store/bucket_layout.ts";
import { BucketManifest } from "./object_store/bucket_manifest.ts";
import type { ObjectStore } from "./object_store/object_store.ts";
import type { RequestCounters } from "./object_store/resilient_store.ts";
import { type ObjectStoreOptions, storeAt } from "./object_store/s3_object_store.ts";
import { type OpenOptions, resolveOptions } from "./options.ts";
import { type TableFiles, tableFiles } from "./table/table_files.ts";
import { totalBytes } from "./version/version.ts";

/**
 * Options of {@linkcode runCompactor} and {@linkcode Compactor.open}: the
 * compaction options of open() (the policy the compactor applies) and how
 * often to look for work.
 *
 * @example
 * ```ts
 * const options: CompactorOptions = { compaction: "leveled", targetFileSize: 8 << 20, pollInterval: 500 };
 * ```
 */
export interface CompactorOptions {
  /** The bucket's S3 settings (else the AWS_* environment variables), or an ObjectStore. */
  objectStore?: ObjectStoreOptions | ObjectStore;
  /** The policy. Default "leveled". */
  compaction?: "leveled" | "tiered";
  /** As open()'s: L0 files (or sorted runs) that start a compaction. Default 4. */
  l0CompactionTrigger?: number;
  /** As open()'s: the byte target of L1. Default 10 MiB. */
  levelBaseBytes?: number;
  /** As open()'s: the size of the tables written. Default 2 MiB. */
  targetFileSize?: number;
  /** As open()'s. Default 4096. */
  blockSize?: number;
  /** As open()'s. Default 10. */
  bloomBitsPerKey?: number;
  /** As open()'s: how the data blocks of the tables written are stored. Default "none". */
  compression?: Compression;
  /** Milliseconds between looks at the manifest when there is nothing to do (0 to 600,000). Default 1000. */
  pollInterval?: number;
  /** As open()'s: the clock expiring puts are judged by (epoch ms; for tests). Default Date.now. */
  clock?: () => number;
  /** Called after each compaction the compactor committed. Must not throw. */
  onCompaction?: (event: CompactionEvent) => void;
  /** Called when a round failed and will be retried after pollInterval (the store was down, say). */
  onRetry?: (err: SiltError) => void;
}

/**
 * What a compactor has done since it started.
 *
 * @example
 * ```ts
 * declare const compactor: Compactor;
 * const s: CompactorStats = compactor.stats;
 * console.log(`${s.compactions} compactions, ${s.bytesWritten} bytes written`);
 * ```
 */
export interface CompactorStats {
  /** Merges committed. */
  compactions: number;
  /** Files moved to the next level as they were. */
  trivialMoves: number;
  /** Bytes of input tables merged. */
  bytesRead: number;
  /** Bytes of tables written. */
  bytesWritten: number;
  /** Entries dropped (overwritten, deleted, or tombstones no longer needed). */
  entriesDropped: number;
  /** Expired entries (puts with a ttl) turned into tombstones or dropped, judged by the compactor's clock. */
  entriesExpired: number;
  /** Edits dropped because their inputs were gone when they were committed. */
  conflicts: number;
  /** Rounds that failed and were retried. */
  retries: number;
  /** Milliseconds spent compacting. */
  ms: number;
  /** The object store's requests, when it counts them (S3ObjectStore, MemoryObjectStore). */
  requests: RequestCounters | undefined;
}

const COMPACTOR_OPTIONS = [
  "objectStore",
  "clock",
  "compaction",
  "l0CompactionTrigger",
  "levelBaseBytes",
  "targetFileSize",
  "blockSize",
  "bloomBitsPerKey",
  "compression",
  "pollInterval",
  "onCompaction",
  "onRetry",
];

/**
 * The compactor of a store in a bucket (see the file header). Most programs
 * call {@linkcode runCompactor}; tests and schedulers of their own may call
 * compactOnce().
 *
 * @example
 * ```ts
 * import { Compactor } from "siltdb";
 * const compactor = await Compactor.open("s3://my-bucket/app/db");
 * while (await compactor.compactOnce()) {} // compact until the policy is satisfied
 * await compactor.stop();
 * ```
 */
export class Compactor {
  /** Where the store is. */
  readonly location: string;
  /** What it has done. */
  readonly stats: CompactorStats;
  readonly #manifest: BucketManifest;
  readonly #files: TableFiles;
  readonly #plan: PlanOptions & {
    blockSize: number;
    bloomBitsPerKey: number;
    clock: () => number;
    compression: Compression;
  };
  readonly #pollInterval: number;
  readonly #onCompaction: (event: CompactionEvent) => void;
  readonly #onRetry: (err: SiltError) => void;
  readonly #pointers: (Uint8Array | undefined)[] = [];
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #job: Promise<unknown> = Promise.resolve();

  private constructor(manifest: BucketManifest, options: CompactorOptions) {
    const o = resolveOptions(
      {
        compaction: options.compaction,
        l0CompactionTrigger: options.l0CompactionTrigger,
        levelBaseBytes: options.levelBaseBytes,
        targetFileSize: options.targetFileSize,
        blockSize: options.blockSize,
        bloomBitsPerKey: options.bloomBitsPerKey,
        clock: options.clock,
        compression: options.compression,
      } satisfies OpenOptions,
    );
    this.#manifest = manifest;
    this.location = manifest.location;
    this.#files = tableFiles({ store: manifest.store }, { whole: true });
    this.#plan = o;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#onCompaction = options.onCompaction ?? (() => {});
    this.#onRetry = options.onRetry ?? (() => {});
    const counters = (manifest.store as { counters?: RequestCounters }).counters;
    this.stats = {
      compactions: 0,
      trivialMoves: 0,
      bytesRead: 0,
      bytesWritten: 0,
      entriesDropped: 0,
      entriesExpired: 0,
      conflicts: 0,
      retries: 0,
      ms: 0,
      requests: counters,
    };
  }

  /**
   * Claims the compactor role of the store at `url` (s3://bucket/prefix; or
   * any name with an ObjectStore as the objectStore option). A compactor
   * running already is fenced: its next commit fails with FENCED.
   * NOT_FOUND when the bucket holds no database.
   *
   * @example
   * ```ts
   * import { Compactor } from "siltdb";
   * const compactor = await Compactor.open("s3://my-bucket/app/db", { targetFileSize: 8 << 20 });
   * console.log(compactor.epoch);
   * await compactor.stop();
   * ```
   */
  static async open(url: string, options: CompactorOptions = {}): Promise<Compactor> {
    checkCompactorOptions(url, options);
    const store = storeAt(url, resolveOptions({ objectStore: options.objectStore }).objectStore);
    return new Compactor(await BucketManifest.claim(store, "compactor", false), options);
  }

  /** The epoch this compactor claimed. */
  get epoch(): number {
    return this.#manifest.epoch;
  }

  /**
   * Runs one compaction if the policy wants one; resolves with what it
   * did, or undefined when there was nothing to do (or its edit was dropped
   * because another compactor took the inputs first). FENCED when a newer
   * compactor has claimed the store.
   *
   * @example
   * ```ts
   * declare const compactor: Compactor;
   * const event = await compactor.compactOnce();
   * if (event) console.log(`L${event.fromLevel} -> L${event.toLevel}`);
   * ```
   */
  compactOnce(): Promise<CompactionEvent | undefined> {
    const run = this.#job.then(() => this.#compactOnce());
    this.#job = run.catch(() => {});
    return run;
  }

  /**
   * Compacts until stop(): one job after another, and a look at the
   * manifest every pollInterval when there is nothing to do. A failed round
   * (the store down, a time-out) is retried after pollInterval. Resolves at
   * stop(); rejects with FENCED when a newer compactor claims the store, or
   * with CORRUPTION when an input table is damaged.
   *
   * @example
   * ```ts
   * declare const compactor: Compactor;
   * const done = compactor.run();
   * // ... later
   * await compactor.stop();
   * await done;
   * ```
   */
  run(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#loop;
  }

  /**
   * Stops after the job under way (its result is committed or dropped) and
   * resolves then. Idempotent.
   *
   * @example
   * ```ts
   * declare const compactor: Compactor;
   * await compactor.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop?.catch(() => {});
    await this.#job;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let worked = false;
      try {
        worked = (await this.compactOnce()) !== undefined;
      } catch (err) {
        if (!(err instanceof SiltError) || err.code === "FENCED" || err.code === "CORRUPTION") throw err;
        this.stats.retries++;
        this.#onRetry(err);
      }
      if (!worked && !this.#stopped) await this.#sleep(this.#pollInterval);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async #compactOnce(): Promise<CompactionEvent | undefined> {
    const manifest = this.#manifest;
    const state = await manifest.refresh();
    const task = pickTask(state.levels, this.#plan, this.#pointers);
    if (task === undefined) return undefined;
    const started = performance.now();
    const { deleted, event } = compactionStart(task);
    const inputBytes = totalBytes(task.inputs.flatMap((i) => i.files));
    if (task.trivialMove) {
      if (!await this.#commit({ deleted, added: [{ level: task.outputLevel, file: task.inputs[0].files[0] }] }, [])) {
        return undefined;
      }
      this.stats.trivialMoves++;
    } else {
      const numbers = Array.from(
        { length: outputNumbersFor(task, this.#plan.targetFileSize) },
        () => manifest.takeFileNumber(),
      );
      try {
        // Every version the writer's snapshots read is kept (0 when it never said: keep them all).
        const job = compactionJob(task, state.levels, state.writerSnapshot, numbers, this.#plan);
        const result = await runCompaction({ files: this.#files }, job);
        const added = result.outputs.map((file) => ({ level: task.outputLevel, file }));
        if (!await this.#commit({ deleted, added, horizon: job.oldestSnapshot }, result.outputs.map((f) => f.number))) {
          return undefined;
        }
        this.stats.compactions++;
        this.stats.bytesRead += inputBytes;
        this.stats.bytesWritten += result.bytesWritten;
        this.stats.entriesDropped += result.entriesDropped;
        this.stats.entriesExpired += result.entriesExpired;
        event.outputFiles = result.outputs.length;
        event.bytesRead = inputBytes;
        event.bytesWritten = result.bytesWritten;
        event.entriesDropped = result.entriesDropped;
      } finally {
        manifest.releaseFileNumbers(numbers);
      }
    }
    recordTask(task, this.#pointers);
    event.durationMs = performance.now() - started;
    this.stats.ms += event.durationMs;
    this.#onCompaction(event);
    return event;
  }

  /**
   * Commits an edit; false (its outputs deleted) when its inputs were gone.
   * Other failures leave the outputs: the commit may have happened, and
   * if it did not, the collector deletes them.
   */
  async #commit(edit: Parameters<BucketManifest["commit"]>[0], outputs: number[]): Promise<boolean> {
    try {
      await this.#manifest.commit(edit);
      return true;
    } catch (err) {
      if (!(err instanceof SiltError && err.code === "IO_ERROR" && /no longer in the manifest/.test(err.message))) {
        throw err;
      }
      this.stats.conflicts++;
      for (const n of outputs) await this.#manifest.store.delete(tableKey(n)).catch(() => {});
      return false;
    }
  }
}

/** The options check of runCompactor/Compactor.open (open()'s own checks follow in resolveOptions). */
function checkCompactorOptions(url: string, options: CompactorOptions): void {
  if (typeof url !== "string" || url === "") throw invalidArgument(`the store's URL must be a non-empty string`);
  if (typeof options !== "object" || options === null) throw invalidArgument("compactor options must be an object");
  for (const name of Object.keys(options)) {
    if (!COMPACTOR_OPTIONS.includes(name)) {
      throw invalidArgument(
        `unknown compactor option ${JSON.stringify(name)} (known: ${COMPACTOR_OPTIONS.join(", ")})`,
      );
    }
  }
  const poll = options.pollInterval;
  if (poll !== undefined && !(Number.isInteger(poll) && poll >= 0 && poll <= 600_000)) {
    throw invalidArgument(`option pollInterval must be an integer from 0 to 600000 (milliseconds), got ${poll}`);
  }
  for (const name of ["onCompaction", "onRetry"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw invalidArgument(`option ${name} must be a function`);
    }
  }
}

/**
 * Starts the compactor of the store at `url` in this process: claims the
 * compactor role and compacts until `stop()` (see {@linkcode Compactor.run}).
 * The writer should be opened with `compaction: "remote"`.
 *
 * @example
 * ```ts
 * import { runCompactor } from "siltdb";
 * const compactor = await runCompactor("s3://my-bucket/app/db", {
 *   onCompaction: (e) => console.log(`L${e.fromLevel} -> L${e.toLevel}: ${e.bytesWritten} bytes`),
 * });
 * const done = compactor.run(); // rejects with FENCED if another compactor takes over
 * // ... on shutdown:
 * await compactor.stop();
 * await done;
 * ```
 */
export async function runCompactor(url: string, options: CompactorOptions = {}): Promise<Compactor> {
  const compactor = await Compactor.open(url, options);
  compactor.run().catch(() => {}); // the caller hears of a failure from run()
  return compactor;
}
