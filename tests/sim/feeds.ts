// The simulation's change feeds. Every process of the store has a recorder:
// a feed opened right after open() (from the next write) and consumed for
// the process's whole life. Its changes are matched to the model's writes
// (tests/sim/model.ts), which gives every applied write its sequences — the
// order the model checks crashes against — and checks the feed:
//
// - sequences strictly increase; a gap only where writes were stamped and
//   never applied (a group the log refused, before a resume());
// - each write appears whole (its entries at consecutive sequences, keys and
//   values as written), once; puts, deletes and plain batches in call order;
//   a batch's or a transaction's result names the sequence the feed shows;
// - nothing appears that was never written, nor a write the model knows was
//   never stamped (a conflicted transaction, a failed check, a body that threw);
// - every acknowledged write appears (checked at every quiet moment);
// - the feed ends with CLOSED when its process closes or crashes.
//
// What the feed promises, as the simulation checks it: it reports a write
// once it is applied (visible to reads). For a write that is not buffered
// that is when it is in the OS, and so before it is acknowledged: a crash of
// the process keeps every write its feed reported, a crash of the machine
// may drop those not yet durable (as it may drop acknowledged ones). With
// bufferWrites, a reported write is only as safe as an acknowledged one.
//
// Probes are more feeds, opened now and then at a sequence of the model's
// choosing (older than the process, in its past, the next write, or ahead)
// and stopped, aborted or left running: each must give exactly the
// recorder's changes from its sequence on, and end only with OUT_OF_RANGE
// (at once, before any change, and only when what it asked for is gone:
// older than the process, or after a flush), CLOSED (its process ended) or
// ABORTED (its signal).

import { type Change, type Db, SiltError } from "../../mod.ts";
import type { History, Mismatch, Value, Write } from "./model.ts";

type Feed = Change<string, string>;

const text = (b: Uint8Array | undefined) => b === undefined ? "(no end)" : new TextDecoder().decode(b);
const describe = (c: Feed) =>
  c.type === "deleteRange"
    ? `${c.sequence} deleteRange ${text(c.start)}..${text(c.end)}`
    : `${c.sequence} ${c.type} ${c.key}=${c.value}`;
/** The label the harness gives a range delete of [lo, hi) (the feed's change names its range). */
export const rangeLabel = (lo: string, hi: string) => `deleteRange ${lo}..${hi}`;

/** Consumes a feed in the background; `until(s)` waits for it to pass sequence s. */
class Consumer {
  readonly since: number;
  readonly changes: Feed[] = [];
  /** How the feed ended, if it did (undefined: still running, or stopped by us). */
  error: unknown;
  ended = false;
  /** Whether its database was still open when the feed ended. */
  openAtEnd = false;
  readonly #db: Db<string, string>;
  readonly #iterator: AsyncGenerator<Feed>;
  #waiters: { sequence: number; resolve: () => void }[] = [];

  constructor(db: Db<string, string>, since: number | undefined, signal?: AbortSignal) {
    this.#db = db;
    this.since = since ?? db.sequence + 1;
    this.#iterator = db.changes({ ...(since !== undefined ? { since } : {}), ...(signal ? { signal } : {}) });
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      for await (const c of this.#iterator) {
        this.changes.push(c);
        this.#wake();
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.ended = true;
      this.openAtEnd = this.#db.status === "open";
      this.#wake();
    }
  }

  get last(): number {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1].sequence : this.since - 1;
  }

  /** Resolves once the feed reported sequence `s` (or anything after it), or ended. */
  until(s: number): Promise<void> {
    if (this.ended || this.last >= s) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ sequence: s, resolve }));
  }

  #wake(): void {
    const last = this.last;
    this.#waiters = this.#waiters.filter((w) => {
      if (!this.ended && w.sequence > last) return true;
      w.resolve();
      return false;
    });
  }

  /** Ends the feed as a consumer breaking out of it would. */
  stop(): void {
    void this.#iterator.return(undefined);
  }

  code(): string | undefined {
    return this.error instanceof SiltError
      ? this.error.code
      : this.error === undefined
      ? undefined
      : String(this.error);
  }
}

/** The recorder of one process: matches its feed to the model. */
export class Recorder extends Consumer {
  #history: History;
  #matched = 0;
  #last: number;
  #nextOrdered = 0;
  /** Sequences that may be missing: stamped by writes never applied, before a resume(). */
  #gapAllowance = 0;
  /** Changes matched, for the report. */
  reported = 0;

  constructor(db: Db<string, string>, history: History) {
    super(db, undefined);
    this.#history = history;
    this.#last = this.since - 1;
  }

  /** The model went on to a new history (after resume()): writes of the old one never applied may leave gaps. */
  rebase(history: History): void {
    for (const w of this.#history.layout().pending) this.#gapAllowance += w.entries ?? w.changes.length;
    this.#history = history;
    this.#nextOrdered = 0;
  }

  /** Matches the changes reported up to sequence `upTo` to the model's writes. */
  match(upTo: number): Mismatch {
    const h = this.#history;
    const changes = this.changes;
    while (this.#matched < changes.length && changes[this.#matched].sequence <= upTo) {
      const c = changes[this.#matched];
      if (c.sequence <= this.#last) {
        return `the feed reports sequence ${c.sequence} after ${this.#last}: ${describe(c)}`;
      }
      const gap = c.sequence - this.#last - 1;
      if (gap > this.#gapAllowance) {
        return `the feed skips sequences ${this.#last + 1} to ${
          c.sequence - 1
        } (${gap}; writes never applied: ${this.#gapAllowance})`;
      }
      this.#gapAllowance -= gap;
      const range = c.type === "deleteRange" ? rangeLabel(text(c.start), text(c.end)) : undefined;
      const w = c.type === "put"
        ? h.byValue(c.value!)
        : range !== undefined
        ? this.#nextUnreported((o) => o.label === range)
        : this.#nextOrderedDelete(c.key ?? "");
      if (w === undefined) return `the feed reports a write never made: ${describe(c)}`;
      if (w.status === "refused") {
        return `the feed reports #${w.index} (${w.label}), which the store refused or which conflicted: ${describe(c)}`;
      }
      if (w.never !== undefined) return `the feed reports #${w.index} (${w.label}), ${w.never}: ${describe(c)}`;
      if (w.sequence !== undefined) return `the feed reports #${w.index} (${w.label}) twice: ${describe(c)}`;
      // A range delete is one change (its label names the range), whatever the keys it deletes.
      const run = changes.slice(this.#matched, this.#matched + (w.entries ?? w.changes.length));
      const m = range !== undefined ? undefined : this.#compare(w, run, upTo);
      if (m !== undefined) return m;
      if (w.ordered) {
        // Ordered writes are stamped in call order: one the feed passed over was never stamped.
        for (let i = this.#nextOrdered; i < w.index; i++) {
          const o = h.writes[i];
          if (!o.ordered || o.sequence !== undefined || o.status === "refused" || o.never !== undefined) continue;
          if (o.status !== "inFlight") {
            return `the feed reports #${w.index} (${w.label}) at ${c.sequence} but never #${o.index} (${o.label}, ${o.status}), issued before it`;
          }
          o.never = `passed over by the feed (#${w.index} was applied first)`;
        }
        this.#nextOrdered = w.index + 1;
      }
      const versions = new Map<string, number>();
      if (range !== undefined) { for (const [k] of w.changes) versions.set(k, c.sequence); }
      else run.forEach((r) => versions.set(r.key ?? "", r.sequence));
      h.assign(w, c.sequence, versions);
      this.#matched += run.length;
      this.#last = c.sequence + run.length - 1;
      this.reported += run.length;
    }
    return undefined;
  }

  /** A delete comes from the next ordered write not yet reported (transactions and checked batches put first). */
  #nextOrderedDelete(key: string): Write | undefined {
    return this.#nextUnreported((w) => w.changes[0]?.[0] === key && w.changes[0][1] === null);
  }

  /** The next ordered write not yet reported, if it is what `fits` wants. */
  #nextUnreported(fits: (w: Write) => boolean): Write | undefined {
    const h = this.#history;
    for (let i = this.#nextOrdered; i < h.writes.length; i++) {
      const w = h.writes[i];
      if (!w.ordered || w.sequence !== undefined || w.status === "refused" || w.never !== undefined) continue;
      return fits(w) ? w : undefined;
    }
    return undefined;
  }

  #compare(w: Write, run: Feed[], upTo: number): Mismatch {
    const name = `#${w.index} (${w.label})`;
    if (run.length < w.changes.length) {
      return `the feed reports only ${run.length} of the ${w.changes.length} entries of ${name} by sequence ${upTo}`;
    }
    const first = run[0].sequence;
    if (run.some((r, i) => r.sequence !== first + i)) {
      return `the entries of ${name} are not at consecutive sequences: ${run.map(describe).join(", ")}`;
    }
    const as = (k: string, v: Value) => `${k}=${v}`;
    const got = run.map((r) => as(r.key ?? "", r.type === "put" ? r.value! : null));
    const want = w.changes.map(([k, v]) => as(k, v));
    // A plain batch keeps its order; a transaction's writes come in the order of its write set.
    if (!w.ordered) {
      got.sort();
      want.sort();
    }
    if (got.join("|") !== want.join("|")) {
      return `the feed reports ${name} as ${run.map(describe).join(", ")}, written as ${want.join(", ")}`;
    }
    if (run.some((r) => (r.type === "put") !== (r.value !== undefined))) return `a change of ${name} has a bad type`;
    if (w.returned !== undefined && w.returned !== first) {
      return `${name} resolved with sequence ${w.returned}, the feed reports it at ${first}`;
    }
    return undefined;
  }

  /** After close: the feed ended with CLOSED. */
  checkEnd(): Mismatch {
    if (!this.ended) return "the recorder's feed goes on after its database closed";
    if (this.code() !== "CLOSED") return `the recorder's feed ended with ${this.code() ?? "nothing"}, not CLOSED`;
    return undefined;
  }
}

/** Another feed, opened at a sequence of the simulation's choosing. */
export class Probe extends Consumer {
  readonly #controller: AbortController;
  /** The first sequence of its process (older ones were there before it opened). */
  readonly processStart: number;
  /** The visible sequence when it was opened. */
  readonly visibleAtOpen: number;
  aborted = false;
  stopped = false;

  constructor(db: Db<string, string>, since: number | undefined, processStart: number) {
    const controller = new AbortController();
    super(db, since, controller.signal);
    this.#controller = controller;
    this.processStart = processStart;
    this.visibleAtOpen = db.sequence;
  }

  abort(): void {
    this.aborted = true;
    this.#controller.abort(new Error("the simulation aborts this probe"));
  }

  stopNow(): void {
    this.stopped = true;
    this.stop();
  }

  /**
   * Checks what the probe gave against the recorder (matched to the model,
   * everything up to `upTo` reported to both), and how it ended:
   * `flushed` says whether a flush finished in the process.
   */
  check(recorder: Recorder, upTo: number, flushed: boolean): Mismatch {
    const name = `the probe from ${this.since}`;
    const want = recorder.changes.filter((c) => c.sequence >= this.since && c.sequence <= upTo);
    const got = this.changes.filter((c) => c.sequence <= upTo);
    const code = this.code();
    if (code === "OUT_OF_RANGE") {
      if (this.changes.length > 0) return `${name} failed with OUT_OF_RANGE after ${this.changes.length} changes`;
      if (this.since > this.visibleAtOpen && this.since >= this.processStart) {
        return `${name} failed with OUT_OF_RANGE, but it asked for nothing written yet (visible ${this.visibleAtOpen})`;
      }
      if (this.since >= this.processStart && !flushed) {
        return `${name} failed with OUT_OF_RANGE, but no flush retired a memtable of this process`;
      }
      return undefined;
    }
    if (this.since < this.processStart && this.since <= this.visibleAtOpen) {
      return `${name} asked for changes from before its process (${this.processStart}): ` +
        `expected OUT_OF_RANGE, got ${code ?? `${this.changes.length} changes`}`;
    }
    if (code === "ABORTED" && !this.aborted) return `${name} ended with ABORTED, never aborted`;
    if (code === "CLOSED" && this.openAtEnd) return `${name} ended with CLOSED while its database was open`;
    if (this.ended && code === undefined && !this.stopped) return `${name} ended, with no error, by itself`;
    if (code !== undefined && code !== "ABORTED" && code !== "CLOSED") return `${name} ended with ${code}`;
    const early = this.aborted || this.stopped || code !== undefined;
    const n = early ? got.length : want.length;
    for (let i = 0; i < n; i++) {
      if (got[i] === undefined || want[i] === undefined || describe(got[i]) !== describe(want[i])) {
        return `${name} gave ${got[i] ? describe(got[i]) : "nothing"} where the recorder has ${
          want[i] ? describe(want[i]) : "nothing"
        } (change ${i})`;
      }
    }
    if (got.length > want.length) return `${name} gave ${got.length} changes, the recorder ${want.length}`;
    return undefined;
  }
}
