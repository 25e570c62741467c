// Admission of writes: when a write must wait, when it is slowed down, and
// when a run of writes yields to the event loop.
//
// - Stop: the active memtable is full and the flush queue is full, or L0
//   holds l0StopTrigger files. Writes wait in a queue (copies of their
//   encoded records, in call order) until the scheduler reports a change.
// - Slowdown: L0 holds l0SlowdownTrigger files or more; one write in
//   SLOWDOWN_EVERY resolves after a 1 ms timer, one in half as many for each
//   L0 file past the trigger (64, 32, 16, 8, ...), leaving the CPU to
//   compaction as the debt grows. (One in 16 from the first file held a fill of
//   200,000 1 KiB values in slowdown for half its time on a 2-core machine,
//   while the compaction worker ran on its own core either way; graded, the
//   fill ran 5-15% faster with L0 still below the stop trigger:
//   docs/benchmarks.md, "Block compression",
//   "The fill target, met".)
// - Yield: while background I/O is in flight, a write resolves after a turn
//   of the event loop once YIELD_EVERY entries were written since the last
//   turn (entries, not writes: a loop of batches of 1,000 starved flushes
//   for 128 batches, and writes then waited for them). A loop of awaited writes
//   otherwise runs on microtasks alone, and the I/O callbacks of flushes and
//   syncs would wait until it ends.
// The time writes spend waiting and slowed is the stall time; each time
// waiting writes are let through (and each slowed write), onStalled hears of
// it with the reason (the "stall" event of src/db.ts).

import type { StallReason } from "../events.ts";

/** Every this many writes, one is delayed while L0 is at the slowdown trigger (half as many per file past it). */
const SLOWDOWN_EVERY = 64;
/** Every this many entries written, a write yields to the event loop while background work runs. */
const YIELD_EVERY = 128;

/** A write waiting for room. */
export interface QueuedWrite {
  /** When it was queued (performance.now()), for the stall time. */
  since: number;
  /** Why it waited: the reason of the write ahead of it, or, first in line, why there was no room. */
  reason: StallReason;
  /** The encoded batch payload (sequence not stamped). */
  payload: Uint8Array;
  count: number;
  sync: boolean;
  /** A conditional write: committed only if this holds when its turn comes. */
  condition?: () => boolean;
  /** With the sequence of its first entry; undefined when its condition failed. */
  resolve: (sequence: number | undefined) => void;
  reject: (err: unknown) => void;
}

/** What admission looks at. */
export interface AdmissionState {
  l0Files(): number;
  /** The active memtable is full and cannot be frozen (the flush queue is full). */
  memtableBlocked(): boolean;
  /** Flushes, compactions or log syncs are in flight. */
  backgroundBusy(): boolean;
  /**
   * Called when writes that waited (ms, the longest wait) are let through,
   * and when a slowed-down write goes on. Only on those slow paths; must not throw.
   */
  onStalled?(ms: number, reason: StallReason): void;
}

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0));

/**
 * The write queue and pacing of one database.
 *
 * @example
 * ```ts
 * declare const admission: Admission, payload: Uint8Array, count: number, sync: boolean;
 * declare const commit: () => Promise<void>; // commits the encoded record
 * function write(): Promise<unknown> {
 *   if (admission.mustWait()) return admission.enqueue(payload, count, sync);
 *   return admission.pace(commit(), count);
 * }
 * ```
 */
export class Admission {
  readonly #o: { l0SlowdownTrigger: number; l0StopTrigger: number };
  readonly #state: AdmissionState;
  #queue: QueuedWrite[] = [];
  #sinceSlowdown = 0;
  #sinceYield = 0;
  /** Milliseconds writes waited for room or were slowed down. */
  stallMs = 0;
  /** Writes delayed by the slowdown. */
  slowdowns = 0;

  constructor(o: { l0SlowdownTrigger: number; l0StopTrigger: number }, state: AdmissionState) {
    this.#o = o;
    this.#state = state;
  }

  /** True when a new write must wait: writes are queued, or there is no room. */
  mustWait(): boolean {
    return this.#queue.length > 0 || this.#noRoom();
  }

  /** Queues a write until there is room. */
  enqueue(payload: Uint8Array, count: number, sync: boolean, condition?: () => boolean): Promise<number | undefined> {
    const reason: StallReason = this.#queue.length > 0
      ? this.#queue[this.#queue.length - 1].reason
      : this.#state.memtableBlocked()
      ? "memtable"
      : "l0-stop";
    return new Promise((resolve, reject) =>
      this.#queue.push({ since: performance.now(), reason, payload, count, sync, condition, resolve, reject })
    );
  }

  /** Hands queued writes, in order, to `commit` while there is room (or fails them all). */
  drain(commit: (w: QueuedWrite) => Promise<number | undefined>, failure: unknown): void {
    if (failure !== undefined) {
      for (const w of this.#queue.splice(0)) w.reject(failure);
      return;
    }
    let stalled = 0; // the longest wait among the writes admitted now: they waited together
    let reason: StallReason | undefined; // that of the first admitted (the one that waited longest)
    while (this.#queue.length > 0 && !this.#noRoom()) {
      const w = this.#queue.shift()!;
      stalled = Math.max(stalled, performance.now() - w.since);
      reason ??= w.reason;
      try {
        commit(w).then(w.resolve, w.reject);
      } catch (err) {
        w.reject(err);
      }
    }
    this.stallMs += stalled;
    if (reason !== undefined) this.#state.onStalled?.(stalled, reason);
  }

  /** Fails every queued write (at close). */
  rejectAll(err: unknown): void {
    for (const w of this.#queue.splice(0)) w.reject(err);
  }

  /** The promise a committed write returns: as is, slowed down, or after a yield. */
  pace(done: Promise<void>, entries = 1): Promise<void> {
    const over = this.#state.l0Files() - this.#o.l0SlowdownTrigger;
    if (over >= 0 && ++this.#sinceSlowdown >= SLOWDOWN_EVERY / 2 ** over) {
      this.#sinceSlowdown = 0;
      this.slowdowns++;
      return done.then(() => {
        const started = performance.now();
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            const ms = performance.now() - started;
            this.stallMs += ms;
            resolve();
            this.#state.onStalled?.(ms, "l0-slowdown");
          }, 1)
        );
      });
    }
    this.#sinceYield += entries;
    if (this.#sinceYield >= YIELD_EVERY && this.#state.backgroundBusy()) {
      this.#sinceYield = 0;
      return done.then(yieldToEventLoop);
    }
    return done;
  }

  #noRoom(): boolean {
    return this.#state.memtableBlocked() || this.#state.l0Files() >= this.#o.l0StopTrigger;
  }
}
