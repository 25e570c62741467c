// The simulation's virtual clock: time moves only when every process is
// waiting. Sleeps (request latencies, retry backoffs, a process idling) are
// timers on this clock; run(p) lets the simulated processes go until p
// settles, each time firing the earliest timer once the microtasks are
// drained (one setImmediate round: the engine's own yields are
// setImmediate too, so their order is fixed), and moving the clock to it.
// No computation takes virtual time; nothing depends on the real clock, so
// a seed replays exactly.

/** A timer of the virtual clock. */
interface Timer {
  at: number;
  order: number;
  fire: () => void;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Thrown when a simulated operation never finishes. */
export class Hang extends Error {}

/**
 * The virtual clock of one seed.
 *
 * @example
 * ```ts
 * const clock = new Clock(1_000_000);
 * const p = clock.sleep(50).then(() => clock.now); // 1_000_050
 * await clock.run(p);
 * ```
 */
export class Clock {
  now: number;
  #timers: Timer[] = [];
  #order = 0;
  /** Timers fired so far. */
  fired = 0;

  constructor(start: number) {
    this.now = start;
  }

  /** Resolves after ms of virtual time. */
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = { at: this.now + Math.max(0, ms), order: this.#order++, fire: resolve };
      // Kept sorted by (at, order); new timers mostly go near the end.
      let i = this.#timers.length;
      while (i > 0 && this.#timers[i - 1].at > timer.at) i--;
      this.#timers.splice(i, 0, timer);
    });

  /** The clock's reading (for the store's lastModified and the collectors). */
  read = (): number => this.now;

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Lets every simulated process run until `p` settles (or `stop()` says
   * to stop waiting: its process died); resolves with p's outcome. A Hang
   * when nothing is left to happen, or after `limitMs` of virtual time.
   */
  async run<T>(p: Promise<T>, stop: () => boolean = () => false, limitMs = 3_600_000): Promise<
    { ok: true; value: T } | { ok: false; error: unknown } | { stopped: true }
  > {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    p.then((value) => outcome = { ok: true, value }, (error) => outcome = { ok: false, error });
    const deadline = this.now + limitMs;
    let idleRounds = 0;
    for (;;) {
      await macrotask();
      if (outcome !== undefined) return outcome;
      if (stop()) return { stopped: true };
      const next = this.#timers.shift();
      if (next === undefined) {
        // Nothing on the clock: the engine may still be between macrotasks of its own.
        if (++idleRounds > 50) throw new Hang("nothing is left to happen, and the operation has not finished");
        continue;
      }
      idleRounds = 0;
      if (next.at > deadline) {
        this.#timers.unshift(next);
        throw new Hang(`the operation takes more than ${limitMs / 1000} s of virtual time`);
      }
      this.now = Math.max(this.now, next.at);
      this.fired++;
      next.fire();
    }
  }
}
