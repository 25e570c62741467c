// The simulation's model of what a store may hold: a baseline (the state
// last verified) and the writes made since, in commit order, each with what
// is known of it.
//
//   acked      resolved: applied; in the OS unless bufferWrites held it back
//   inFlight   issued, not settled: may or may not be there
//   maybe      rejected by an I/O failure: its bytes may have reached the log
//              (a partial group write) or it may have been applied (a failed
//              sync); it may or may not be there, before and after a crash
//   refused    rejected before it was applied (a background error stopped
//              writes, or the database closed first): never there
//
// A recovered store must equal the baseline plus the writes up to some
// point P of the history, each "maybe" or "inFlight" one optional, where P
// is at least the lower bound the kind of crash allows: after a process
// crash, every write the OS had; after a machine crash, every durable one
// (a synced write makes all before it durable, so do a finished flush(),
// compact() or close()). Nothing else may appear: no value never written,
// no deleted value back, no batch in part.

/** A key's value, or null for absent. */
export type Value = string | null;

/** One write (a put, a delete, or a batch of them) in commit order. */
export interface Write {
  index: number;
  changes: [string, Value][];
  sync: boolean;
  status: "inFlight" | "acked" | "maybe" | "refused";
}

/** What a check found wrong, or undefined. */
export type Mismatch = string | undefined;

/**
 * @example
 * ```ts
 * const h = new History(new Map());
 * const w = h.issue([["a", "1"]], true);
 * h.settle(w, "acked");
 * h.check(actual, h.lowerBound("machine"));
 * ```
 */
export class History {
  baseline: Map<string, string>;
  writes: Write[] = [];
  /** Index (exclusive) below which every write is durable. */
  #durable = 0;
  /** Index (exclusive) below which every write is in the OS (what a process crash keeps). */
  #inOs = 0;
  readonly #buffered: boolean;

  constructor(baseline: Map<string, string>, buffered = false) {
    this.baseline = new Map(baseline);
    this.#buffered = buffered;
  }

  /** Records a write as issued (in call order: the order the store commits it). */
  issue(changes: [string, Value][], sync: boolean): Write {
    const w: Write = { index: this.writes.length, changes, sync, status: "inFlight" };
    this.writes.push(w);
    return w;
  }

  /** Records how a write settled. */
  settle(w: Write, status: "acked" | "maybe" | "refused"): void {
    w.status = status;
    if (status !== "acked") return;
    if (w.sync) this.markDurable(w.index + 1);
    else if (!this.#buffered) this.#inOs = Math.max(this.#inOs, w.index + 1);
  }

  /** Every acked write issued before `end` is durable (a sync, flush, compact or close finished). */
  markDurable(end: number): void {
    this.#durable = Math.max(this.#durable, end);
    this.#inOs = Math.max(this.#inOs, end);
  }

  /** Writes issued so far (an index for markDurable). */
  get issued(): number {
    return this.writes.length;
  }

  /** The least prefix a recovered store must hold: after a process crash, or a machine crash. */
  lowerBound(crash: "process" | "machine"): number {
    return crash === "process" ? this.#inOs : this.#durable;
  }

  /** The state with every acked write (no write in flight or in doubt): what reads must see. */
  current(): Map<string, string> {
    const state = new Map(this.baseline);
    for (const w of this.writes) {
      if (w.status !== "acked") continue;
      for (const [k, v] of w.changes) v === null ? state.delete(k) : state.set(k, v);
    }
    return state;
  }

  /** True when no write is in flight or in doubt: the exact state is known. */
  get settled(): boolean {
    return this.writes.every((w) => w.status === "acked" || w.status === "refused");
  }

  /**
   * Checks a recovered (or resumed) store's entire contents against the
   * history: some prefix of at least `lower` writes, doubtful ones optional.
   */
  check(actual: Map<string, string>, lower: number): Mismatch {
    // Walk the history; at each cut P >= lower compare. definite: the state
    // of acked writes; doubt: per key, values a doubtful write may have left.
    const definite = new Map<string, Value>(this.baseline);
    const doubt = new Map<string, Set<Value>>();
    let firstMismatch: string | undefined;
    const matches = (): string | undefined => {
      const keys = new Set<string>([...actual.keys(), ...definite.keys(), ...doubt.keys()]);
      for (const k of keys) {
        const a = actual.get(k) ?? null;
        if (a === (definite.get(k) ?? null)) continue;
        if (doubt.get(k)?.has(a)) continue;
        return `key ${JSON.stringify(k)} holds ${JSON.stringify(a)}, expected ${
          JSON.stringify(definite.get(k) ?? null)
        }` +
          (doubt.has(k) ? ` or one of ${JSON.stringify([...doubt.get(k)!])}` : "");
      }
      return undefined;
    };
    for (let p = 0; p <= this.writes.length; p++) {
      if (p >= lower) {
        const m = matches();
        if (m === undefined) return undefined;
        firstMismatch ??= `at the least allowed prefix (${lower} of ${this.writes.length} writes): ${m}`;
      }
      if (p === this.writes.length) break;
      const w = this.writes[p];
      if (w.status === "refused") continue;
      if (w.status === "acked" || (p < lower && w.status !== "maybe")) {
        for (const [k, v] of w.changes) {
          definite.set(k, v);
          doubt.delete(k);
        }
      } else {
        // In flight or in doubt: this write may be there or not, as a whole.
        for (const [k, v] of new Map(w.changes)) {
          const set = doubt.get(k) ?? new Set<Value>();
          set.add(v);
          doubt.set(k, set);
        }
      }
    }
    return firstMismatch ?? "no prefix matches";
  }
}
