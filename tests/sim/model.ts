// The simulation's model of what a store may hold: a baseline (the state
// last verified) and the writes made since, each with what is known of it.
//
//   acked      resolved: applied; in the OS unless bufferWrites held it back
//   inFlight   issued, not settled: may or may not be there
//   maybe      rejected by an I/O failure: its bytes may have reached the log
//              (a partial group write) or it may have been applied (a failed
//              sync); it may or may not be there, before and after a crash
//   refused    never stamped: rejected before it was applied (a background
//              error stopped writes, the database closed first), a
//              transaction attempt that conflicted, a checked batch whose
//              check failed ({ ok: false }): never there
//
// The order of the writes is the order the store stamped them, which is the
// order of their sequence numbers. Puts, deletes and plain batches are
// stamped in call order ("ordered" writes); a transaction's commit and a
// checked batch are stamped when the store gets to them, after reads the
// simulation does not see. So the order comes from the change feed (a
// recorder follows every process of the store: tests/sim/feeds.ts), which
// reports each applied write with its sequence: applied writes take their
// place by sequence, and the writes never applied (still in flight, or in a
// group the log refused) come after every applied one — a write is applied
// once its group is in the log, groups are written in order, and after a
// group fails nothing later is applied.
//
// A recovered store must equal the baseline plus the applied writes up to
// some point P, each "maybe" or "inFlight" one optional, plus (only when P
// takes every applied write) any of the writes never applied, where P takes
// at least every write a crash of that kind keeps (a sequence: lowerBound).
// After a process crash that is every applied write (applied means in the
// OS), unless bufferWrites held them back; after a machine crash, every
// durable one (an acknowledged synced write makes all before it durable, so
// do a finished flush(), compact() or close()). Nothing else may appear: no
// value never written, no deleted value back. A live store (no crash) holds
// exactly the applied writes.

/** A key's value, or null for absent. */
export type Value = string | null;

// Expiring puts (tests/sim/harness.ts): the value ends with "~exp" and its
// expiry time; it reads as absent once the store's clock reaches that time.
let expiryNow: () => number = () => -Infinity;

/** Sets the clock expiring values are judged by (the store's clock option). */
export function setExpiryClock(now: () => number): void {
  expiryNow = now;
}

/** A value that expires at `at` (put with a ttl ending then). */
export function expiringValue(value: string, at: number): string {
  return `${value}~exp${at}`;
}

/** What a value reads as now: null once it expired. */
export function visible(v: Value): Value {
  if (v === null) return null;
  const i = v.lastIndexOf("~exp");
  return i >= 0 && Number(v.slice(i + 4)) <= expiryNow() ? null : v;
}

/** One write (a put, a delete, a batch, a transaction's commit, a checked batch). */
export interface Write {
  index: number;
  changes: [string, Value][];
  sync: boolean;
  status: "inFlight" | "acked" | "maybe" | "refused";
  /** Stamped in call order (puts, deletes, plain batches); false: a transaction's commit or a checked batch. */
  ordered: boolean;
  /** What it is, for messages: "put", "batch", "transfer", "cas"... */
  label: string;
  /** The sequence of its first entry, once the change feed reported it (it was applied). */
  sequence?: number;
  /** The sequence of each key's last entry, from the feed. */
  versions?: Map<string, number>;
  /** Sequences it takes when not one per change: a range delete deletes its keys with one entry. */
  entries?: number;
  /** The first sequence the store said it got (a batch's or a transaction's result). */
  returned?: number;
  /** Why the model knows it was never stamped although not refused: issued after its process crashed, or passed over by the feed. */
  never?: string;
}

/** What a check found wrong, or undefined. */
export type Mismatch = string | undefined;

/**
 * @example
 * ```ts
 * const h = new History(new Map());
 * const w = h.issue([["a", "1"]], true);
 * h.settle(w, "acked");
 * h.assign(w, 7, new Map([["a", 7]])); // the change feed reported it
 * h.check(actual, h.lowerBound("machine", 7), "crash");
 * ```
 */
export class History {
  baseline: Map<string, string>;
  writes: Write[] = [];
  readonly buffered: boolean;
  /** Every applied write with a sequence up to this one is durable. */
  #durable = 0;
  /** The visible sequence when the process crashed: writes issued later are never there. */
  crashedAt: number | undefined;
  readonly #byValue = new Map<string, Write>();
  /** Writes take their place in call order (no change feed reports them): the bucket simulation's writers. */
  readonly #callOrder: boolean;

  constructor(baseline: Map<string, string>, buffered = false, callOrder = false) {
    this.baseline = new Map(baseline);
    this.buffered = buffered;
    this.#callOrder = callOrder;
  }

  /** Records a write as issued (ordered: stamped now, in call order). */
  issue(changes: [string, Value][], sync: boolean, ordered = true, label = "write"): Write {
    const w: Write = { index: this.writes.length, changes, sync, status: "inFlight", ordered, label };
    if (this.#callOrder) w.sequence = w.index; // its place, not the store's sequence
    if (this.crashedAt !== undefined) w.never = "issued after its process crashed";
    this.writes.push(w);
    for (const [, v] of changes) if (v !== null) this.#byValue.set(v, w);
    return w;
  }

  /** The write that put this value (every value the simulation writes is unique). */
  byValue(value: string): Write | undefined {
    return this.#byValue.get(value);
  }

  /** Records how a write settled. */
  settle(w: Write, status: "acked" | "maybe" | "refused"): void {
    w.status = status;
    this.#noteDurable(w);
  }

  /** Records the sequences the change feed reported for a write. */
  assign(w: Write, sequence: number, versions: Map<string, number>): void {
    w.sequence = sequence;
    w.versions = versions;
    this.#noteDurable(w);
  }

  #noteDurable(w: Write): void {
    if (w.sync && w.status === "acked" && w.sequence !== undefined) {
      this.markDurable(w.sequence + (w.entries ?? w.changes.length) - 1);
    }
  }

  /** Every applied write up to this sequence is durable (a sync, flush, compact or close finished). */
  markDurable(sequence: number): void {
    this.#durable = Math.max(this.#durable, sequence);
  }

  /** The process crashed with this sequence visible. */
  crash(visible: number): void {
    this.crashedAt ??= visible;
  }

  /** Writes issued so far. */
  get issued(): number {
    return this.writes.length;
  }

  /** The sequence up to which a recovered store must hold every applied write. */
  lowerBound(crash: "process" | "machine", visible: number): number {
    return crash === "process" && !this.buffered ? Math.max(this.#durable, visible) : this.#durable;
  }

  /** Writes that may be there: applied ones in sequence order, then the rest. */
  layout(): { applied: Write[]; pending: Write[] } {
    const applied = this.writes.filter((w) => w.sequence !== undefined).sort((a, b) => a.sequence! - b.sequence!);
    const pending = this.writes.filter((w) =>
      w.sequence === undefined && w.status !== "refused" && w.never === undefined
    );
    return { applied, pending };
  }

  /** Acknowledged writes the feed has not reported (every one is applied, so the feed must have). */
  unreported(): Write[] {
    return this.writes.filter((w) => w.status === "acked" && w.sequence === undefined && w.never === undefined);
  }

  /** The state with every acked write (nothing in flight or in doubt): what reads must see. */
  current(): Map<string, string> {
    const state = new Map(this.baseline);
    for (const w of this.layout().applied) {
      if (w.status !== "acked") continue;
      for (const [k, v] of w.changes) v === null ? state.delete(k) : state.set(k, v);
    }
    for (const [k, v] of state) if (visible(v) === null) state.delete(k);
    return state;
  }

  /** The version (sequence) of each key last written by an applied write of this history. */
  currentVersions(): Map<string, number> {
    const versions = new Map<string, number>();
    for (const w of this.layout().applied) for (const [k, s] of w.versions ?? []) versions.set(k, s);
    return versions;
  }

  /** The last writes, one a line, for a failure message. */
  describe(last = 30): string {
    return this.writes.slice(-last).map((w) =>
      `#${w.index} ${w.label} ${w.status}${w.sync ? " sync" : ""}${w.ordered ? "" : " (unordered)"}` +
      `${w.sequence !== undefined ? ` at ${w.sequence}` : ""}${
        w.returned !== undefined ? ` (returned ${w.returned})` : ""
      }` +
      `${w.never !== undefined ? ` never: ${w.never}` : ""}: ${w.changes.map(([k, v]) => `${k}=${v}`).join(" ")}`
    ).join("\n    ");
  }

  /** True when no write is in flight or in doubt: the exact state is known. */
  get settled(): boolean {
    return this.writes.every((w) => w.status === "acked" || w.status === "refused" || w.never !== undefined);
  }

  /**
   * Checks a store's entire contents against the history. "live": a store
   * that did not crash holds exactly the applied writes. "crash": some
   * prefix of the applied writes taking every one up to sequence `lower`,
   * doubtful ones optional, and after the last applied one the writes never
   * applied, each optional.
   */
  check(actual: Map<string, string>, lower: number, mode: "crash" | "live"): Mismatch {
    const { applied, pending } = this.layout();
    if (mode === "live") {
      const expected = new Map(this.baseline);
      for (const w of applied) for (const [k, v] of w.changes) v === null ? expected.delete(k) : expected.set(k, v);
      for (const k of new Set([...actual.keys(), ...expected.keys()])) {
        const a = actual.get(k) ?? null, e = visible(expected.get(k) ?? null);
        if (a !== e) return `key ${JSON.stringify(k)} holds ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`;
      }
      return undefined;
    }
    const unreported = pending.find((w) => w.status === "acked");
    if (unreported !== undefined && this.crashedAt === undefined) {
      return `acknowledged write #${unreported.index} (${unreported.label}) was never reported by the change feed`;
    }
    // Walk the applied writes; at each cut P (taking every write up to
    // `lower`) compare. definite: what must be there; doubt: per key,
    // values a doubtful write may have left.
    let required = applied.findIndex((w) => w.sequence! > lower);
    if (required < 0) required = applied.length;
    const definite = new Map<string, Value>(this.baseline);
    const doubt = new Map<string, Set<Value>>();
    const addDoubt = (w: Write) => {
      for (const [k, v] of new Map(w.changes)) {
        const set = doubt.get(k) ?? new Set<Value>();
        set.add(v);
        doubt.set(k, set);
      }
    };
    const matches = (): string | undefined => {
      const keys = new Set<string>([...actual.keys(), ...definite.keys(), ...doubt.keys()]);
      for (const k of keys) {
        const a = actual.get(k) ?? null;
        if (a === visible(definite.get(k) ?? null)) continue;
        if ([...doubt.get(k) ?? []].some((v) => visible(v) === a)) continue;
        return `key ${JSON.stringify(k)} holds ${JSON.stringify(a)}, expected ${
          JSON.stringify(definite.get(k) ?? null)
        }` + (doubt.has(k) ? ` or one of ${JSON.stringify([...doubt.get(k)!])}` : "");
      }
      return undefined;
    };
    let firstMismatch: string | undefined;
    for (let p = 0; p <= applied.length; p++) {
      if (p === applied.length) { for (const w of pending) addDoubt(w); // only once every applied write is there
       }
      if (p >= required) {
        const m = matches();
        if (m === undefined) return undefined;
        firstMismatch ??= `at the least allowed prefix (${required} of ${applied.length} applied writes, ` +
          `up to sequence ${lower}): ${m}`;
      }
      if (p === applied.length) break;
      const w = applied[p];
      if (w.status === "acked" || (p < required && w.status !== "maybe")) {
        for (const [k, v] of w.changes) {
          definite.set(k, v);
          doubt.delete(k);
        }
      } else addDoubt(w); // in flight or in doubt: there or not, as a whole
    }
    return firstMismatch ?? "no prefix matches";
  }
}
