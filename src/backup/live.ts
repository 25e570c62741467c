// What checkpoints, backups and waitForCompactions need of an open
// database, wired once by src/open.ts (assemble) and used by
// src/db_backups.ts: a capture source over its directory, and the scheduler.

import type { Scheduler } from "../background/scheduler.ts";
import { SiltError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import type { VersionSet } from "../version/version_set.ts";
import { CommitPipeline, type WritePipeline } from "../write/commit.ts";
import { type CapturedState, captureState } from "./capture.ts";

/** The parts of an open database checkpoints and backups use. */
export interface LiveStoreParts {
  path: string;
  fs: Storage;
  versions: VersionSet;
  scheduler: Scheduler;
  /** Undefined when read-only. */
  pipeline: WritePipeline | undefined;
  bufferWrites: boolean;
  readOnly: boolean;
  visibleSequence(): number;
  checkOpen(): void;
}

/**
 * Checkpoints, backups and settling of one open database.
 *
 * @example
 * ```ts
 * declare const parts: LiveStoreParts; // wired by src/open.ts
 * const live = new LiveStore(parts);
 * const state = await live.capture("a checkpoint");
 * state.release();
 * await live.settle();
 * ```
 */
export class LiveStore {
  readonly #parts: LiveStoreParts;

  constructor(parts: LiveStoreParts) {
    this.#parts = parts;
  }

  /** Throws CLOSED unless the database is open. */
  checkOpen(): void {
    this.#parts.checkOpen();
  }

  /** The storage of the database (and, by default, of its checkpoints). */
  get fs(): Storage {
    return this.#parts.fs;
  }

  /** The state at the current sequence (see capture.ts); UNSUPPORTED in a bucket. */
  capture(what: string): Promise<CapturedState> {
    const { path, fs, versions, pipeline, bufferWrites, visibleSequence, checkOpen } = this.#parts;
    try {
      checkOpen();
      if (versions.inBucket) {
        throw new SiltError("UNSUPPORTED", `${what} of a store in a bucket (${path}) is not available yet`);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const writePending = bufferWrites && pipeline instanceof CommitPipeline
      ? () => {
        if (pipeline.wal.failure) throw pipeline.wal.failure;
        if (!pipeline.wal.ready) return false;
        pipeline.writePending();
        return true;
      }
      : undefined;
    return captureState({
      dir: path,
      fs,
      versions,
      visibleSequence,
      checkOpen,
      drain: pipeline ? () => pipeline.drain() : undefined,
      writePending,
    });
  }

  /** Resolves once no flush or compaction is pending or running (read-only: at once). */
  settle(signal?: AbortSignal): Promise<void> {
    try {
      this.#parts.checkOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#parts.readOnly) return Promise.resolve();
    return this.#parts.scheduler.settle(signal);
  }
}
