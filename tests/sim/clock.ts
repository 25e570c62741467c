// The simulation's virtual clock: time moves only when every process is
// waiting. Sleeps (request latencies, retry backoffs, a process idling) are
// timers on this clock; run(p) lets the simulated processes go until p
// settles, each time firing the earliest timer once the microtasks are
// drained (one setImmediate round: the engine's own yields are
// setImmediate too, so their order is fixed), and moving the clock to it.
// No computation takes virtual time; nothing depends on the real clock, so
// a seed replays exactly.
//
// install() puts the clock under the engine's own timers too (setTimeout,
// setInterval and their clear functions, for the time a seed runs): a
// writer's look at the manifest every refreshInterval, a compactor's
// pollInterval, a write slowed down by L0 — all move with the virtual time.

/** A timer of the virtual clock. */
interface Timer {
  at: number;
  order: number;
  fire: () => void;
}

/** What setTimeout and setInterval return while the clock is installed (ref/unref do nothing: the clock decides). */
export class VirtualTimer {
  readonly #cancel: () => void;
  constructor(cancel: () => void) {
    this.#cancel = cancel;
  }
  cancel(): void {
    this.#cancel();
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return false;
  }
}

type TimerFunctions = Pick<typeof globalThis, "setTimeout" | "clearTimeout" | "setInterval" | "clearInterval">;

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
  sleep = (ms: number): Promise<void> => new Promise((resolve) => void this.#add(ms, resolve));

  #add(ms: number, fire: () => void): Timer {
    const timer = { at: this.now + Math.max(0, Number(ms) || 0), order: this.#order++, fire };
    // Kept sorted by (at, order); new timers mostly go near the end.
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1].at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer;
  }

  #remove(timer: Timer): void {
    const i = this.#timers.indexOf(timer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** A timer calling fn after ms of virtual time (and every ms after, with `repeat`). */
  timer(fn: () => void, ms: number, repeat: boolean): VirtualTimer {
    let cancelled = false;
    let current: Timer;
    const fire = () => {
      if (cancelled) return;
      if (repeat) current = this.#add(Math.max(1, Number(ms) || 0), fire);
      fn();
    };
    current = this.#add(repeat ? Math.max(1, Number(ms) || 0) : ms, fire);
    return new VirtualTimer(() => {
      cancelled = true;
      this.#remove(current);
    });
  }

  /**
   * Puts setTimeout, setInterval, clearTimeout and clearInterval on this
   * clock; returns what puts the real ones back. Handles of real timers
   * made before are still cleared by the real functions.
   */
  install(): () => void {
    const g = globalThis as unknown as Record<keyof TimerFunctions, unknown>;
    const real: TimerFunctions = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      setInterval: globalThis.setInterval,
      clearInterval: globalThis.clearInterval,
    };
    const make = (repeat: boolean) => (fn: unknown, ms?: number, ...args: unknown[]) =>
      this.timer(() => (fn as (...a: unknown[]) => void)(...args), ms ?? 0, repeat);
    const clear = (realClear: (h: never) => void) => (h: unknown) => {
      if (h instanceof VirtualTimer) h.cancel();
      else if (h !== undefined && h !== null) realClear(h as never);
    };
    g.setTimeout = make(false);
    g.setInterval = make(true);
    g.clearTimeout = clear(real.clearTimeout);
    g.clearInterval = clear(real.clearInterval);
    return () => Object.assign(globalThis, real);
  }

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
