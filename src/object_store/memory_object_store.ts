// An object store in memory with the exact semantics siltdb relies on —
// create-only and compare-and-swap puts that are atomic, ranged reads,
// listings in key order with paging — and faults to inject, for tests and
// the simulation: latency, 500/503 answers, a put applied whose answer is
// lost, and listing lag (new objects missing from listings for a while).
// The retries and the resolution of lost answers are those of every store
// (resilient_store.ts), so the simulation exercises them.
//
// For the simulation of processes sharing one bucket (tests/bucket_sim.test.ts),
// store.client() gives each process its own client — its own retries and
// counters over the same objects — whose process can die at a chosen
// request: from then on none of its requests is answered (those already
// sent may still land), as after a crash. onChange reports every change
// applied, in order, and which client made it.

import { SiltError } from "../errors.ts";
import type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutOutcome,
  StoredObject,
} from "./object_store.ts";
import {
  type RequestCounters,
  ResilientStore,
  type RetryOptions,
  TransientError,
  type Transport,
} from "./resilient_store.ts";

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
  /** Told of every change as it is applied, in order (for the simulation's ground truth). */
  onChange?: (change: ObjectChange) => void;
}

/**
 * A change applied to an in-memory store: an object written (its bytes and
 * metadata) or deleted, and the name of the client that sent it (undefined:
 * the store itself).
 *
 * @example
 * ```ts
 * const seen: ObjectChange[] = [];
 * const store = new MemoryObjectStore({ onChange: (change) => seen.push(change) });
 * ```
 */
export interface ObjectChange {
  /** "put": the object was written; "delete": it was removed (or was not there). */
  op: "put" | "delete";
  /** The object's key. */
  key: string;
  /** The bytes written (a put). */
  data?: Uint8Array;
  /** The user metadata written (a put). */
  metadata?: Record<string, string>;
  /** The client that sent the request (MemoryObjectStore.client), if any. */
  client: string | undefined;
}

/**
 * Options of a client of an in-memory store.
 *
 * @example
 * ```ts
 * const options: MemoryClientOptions = { name: "writer-2", crashAt: 17, crashLands: true };
 * ```
 */
export interface MemoryClientOptions {
  /** Shown in onChange. Default "client-<n>". */
  name?: string;
  /** Retries of this client's requests. Default: the store's. */
  retry?: RetryOptions;
  /**
   * The client's process dies at its request number crashAt (from 1; each
   * attempt, retry and read-back counts): that request and every later one
   * are never answered. Default: it never dies by itself (see crash()).
   */
  crashAt?: number;
  /** Whether request crashAt reaches the store (is applied) before the process dies. Default false. */
  crashLands?: boolean;
}

class MemoryTransport implements Transport {
  readonly objects: Map<string, Entry> = new Map();
  readonly faults: (ObjectFault & { left: number })[] = [];
  #etags = 0;
  readonly #name: string;
  readonly #latency: () => number;
  readonly #listLag: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onChange: ((change: ObjectChange) => void) | undefined;

  constructor(o: MemoryObjectStoreOptions) {
    this.#name = o.name ?? "store";
    const latency = o.latencyMs ?? 0;
    this.#latency = typeof latency === "function" ? latency : () => latency;
    this.#listLag = o.listLagMs ?? 0;
    this.#now = o.now ?? Date.now;
    this.#sleep = o.retry?.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#onChange = o.onChange;
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

  async put(key: string, data: Uint8Array, options: PutOptions = {}, client?: string): Promise<PutOutcome> {
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
    this.#onChange?.({ op: "put", key, data: data.slice(), metadata: { ...options.metadata }, client });
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

  async delete(key: string, client?: string): Promise<void> {
    const fault = await this.#enter("delete", key);
    this.objects.delete(key);
    this.#onChange?.({ op: "delete", key, client });
    if (fault === "lost") throw this.#lost("delete", key);
  }
}

/** The requests of one client: counted, and never answered once its process is dead. */
class ClientTransport implements Transport {
  readonly #shared: MemoryTransport;
  readonly name: string;
  readonly #crashAt: number;
  readonly #crashLands: boolean;
  requests = 0;
  dead = false;
  #released = false;
  readonly #hung: ((err: Error) => void)[] = [];

  constructor(shared: MemoryTransport, name: string, o: MemoryClientOptions) {
    this.#shared = shared;
    this.name = name;
    this.#crashAt = o.crashAt ?? Infinity;
    this.#crashLands = o.crashLands ?? false;
  }

  /** A request that never answers (until release(): then it fails). */
  #never<T>(): Promise<T> {
    if (this.#released) return Promise.reject(this.#gone());
    return new Promise<T>((_, reject) => this.#hung.push(reject));
  }

  #gone(): SiltError {
    return new SiltError("IO_ERROR", `memory client ${this.name}: its process is dead`);
  }

  release(): void {
    this.#released = true;
    for (const reject of this.#hung.splice(0)) reject(this.#gone());
  }

  async #send<T>(request: () => Promise<T>): Promise<T> {
    const n = ++this.requests;
    if (this.dead) return this.#never();
    if (n >= this.#crashAt) {
      this.dead = true;
      if (this.#crashLands) request().catch(() => {}); // sent as the process died: it may still land
      return this.#never();
    }
    try {
      const out = await request();
      return this.dead ? this.#never() : out;
    } catch (err) {
      if (this.dead) return this.#never();
      throw err;
    }
  }

  get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    return this.#send(() => this.#shared.get(key, range));
  }

  head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined> {
    return this.#send(() => this.#shared.head(key));
  }

  put(key: string, data: Uint8Array, options?: PutOptions): Promise<PutOutcome> {
    return this.#send(() => this.#shared.put(key, data, options, this.name));
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#send(() => this.#shared.list(prefix, options));
  }

  delete(key: string): Promise<void> {
    return this.#send(() => this.#shared.delete(key, this.name));
  }
}

/**
 * One process's client of an in-memory store (MemoryObjectStore.client):
 * its own retries and counters over the shared objects, and a process that
 * can die at a chosen request or at once (crash()): from then on none of its
 * requests is answered, as after a crash (requests already sent may still
 * land). release() then fails them, so that a database abandoned on it can
 * be closed and its memory freed.
 *
 * @example
 * ```ts
 * const store = new MemoryObjectStore({ name: "sim" });
 * const writer: MemoryClient = store.client({ name: "writer-1", crashAt: 12 });
 * // open("memory://sim/", { objectStore: writer }) ... its 12th request never answers
 * console.log(writer.requests, writer.crashed);
 * ```
 */
export interface MemoryClient extends ObjectStore {
  /** The client's name (as onChange reports it). */
  readonly name: string;
  /** Requests sent so far (every attempt counts). */
  readonly requests: number;
  /** True once the client's process is dead. */
  readonly crashed: boolean;
  /** Every request made through this client so far. */
  readonly counters: RequestCounters;
  /** The process dies now: requests in flight and later ones are never answered. */
  crash(): void;
  /** After a crash: the requests never answered, and every later one, fail with IO_ERROR. */
  release(): void;
}

class Client extends ResilientStore implements MemoryClient {
  readonly #transport: ClientTransport;

  constructor(location: string, transport: ClientTransport, retry: RetryOptions | undefined) {
    super(location, transport, retry);
    this.#transport = transport;
  }

  get name(): string {
    return this.#transport.name;
  }

  get requests(): number {
    return this.#transport.requests;
  }

  get crashed(): boolean {
    return this.#transport.dead;
  }

  crash(): void {
    this.#transport.dead = true;
  }

  release(): void {
    this.#transport.dead = true;
    this.#transport.release();
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
  readonly #retry: RetryOptions | undefined;
  #clients = 0;

  /** An empty store; `options` set its name, faults, latency and retries. */
  constructor(options: MemoryObjectStoreOptions = {}) {
    const transport = new MemoryTransport(options);
    super(`memory://${options.name ?? "store"}/`, transport, options.retry);
    this.#transport = transport;
    this.#retry = options.retry;
  }

  /**
   * A client of this store for one process of a simulation: the same
   * objects and faults, its own retries and counters, and a process that can
   * die (see MemoryClient).
   */
  client(options: MemoryClientOptions = {}): MemoryClient {
    const name = options.name ?? `client-${++this.#clients}`;
    return new Client(
      this.location,
      new ClientTransport(this.#transport, name, options),
      options.retry ?? this.#retry,
    );
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
