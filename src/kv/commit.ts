// The commit pipeline of a siltdb/kv store: every atomic operation of every
// handle goes through it, one group at a time (group commit). A group is the
// operations that arrived while the previous group was being written; they
// are evaluated in arrival order against the store plus what the earlier
// operations of the group wrote (checks, then mutations: sum, min and max
// read the value they change), and the ones that pass are written together
// as ONE siltdb batch (atomic and durable as a batch: with sync, it resolves
// once fsynced). So operations are serializable, and a check that passed
// still holds when its writes land: nothing else writes the store.
//
// Sequence numbers: siltdb numbers the entries of a batch consecutively, from
// the store's last sequence + 1; the pipeline is the store's only writer, so
// it knows each entry's sequence before writing. Each operation's entries
// are consecutive; its versionstamp is the sequence of its first entry
// (layout.ts), which a key ending in commitVersionstamp() needs before the
// write, and each user entry stores its index among its operation's entries.
// The batch is conditional (siltdb's batch().check) on every key the group
// read from the store still having the version read: were anything else to
// write the store, the group would be evaluated again. After the write the
// sequence siltdb reports must be the one expected (INTERNAL otherwise).

import type { Db } from "../db.ts";
import { SiltError } from "../errors.ts";
import { concat, toHex } from "./_bytes.ts";
import { encodeClone } from "./clone_encode.ts";
import { decodeValue, type EncodedValue, Encoding, type StoredValue, storedValue } from "./value_codec.ts";
import { type LiveEntry, liveEntry } from "./entry.ts";
import { CLOCK_KEY, EXPIRY_PREFIX, timedKey, versionstamp } from "./layout.ts";
import { encodeMessage, messageKey } from "./queue_format.ts";
import type { KvU64 } from "./kv_u64.ts";
import { typeName } from "./key_codec.ts";

/** A check: key must have this versionstamp (null: be absent). */
export interface KvCheck {
  key: Uint8Array;
  versionstamp: string | null;
  /** Compare with the stored entry even if it expired (the expiry sweep's check). */
  evenExpired?: boolean;
}

/** A mutation, its key encoded and its value encoded. */
export type KvMutation =
  | { type: "set"; key: Uint8Array; value: EncodedValue; expireAt: number | undefined; versionstampSuffix?: boolean }
  | { type: "delete"; key: Uint8Array }
  | { type: "sum" | "min" | "max"; key: Uint8Array; value: EncodedValue };

/** A message to enqueue. */
export interface KvEnqueue {
  payload: EncodedValue;
  readyAt: number;
  keysIfUndelivered: Uint8Array[];
  backoff: number[];
}

/** An atomic operation, ready to commit. `raw` puts (or, with null, deletes) reserved keys as they are. */
export interface CommitRequest {
  checks: KvCheck[];
  mutations: KvMutation[];
  enqueues: KvEnqueue[];
  raw?: { key: Uint8Array; value: Uint8Array | null }[];
}

/** What commit() resolves to: Deno KV's KvCommitResult or KvCommitError. */
export type CommitOutcome = { ok: true; versionstamp: string } | { ok: false };

/** What a written group changed: for watchers, the queue and the expiry sweep. */
export interface Committed {
  /** User keys written or deleted. */
  keys: Uint8Array[];
  /** A message was enqueued. */
  enqueued: boolean;
  /** The earliest expiry set, if any. */
  nextExpiry: number | undefined;
}

/** The state of a key within a group: its stored entry and versionstamp, or absent. */
type KeyState = Pick<LiveEntry, "stored" | "versionstamp"> | undefined;

/** What the parts that live beside a store (expiry sweep, queue, watches) use of it. */
export interface StoreParts {
  readonly db: Db;
  readonly commits: CommitPipeline;
  /** Called after each written group. */
  readonly listeners: Set<(c: Committed) => void>;
  /** Called once, when the store starts closing. */
  readonly closers: Set<() => void>;
}

interface Pending {
  request: CommitRequest;
  resolve(outcome: CommitOutcome): void;
  reject(err: unknown): void;
}

const MAX_GROUP_OPERATIONS = 256;
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
const MAX_GROUP_ATTEMPTS = 5;

/**
 * Runs a store's commits, one group (one siltdb batch) at a time.
 *
 * @example
 * ```ts
 * declare const pipeline: CommitPipeline;
 * const outcome = await pipeline.commit({ checks: [], mutations: [], enqueues: [] });
 * console.log(outcome.ok); // true: an empty commit still gets a versionstamp
 * ```
 */
export class CommitPipeline {
  readonly #db: Db;
  readonly #sync: boolean;
  readonly #onCommitted: (c: Committed) => void;
  #sequence: number;
  #pending: Pending[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  /** `sequence`: the store's last sequence; `onCommitted`: told of each written group. */
  constructor(db: Db, sequence: number, sync: boolean, onCommitted: (c: Committed) => void) {
    this.#db = db;
    this.#sequence = sequence;
    this.#sync = sync;
    this.#onCommitted = onCommitted;
  }

  /** Commits one atomic operation: `{ ok: false }` when a check fails; rejects when a mutation cannot apply. */
  commit(request: CommitRequest): Promise<CommitOutcome> {
    if (this.#closed) return Promise.reject(new SiltError("CLOSED", "the store is closed"));
    return new Promise((resolve, reject) => {
      this.#pending.push({ request, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /**
   * Refuses new commits; resolves once those already submitted are done
   * (undefined when none is under way: nothing to wait for).
   */
  close(): Promise<void> | undefined {
    this.#closed = true;
    return this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.#pending.length && n < MAX_GROUP_OPERATIONS && bytes < MAX_GROUP_BYTES) {
          bytes += requestBytes(this.#pending[n++].request);
        }
        await this.#group(this.#pending.splice(0, n));
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #group(group: Pending[]): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const plan = await this.#plan(group);
      let written: boolean | undefined;
      try {
        written = plan.entries.length === 0 || await this.#write(plan.entries, plan.first, plan.guards);
      } catch (err) {
        this.#sequence = this.#db.sequence;
        for (const r of plan.results) if (r.outcome?.ok) [r.outcome, r.error] = [undefined, err];
      }
      if (written === false && attempt < MAX_GROUP_ATTEMPTS) continue; // a write came between: evaluate again
      if (written === false) {
        const err = new SiltError("INTERNAL", "siltdb/kv: the store kept changing under its commit pipeline");
        for (const r of plan.results) if (r.outcome?.ok) [r.outcome, r.error] = [undefined, err];
      }
      for (const r of plan.results) r.outcome ? r.p.resolve(r.outcome) : r.p.reject(r.error);
      if (written && plan.entries.length > 0) this.#onCommitted(plan.committed);
      return;
    }
  }

  /** Evaluates a group's operations in order: what each gives, and the batch that writes them. */
  async #plan(group: Pending[]) {
    const now = Date.now();
    const first = this.#sequence + 1;
    const state = new Map<string, KeyState>();
    const guards = new Map<string, { key: Uint8Array; version: number | null }>();
    const entries: { key: Uint8Array; value: Uint8Array | null }[] = [];
    const results: { p: Pending; outcome?: CommitOutcome; error?: unknown }[] = [];
    const committed: Committed = { keys: [], enqueued: false, nextExpiry: undefined };
    for (const p of group) {
      try {
        const own = await this.#evaluate(p.request, state, guards, now, first + entries.length);
        if (own === undefined) {
          results.push({ p, outcome: { ok: false } });
          continue;
        }
        const stamp = versionstamp(first + entries.length);
        for (const [hex, s] of own.states) state.set(hex, s);
        entries.push(...own.entries);
        committed.keys.push(...own.userKeys);
        committed.enqueued ||= p.request.enqueues.length > 0;
        for (const t of own.expiries) committed.nextExpiry = Math.min(committed.nextExpiry ?? t, t);
        results.push({ p, outcome: { ok: true, versionstamp: stamp } });
      } catch (err) {
        results.push({ p, error: err });
      }
    }
    return { first, entries, guards: [...guards.values()], results, committed };
  }

  /**
   * Writes a group's batch, conditional on every key read from the store
   * being as read (it is: the pipeline is the only writer; the check makes
   * sure). False when a check failed (nothing written).
   */
  async #write(
    entries: { key: Uint8Array; value: Uint8Array | null }[],
    first: number,
    guards: { key: Uint8Array; version: number | null }[],
  ): Promise<boolean> {
    const batch = this.#db.batch();
    for (const g of guards) batch.check(g.key, g.version);
    for (const e of entries) e.value === null ? batch.delete(e.key) : batch.put(e.key, e.value);
    const result = await batch.write({ sync: this.#sync });
    if (!result.ok) {
      this.#sequence = this.#db.sequence;
      return false;
    }
    this.#sequence = result.sequence + entries.length - 1;
    if (result.sequence !== first) {
      throw new SiltError(
        "INTERNAL",
        `siltdb/kv expected its batch to get sequence ${first}, siltdb gave ${result.sequence}: the versionstamps of this group are wrong; please report it`,
      );
    }
    return true;
  }

  /** The entries of one operation, or undefined when a check fails. */
  async #evaluate(
    request: CommitRequest,
    group: Map<string, KeyState>,
    guards: Map<string, { key: Uint8Array; version: number | null }>,
    now: number,
    first: number,
  ) {
    const read = async (key: Uint8Array, hex: string, evenExpired = false): Promise<KeyState> => {
      if (group.has(hex)) return group.get(hex);
      const { value, version } = await this.#db.getEntry(key);
      guards.set(hex, { key, version: version ?? null });
      return liveEntry(key, value, version, evenExpired ? -Infinity : now);
    };
    for (const check of request.checks) {
      const current = await read(check.key, toHex(check.key), check.evenExpired);
      if ((current?.versionstamp ?? null) !== check.versionstamp) return undefined;
    }
    const stamp = versionstamp(first);
    const states = new Map<string, KeyState>();
    const writes = new Map<string, { key: Uint8Array; value: EncodedValue | null; expireAt?: number }>();
    for (const m of request.mutations) {
      const key = m.type === "set" && m.versionstampSuffix ? concat(m.key, suffix(stamp)) : m.key;
      const hex = toHex(key);
      let next: { value: EncodedValue | null; expireAt?: number };
      if (m.type === "set") next = { value: m.value, expireAt: m.expireAt };
      else if (m.type === "delete") next = { value: null };
      else {next = {
          value: combine(m.type, (states.has(hex) ? states.get(hex) : await read(key, hex))?.stored, m.value),
        };}
      writes.delete(hex); // the entry goes where the key was last written
      writes.set(hex, { key, ...next });
      const live = next.value !== null && !(next.expireAt !== undefined && next.expireAt <= now);
      states.set(
        hex,
        live ? { stored: { ...next.value!, index: 0, expireAt: next.expireAt }, versionstamp: stamp } : undefined,
      );
    }
    const entries: { key: Uint8Array; value: Uint8Array | null }[] = [];
    const expiries: { key: Uint8Array; at: number }[] = [];
    for (const w of writes.values()) {
      entries.push({ key: w.key, value: w.value && storedValue(w.value, entries.length, w.expireAt) });
      if (w.value !== null && w.expireAt !== undefined) expiries.push({ key: w.key, at: w.expireAt });
    }
    const userKeys = entries.map((e) => e.key);
    for (const e of expiries) entries.push({ key: timedKey(EXPIRY_PREFIX, e.at, e.key), value: new Uint8Array() });
    for (const e of request.enqueues) {
      const message = { backoff: e.backoff, keysIfUndelivered: e.keysIfUndelivered, payload: e.payload };
      entries.push({ key: messageKey(e.readyAt), value: encodeMessage(message) });
    }
    for (const r of request.raw ?? []) entries.push(r);
    if (entries.length === 0) entries.push({ key: CLOCK_KEY, value: new Uint8Array() });
    return { entries, states, userKeys, expiries: expiries.map((e) => e.at) };
  }
}

/** The key part a key ending in commitVersionstamp() gets: the versionstamp as a string part. */
function suffix(stamp: string): Uint8Array {
  const part = new Uint8Array(stamp.length + 2);
  part[0] = 0x02;
  for (let i = 0; i < stamp.length; i++) part[i + 1] = stamp.charCodeAt(i);
  return part;
}

/** The value sum, min or max leaves, from the current value and the operand (Deno KV's rules and words). */
function combine(op: "sum" | "min" | "max", current: StoredValue | undefined, operand: EncodedValue): EncodedValue {
  if (op === "sum" && operand.encoding !== Encoding.u64) {
    if (current === undefined) return operand;
    if (current.encoding === Encoding.u64) throw new TypeError("Cannot sum KvU64 with Number");
    const [a, b] = [decodeValue(current), decodeValue(operand)];
    const sum = typeof a === "number" && typeof b === "number"
      ? a + b
      : typeof a === "bigint" && typeof b === "bigint"
      ? a + b
      : undefined;
    if (sum === undefined) throw new TypeError(`Cannot sum ${typeName(a)} with ${typeName(b)}`);
    return { encoding: Encoding.clone, payload: encodeClone(sum) as Uint8Array };
  }
  if (operand.encoding !== Encoding.u64) throw new TypeError(`Failed to perform '${op}' mutation on a non-U64 operand`);
  const b = (decodeValue(operand) as KvU64).value;
  if (current === undefined) return operand;
  if (current.encoding !== Encoding.u64) {
    throw new TypeError(`Failed to perform '${op}' mutation on a non-U64 value in the database`);
  }
  const a = (decodeValue(current) as KvU64).value;
  const result = op === "sum" ? BigInt.asUintN(64, a + b) : op === "min" ? (a < b ? a : b) : (a > b ? a : b);
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setBigUint64(0, result, true);
  return { encoding: Encoding.u64, payload };
}

/** Bytes a request adds to a batch, about (for the group's bound). */
function requestBytes(r: CommitRequest): number {
  let n = 64;
  for (const m of r.mutations) n += m.key.length + ("value" in m ? m.value.payload.length : 0) + 16;
  for (const e of r.enqueues) n += e.payload.payload.length + 64;
  return n;
}
