// Runs compactions on the calling thread (compactionMode "inline", and always
// with in-memory storage, which a worker cannot reach).

import type { Storage } from "../storage/storage.ts";
import { type CompactionExecutor, type CompactionJob, type CompactionResult, runCompaction } from "./compactor.ts";

/**
 * Runs each compaction job on the calling thread, through the database's own storage.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * import type { CompactionJob } from "./compactor.ts";
 * declare const fs: Storage, job: CompactionJob; // the database's storage; a job the scheduler made
 * const executor = new InlineExecutor(fs, "/db");
 * const result = await executor.run(job);
 * ```
 */
export class InlineExecutor implements CompactionExecutor {
  readonly mode = "inline";
  readonly #fs: Storage;
  readonly #dir: string;

  constructor(fs: Storage, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  run(job: CompactionJob): Promise<CompactionResult> {
    return runCompaction({ fs: this.#fs, dir: this.#dir }, job);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
