// What a user asks of the background: flush the memtable, compact, and
// resume after a background error. Each needs both the write side (drain
// the pending group, freeze the memtable onto a new log: src/write/) and the
// scheduler (wait for flushes, run a manual compaction, clear the error:
// src/background/), so it sits above both.

import type { Scheduler } from "./background/scheduler.ts";
import { type Encoding, storedKey } from "./encoding.ts";
import { invalidArgument, SiltError } from "./errors.ts";
import { compareUserKeys } from "./format/internal_key.ts";
import type { WritePipeline } from "./write/commit.ts";
import type { Writer } from "./write/writer.ts";

/** What maintenance works on. */
export interface MaintenanceContext {
  path: string;
  keyEncoding: Encoding<unknown>;
  maxKeySize: number;
  writer: Writer;
  /** Undefined when read-only. */
  pipeline: WritePipeline | undefined;
  scheduler: Scheduler;
}

/**
 * flush(), compact(), compactRange() and resume() of one database.
 *
 * @example
 * ```ts
 * declare const ctx: MaintenanceContext; // the database's writer, commit pipeline and scheduler
 * const maintenance = new Maintenance(ctx);
 * await maintenance.flush(); // the memtable is now a level-0 table
 * await maintenance.compactRange("a", "b"); // keys in the database's key encoding
 * ```
 */
export class Maintenance {
  readonly #ctx: MaintenanceContext;

  constructor(ctx: MaintenanceContext) {
    this.#ctx = ctx;
  }

  /** Writes the memtable to a table file and waits for every pending flush. */
  async flush(): Promise<void> {
    const { writer, scheduler } = this.#ctx;
    writer.checkWritable();
    const pipeline = this.#ctx.pipeline!;
    await pipeline.drain();
    while (pipeline.mem.mt.count > 0 && scheduler.flushQueueFull) {
      await scheduler.waitForFlushes();
      writer.checkWritable(); // a scheduler closed meanwhile returns at once: without this, the loop never yields
    }
    if (pipeline.mem.mt.count > 0) {
      try {
        pipeline.freeze();
      } catch (err) {
        scheduler.fail(err, "starting a new log");
        throw scheduler.error ?? err;
      }
    }
    await scheduler.waitForFlushes();
  }

  /** Flushes, then merges every table into one level. */
  async compact(): Promise<void> {
    await this.flush();
    await this.#ctx.scheduler.compactAll();
  }

  /** Checks the keys, flushes, then merges the tables holding keys from start to end (inclusive). */
  async compactRange(start: unknown, end: unknown): Promise<void> {
    const { writer, keyEncoding, maxKeySize } = this.#ctx;
    writer.checkWritable();
    const lo = storedKey(keyEncoding, start, "start", maxKeySize);
    const hi = storedKey(keyEncoding, end, "end", maxKeySize);
    if (compareUserKeys(lo, hi) > 0) throw invalidArgument("compactRange: start is after end");
    await this.flush();
    await this.#ctx.scheduler.compactRange(lo, hi);
  }

  /**
   * After a background error: a new manifest if the last one could not be
   * written, a new log, every memtable flushed; then queued writes go on.
   * Rejects (writes still stopped) if storage still fails.
   */
  async resume(): Promise<void> {
    const { pipeline, scheduler, writer } = this.#ctx;
    if (pipeline === undefined) throw new SiltError("READ_ONLY", `${this.#ctx.path} was opened read-only`);
    if (scheduler.error === undefined) return;
    if (scheduler.error.code === "FENCED") throw scheduler.error; // another writer holds the store now
    await scheduler.clearError();
    try {
      pipeline.freeze();
      scheduler.maybeSchedule();
      await scheduler.waitForFlushes();
    } catch (err) {
      scheduler.fail(err, "resume");
      throw scheduler.error ?? err;
    }
    writer.drainQueue();
  }
}
