// AtomicOperation: Deno KV's builder of an atomic commit (checks,
// mutations, enqueues). Each call checks what it is given at once (a key
// part of the wrong type, a value that cannot be stored, a bad expireIn,
// delay or backoff schedule: thrown right there, nothing added); commit()
// then checks Deno KV's limits and versionstamps and hands the operation to
// the store's commit pipeline (src/kv/commit.ts).

import type { CommitRequest, KvCheck, KvMutation } from "./commit.ts";
import { encodeKey, type KvKey, type KvKeyPart } from "./key_codec.ts";
import { KvU64 } from "./kv_u64.ts";
import { checkedVersionstamp } from "./layout.ts";
import { checkBackoffSchedule, checkCommit, checkDelay, checkExpireIn, expireAtOf } from "./limits.ts";
import type { KvStore } from "./store.ts";
import { type EncodedValue, encodeValue } from "./value_codec.ts";

/** The symbol that, as a key's last part, stands for the commit's versionstamp (`kv.commitVersionstamp()`). */
export const COMMIT_VERSIONSTAMP: unique symbol = Symbol("KvCommitVersionstamp");

/** The default backoff schedule of a queue message: Deno KV's. */
export const DEFAULT_BACKOFF = [100, 1000, 5000, 30000, 60000];

/** Deno KV's AtomicCheck: key must have this versionstamp (null: be absent). */
export interface AtomicCheck {
  /** The key checked. */
  key: KvKey;
  /** The versionstamp it must still have; null: it must be absent. */
  versionstamp: string | null;
}

/** Deno KV's KvMutation. */
export type KvMutationInput =
  & { key: KvKey }
  & (
    | { type: "set"; value: unknown; expireIn?: number }
    | { type: "delete" }
    | { type: "sum" | "min" | "max"; value: KvU64 }
  );

/** Deno KV's KvCommitResult. */
export interface KvCommitResult {
  /** The commit happened. */
  ok: true;
  /** The commit's versionstamp: every entry it wrote has it. */
  versionstamp: string;
}

/** Deno KV's KvCommitError: a check failed, nothing was written. */
export interface KvCommitError {
  /** A check failed: nothing was written. */
  ok: false;
}

/** Options of a queued message. */
export interface EnqueueOptions {
  /** Milliseconds to wait before delivering it (0 to 30 days). */
  delay?: number;
  /** Where to write the message if every delivery fails. */
  keysIfUndelivered?: KvKey[];
  /** Milliseconds to wait before each retry (at most 5; each up to 1 hour). Default [100, 1000, 5000, 30000, 60000]. */
  backoffSchedule?: number[];
}

type Pending = {
  type: KvMutation["type"];
  key: Uint8Array;
  value?: EncodedValue | Promise<EncodedValue>;
  expireIn?: number;
  versionstampSuffix?: boolean;
};
type PendingEnqueue = {
  payload: EncodedValue | Promise<EncodedValue>;
  delay: number;
  keysIfUndelivered: Uint8Array[];
  backoff: number[];
};
type Shown = { line: (inspect: (v: unknown) => string) => string };

/**
 * An atomic operation: checks, then mutations and enqueues, committed all
 * together or not at all (`{ ok: false }` when a check fails).
 *
 * @example
 * ```ts
 * import { openKv } from "siltdb/kv";
 * const kv = await openKv(":memory:");
 * const account = await kv.get<number>(["balance", "alice"]);
 * const result = await kv.atomic()
 *   .check(account) // nobody changed it since the read
 *   .set(["balance", "alice"], (account.value ?? 0) + 10)
 *   .enqueue({ notify: "alice" })
 *   .commit();
 * console.log(result.ok); // true
 * kv.close();
 * ```
 */
export class AtomicOperation {
  readonly #store: (call: string) => KvStore;
  #checks: { key: Uint8Array; versionstamp: unknown }[] = [];
  #mutations: Pending[] = [];
  #enqueues: PendingEnqueue[] = [];
  #shown: Shown[] = [];

  /** @internal Atomic operations come from `kv.atomic()`. */
  constructor(store: (call: string) => KvStore) {
    this.#store = store;
  }

  /**
   * Adds checks: the commit fails (`{ ok: false }`) unless each key's
   * versionstamp is still the one given (null: the key is absent). An entry
   * from get() is a check of itself.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const res = await kv.atomic().check({ key: ["a"], versionstamp: null }).set(["a"], 1).commit();
   * console.log(res.ok); // true: ["a"] was absent
   * kv.close();
   * ```
   */
  check(...checks: AtomicCheck[]): this {
    const added = checks.map((c) => {
      if (typeof c !== "object" || c === null) throw new TypeError("a check must be { key, versionstamp }");
      return { key: encodeKey(c.key, "the check's key"), versionstamp: c.versionstamp ?? null, shown: c };
    });
    for (const { key, versionstamp, shown } of added) {
      this.#checks.push({ key, versionstamp });
      this.#shown.push({
        line: (inspect) =>
          `check({ key: ${inspect(shown.key)}, versionstamp: ${
            versionstamp === null ? "null" : JSON.stringify(versionstamp)
          } })`,
      });
    }
    return this;
  }

  /**
   * Adds mutations given as objects (`{ type: "set" | "delete" | "sum" | "min" | "max", key, value }`).
   *
   * @example
   * ```ts
   * import { KvU64, openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic()
   *   .mutate({ type: "set", key: ["a"], value: 1, expireIn: 60_000 })
   *   .mutate({ type: "sum", key: ["n"], value: new KvU64(1n) })
   *   .mutate({ type: "delete", key: ["b"] })
   *   .commit();
   * kv.close();
   * ```
   */
  mutate(...mutations: KvMutationInput[]): this {
    const added = mutations.map((m) => {
      if (typeof m !== "object" || m === null) throw new TypeError("a mutation must be { type, key, value? }");
      const has = Object.hasOwn(m, "value");
      switch (m.type) {
        case "delete":
          if (has && (m as { value?: unknown }).value) throw new TypeError("Invalid mutation 'delete' with value");
          return this.#pending("delete", m.key);
        case "set":
        case "sum":
        case "min":
        case "max": {
          if (!has) throw new TypeError(`Invalid mutation '${m.type}' without value`);
          const expireIn = m.type === "set" && typeof m.expireIn === "number" ? m.expireIn : undefined;
          checkExpireIn(expireIn);
          return this.#pending(m.type, m.key, (m as { value: unknown }).value, expireIn);
        }
        default:
          throw new TypeError(`Invalid mutation type ${JSON.stringify((m as { type?: unknown }).type) ?? ""}`);
      }
    });
    this.#mutations.push(...added.map((a) => a.pending));
    this.#shown.push(...added.map((a) => a.shown));
    return this;
  }

  /**
   * Adds a set; with `expireIn` (milliseconds) the entry expires that long after the commit.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().set(["session", "s1"], { user: "alice" }, { expireIn: 3_600_000 }).commit();
   * kv.close();
   * ```
   */
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): this {
    checkExpireIn(options?.expireIn);
    return this.#add("set", key, value, options?.expireIn);
  }

  /**
   * Adds a delete (of a key that may be absent).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().delete(["a"]).commit();
   * kv.close();
   * ```
   */
  delete(key: KvKey): this {
    return this.#add("delete", key);
  }

  /**
   * Adds n to the KvU64 at key (absent: n), wrapping at 2^64.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().sum(["visits"], 1n).commit();
   * console.log(String((await kv.get(["visits"])).value)); // "1"
   * kv.close();
   * ```
   */
  sum(key: KvKey, n: bigint): this {
    return this.#add("sum", key, new KvU64(n));
  }

  /**
   * Keeps the smaller of the KvU64 at key and n (absent: n).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().min(["lowest"], 5n).min(["lowest"], 3n).commit();
   * console.log(String((await kv.get(["lowest"])).value)); // "3"
   * kv.close();
   * ```
   */
  min(key: KvKey, n: bigint): this {
    return this.#add("min", key, new KvU64(n));
  }

  /**
   * Keeps the larger of the KvU64 at key and n (absent: n).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().max(["highest"], 5n).max(["highest"], 3n).commit();
   * console.log(String((await kv.get(["highest"])).value)); // "5"
   * kv.close();
   * ```
   */
  max(key: KvKey, n: bigint): this {
    return this.#add("max", key, new KvU64(n));
  }

  /**
   * Adds a message to the queue (delivered to `kv.listenQueue` handlers once committed, after `delay`).
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * await kv.atomic().set(["order", 1], "placed").enqueue({ ship: 1 }, { delay: 1000 }).commit();
   * kv.close();
   * ```
   */
  enqueue(value: unknown, options?: EnqueueOptions): this {
    checkDelay(options?.delay);
    checkBackoffSchedule(options?.backoffSchedule);
    const keysIfUndelivered = (options?.keysIfUndelivered ?? []).map((k) => encodeKey(k, "a keysIfUndelivered key"));
    const payload = encodeValue(value);
    this.#enqueues.push({
      payload,
      delay: options?.delay ?? 0,
      keysIfUndelivered,
      backoff: [...(options?.backoffSchedule ?? DEFAULT_BACKOFF)],
    });
    this.#shown.push({ line: (inspect) => `enqueue(${inspect(value)}${enqueueOptions(options, inspect)})` });
    return this;
  }

  /**
   * Commits: `{ ok: true, versionstamp }`, or `{ ok: false }` (nothing
   * written) when a check failed. Rejects with a TypeError for an operation
   * over Deno KV's limits or a sum/min/max on a value of another type.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * const { ok } = await kv.atomic().check({ key: ["a"], versionstamp: null }).set(["a"], 1).commit();
   * console.log(ok); // true
   * kv.close();
   * ```
   */
  async commit(): Promise<KvCommitResult | KvCommitError> {
    const store = this.#store("commit");
    const checks: KvCheck[] = this.#checks.map((c) => ({
      key: c.key,
      versionstamp: checkedVersionstamp(c.versionstamp),
    }));
    const mutations = await Promise.all(this.#mutations.map(async (m) => ({ ...m, value: await m.value })));
    const enqueues = await Promise.all(this.#enqueues.map(async (e) => ({ ...e, payload: await e.payload })));
    checkCommit({
      checkKeys: checks.map((c) => c.key),
      mutations: mutations.map((m) => ({ key: m.key, valueBytes: m.value?.payload.length })),
      enqueues: enqueues.map((e) => ({ payloadBytes: e.payload.payload.length, backoffIntervals: e.backoff.length })),
    });
    const now = Date.now();
    const request: CommitRequest = {
      checks,
      mutations: mutations.map((m): KvMutation =>
        m.type === "set"
          ? {
            type: "set",
            key: m.key,
            value: m.value!,
            expireAt: expireAtOf(m.expireIn, now),
            versionstampSuffix: m.versionstampSuffix,
          }
          : m.type === "delete"
          ? { type: "delete", key: m.key }
          : { type: m.type, key: m.key, value: m.value! }
      ),
      enqueues: enqueues.map((e) => ({
        payload: e.payload,
        readyAt: now + e.delay,
        keysIfUndelivered: e.keysIfUndelivered,
        backoff: e.backoff,
      })),
    };
    return await store.commits.commit(request);
  }

  /**
   * Refuses to be awaited: an atomic operation does nothing until commit().
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * try {
   *   await (kv.atomic().set(["a"], 1) as unknown as Promise<void>);
   * } catch (err) {
   *   console.log((err as Error).message); // "...did you forget to call 'commit()'?"
   * }
   * kv.close();
   * ```
   */
  then(): never {
    throw new TypeError("an AtomicOperation is not a promise: did you forget to call 'commit()'?");
  }

  /**
   * How Deno.inspect prints it: each operation on a line, as the call that added it.
   *
   * @example
   * ```ts
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * console.log(Deno.inspect(kv.atomic().delete(["a"]))); // AtomicOperation\n  delete([ "a" ])
   * kv.close();
   * ```
   */
  [Symbol.for("Deno.customInspect")](inspect: (v: unknown, o?: unknown) => string, options?: unknown): string {
    return this.#describe((v) => inspect(v, options));
  }

  /**
   * How Node's util.inspect (console.log in Node and Bun) prints it, as Deno.inspect does.
   *
   * @example
   * ```ts
   * import { inspect } from "node:util";
   * import { openKv } from "siltdb/kv";
   * const kv = await openKv(":memory:");
   * console.log(inspect(kv.atomic())); // AtomicOperation (empty)
   * kv.close();
   * ```
   */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (v: unknown, o?: unknown) => string,
  ): string {
    return this.#describe((v) => inspect(v, options));
  }

  #describe(inspect: (v: unknown) => string): string {
    if (this.#shown.length === 0) return "AtomicOperation (empty)";
    return ["AtomicOperation", ...this.#shown.map((s) => `  ${s.line(inspect)}`)].join("\n");
  }

  #add(type: Pending["type"], key: KvKey, value?: unknown, expireIn?: number): this {
    const { pending, shown } = this.#pending(type, key, value, expireIn);
    this.#mutations.push(pending);
    this.#shown.push(shown);
    return this;
  }

  /** A mutation checked and encoded, and how inspect shows it. */
  #pending(type: Pending["type"], key: KvKey, value?: unknown, expireIn?: number): { pending: Pending; shown: Shown } {
    const suffix = type === "set" && Array.isArray(key) && key.at(-1) === COMMIT_VERSIONSTAMP;
    const parts = suffix ? key.slice(0, -1) : key;
    const pending: Pending = { type, key: encodeKey(parts as KvKeyPart[]), expireIn, versionstampSuffix: suffix };
    if (type !== "delete") pending.value = encodeValue(value);
    const shown: Shown = {
      line: (inspect) =>
        type === "delete"
          ? `delete(${inspect(key)})`
          : `${type}(${inspect(parts)}, ${inspect(value)}${
            expireIn === undefined ? "" : `, { expireIn: ${expireIn} }`
          })`,
    };
    return { pending, shown };
  }
}

function enqueueOptions(o: EnqueueOptions | undefined, inspect: (v: unknown) => string): string {
  const parts: string[] = [];
  if (o?.delay) parts.push(`delay: ${o.delay}`);
  if (o?.keysIfUndelivered?.length) parts.push(`keysIfUndelivered: ${inspect(o.keysIfUndelivered)}`);
  if (o?.backoffSchedule !== undefined) parts.push(`backoffSchedule: ${inspect(o.backoffSchedule)}`);
  return parts.length === 0 ? "" : `, { ${parts.join(", ")} }`;
}
