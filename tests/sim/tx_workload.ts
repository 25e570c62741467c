// The simulation's transactional workload: transactions and conditional
// batches over keys of their own (plain writes never touch them), each kind
// with an invariant that a lost update, a write skew, a phantom, a batch in
// part or a write that should have been refused would break:
//
//   acct/i    transfers between accounts (either isolation): the total is conserved
//   ctr/i     increments (read-modify-write: transactions, or getEntry and a
//             checked batch): each writes the value it read plus one
//   uniq/i    unique inserts (a transaction, or a batch checked for absence):
//             once one is applied, no other
//   slot/*    inserts bounded by a count of the range (serializable): at most LIMIT
//   duty/a,b  going off duty only while both are on (serializable): never both off
//   audit     read-only transactions: their snapshot shows the total
//   reg/i     registers, which plain writes set too: a transaction or a
//             checked batch sets one from what it read, racing them
//
// And for every transaction or checked batch the feed reports applied: no
// other write of what it depended on (the keys it wrote, and with
// serializable isolation the keys and ranges it read; for a checked batch,
// its key) was applied between the version it read and its own.
//
// Transactions run with either isolation (those whose invariant needs it,
// serializable), synced or not, async bodies (with pauses between reads, so
// they interleave with writes and each other; some commit themselves) or
// synchronous ones (transactionSync), with few retries, some bodies throwing
// and some aborted: nothing of those may be written.
//
// The model (tests/sim/model.ts) gets each attempt's writes when its body
// ends, as a write whose moment the store picks (the change feed places
// it): acknowledged when the transaction resolves, refused when the attempt
// conflicted, aborted or threw. What the checks need (tests/sim/tx_checks.ts)
// is recorded as it goes: what each attempt and checked batch read and
// wrote, each conflict and failed check (it must be justified: some other
// write of a key it depended on was stamped after what it read), and each
// getEntry.

import { type Db, SiltError, type Transaction } from "../../mod.ts";
import type { History, Value, Write } from "./model.ts";
import { parse, TxChecks } from "./tx_checks.ts";

/** What the workload needs from the simulation. */
export interface TxHost {
  db(): Db<string, string>;
  /** The registers: keys plain writes set too. */
  registers: readonly string[];
  history(): History;
  random(): number;
  tag(): string;
  step(what: string): void;
  /** Records a rejection: "maybe" or "refused" by the error; an I/O error also starts a recovery. */
  rejected(h: History, w: Write | undefined, err: unknown): void;
}

/** Counts for the report. */
export interface TxCounts {
  txCommitted: number;
  txConflicted: number;
  txRetried: number;
  txThrown: number;
  txAborted: number;
  casOk: number;
  casFailed: number;
}

/** All TxCounts at zero: a workload's start, and a seed's report before the workload's are copied in. */
export function noTxCounts(): TxCounts {
  return { txCommitted: 0, txConflicted: 0, txRetried: 0, txThrown: 0, txAborted: 0, casOk: 0, casFailed: 0 };
}

/** Thrown by a body on purpose: the transaction must write nothing. */
class BodyError extends Error {}

const ACCOUNT_START = 100;

export class TxWorkload {
  readonly #host: TxHost;
  readonly accounts: string[];
  readonly counters: string[];
  readonly uniques: string[];
  readonly slotLimit: number;
  readonly total: number;
  readonly counts: TxCounts = noTxCounts();
  /** What the checks need to know, and the checks (tests/sim/tx_checks.ts). */
  readonly checks: TxChecks;

  constructor(host: TxHost) {
    this.#host = host;
    const int = (lo: number, hi: number) => lo + Math.floor(host.random() * (hi - lo + 1));
    this.accounts = Array.from({ length: int(2, 5) }, (_, i) => `acct/${i}`);
    this.counters = Array.from({ length: int(1, 3) }, (_, i) => `ctr/${i}`);
    this.uniques = Array.from({ length: int(2, 6) }, (_, i) => `uniq/${i}`);
    this.slotLimit = int(2, 5);
    this.total = this.accounts.length * ACCOUNT_START;
    this.checks = new TxChecks(this);
  }

  /** The first write of a seed (a synced batch): every account, both on duty. */
  setup(): [string, Value][] {
    const t = this.#host.tag();
    return [
      ...this.accounts.map((k): [string, Value] => [k, `${ACCOUNT_START}:${t}`]),
      ["duty/a", `on:${t}`],
      ["duty/b", `on:${t}`],
    ];
  }

  #int(lo: number, hi: number): number {
    return lo + Math.floor(this.#host.random() * (hi - lo + 1));
  }
  #chance(p: number): boolean {
    return this.#host.random() < p;
  }
  #pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#host.random() * xs.length)];
  }

  /** Starts one transaction or checked batch; resolves once it settled (never rejects). */
  issue(): Promise<void> {
    const kind = this.#int(0, 99);
    if (kind < 10) return this.#casIncrement();
    if (kind < 15) return this.#casInsert();
    if (kind < 22) return this.#casSet();
    const synchronous = this.#chance(0.25);
    if (kind < 30) return this.#transaction("set", synchronous, () => this.#set());
    if (kind < 46) return this.#transaction("transfer", synchronous, (rec) => this.#transfer(rec));
    if (kind < 60) return this.#transaction("inc", synchronous, () => this.#increment());
    if (kind < 70) return this.#transaction("insert", synchronous, () => this.#insert());
    if (kind < 78) return this.#transaction("bounded", synchronous, () => this.#bounded(), true);
    if (kind < 88) return this.#transaction("duty", synchronous, () => this.#duty(), true);
    return this.#transaction("audit", synchronous, (rec) => this.#audit(rec));
  }

  // ---- transaction bodies: generators of reads, returning their writes ----

  *#transfer(rec: Reads): Body {
    let [from, to] = [this.#pick(this.accounts), this.#pick(this.accounts)];
    if (from === to) to = this.accounts[(this.accounts.indexOf(from) + 1) % this.accounts.length];
    if (rec.serializable && this.#chance(0.3)) {
      // Take from the richest: a scan of every account, a range the commit depends on.
      let best = -1;
      for (const [k, v] of (yield { scan: "acct/" }) as Entries) if (parse(v) > best) [best, from] = [parse(v), k];
      if (from === to) to = this.accounts[(this.accounts.indexOf(from) + 1) % this.accounts.length];
    }
    const a = parse((yield { get: from }) as Got);
    const b = parse((yield { get: to }) as Got);
    const amount = this.#int(1, 40);
    const out = new Map<string, string>();
    if (a < amount) return out; // not enough: a read-only transaction
    const t = this.#host.tag();
    out.set(from, `${a - amount}:${t}`);
    out.set(to, `${b + amount}:${t}`);
    return out;
  }

  *#increment(): Body {
    const k = this.#pick(this.counters);
    const n = parse((yield { get: k }) as Got);
    return new Map([[k, `${n + 1}:${this.#host.tag()}`]]);
  }

  *#set(): Body {
    const k = this.#pick(this.#host.registers);
    const before = (yield { get: k }) as Got;
    return new Map([[k, `r:${this.#host.tag()}:${before?.length ?? 0}`]]);
  }

  *#insert(): Body {
    const k = this.#pick(this.uniques);
    if (((yield { get: k }) as Got) !== undefined) return new Map();
    return new Map([[k, `u:${this.#host.tag()}`]]);
  }

  *#bounded(): Body {
    const n = ((yield { scan: "slot/" }) as Entries).length;
    if (n >= this.slotLimit) return new Map();
    const t = this.#host.tag();
    return new Map([[`slot/${t}`, `s:${t}`]]);
  }

  *#duty(): Body {
    const a = (yield { get: "duty/a" }) as Got;
    const b = (yield { get: "duty/b" }) as Got;
    const t = this.#host.tag();
    const mine = this.#pick(["duty/a", "duty/b"]);
    if (a?.startsWith("off") || b?.startsWith("off")) return new Map([[mine, `on:${t}`]]); // back on duty
    return new Map([[mine, `off:${t}`]]); // both on: one may go
  }

  *#audit(rec: Reads): Body {
    const entries = (yield { scan: "acct/" }) as Entries;
    const sum = entries.reduce((s, [, v]) => s + parse(v), 0);
    if (sum !== this.total || entries.length !== this.accounts.length) {
      this.checks.violation ??=
        `an audit transaction (at sequence ${rec.readSequence}) sees ${entries.length} accounts ` +
        `holding ${sum}, not ${this.total}: ${JSON.stringify(entries)}`;
    }
    return new Map();
  }

  // ---- running a transaction ----

  #transaction(
    label: string,
    synchronous: boolean,
    body: (rec: Reads) => Body,
    serializableOnly = false,
  ): Promise<void> {
    const host = this.#host;
    const db = host.db();
    const h = host.history();
    const isolation = serializableOnly || this.#chance(0.5) ? "serializable" : "snapshot";
    const sync = this.#chance(0.2);
    const retries = this.#chance(0.1) ? undefined : this.#pick([0, 1, 2, 3]); // undefined: the default, 10
    const throwIt = this.#chance(0.08);
    const abortIt = !throwIt && this.#chance(0.05);
    const explicit = !synchronous && !abortIt && this.#chance(0.3);
    const pauses = this.#int(0, 3) + (this.#chance(0.1) ? 100 : 0); // 100: a macrotask too, before the first read
    const controller = new AbortController();
    let attempt: Attempt | undefined;
    const conflicted = (a: Attempt | undefined, retry: boolean) => {
      if (a?.write === undefined) return;
      if (retry) this.counts.txRetried++;
      h.settle(a.write, "refused");
      this.#justify(`an attempt of ${label} (${isolation}) that conflicted`, h, a, isolation);
    };
    const finish = (tx: Tx, writes: Map<string, string>, a: Attempt): void => {
      for (const [k, v] of writes) tx.put(k, v);
      if (throwIt) throw new BodyError(`${label} throws on purpose`);
      if (writes.size > 0) {
        a.write = h.issue([...writes], sync, false, label);
        const serializable = isolation === "serializable";
        this.checks.commits.push({
          what: `${label} (${isolation}, read at ${a.reads.readSequence})`,
          history: h,
          w: a.write,
          keys: new Set([...writes.keys(), ...(serializable ? a.reads.keys : [])]),
          prefixes: serializable ? a.reads.prefixes : [],
          after: a.reads.readSequence,
        });
      }
      if (abortIt) controller.abort(new Error("the simulation aborts it"));
    };
    host.step(`${label} ${isolation}${sync ? " sync" : ""}${synchronous ? " (sync body)" : ""}`);
    const options = {
      isolation,
      sync,
      ...(retries !== undefined ? { retries } : {}),
      ...(abortIt ? { signal: controller.signal } : {}),
    } as const;
    const run = synchronous
      ? db.transactionSync((tx) => {
        conflicted(attempt, true);
        const a: Attempt = (attempt = new Attempt(tx, isolation, 0));
        finish(tx, a.reads.runSync(body(a.reads)), a);
        return undefined;
      }, options)
      : db.transaction(async (tx) => {
        conflicted(attempt, true);
        const a: Attempt = (attempt = new Attempt(tx, isolation, pauses));
        finish(tx, await a.reads.run(body(a.reads)), a);
        if (explicit && a.write !== undefined) return await tx.commit();
        return undefined;
      }, options);
    return run.then((result) => {
      this.counts.txCommitted++;
      if (attempt?.write !== undefined) {
        if (typeof result === "number") attempt.write.returned = result;
        h.settle(attempt.write, "acked");
      }
    }, (err) => {
      if (err instanceof BodyError) return void this.counts.txThrown++;
      const code = err instanceof SiltError ? err.code : undefined;
      if (code === "CONFLICT") {
        this.counts.txConflicted++;
        return conflicted(attempt, false);
      }
      if (code === "ABORTED" && abortIt) {
        this.counts.txAborted++;
        if (attempt?.write !== undefined) h.settle(attempt.write, "refused");
        return;
      }
      // An error of the store: the attempt's write (if it got that far) is in doubt or refused.
      host.rejected(h, attempt?.write, err);
    });
  }

  // ---- checked batches ----

  /** getEntry, then a batch checked against the version read: an increment that fails if anything wrote the counter since. */
  #casIncrement(): Promise<void> {
    const k = this.#pick(this.counters);
    return this.#checked("cas-inc", k, (e) => `${parse(e.value) + 1}:${this.#host.tag()}`, true);
  }

  /** getEntry, then a register set checked against the version read (plain writes race it). */
  #casSet(): Promise<void> {
    const k = this.#pick(this.#host.registers);
    return this.#checked("cas-set", k, (e) => `r:${this.#host.tag()}:${e.value?.length ?? 0}`, true);
  }

  /** A batch checked for absence: an insert that fails if the key has a value. */
  #casInsert(): Promise<void> {
    const k = this.#pick(this.uniques);
    return this.#checked("cas-insert", k, () => `u:${this.#host.tag()}`, false);
  }

  async #checked(
    label: string,
    key: string,
    next: (e: { value: string | undefined }) => string,
    readFirst: boolean,
  ): Promise<void> {
    const host = this.#host;
    const db = host.db();
    const h = host.history();
    const sync = this.#chance(0.2);
    host.step(`${label} ${key}${sync ? " sync" : ""}`);
    let w: Write | undefined;
    try {
      const at = db.sequence;
      let entry: { value: string | undefined; version: number | undefined } = { value: undefined, version: undefined };
      if (readFirst) {
        entry = this.#chance(0.5) ? db.getEntrySync(key) : await db.getEntry(key);
        this.checks.entryReads.push({ history: h, key, ...entry });
      }
      const value = next(entry);
      w = h.issue([[key, value]], sync, false, label);
      this.checks.commits.push({
        what: `${label} of ${key} checked at version ${entry.version ?? "null"}`,
        history: h,
        w,
        keys: new Set([key]),
        prefixes: [],
        after: readFirst ? entry.version ?? at : 0,
        absent: entry.version === undefined,
      });
      const result = await db.batch().check(key, entry.version ?? null).put(key, value).write({ sync });
      if (result.ok) {
        this.counts.casOk++;
        w.returned = result.sequence;
        h.settle(w, "acked");
      } else {
        this.counts.casFailed++;
        h.settle(w, "refused");
        this.checks.justifications.push({
          what: `${label} of ${key} checked at version ${entry.version ?? "null"} that failed`,
          history: h,
          self: w,
          keys: new Set([key]),
          prefixes: [],
          after: readFirst ? entry.version ?? at : 0,
          issuedBefore: h.issued,
          orBaseline: !readFirst,
          absent: entry.version === undefined,
        });
      }
    } catch (err) {
      host.rejected(h, w, err);
    }
  }

  #justify(what: string, h: History, a: Attempt, isolation: string): void {
    const keys = new Set(isolation === "snapshot" ? [] : a.reads.keys);
    for (const [k] of a.write!.changes) keys.add(k);
    this.checks.justifications.push({
      what,
      history: h,
      self: a.write,
      keys,
      prefixes: isolation === "snapshot" ? [] : a.reads.prefixes,
      after: a.reads.readSequence,
      issuedBefore: h.issued,
    });
  }
}

type Tx = Transaction<string, string>;
type Got = string | undefined;
type Entries = [string, string][];
/** A body: yields the reads it makes, returns its writes (in the order it makes them). */
type Body = Generator<{ get: string } | { scan: string }, Map<string, string>, Got | Entries>;

/** One attempt of a transaction body. */
class Attempt {
  readonly reads: Reads;
  write: Write | undefined;
  constructor(tx: Tx, isolation: string, pauses: number) {
    this.reads = new Reads(tx, isolation === "serializable", pauses);
  }
}

/** Runs a body's reads, recording them (what a serializable commit depends on); async ones pause in between. */
class Reads {
  readonly keys: string[] = [];
  readonly prefixes: string[] = [];
  readonly readSequence: number;
  readonly serializable: boolean;
  readonly #tx: Tx;
  readonly #pauses: number;
  #macrotask = 0;

  constructor(tx: Tx, serializable: boolean, pauses: number) {
    this.#tx = tx;
    this.serializable = serializable;
    this.#pauses = pauses;
    this.readSequence = tx.readSequence;
  }

  /** For transactionSync: every read synchronous. */
  runSync(body: Body): Map<string, string> {
    let step = body.next();
    while (!step.done) {
      const r = step.value;
      if ("get" in r) {
        this.keys.push(r.get);
        step = body.next(this.#tx.getSync(r.get));
      } else {
        this.prefixes.push(r.scan);
        step = body.next([...this.#tx.scanSync({ prefix: r.scan })]);
      }
    }
    return step.value;
  }

  /** For transaction(): reads awaited, with pauses before them. */
  async run(body: Body): Promise<Map<string, string>> {
    let step = body.next();
    while (!step.done) {
      const r = step.value;
      await this.#pause();
      if ("get" in r) {
        this.keys.push(r.get);
        step = body.next(await this.#tx.get(r.get));
      } else {
        this.prefixes.push(r.scan);
        const out: Entries = [];
        for await (const e of this.#tx.scan({ prefix: r.scan })) out.push(e);
        step = body.next(out);
      }
    }
    return step.value;
  }

  /** Microtasks, and now and then a macrotask: other bodies and the log's groups go on in between. */
  async #pause(): Promise<void> {
    for (let i = this.#pauses % 100; i > 0; i--) await Promise.resolve();
    if (this.#pauses >= 100 && this.#macrotask++ === 0) await new Promise((r) => setTimeout(r, 0));
  }
}
