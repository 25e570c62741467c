// Keys and orders for the bench command and the main job: fixed-width keys
// (db_bench's 16 bytes) and a seeded random order, the same on every run.

/**
 * The i-th key: "key" and the number padded to `width` bytes in all.
 *
 * @example
 * ```ts
 * keyAt(42, 16); // "key0000000000042"
 * ```
 */
export function keyAt(i: number, width = 16): string {
  return `key${String(i).padStart(width - 3, "0")}`;
}

/**
 * 0..n-1 in a random order fixed by seed (Fisher-Yates with xorshift32).
 *
 * @example
 * ```ts
 * const order = shuffled(1000, 7); // the same order every time
 * ```
 */
export function shuffled(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let x = seed | 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
