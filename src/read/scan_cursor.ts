// The machinery of a scan: the cursor that pulls visible entries from the
// core (src/wasm/scan_iterator.ts) in batches, lets the block provider
// answer its sources' requests, and decodes what the scan's shape asks for.
//
// One core call fills up to `batch` entries (16, doubling up to 1024); the
// first is made when the scan is. Table sources take indexes of open tables
// and cached blocks inside the core; only when a table is not open or a
// block not cached does the fill stop early: the cursor decodes what was
// filled, and at the next fill the provider opens the table or reads the
// block into the cache and hands it to the source, and the cursor goes on.
// A scan holds its read view (memtables and table version) and the blocks
// its sources sit on until it ends, is closed (break out of for-of /
// for-await calls return(), `using` calls [Symbol.dispose]()), its signal
// is aborted, its database closes, or it is garbage collected. A scan that
// ends in its first fill (a short seek over cached blocks) holds nothing
// past it: it is neither tracked by the reader nor watched by the finalizer.

import { describe, type Encoding } from "../encoding.ts";
import { invalidArgument, isTrap, SiltError } from "../errors.ts";
import { checkCallOptions } from "../options.ts";
import type { BlockProvider } from "../table/block_provider.ts";
import { ScanStatus } from "../wasm/abi.ts";
import { words } from "../wasm/instance.ts";
import { CoreScan } from "../wasm/scan_iterator.ts";
import { copiesAt, copiesInRuns, copyOut, textsAt } from "../wasm/values.ts";
import { TrackedScan } from "./open_scans.ts";
import { resolveRange } from "./range.ts";
import type { ReadView } from "./read_view.ts";
import { resolveLimit, SCAN_OPTIONS, type Shape } from "./scan_options.ts";

const FIRST_BATCH = 16;
const MAX_BATCH = 1024;

/** What a scan needs from its database. */
export interface ScanSource {
  readonly keyEncoding: Encoding<unknown>;
  readonly valueEncoding: Encoding<unknown>;
  /** Largest key size (bounds longer than this are refused). */
  readonly maxKeySize: number;
  /** Opens tables and reads blocks for the scan's sources. */
  readonly provider: BlockProvider;
  /** False for a store in a bucket: only readAsync and countAsync may read it. */
  readonly synchronous: boolean;
  /** Throws CLOSED once the database is closed. */
  checkOpen(): void;
  /** The core trapped: closes the database; returns the error to throw. */
  onTrap(err: unknown): Error;
  /** The current read view, referenced. */
  acquireView(): ReadView;
  /** Tracks a scan's resources so the database can release them at close. */
  track(scan: TrackedScan): void;
  /** Stops tracking them (they were released). */
  untrack(scan: TrackedScan): void;
}

/** Everything a scan holds, releasable without the cursor object (for the finalizer). */
class ScanResources extends TrackedScan {
  scan: CoreScan | undefined;
  view: ReadView | undefined;
  /** The source that tracks these resources, while it does. */
  tracker: ScanSource | undefined;

  release(): void {
    this.scan?.free(); // frees the sources: they let go of their tables and blocks
    this.scan = undefined;
    this.view?.release();
    this.view = undefined;
    const tracker = this.tracker;
    this.tracker = undefined;
    tracker?.untrack(this);
  }
}

const finalizer = new FinalizationRegistry<ScanResources>((resources) => resources.release());

/** Watches the signal of a scan: an abort records the error and frees the scan's resources. */
class AbortWatch {
  error: SiltError | undefined;
  #detach: (() => void) | undefined;

  constructor(signal: AbortSignal, res: ScanResources) {
    const onAbort = () => {
      this.error ??= abortError(signal);
      res.release();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detach = () => signal.removeEventListener("abort", onAbort);
  }

  /** Stops watching. Idempotent. */
  detach(): void {
    this.#detach?.();
    this.#detach = undefined;
  }
}

function abortError(signal: AbortSignal): SiltError {
  const reason = signal.reason;
  const why = reason instanceof Error ? `: ${reason.message}` : reason === undefined ? "" : `: ${String(reason)}`;
  return new SiltError("ABORTED", `the scan was aborted${why}`, {}, reason);
}

/** Whether a fill's items in this encoding are decoded together when they lie one after the other. */
function inRuns(encoding: Encoding<unknown>): boolean {
  return encoding.name === "utf8" || (encoding.name === "binary" && copiesInRuns);
}

/**
 * The n items at field (0: keys, 2: values) of a fill, decoded together
 * (see inRuns; keys always lie one after the other), or undefined: decode
 * each.
 */
function decodeAll(
  encoding: Encoding<unknown>,
  w: Uint32Array,
  q: number,
  n: number,
  field: number,
): unknown[] | undefined {
  if (!inRuns(encoding)) return undefined;
  return encoding.name === "utf8" ? textsAt(w, q, n, field) : copiesAt(w, q, n, field);
}

function isSignal(value: unknown): value is AbortSignal {
  const s = value as Record<string, unknown> | null;
  return typeof s === "object" && s !== null && typeof s.aborted === "boolean" &&
    typeof s.addEventListener === "function" && typeof s.removeEventListener === "function";
}

/**
 * A scan in progress: pulls visible entries from the core in batches and
 * decodes what its shape asks for. Users get it wrapped as a ScanIterator
 * (async) or ScanIteratorSync (scan_iterator.ts).
 *
 * @example
 * ```ts
 * declare const source: ScanSource; // what the database gives its scans
 * declare const sequence: number; // the last write the scan sees
 * const cursor = new ScanCursor<[string, string]>(source, sequence, { gte: "a", limit: 10 }, "entries");
 * for (let e = cursor.read(); e !== undefined; e = cursor.read()) console.log(e);
 * const n = new ScanCursor<never>(source, sequence, { prefix: "a" }, "none", "count").count();
 * ```
 */
export class ScanCursor<T> {
  #source: ScanSource;
  #res = new ScanResources();
  #shape: Shape;
  #entries: T[] = [];
  #index = 0;
  #remaining: number;
  #batch = FIRST_BATCH;
  #exhausted = false;
  #abort: AbortWatch | undefined;
  /** Whether the finalizer watches this cursor (its scan outlived the first fill). */
  #registered = false;
  /** What the first fill threw, thrown by the first read. */
  #error: unknown;

  /**
   * Checks the options (INVALID_ARGUMENT names the bad one; ABORTED for an
   * aborted signal) and starts the scan as of sequence.
   */
  constructor(source: ScanSource, sequence: number, options: unknown, shape: Shape, call = "scan") {
    source.checkOpen();
    const o = checkCallOptions(options, call, SCAN_OPTIONS) ?? {};
    const limit = resolveLimit(o.limit, call);
    const reverse = o.reverse ?? false;
    if (typeof reverse !== "boolean") {
      throw invalidArgument(`${call} option reverse must be a boolean, got ${describe(reverse)}`);
    }
    const signal = o.signal;
    if (signal !== undefined && !isSignal(signal)) {
      throw invalidArgument(`${call} option signal must be an AbortSignal, got ${describe(signal)}`);
    }
    const { lower, upper, empty } = resolveRange(o, source.keyEncoding, source.maxKeySize, call);
    if (signal?.aborted) throw abortError(signal);
    this.#source = source;
    this.#shape = shape;
    this.#remaining = limit;
    const res = this.#res;
    if (limit === 0 || empty) {
      this.#exhausted = true;
      if (signal !== undefined) this.#abort = new AbortWatch(signal, res);
      return;
    }
    const view = source.acquireView();
    res.view = view;
    const values = shape === "entries" || shape === "values";
    res.scan = new CoreScan(view, sequence, reverse, lower, upper, values && inRuns(source.valueEncoding));
    if (shape !== "none") this.#fillFirst();
    if (!this.#exhausted) {
      source.track(res);
      res.tracker = source;
      finalizer.register(this, res, this);
      this.#registered = true;
    }
    if (signal !== undefined) this.#abort = new AbortWatch(signal, res); // last: nothing can fail after it
  }

  /**
   * The first fill, made at the start: a short scan whose entries all come
   * from cached blocks and memtables ends here and frees its resources, so
   * it is never tracked nor registered with the finalizer (which cost a
   * short scan more than its fill). A source that needs a block is
   * answered at the next fill; an error waits for the first read.
   */
  #fillFirst(): void {
    try {
      this.#fillFromCore();
    } catch (err) {
      this.#entries = [];
      this.#index = 0;
      this.#error = isTrap(err) ? this.#source.onTrap(err) : err;
    }
  }

  /** True when read() and count() may be used (tables on disk); else readAsync and countAsync. */
  get synchronous(): boolean {
    return this.#source.synchronous;
  }

  /**
   * The next item, or undefined at the end. Throws CLOSED if the database
   * closed meanwhile, ABORTED once the signal was aborted; UNSUPPORTED for
   * a store in a bucket (readAsync reads it).
   */
  read(): T | undefined {
    if (this.#abort?.error) throw this.#abort.error;
    if (this.#index === 0) this.#begin(true);
    while (this.#index >= this.#entries.length) {
      if (this.#exhausted) {
        this.#abort?.detach();
        return undefined;
      }
      this.#fill();
    }
    return this.#take();
  }

  /** read(), awaiting the tables and blocks the scan needs (a store in a bucket; also works on disk). */
  async readAsync(): Promise<T | undefined> {
    if (this.#abort?.error) throw this.#abort.error;
    if (this.#index === 0) this.#begin(false);
    while (this.#index >= this.#entries.length) {
      if (this.#exhausted) {
        this.#abort?.detach();
        return undefined;
      }
      await this.#fillAsync();
      if (this.#abort?.error) throw this.#abort.error;
    }
    return this.#take();
  }

  /** Counts the remaining entries without decoding them (a cursor of shape "none"), and ends the scan. */
  count(): number {
    let n = this.#entries.length - this.#index;
    this.#entries = [];
    this.#index = 0;
    while (!this.#exhausted) {
      if (this.#abort?.error) throw this.#abort.error;
      this.#checkSynchronous();
      n += this.#fill();
    }
    this.close();
    return n;
  }

  /** count(), awaiting what the scan needs. */
  async countAsync(): Promise<number> {
    let n = this.#entries.length - this.#index;
    this.#entries = [];
    this.#index = 0;
    while (!this.#exhausted) {
      if (this.#abort?.error) throw this.#abort.error;
      n += await this.#fillAsync();
    }
    this.close();
    return n;
  }

  /**
   * Checks made when a read begins a batch (once a batch is begun, what the
   * scan copied out is handed over whatever happens meanwhile): UNSUPPORTED
   * for a synchronous read of a store in a bucket, CLOSED once the database
   * closed, and what the first fill threw, once.
   */
  #begin(synchronous: boolean): void {
    if (synchronous) this.#checkSynchronous();
    this.#source.checkOpen();
    const err = this.#error;
    if (err === undefined) return;
    this.#error = undefined;
    throw err;
  }

  #take(): T {
    const entry = this.#entries[this.#index];
    this.#entries[this.#index++] = undefined as T;
    return entry;
  }

  #checkSynchronous(): void {
    if (!this.#source.synchronous) {
      throw new SiltError(
        "UNSUPPORTED",
        "a store in a bucket is read asynchronously: use scan(), keys(), values() (for await) or count(), " +
          "not scanSync(), keysSync() or valuesSync()",
      );
    }
  }

  /** Ends the scan early and frees its resources. Idempotent. */
  close(): void {
    this.#entries = [];
    this.#index = 0;
    this.#abort?.detach();
    this.#release();
  }

  /** Fills the buffer from the core; returns how many entries it took. */
  #fill(): number {
    this.#source.checkOpen();
    try {
      const scan = this.#res.scan!;
      if (scan.status === ScanStatus.Need) this.#source.provider.answerSource(scan.stoppedSource());
      return this.#fillFromCore();
    } catch (err) {
      if (isTrap(err)) throw this.#source.onTrap(err);
      throw err;
    }
  }

  /** #fill, awaiting the table or block a source needs. */
  async #fillAsync(): Promise<number> {
    this.#source.checkOpen();
    try {
      const scan = this.#res.scan!;
      if (scan.status === ScanStatus.Need) await this.#source.provider.answerSourceAsync(scan.stoppedSource());
      return this.#fillFromCore();
    } catch (err) {
      if (isTrap(err)) throw this.#source.onTrap(err);
      throw err;
    }
  }

  #fillFromCore(): number {
    const scan = this.#res.scan!;
    const out = scan.fill(Math.min(this.#batch, this.#remaining));
    const n = scan.count;
    const shape = this.#shape;
    if (shape !== "none") {
      const w = words();
      const keyEnc = this.#source.keyEncoding;
      const valueEnc = this.#source.valueEncoding;
      const entries: unknown[] = new Array(n);
      let q = out >>> 2;
      const keys = shape !== "values" ? decodeAll(keyEnc, w, q, n, 0) : undefined;
      const values = shape === "entries" || shape === "values" ? decodeAll(valueEnc, w, q, n, 2) : undefined;
      if (shape === "entries") {
        for (let i = 0; i < n; i++, q += 4) {
          entries[i] = [
            keys ? keys[i] : keyEnc.decode(w[q], w[q + 1]),
            values ? values[i] : valueEnc.decode(w[q + 2], w[q + 3]),
          ];
        }
      } else if (shape === "keys") {
        for (let i = 0; i < n; i++, q += 4) entries[i] = keys ? keys[i] : keyEnc.decode(w[q], w[q + 1]);
      } else if (shape === "values") {
        for (let i = 0; i < n; i++, q += 4) entries[i] = values ? values[i] : valueEnc.decode(w[q + 2], w[q + 3]);
      } else {
        for (let i = 0; i < n; i++, q += 4) entries[i] = copyOut(w[q], w[q + 1]);
      }
      this.#entries = entries as T[];
      this.#index = 0;
    }
    this.#remaining -= n;
    if (n > 0 && this.#batch < MAX_BATCH) this.#batch *= 2;
    const status = scan.status;
    if (status === ScanStatus.Corrupt) throw this.#source.provider.sourceCorruption(scan.stoppedSource());
    if (status === ScanStatus.Done || this.#remaining === 0) this.#release();
    return n;
  }

  /** Marks the end of the entries from the core and frees its resources; buffered entries stay. */
  #release(): void {
    this.#exhausted = true;
    if (this.#registered) {
      this.#registered = false;
      finalizer.unregister(this);
    }
    this.#res.release();
  }
}
