// What every object store of siltdb does around its transport: retries of
// failed requests with exponential backoff and jitter (503 SlowDown, 5xx,
// a connection reset, a timeout), and the resolution of a conditional put
// whose outcome is unknown. The transports (s3_transport.ts, the in-memory
// one of memory_object_store.ts) only speak the protocol; the simulation
// drives this logic through the in-memory transport's injected faults.
//
// Conditional puts carry a unique id in their metadata (PUT_ID_METADATA).
// When one fails in a way that may have been applied (the request went out
// and no answer came back; radosgw answers 500 to the losers of an If-Match
// race), the store reads the object back: our id → it landed; another
// object → the condition failed (someone else won); nothing there (or the
// old ETag still) → it was not applied, and is sent again.

import { SiltError } from "../errors.ts";
import {
  type ByteRange,
  type ListOptions,
  type ListPage,
  newPutId,
  type ObjectInfo,
  type ObjectStore,
  PUT_ID_METADATA,
  type PutOptions,
  type PutOutcome,
  type StoredObject,
} from "./object_store.ts";

/**
 * A request that failed on the way, and may succeed if sent again.
 * `maybeApplied`: a put whose request may have reached the store.
 *
 * @example
 * ```ts
 * throw new TransientError("503 SlowDown on PUT wal/00000000000000000003", 503, true);
 * ```
 */
export class TransientError extends Error {
  /** The HTTP status, when one came back. */
  readonly status: number | undefined;
  /** True when the request may have been applied although it failed. */
  readonly maybeApplied: boolean;

  /** A failure of one request; `maybeApplied` when the store may have applied it. */
  constructor(message: string, status: number | undefined, maybeApplied: boolean) {
    super(message);
    this.name = "TransientError";
    this.status = status;
    this.maybeApplied = maybeApplied;
  }
}

/**
 * The raw protocol of a store: the ObjectStore calls, with failures thrown
 * as TransientError (worth sending again) or SiltError (final: access
 * denied, no such bucket, unsupported).
 *
 * @example
 * ```ts
 * declare const transport: Transport;
 * const page = await transport.list("wal/", {});
 * ```
 */
export type Transport = Omit<ObjectStore, "location">;

/**
 * How requests are retried.
 *
 * @example
 * ```ts
 * const patient: RetryOptions = { attempts: 10, baseDelayMs: 100, maxDelayMs: 5000 };
 * ```
 */
export interface RetryOptions {
  /** Tries in all before the error is final. Default 8. */
  attempts?: number;
  /** First backoff delay, doubled each time, with full jitter. Default 50 ms. */
  baseDelayMs?: number;
  /** Largest backoff delay. Default 2,000 ms. */
  maxDelayMs?: number;
  /** How to wait (the simulation passes its own clock). */
  sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the jitter. */
  random?: () => number;
}

/** Counters of one store's requests (what stats() and metrics() report). */
export interface RequestCounters {
  /** GET requests sent (each attempt counts). */
  gets: number;
  /** HEAD requests sent. */
  heads: number;
  /** PUT requests sent. */
  puts: number;
  /** LIST requests sent. */
  lists: number;
  /** DELETE requests sent. */
  deletes: number;
  /** Requests sent again after a transient failure. */
  retries: number;
  /** Bytes of object data received. */
  bytesRead: number;
  /** Bytes of object data sent. */
  bytesWritten: number;
  /** Milliseconds spent waiting on the store, over every request. */
  waitMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An ObjectStore over a transport, with retries and conditional-put resolution.
 *
 * @example
 * ```ts
 * declare const transport: Transport;
 * const store = new ResilientStore("s3://bucket/prefix", transport, { attempts: 6 });
 * const out = await store.put("manifest/00000000000000000001", new Uint8Array([1]), { ifNoneMatch: "*" });
 * console.log(out.written, store.counters.puts);
 * ```
 */
export class ResilientStore implements ObjectStore {
  /** Where the store is, for messages (s3://bucket/prefix/ or memory://name/). */
  readonly location: string;
  /** Every request made through this store so far. */
  readonly counters: RequestCounters = {
    gets: 0,
    heads: 0,
    puts: 0,
    lists: 0,
    deletes: 0,
    retries: 0,
    bytesRead: 0,
    bytesWritten: 0,
    waitMs: 0,
  };
  readonly #transport: Transport;
  readonly #attempts: number;
  readonly #base: number;
  readonly #max: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  /** A store at `location` sending its requests through `transport`, retried as `retry` says. */
  constructor(location: string, transport: Transport, retry: RetryOptions = {}) {
    this.location = location;
    this.#transport = transport;
    this.#attempts = Math.max(1, retry.attempts ?? 8);
    this.#base = retry.baseDelayMs ?? 50;
    this.#max = retry.maxDelayMs ?? 2000;
    this.#sleep = retry.sleep ?? defaultSleep;
    this.#random = retry.random ?? Math.random;
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    const got = await this.#retry(`GET ${key}`, () => this.#transport.get(key, range), "gets");
    this.counters.bytesRead += got?.data.length ?? 0;
    return got;
  }

  head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined> {
    return this.#retry(`HEAD ${key}`, () => this.#transport.head(key), "heads");
  }

  list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    return this.#retry(`LIST ${prefix}`, () => this.#transport.list(prefix, options), "lists");
  }

  delete(key: string): Promise<void> {
    return this.#retry(`DELETE ${key}`, () => this.#transport.delete(key), "deletes");
  }

  async put(key: string, data: Uint8Array, options: PutOptions = {}): Promise<PutOutcome> {
    const conditional = options.ifNoneMatch !== undefined || options.ifMatch !== undefined;
    const id = newPutId();
    const sent: PutOptions = conditional
      ? { ...options, metadata: { ...options.metadata, [PUT_ID_METADATA]: id } }
      : options;
    for (let attempt = 1;; attempt++) {
      const started = performance.now();
      this.counters.puts++;
      try {
        const out = await this.#transport.put(key, data, sent);
        if (out.written) this.counters.bytesWritten += data.length;
        return out;
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        if (conditional && err.maybeApplied) {
          const resolved = await this.#resolve(key, id, options);
          if (resolved !== undefined) {
            if (resolved.written) this.counters.bytesWritten += data.length;
            return resolved;
          }
        }
        if (attempt >= this.#attempts) throw this.#final(`PUT ${key}`, err, attempt);
        this.counters.retries++;
        await this.#backoff(attempt);
      } finally {
        this.counters.waitMs += performance.now() - started;
      }
    }
  }

  /** After an ambiguous conditional put: its outcome, or undefined when it was not applied (send it again). */
  async #resolve(key: string, id: string, options: PutOptions): Promise<PutOutcome | undefined> {
    const now = await this.head(key);
    if (now === undefined) return options.ifNoneMatch ? undefined : { written: false };
    if (now.metadata[PUT_ID_METADATA] === id) return { written: true, etag: now.etag };
    if (options.ifNoneMatch) return { written: false };
    return now.etag === options.ifMatch ? undefined : { written: false };
  }

  async #retry<T>(what: string, request: () => Promise<T>, counter: keyof RequestCounters): Promise<T> {
    for (let attempt = 1;; attempt++) {
      const started = performance.now();
      this.counters[counter]++;
      try {
        return await request();
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        if (attempt >= this.#attempts) throw this.#final(what, err, attempt);
        this.counters.retries++;
        await this.#backoff(attempt);
      } finally {
        this.counters.waitMs += performance.now() - started;
      }
    }
  }

  #backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.#max, this.#base * 2 ** (attempt - 1));
    return this.#sleep(cap * this.#random());
  }

  #final(what: string, err: TransientError, attempts: number): SiltError {
    return new SiltError(
      "IO_ERROR",
      `${this.location}: ${what} failed after ${attempts} tries: ${err.message}`,
      { file: this.location },
      err,
    );
  }
}

/**
 * The request counters of a store, or of the store it wraps (a DiskCache's
 * `store`); undefined when it keeps none.
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "./memory_object_store.ts";
 * countersOf(new MemoryObjectStore())?.gets; // 0
 * ```
 */
export function countersOf(store: ObjectStore): RequestCounters | undefined {
  const s = store as { counters?: RequestCounters; store?: ObjectStore };
  return s.counters ?? (s.store !== undefined && s.store !== store ? countersOf(s.store) : undefined);
}
