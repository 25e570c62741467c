// Conflict tracking for conditional writes: what transactions and batches
// with checks validate against when they commit.
//
// A reader of the store that means to write conditionally registers at a
// read point S (a visible sequence). From then on, while any registration
// is open, every write stamped by the writer is recorded here by key (its
// stored bytes, kept as a "binary string": one char per byte, so that
// string order is byte order) with the sequence of its newest version and
// whether that version is a delete. Writes stamped before the registration
// but not yet applied (a pending group, a WAL object in flight) are
// recorded at registration from the pipeline's records. So at commit —
// synchronously, at the moment the writer stamps the conditional batch —
// "was key k written after S?" is one map lookup, and "was anything in
// [lo, hi) written after S?" one pass over the recorded keys.
//
// A range delete (a range tombstone) is recorded as a range: it counts as a
// write, a delete, of every key in it.
//
// Entries no open registration can ask about (sequence <= the oldest read
// point) are dropped as the map grows, and everything when the last
// registration closes: with no transaction or conditional batch open,
// writes cost nothing here.

import { KIND_DELETE, KIND_RANGE_DELETE } from "../format/internal_key.ts";
import { type BatchEntryAt, forEachBatchEntry } from "../format/batch_format.ts";
import { forEachRecordPayload } from "../format/log_format.ts";

/** A stored key as a string of one char per byte (byte order = string order). */
export function binaryString(key: Uint8Array, start = 0, end = key.length): string {
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, key.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return s;
}

/** The newest write recorded for a key: its sequence, and whether it deleted the key. */
export interface RecordedWrite {
  sequence: number;
  deleted: boolean;
}

/**
 * One open registration: the read point its writes are validated against.
 *
 * @example
 * ```ts
 * declare const tracker: ConflictTracker;
 * const reg = tracker.register(42, () => {});
 * tracker.writtenAfter("k", reg.readPoint); // false unless "k" was written after 42
 * tracker.release(reg);
 * ```
 */
export interface Registration {
  readonly readPoint: number;
}

/**
 * The newest stamped write of each key while conditional writes are open.
 *
 * @example
 * ```ts
 * const tracker = new ConflictTracker();
 * const reg = tracker.register(10, () => {}); // no write in flight
 * tracker.record("k", 11, false);
 * console.log(tracker.writtenAfter("k", reg.readPoint)); // true
 * tracker.release(reg);
 * ```
 */
export class ConflictTracker {
  #writes = new Map<string, RecordedWrite>();
  /** Range deletes recorded: [start, end) as binary strings (end undefined: no end). */
  #ranges: { start: string; end: string | undefined; sequence: number }[] = [];
  #open = new Set<{ readPoint: number }>();
  #trimAt = 1024;

  /** True while a registration is open: the writer records its writes. */
  get active(): boolean {
    return this.#open.size > 0;
  }

  /**
   * Opens a registration at readPoint (a visible sequence).
   * `recordInFlight` is called (when this is the first one open) to record
   * the writes stamped but not yet applied, through recordRecords.
   */
  register(readPoint: number, recordInFlight: () => void): Registration {
    const reg = { readPoint };
    const first = this.#open.size === 0;
    this.#open.add(reg);
    if (first) recordInFlight();
    return reg;
  }

  /** Closes a registration (idempotent). */
  release(reg: Registration): void {
    this.#open.delete(reg as { readPoint: number });
    if (this.#open.size === 0) {
      this.#writes.clear();
      this.#ranges = [];
      this.#trimAt = 1024;
    }
  }

  /** Records a stamped write of key (a binary string). */
  record(key: string, sequence: number, deleted: boolean): void {
    const known = this.#writes.get(key);
    if (known === undefined) this.#writes.set(key, { sequence, deleted });
    else if (sequence > known.sequence) {
      known.sequence = sequence;
      known.deleted = deleted;
    }
    if (this.#writes.size + this.#ranges.length >= this.#trimAt) this.#trim();
  }

  /** Records every entry of sealed records (back to back, as a pending group holds them). */
  recordRecords(records: Uint8Array): void {
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    forEachRecordPayload(records, (payload) => this.recordBatch(records, dv, payload));
  }

  /** Records every entry of the batch payload at `payload` of mem (numbered from `sequence` when not stamped yet). */
  recordBatch(mem: Uint8Array, dv: DataView, payload: number, sequence?: number): void {
    const visit = (e: BatchEntryAt) => {
      if (e.kind === KIND_RANGE_DELETE) {
        const end = mem[e.valueStart] === 1 ? binaryString(mem, e.valueStart + 1, e.valueEnd) : undefined;
        this.#ranges.push({ start: binaryString(mem, e.keyStart, e.keyEnd), end, sequence: e.sequence });
      } else {
        this.record(binaryString(mem, e.keyStart, e.keyEnd), e.sequence, e.kind === KIND_DELETE);
      }
    };
    forEachBatchEntry(mem, dv, payload, visit, sequence);
  }

  /** The newest recorded write of key, if any (a range delete covering it counts). */
  newest(key: string): RecordedWrite | undefined {
    const w = this.#writes.get(key);
    let range = 0;
    for (const r of this.#ranges) {
      if (r.sequence > range && key >= r.start && (r.end === undefined || key < r.end)) range = r.sequence;
    }
    if (range > (w?.sequence ?? 0)) return { sequence: range, deleted: true };
    return w;
  }

  /** True when key was written (or deleted by a range delete) after `sequence`. */
  writtenAfter(key: string, sequence: number): boolean {
    const w = this.newest(key);
    return w !== undefined && w.sequence > sequence;
  }

  /**
   * True when a key of the range was written after `sequence`: lower and
   * upper are binary strings (undefined: unbounded), each inclusive or not.
   */
  rangeWrittenAfter(
    lower: string | undefined,
    lowerInclusive: boolean,
    upper: string | undefined,
    upperInclusive: boolean,
    sequence: number,
  ): boolean {
    for (const [key, w] of this.#writes) {
      if (w.sequence <= sequence) continue;
      if (lower !== undefined && (lowerInclusive ? key < lower : key <= lower)) continue;
      if (upper !== undefined && (upperInclusive ? key > upper : key >= upper)) continue;
      return true;
    }
    // A range delete meeting the range (an exclusive lower bound may make this one key too eager: a conflict, never a miss).
    return this.#ranges.some((r) =>
      r.sequence > sequence &&
      (lower === undefined || r.end === undefined || r.end > lower) &&
      (upper === undefined || (upperInclusive ? r.start <= upper : r.start < upper))
    );
  }

  /** Drops what no open registration can ask about. */
  #trim(): void {
    let oldest = Infinity;
    for (const reg of this.#open) oldest = Math.min(oldest, reg.readPoint);
    for (const [key, w] of this.#writes) if (w.sequence <= oldest) this.#writes.delete(key);
    this.#ranges = this.#ranges.filter((r) => r.sequence > oldest);
    this.#trimAt = Math.max(1024, this.#writes.size * 2);
  }
}
