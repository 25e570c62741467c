// When a read takes the compaction worker's replies itself
// (Scheduler.catchUp; docs/architecture.md "Catching up without the event
// loop"): once one has waited CATCH_UP_MS for the event loop. Reads look
// for replies once per CATCH_UP_EVERY.

/** How long (ms) a worker's reply waits for the event loop before a read takes it. */
const CATCH_UP_MS = 5;
/** Reads look for waiting replies once per this many. */
const CATCH_UP_EVERY = 32;

/**
 * The clock of Scheduler.catchUp.
 *
 * @example
 * ```ts
 * const clock = new CatchUpClock();
 * const replyWaiting = true; // the executor's
 * if (clock.look() && replyWaiting && clock.due()) { // on each read
 *   // take the replies, then:
 *   clock.reset();
 * }
 * ```
 */
export class CatchUpClock {
  #seen: number | undefined;
  #countdown = 0;

  /** Called by every read: true once per CATCH_UP_EVERY reads, when the read should look for waiting replies. */
  look(): boolean {
    if (--this.#countdown > 0) return false;
    this.#countdown = CATCH_UP_EVERY;
    return true;
  }

  /** Called by a read that found a reply waiting: true once the reply has waited CATCH_UP_MS. */
  due(): boolean {
    const now = performance.now();
    this.#seen ??= now;
    return now - this.#seen >= CATCH_UP_MS;
  }

  /** The replies that waited were taken (by a read or by the event loop). */
  reset(): void {
    this.#seen = undefined;
  }
}
