// An object store in memory with the exact semantics siltdb relies on —
// create-only and compare-and-swap puts that are atomic, ranged reads,
// listings in key order with paging — and faults to inject, for tests and
// the simulation: latency, 500/503 answers, a put applied whose answer is
// lost, and listing lag (new objects missing from listings for a while).
// The retries and the resolution of lost answers are those of every store
// (resilient_store.ts), so the simulation exercises them.

import { SiltError } from "../errors.ts";
import type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectInfo,
  PutOptions,
  PutOutcome,
  StoredObject,
} from "./object_store.ts";
import { ResilientStore, type RetryOptions, TransientError, type Transport } from "./resilient_store.ts";

interface Entry {
  data: Uint8Array;
  etag: string;
  metadata: Record<string, string>;
  lastModified: number;
}

/** A request kind, for faults. */
export type ObjectOp = "get" | "head" | "put" | "list" | "delete";

/**
 * A fault to inject: which requests (operation, key pattern), what happens,
 * and how many times (default once).
 *
 * - `"503"` / `"500"`: the request fails with that status and is not applied;
 * - `"lost"`: the request is applied, then fails as if its answer was lost
 *   (a put lands; the caller does not know).
 *
 * @example
 * ```ts
 * const fault: ObjectFault = { op: "put", key: /^manifest\//, kind: "lost" };
 * ```
 */
export interface ObjectFault {
  /** The kind of request that fails. */
  op: ObjectOp;
  /** Only requests for keys this matches. Default: every key. */
  key?: RegExp;
  /** 503 or 500: refused before it is applied; "lost": applied, but the answer never arrives. */
  kind: "503" | "500" | "lost";
  /** How many requests fail. Default 1. */
  times?: number;
}

/**
 * Options of an in-memory store.
 *
 * @example
 * ```ts
 * const slow = new MemoryObjectStore({ name: "slow", latencyMs: 20 });
 * ```
 */
export interface MemoryObjectStoreOptions {
  /** Shown in messages as memory://name. Default "store". */
  name?: string;
  /** Delay of every request (milliseconds, or a function drawing one). Default 0. */
  latencyMs?: number | (() => number);
  /** New objects stay out of listings for this long (eventual listing). Default 0. */
  listLagMs?: number;
  /** The clock for lastModified and listing lag. Default Date.now. */
  now?: () => number;
  /** Retries (as for every store); the simulation passes its own sleep. */
  retry?: RetryOptions;
}

class MemoryTransport implements Transport {
  readonly objects = new Map<string, Entry>();
  readonly faults: (ObjectFault & { left: number })[] = [];
  #etags = 0;
  readonly #name: string;
  readonly #latency: () => number;
  readonly #listLag: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(o: MemoryObjectStoreOptions) {
    this.#name = o.name ?? "store";
    const latency = o.latencyMs ?? 0;
    this.#latency = typeof latency === "function" ? latency : () => latency;
    this.#listLag = o.listLagMs ?? 0;
    this.#now = o.now ?? Date.now;
    this.#sleep = o.retry?.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The fault that hits this request, if any (counted down). */
  #fault(op: ObjectOp, key: string): ObjectFault["kind"] | undefined {
    const i = this.faults.findIndex((f) => f.op === op && (f.key === undefined || f.key.test(key)));
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (--f.left <= 0) this.faults.splice(i, 1);
    return f.kind;
  }

  async #enter(op: ObjectOp, key: string): Promise<ObjectFault["kind"] | undefined> {
    const ms = this.#latency();
    if (ms > 0) await this.#sleep(ms);
    const kind = this.#fault(op, key);
    if (kind === "503" || kind === "500") {
      throw new TransientError(`memory://${this.#name}: injected ${kind} on ${op} ${key}`, Number(kind), false);
    }
    return kind;
  }

  #lost(op: ObjectOp, key: string): TransientError {
    return new TransientError(`memory://${this.#name}: the answer to ${op} ${key} was lost`, undefined, true);
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    const fault = await this.#enter("get", key);
    const e = this.objects.get(key);
    if (fault === "lost") throw this.#lost("get", key);
    if (e === undefined) return undefined;
    const size = e.data.length;
    let data = e.data;
    if (range !== undefined) {
      const start = "suffix" in range ? Math.max(0, size - range.suffix) : range.offset;
      const end = "suffix" in range ? size : Math.min(size, range.offset + range.length);
      if (start >= size && size > 0) {
        throw new SiltError("INVALID_ARGUMENT", `memory://${this.#name}: range past the end of ${key}`);
      }
      data = e.data.subarray(start, end);
    }
    return { data: data.slice(), size, etag: e.etag, metadata: { ...e.metadata } };
  }

  async head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined> {
    const fault = await this.#enter("head", key);
    const e = this.objects.get(key);
    if (fault === "lost") throw this.#lost("head", key);
    if (e === undefined) return undefined;
    return { key, size: e.data.length, etag: e.etag, lastModified: e.lastModified, metadata: { ...e.metadata } };
  }

  async put(key: string, data: Uint8Array, options: PutOptions = {}): Promise<PutOutcome> {
    const fault = await this.#enter("put", key);
    const current = this.objects.get(key);
    if (options.ifNoneMatch === "*" && current !== undefined) {
      if (fault === "lost") throw this.#lost("put", key);
      return { written: false };
    }
    if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) {
      if (fault === "lost") throw this.#lost("put", key);
      return { written: false };
    }
    const etag = `"m${++this.#etags}"`;
    this.objects.set(key, { data: data.slice(), etag, metadata: { ...options.metadata }, lastModified: this.#now() });
    if (fault === "lost") throw this.#lost("put", key);
    return { written: true, etag };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const fault = await this.#enter("list", prefix);
    if (fault === "lost") throw this.#lost("list", prefix);
    const limit = Math.max(1, options.limit ?? 1000);
    const visibleBefore = this.#now() - this.#listLag;
    const keys = [...this.objects.keys()].filter((k) =>
      k.startsWith(prefix) && (options.after === undefined || k > options.after) &&
      (this.#listLag === 0 || this.objects.get(k)!.lastModified <= visibleBefore)
    ).sort();
    const page = keys.slice(0, limit);
    const objects = page.map((key) => {
      const e = this.objects.get(key)!;
      return { key, size: e.data.length, etag: e.etag, lastModified: e.lastModified };
    });
    return keys.length > limit ? { objects, next: page[page.length - 1] } : { objects };
  }

  async delete(key: string): Promise<void> {
    const fault = await this.#enter("delete", key);
    this.objects.delete(key);
    if (fault === "lost") throw this.#lost("delete", key);
  }
}

/**
 * An object store in memory (exact semantics, injectable faults), with the
 * retries and lost-answer resolution of every store.
 *
 * @example
 * ```ts
 * const store = new MemoryObjectStore({ name: "sim" });
 * store.injectFault({ op: "put", kind: "lost" }); // the next put lands but its answer is lost
 * const out = await store.put("manifest/1", new Uint8Array([1]), { ifNoneMatch: "*" });
 * console.log(out.written); // true: resolved by reading the object back
 * ```
 */
export class MemoryObjectStore extends ResilientStore {
  readonly #transport: MemoryTransport;

  /** An empty store; `options` set its name, faults, latency and retries. */
  constructor(options: MemoryObjectStoreOptions = {}) {
    const transport = new MemoryTransport(options);
    super(`memory://${options.name ?? "store"}/`, transport, options.retry);
    this.#transport = transport;
  }

  /** Injects a fault into the next matching requests. */
  injectFault(fault: ObjectFault): void {
    this.#transport.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Removes every fault not yet triggered. */
  clearFaults(): void {
    this.#transport.faults.length = 0;
  }

  /** The keys held, in order (for tests). */
  keys(): string[] {
    return [...this.#transport.objects.keys()].sort();
  }
}
