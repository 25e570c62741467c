// What checkpoints, backups and waitForCompactions need of an open
// database, wired once by src/open.ts (assemble) and used by
// src/db_backups.ts: a capture source over its directory (capture.ts), the
// scheduler (settle), and, for a store in a bucket, its object store (a
// checkpoint there is an object pinning a manifest:
// object_store/bucket_checkpoints.ts).

import type { Scheduler } from "../background/scheduler.ts";
import { SiltError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import type { VersionSet } from "../version/version_set.ts";
import { CommitPipeline, type WritePipeline } from "../write/commit.ts";
import { type CapturedState, captureState } from "./capture.ts";
import type { CheckpointInfo } from "./checkpoint.ts";
import type { ObjectStore } from "../object_store/object_store.ts";
import { createCheckpoint } from "../object_store/bucket_checkpoints.ts";

/** The parts of an open database checkpoints and backups use. */
export interface LiveStoreParts {
  path: string;
  fs: Storage;
  /** A store in a bucket: its objects (checkpoints are objects there). */
  objectStore: ObjectStore | undefined;
  /** The grace period of the bucket's collector. */
  gcMinAge: number;
  /** db.flush(). */
  flush(): Promise<void>;
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
        if (!pipeline.wal.ready) return pipeline.wal.whenReady();
        pipeline.writePending();
        return undefined;
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

  /** True for a store in a bucket. */
  get inBucket(): boolean {
    return this.#parts.objectStore !== undefined;
  }

  /**
   * A store in a bucket: flushes, then stores a checkpoint pinning the
   * manifest that holds the flush (object_store/bucket_checkpoints.ts).
   * The writer only: a reader's view also holds WAL objects.
   */
  async bucketCheckpoint(): Promise<CheckpointInfo> {
    const { objectStore, readOnly, path, versions, gcMinAge } = this.#parts;
    this.#parts.checkOpen();
    if (readOnly || objectStore === undefined) {
      throw new SiltError("UNSUPPORTED", `${path}: checkpoints of a store in a bucket are taken by its writer`);
    }
    await this.#parts.flush();
    const version = versions.current.ref();
    try {
      const sequence = version.largestSequence;
      const cp = await createCheckpoint(objectStore, {
        manifest: versions.manifestNumber,
        sequence,
        gracePeriod: gcMinAge,
      });
      const tables = [...version.files()].length;
      return { dir: objectStore.location, sequence, linked: tables, copied: 0, id: cp.id, manifest: cp.manifest };
    } finally {
      version.unref();
    }
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
