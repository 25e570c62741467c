// Runs compactions on the calling thread (compactionMode "inline", and always
// with in-memory storage, which a worker cannot reach).

import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import { TableReader } from "../table/table_reader.ts";
import { tableFileName } from "../version/file_names.ts";
import { type CompactionJob, type CompactionResult, runCompaction } from "./compactor.ts";
import type { CompactionExecutor } from "../background/scheduler.ts";

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
    return runCompaction({
      fs: this.#fs,
      dir: this.#dir,
      openTable: (n) => TableReader.open(this.#fs, joinPath(this.#dir, tableFileName(n)), n),
      closeTable: (t) => t.close(),
    }, job);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
