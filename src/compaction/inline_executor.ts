// Runs compactions on the calling thread (compactionMode "inline", and
// always with in-memory storage, which a worker cannot reach, and with a
// store in a bucket).

import type { TableFiles } from "../table/table_files.ts";
import {
  type CompactionExecutor,
  type CompactionJob,
  type CompactionResult,
  type JobDone,
  runCompaction,
} from "./compactor.ts";

/**
 * Runs each compaction job on the calling thread, over the database's own table files.
 *
 * @example
 * ```ts
 * import type { TableFiles } from "../table/table_files.ts";
 * import type { CompactionJob } from "./compactor.ts";
 * declare const files: TableFiles, job: CompactionJob; // the database's tables; a job the scheduler made
 * const executor = new InlineExecutor(files);
 * const result = await executor.run(job);
 * ```
 */
export class InlineExecutor implements CompactionExecutor {
  readonly mode = "inline";
  readonly #files: TableFiles;

  constructor(files: TableFiles) {
    this.#files = files;
  }

  /** Nothing waits for another thread here. */
  readonly replyWaiting = false;

  run(job: CompactionJob): Promise<CompactionResult> {
    return runCompaction({ files: this.#files }, job);
  }

  submit(job: CompactionJob, done: JobDone): void {
    this.run(job).then((result) => done(undefined, result), (err) => done(err));
  }

  takeReplies(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
