// Deno KV's limits, and its words when one is exceeded (siltdb/kv keeps both
// so that code written for Deno KV meets the same errors here). Every
// violation is a TypeError thrown before anything is read or written.

/** Largest key a write may name, in encoded bytes. */
export const MAX_WRITE_KEY_BYTES = 2048;
/** Largest key a read may name, in encoded bytes (one more: a range end may add a byte). */
export const MAX_READ_KEY_BYTES = MAX_WRITE_KEY_BYTES + 1;
/** Largest value, in encoded bytes. */
export const MAX_VALUE_BYTES = 65536;
/** Most keys one getMany may read. */
export const MAX_READ_RANGES = 10;
/** Most entries one read (one list batch) may return. */
export const MAX_READ_ENTRIES = 1000;
/** Most checks in one atomic operation. */
export const MAX_CHECKS = 100;
/** Most mutations and enqueues in one atomic operation. */
export const MAX_MUTATIONS = 1000;
/** Most keys one watch may watch. */
export const MAX_WATCHED_KEYS = 10;
/** Most bytes of keys, values and queue payloads in one atomic operation. */
export const MAX_TOTAL_MUTATION_BYTES = 800 * 1024;
/** Most bytes of mutated keys in one atomic operation. */
export const MAX_TOTAL_KEY_BYTES = 80 * 1024;
/** Longest queue delay (30 days), in milliseconds. */
export const MAX_QUEUE_DELAY_MS = 30 * 24 * 60 * 60 * 1000;
/** Most intervals in a backoff schedule. */
export const MAX_BACKOFF_INTERVALS = 5;
/** Longest backoff interval (1 hour), in milliseconds. */
export const MAX_BACKOFF_INTERVAL_MS = 60 * 60 * 1000;
/** Latest time an entry may expire at: JavaScript's last representable date. */
export const MAX_EXPIRE_AT_MS = 8.64e15;

/**
 * Throws unless an encoded key may be written (and is not empty).
 *
 * @example
 * ```ts
 * checkWriteKey(new Uint8Array(2049)); // TypeError: Key too large for write (max 2048 bytes)
 * ```
 */
export function checkWriteKey(key: Uint8Array): void {
  if (key.length === 0) throw new TypeError("key cannot be empty");
  if (key.length > MAX_WRITE_KEY_BYTES) {
    throw new TypeError(`Key too large for write (max ${MAX_WRITE_KEY_BYTES} bytes)`);
  }
}

/**
 * Throws unless an encoded key (or range bound) may be read.
 *
 * @example
 * ```ts
 * checkReadKey(new Uint8Array(2050)); // TypeError: Key too large for read (max 2049 bytes)
 * ```
 */
export function checkReadKey(key: Uint8Array): void {
  if (key.length > MAX_READ_KEY_BYTES) throw new TypeError(`Key too large for read (max ${MAX_READ_KEY_BYTES} bytes)`);
}

/**
 * Throws unless an encoded value fits.
 *
 * @example
 * ```ts
 * checkValueSize(65537); // TypeError: Value too large (max 65536 bytes)
 * ```
 */
export function checkValueSize(bytes: number, what = "Value"): void {
  if (bytes > MAX_VALUE_BYTES) throw new TypeError(`${what} too large (max ${MAX_VALUE_BYTES} bytes)`);
}

/**
 * The expiry time of `expireIn` milliseconds from now; a TypeError unless it
 * is a non-negative integer and the time is representable.
 *
 * @example
 * ```ts
 * expireAtOf(1000, 0); // 1000
 * expireAtOf(undefined, 0); // undefined
 * ```
 */
export function expireAtOf(expireIn: unknown, now: number): number | undefined {
  if (expireIn === undefined) return undefined;
  checkExpireIn(expireIn);
  if (now + (expireIn as number) > MAX_EXPIRE_AT_MS) {
    throw new TypeError(
      `expireIn is too large: ${expireIn} (the entry would expire after the last date JavaScript represents)`,
    );
  }
  return now + (expireIn as number);
}

/**
 * Throws unless expireIn is a non-negative integer (undefined passes).
 *
 * @example
 * ```ts
 * checkExpireIn(1.5); // TypeError: expireIn must be a non-negative integer
 * ```
 */
export function checkExpireIn(expireIn: unknown): void {
  if (expireIn === undefined) return;
  if (typeof expireIn !== "number" || !Number.isSafeInteger(expireIn) || expireIn < 0) {
    throw new TypeError(`expireIn must be a non-negative integer: received ${String(expireIn)}`);
  }
}

/**
 * Throws unless a queue delay is allowed (0 to 30 days; undefined passes).
 *
 * @example
 * ```ts
 * checkDelay(-1); // TypeError: Delay must be >= 0: received -1
 * ```
 */
export function checkDelay(delay: unknown): void {
  if (delay === undefined) return;
  if (typeof delay !== "number") throw new TypeError(`Delay must be a number: received ${typeof delay}`);
  if (Number.isNaN(delay)) throw new TypeError("Delay cannot be NaN");
  if (delay < 0) throw new TypeError(`Delay must be >= 0: received ${delay}`);
  if (delay > MAX_QUEUE_DELAY_MS) throw new TypeError(`Delay cannot be greater than 30 days: received ${delay}`);
}

/**
 * Throws unless a backoff schedule is allowed (at most 5 intervals of 0 to 1 hour; undefined passes).
 *
 * @example
 * ```ts
 * checkBackoffSchedule([1, 1, 1, 1, 1, 1]); // TypeError: Invalid backoffSchedule, max 5 intervals allowed
 * ```
 */
export function checkBackoffSchedule(schedule: unknown): void {
  if (schedule === undefined) return;
  if (!Array.isArray(schedule)) throw new TypeError("Invalid backoffSchedule, expected an array of milliseconds");
  if (schedule.length > MAX_BACKOFF_INTERVALS) {
    throw new TypeError(`Invalid backoffSchedule, max ${MAX_BACKOFF_INTERVALS} intervals allowed`);
  }
  schedule.forEach((interval, i) => {
    if (typeof interval !== "number" || !(interval >= 0 && interval <= MAX_BACKOFF_INTERVAL_MS)) {
      throw new TypeError(`Invalid backoffSchedule, interval at index ${i} is invalid`);
    }
  });
}

/**
 * A list's limit or batchSize, checked: undefined, or a positive integer.
 *
 * @example
 * ```ts
 * checkCount(2.3, "Limit"); // TypeError: Limit must be a positive integer: received 2.3
 * ```
 */
export function checkCount(value: unknown, name: "Limit" | "batchSize"): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer: received ${String(value)}`);
  }
  return value;
}

/** What the commit-wide limits count of an atomic operation. */
export interface CommitSizes {
  checkKeys: readonly Uint8Array[];
  mutations: readonly { key: Uint8Array; valueBytes: number | undefined }[];
  enqueues: readonly { payloadBytes: number; backoffIntervals: number }[];
}

/**
 * Throws (Deno KV's TypeErrors, in its order) unless an atomic operation is
 * within the limits: checks, mutations, key and value sizes, totals.
 *
 * @example
 * ```ts
 * checkCommit({ checkKeys: [], mutations: [{ key: new Uint8Array(0), valueBytes: 1 }], enqueues: [] });
 * // TypeError: key cannot be empty
 * ```
 */
export function checkCommit(c: CommitSizes): void {
  if (c.checkKeys.length > MAX_CHECKS) throw new TypeError(`Too many checks (max ${MAX_CHECKS})`);
  if (c.mutations.length + c.enqueues.length > MAX_MUTATIONS) {
    throw new TypeError(`Too many mutations (max ${MAX_MUTATIONS})`);
  }
  let total = 0;
  let keys = 0;
  for (const key of [...c.checkKeys, ...c.mutations.map((m) => m.key)]) {
    checkWriteKey(key);
    total += key.length;
  }
  for (const m of c.mutations) {
    if (m.valueBytes === undefined) continue;
    checkValueSize(m.valueBytes);
    total += m.key.length + m.valueBytes;
    keys += m.key.length;
  }
  for (const e of c.enqueues) {
    checkValueSize(e.payloadBytes, "enqueue payload");
    total += e.payloadBytes + 4 * e.backoffIntervals;
  }
  if (total > MAX_TOTAL_MUTATION_BYTES) {
    throw new TypeError(`Total mutation size too large (max ${MAX_TOTAL_MUTATION_BYTES} bytes)`);
  }
  if (keys > MAX_TOTAL_KEY_BYTES) throw new TypeError(`Total key size too large (max ${MAX_TOTAL_KEY_BYTES} bytes)`);
}
