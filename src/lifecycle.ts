// The life of an open database: its state ("open", "closing", "closed"),
// the one fatal error, close(), and what happens when the WebAssembly core
// traps. Every public call asks it first (checkOpen); a trap anywhere is
// turned into the fatal error here (trapped): the database closes at once
// with INTERNAL — its lock released, its files untouched from then on — and
// the process's other databases (which share the core instance) go on.
//
// The fatal error is not the background error: that one (a failed flush,
// compaction, log or manifest write) stops writes while reads go on, and
// resume() clears it; it belongs to the scheduler (src/background/scheduler.ts).

import { isTrap, SiltError } from "./errors.ts";

/** What the lifecycle does to the rest of the database. */
export interface LifecycleHooks {
  /** An orderly close: fail queued writes, write what is pending, stop background work, close the files. */
  close(): Promise<void>;
  /** After a trap: fail queued writes and stop background work, without waiting and without touching files. */
  abandon(fatal: SiltError): void;
  /** Frees memory and caches (unless the core trapped: its state is suspect) and releases the lock. */
  release(afterTrap: boolean): void;
  /** Reports the fatal error to "error" listeners. */
  reportFatal(fatal: SiltError): void;
}

/**
 * The state and the fatal error of one database.
 *
 * @example
 * ```ts
 * declare const hooks: LifecycleHooks; // the database's close, abandon, release and reportFatal
 * declare const readSomething: () => void; // a core call
 * const life = new Lifecycle("/db", hooks);
 * life.checkOpen(); // throws CLOSED once closed
 * try {
 *   readSomething();
 * } catch (err) {
 *   throw life.trapped(err, "a read"); // a trap closes the database: INTERNAL
 * }
 * await life.close();
 * ```
 */
export class Lifecycle {
  readonly #path: string;
  readonly #hooks: LifecycleHooks;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  #fatal: SiltError | undefined;

  constructor(path: string, hooks: LifecycleHooks) {
    this.#path = path;
    this.#hooks = hooks;
  }

  /** "open", "closing" (close() is under way) or "closed". */
  get state(): "open" | "closing" | "closed" {
    return this.#state;
  }

  /** Throws CLOSED (naming the fatal error, if any) unless the database is open. */
  checkOpen(): void {
    if (this.#state !== "open") throw this.#closedError();
  }

  /** err, or the INTERNAL error that replaces a trap of the core (closing the database). */
  trapped(err: unknown, during: string): unknown {
    return isTrap(err) ? this.onTrap(err, during) : err;
  }

  /** The core trapped: close the database (its files untouched from now on) and report it once. */
  onTrap(err: unknown, during: string): SiltError {
    if (this.#fatal !== undefined) return this.#fatal;
    const fatal = new SiltError(
      "INTERNAL",
      `siltdb's WebAssembly core failed during ${during} (${err instanceof Error ? err.message : String(err)}); ` +
        `${this.#path} was closed to protect its files. Reopen it to go on; please report this.`,
      {},
      err,
    );
    this.#fatal = fatal;
    if (this.#state === "closed") return fatal;
    this.#state = "closed";
    this.#hooks.abandon(fatal);
    try {
      this.#hooks.release(true);
    } catch {
      // best effort
    }
    this.#hooks.reportFatal(fatal);
    return fatal;
  }

  /** Closes the database; CLOSED if it is not open (or was closed by a trap). */
  close(): Promise<void> {
    if (this.#state !== "open") {
      return Promise.reject(
        this.#fatal ? this.#closedError() : new SiltError("CLOSED", `${this.#path} is already ${this.#state}`),
      );
    }
    this.#state = "closing";
    this.#closing = this.#close();
    return this.#closing;
  }

  /** For `await using`: close() when open, else wait for the close under way (its caller hears of a failure). */
  async dispose(): Promise<void> {
    if (this.#state === "open") return await this.close();
    await this.#closing?.catch(() => {});
  }

  async #close(): Promise<void> {
    try {
      await this.#hooks.close();
    } finally {
      this.#hooks.release(this.#fatal !== undefined);
      this.#state = "closed";
    }
  }

  #closedError(): SiltError {
    if (this.#fatal) {
      return new SiltError(
        "CLOSED",
        `${this.#path} was closed after an internal error: ${this.#fatal.message}`,
        {},
        this.#fatal,
      );
    }
    return new SiltError("CLOSED", `${this.#path} is ${this.#state === "open" ? "closed" : this.#state}`);
  }
}
