// Runs compactions on the calling thread (compactionMode "inline", and always
// with in-memory storage, which a worker cannot reach).

import type { Storage } from "../storage/storage.ts";
import { type CompactionExecutor, type CompactionJob, type CompactionResult, runCompaction } from "./compactor.ts";

/**
 * @example
 * ```ts
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
