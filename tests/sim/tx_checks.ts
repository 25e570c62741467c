// The checks of the simulation's transactional workload (tests/sim/tx_workload.ts):
// the invariants of its keys, in a state of the store and along the
// applied writes in sequence order; what a crash may leave of the
// counters; and, once the change feed has placed the writes, that every
// applied transaction and checked batch was valid, that every conflict and
// failed check was justified, and that getEntry's versions are the feed's.

import type { History, Mismatch, Write } from "./model.ts";

/** The number a value of the workload starts with ("37:tag"); 0 for absent. */
export const parse = (v: string | undefined): number => v === undefined ? 0 : Number(v.slice(0, v.indexOf(":")));

/** The keys of the workload the checks know. */
export interface TxKeys {
  readonly accounts: readonly string[];
  readonly counters: readonly string[];
  readonly uniques: readonly string[];
  readonly slotLimit: number;
  /** What the accounts hold together. */
  readonly total: number;
}

/** A doubt to settle once the feed has placed the writes: was this conflict (or failed check) justified? */
export interface Justification {
  what: string;
  history: History;
  self: Write | undefined;
  keys: Set<string>;
  prefixes: string[];
  after: number;
  issuedBefore: number;
  /** A check for absence with nothing read first: a value the key had before this history justifies it too. */
  orBaseline?: boolean;
  /** A check for absence: only a write that left a value (not a delete) can have failed it. */
  absent?: boolean;
}

/** A write committed on what it read: no other write of `keys`/`prefixes` after `after` may come before it. */
export interface Commit {
  what: string;
  history: History;
  w: Write;
  keys: Set<string>;
  prefixes: string[];
  after: number;
  /** A check for absence: only a value left after `after` (not a delete) had to fail it. */
  absent?: boolean;
}

/** A getEntry to compare with the feed: the version is the sequence of the write that left the value. */
export interface EntryRead {
  history: History;
  key: string;
  value: string | undefined;
  version: number | undefined;
}

/**
 * What the workload recorded to check, and the checks.
 *
 * @example
 * ```ts
 * const checks = new TxChecks(workload);
 * checks.verify(history) ?? checks.replay(history); // undefined: nothing wrong
 * ```
 */
export class TxChecks {
  justifications: Justification[] = [];
  entryReads: EntryRead[] = [];
  commits: Commit[] = [];
  /** Set by a body that saw what must not be: the next verify returns it. */
  violation: string | undefined;
  readonly #keys: TxKeys;

  constructor(keys: TxKeys) {
    this.#keys = keys;
  }

  /**
   * Once the feed placed the writes of `h` (every one issued so far applied
   * or never to be): conflicts and failed checks justified, getEntry
   * versions right, and no transaction saw what must not be.
   */
  verify(h: History): Mismatch {
    if (this.violation !== undefined) return this.violation;
    for (const j of this.justifications) {
      if (j.history !== h) continue;
      const touches = (k: string) => j.keys.has(k) || j.prefixes.some((p) => k.startsWith(p));
      const justified = (j.orBaseline && [...j.keys].some((k) => h.baseline.has(k))) ||
        h.writes.slice(0, j.issuedBefore).some((o) =>
          // (A write issued after its process crashed is never in the store, but was perhaps stamped.)
          o !== j.self && o.status !== "refused" && !o.never?.startsWith("passed over") &&
          [...new Map(o.changes)].some(([k, v]) => touches(k) && (!j.absent || v !== null)) &&
          (o.sequence === undefined || [...o.versions!].some(([k, s]) => touches(k) && s > j.after))
        );
      if (!justified) {
        return `${j.what}: no other write of ${[...j.keys, ...j.prefixes.map((p) => p + "*")].join(", ")} ` +
          `was stamped after sequence ${j.after}`;
      }
    }
    this.justifications = this.justifications.filter((j) => j.history !== h);
    for (const r of this.entryReads) {
      if (r.history !== h || r.version === undefined) continue;
      const w = h.writes.find((o) => o.versions?.get(r.key) === r.version);
      if (w === undefined) continue; // written before this history
      const value = new Map(w.changes).get(r.key) ?? undefined;
      if (value !== (r.value ?? null) && !(value === null && r.value === undefined)) {
        return `getEntry(${r.key}) gave ${r.value} at version ${r.version}, which wrote ${value}`;
      }
    }
    this.entryReads = this.entryReads.filter((r) => r.history !== h);
    for (const c of this.commits) {
      if (c.history !== h || c.w.sequence === undefined) continue;
      const at = c.w.sequence;
      const touches = (k: string) => c.keys.has(k) || c.prefixes.some((p) => k.startsWith(p));
      const before = h.writes.filter((o) =>
        o !== c.w && o.versions !== undefined && [...o.versions].some(([k, s]) => touches(k) && s > c.after && s < at)
      );
      // For a check for absence, only the last of them counts, and only if it left a value.
      const last = before.sort((a, b) => a.sequence! - b.sequence!).at(-1);
      const between = c.absent ? (last && new Map(last.changes).get([...c.keys][0]) !== null ? last : undefined) : last;
      if (between !== undefined) {
        return `${c.what} committed at ${at} over #${between.index} (${between.label}) at ${between.sequence}, ` +
          `which wrote what it depended on after ${c.after}`;
      }
      if (c.after === 0 && c.w.label === "cas-insert" && h.baseline.has([...c.keys][0])) {
        return `${c.what} committed at ${at}, but the key had a value before`;
      }
    }
    this.commits = this.commits.filter((c) => c.history !== h || c.w.sequence === undefined);
    return undefined;
  }

  /** A new history (after a crash, a reopen or a resume): doubts about the old one can no longer be settled. */
  forget(h: History): void {
    this.justifications = this.justifications.filter((j) => j.history !== h);
    this.entryReads = this.entryReads.filter((r) => r.history !== h);
    this.commits = this.commits.filter((c) => c.history !== h);
  }

  /** The invariants of one state of the store (what it holds, or a state the model reached). */
  invariants(state: Map<string, string>): Mismatch {
    const balances = this.#keys.accounts.map((k) => state.get(k));
    if (balances.some((v) => v === undefined)) return `an account is missing: ${JSON.stringify(balances)}`;
    const sum = balances.reduce((s, v) => s + parse(v), 0);
    if (sum !== this.#keys.total || balances.some((v) => parse(v) < 0)) {
      return `the accounts hold ${sum}, not ${this.#keys.total}: ${JSON.stringify(balances)}`;
    }
    if (state.get("duty/a")?.startsWith("off") && state.get("duty/b")?.startsWith("off")) {
      return "both duty/a and duty/b are off duty (write skew)";
    }
    const slots = [...state.keys()].filter((k) => k.startsWith("slot/")).length;
    if (slots > this.#keys.slotLimit) return `${slots} slots, more than ${this.#keys.slotLimit} (a phantom)`;
    return undefined;
  }

  /**
   * The applied writes of h in sequence order, replayed from its baseline:
   * each increment wrote one more than the value before it, each insert
   * found its key absent, and every state along the way keeps the invariants.
   */
  replay(h: History): Mismatch {
    const state = new Map(h.baseline);
    for (const w of h.layout().applied) {
      for (const [k, v] of w.changes) {
        if (v === null) continue;
        if (k.startsWith("ctr/") && parse(v) !== parse(state.get(k)) + 1) {
          return `#${w.index} (${w.label}) at ${w.sequence} sets ${k} to ${parse(v)} after ${
            parse(state.get(k))
          } (a lost update)`;
        }
        if (k.startsWith("uniq/") && state.has(k)) {
          return `#${w.index} (${w.label}) at ${w.sequence} overwrites the unique ${k}=${state.get(k)} with ${v}`;
        }
      }
      for (const [k, v] of w.changes) v === null ? state.delete(k) : state.set(k, v);
      const m = this.invariants(state);
      if (m !== undefined) return `after #${w.index} (${w.label}) at ${w.sequence}: ${m}`;
    }
    return undefined;
  }

  /**
   * After a crash: each counter holds at least its increments that had to
   * survive and at most every increment that may have; each unique key, if
   * it was set before, still holds that value.
   */
  afterCrash(h: History, actual: Map<string, string>, lower: number): Mismatch {
    for (const k of this.#keys.counters) {
      const base = parse(h.baseline.get(k));
      const incs = h.writes.filter((w) =>
        w.changes.some(([c]) => c === k) && w.status !== "refused" && w.never === undefined
      );
      const must = incs.filter((w) => w.status === "acked" && w.sequence !== undefined && w.sequence <= lower).length;
      const got = parse(actual.get(k));
      if (got < base + must || got > base + incs.length) {
        return `${k} is ${got}: from ${base}, ${must} increments had to survive and ${incs.length} could`;
      }
    }
    for (const k of this.#keys.uniques) {
      if (h.baseline.has(k) && actual.get(k) !== h.baseline.get(k)) {
        return `the unique ${k} was ${h.baseline.get(k)}, now ${actual.get(k)}`;
      }
    }
    return this.invariants(actual);
  }

  /**
   * A live store: each counter is its baseline plus its applied increments
   * (once everything settled with no failure: its acknowledged ones).
   */
  exact(h: History, actual: Map<string, string>): Mismatch {
    for (const k of this.#keys.counters) {
      const applied = h.writes.filter((w) => w.sequence !== undefined && w.changes.some(([c]) => c === k)).length;
      const want = parse(h.baseline.get(k)) + applied;
      if (parse(actual.get(k)) !== want) {
        return `${k} is ${parse(actual.get(k))}, expected ${want} (${applied} increments applied)`;
      }
    }
    return this.invariants(actual);
  }
}
