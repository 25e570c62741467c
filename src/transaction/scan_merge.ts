// A transaction's scan: the snapshot's entries of a range merged with the
// transaction's own writes in that range (its puts added or replacing, its
// deletes hiding), in key order or reverse, up to the scan's limit. Keys
// are compared by their stored bytes, as binary strings
// (src/write/conflicts.ts).

import type { Encoding } from "../encoding.ts";
import { boundBytes, resolveRange } from "../read/range.ts";
import type { ScanOptions } from "../read/scan_options.ts";
import { binaryString } from "../write/conflicts.ts";
import type { WriteSet } from "./write_set.ts";

/** A range a transaction read: binary-string bounds (undefined: open). */
export interface ReadRange {
  lower: string | undefined;
  lowerInclusive: boolean;
  upper: string | undefined;
  upperInclusive: boolean;
}

const encoder = new TextEncoder();
const asBinary = (data: string | Uint8Array): string =>
  binaryString(typeof data === "string" ? encoder.encode(data) : data);

/**
 * The state of one merged scan: feed it the snapshot's entries in order
 * (push), then take the rest of the transaction's writes (rest).
 *
 * @example
 * ```ts
 * import { encodingNamed } from "../encoding.ts";
 * import { WriteSet } from "./write_set.ts";
 * const utf8 = encodingNamed("utf8", "keyEncoding");
 * const limits = { keyEncoding: utf8, valueEncoding: utf8, maxKeySize: 1024, maxValueSize: 1024 };
 * const writes = new WriteSet<string, string>(limits);
 * writes.put("b", "2");
 * const merge = new ScanMerge<string, string>({}, limits, writes);
 * console.log([...merge.push(["a", "1"]), ...merge.push(["c", "3"]), ...merge.rest()]); // a, b, c
 * ```
 */
export class ScanMerge<K, V> {
  /** The options for the snapshot's scan: the range and direction, without the limit. */
  readonly snapshotOptions: ScanOptions<K>;
  /** True once the scan went through the whole range. */
  finished = false;
  readonly #keyEncoding: Encoding<unknown>;
  readonly #writes: WriteSet<K, V>;
  readonly #own: readonly string[];
  readonly #reverse: boolean;
  readonly #limit: number;
  readonly #range: ReadRange;
  #next = 0;
  #emitted = 0;
  /** The last key the scan reached (binary string). */
  #last: string | undefined;

  constructor(
    options: Record<string, unknown>,
    ctx: { keyEncoding: Encoding<unknown>; maxKeySize: number },
    writes: WriteSet<K, V>,
  ) {
    const range = resolveRange(options, ctx.keyEncoding, ctx.maxKeySize, "scan");
    const lower = range.lower && asBinary(boundBytes(range.lower));
    const upper = range.upper && asBinary(boundBytes(range.upper));
    this.#range = {
      lower,
      lowerInclusive: range.lower?.[1] ?? true,
      upper,
      upperInclusive: range.upper?.[1] ?? true,
    };
    const inRange = (k: string) =>
      !range.empty &&
      (lower === undefined || (this.#range.lowerInclusive ? k >= lower : k > lower)) &&
      (upper === undefined || (this.#range.upperInclusive ? k <= upper : k < upper));
    const own = writes.sortedKeys().filter(inRange);
    this.#reverse = options.reverse === true;
    if (this.#reverse) own.reverse();
    this.#own = own;
    this.#writes = writes;
    this.#keyEncoding = ctx.keyEncoding;
    const { limit, ...rest } = options;
    this.#limit = limit === undefined || limit === -1 ? Infinity : limit as number;
    this.snapshotOptions = rest as ScanOptions<K>;
  }

  /** True once the scan gave `limit` entries. */
  get full(): boolean {
    return this.#emitted >= this.#limit;
  }

  /** What to give out for the snapshot's next entry: own puts before it, then it (or its own replacement); stops once full. */
  *push(entry: [K, V]): Generator<[K, V]> {
    const name = asBinary(this.#keyEncoding.encode(entry[0], "key"));
    while (!this.full && this.#next < this.#own.length && this.#before(this.#own[this.#next], name)) {
      const out = this.#ownEntry(this.#own[this.#next++]);
      if (out !== undefined) yield this.#counted(out);
    }
    if (this.full) return;
    this.#last = name;
    if (this.#next < this.#own.length && this.#own[this.#next] === name) {
      const out = this.#ownEntry(this.#own[this.#next++]);
      if (out !== undefined) yield this.#counted(out);
      return;
    }
    yield this.#counted(entry);
  }

  /** The transaction's writes after the snapshot's last entry (up to the limit); then the scan is finished. */
  *rest(): Generator<[K, V]> {
    while (!this.full && this.#next < this.#own.length) {
      const out = this.#ownEntry(this.#own[this.#next++]);
      if (out !== undefined) yield this.#counted(out);
    }
    if (!this.full) this.finished = true;
  }

  /** The range the scan read: the whole range, or up to the last key it reached. */
  rangeRead(): ReadRange {
    if (this.finished || this.#last === undefined) return this.#range;
    return this.#reverse
      ? { ...this.#range, lower: this.#last, lowerInclusive: true }
      : { ...this.#range, upper: this.#last, upperInclusive: true };
  }

  #before(a: string, b: string): boolean {
    return this.#reverse ? a > b : a < b;
  }

  #ownEntry(name: string): [K, V] | undefined {
    this.#last = name;
    const w = this.#writes.lookup(name)!;
    return w.value === undefined ? undefined : [w.key, w.value];
  }

  #counted(entry: [K, V]): [K, V] {
    this.#emitted++;
    return entry;
  }
}
