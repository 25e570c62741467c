// Helpers shared by the macro benchmarks: db_bench keys and seeded orders.

/** db_bench's key: the number as 16 decimal digits. */
export function keyOf(i: number): string {
  return String(i).padStart(16, "0");
}

/** A seeded random permutation of 0..n-1 (LCG + Fisher-Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A seeded uniform random number generator in [0, 1) (mulberry32). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * YCSB's scrambled zipfian over 0..n-1 (theta 0.99): a few items take most
 * requests, and the popular items are spread over the key space by a hash
 * (FNV-1a of the rank), as YCSB's ScrambledZipfianGenerator does.
 */
export function scrambledZipfian(n: number, seed: number): () => number {
  const next = zipfianRank(n, seed);
  return () => fnv1a(next()) % n;
}

/** Zipfian ranks 0..n-1 (0 the most popular), theta 0.99 (Gray et al., as in YCSB). */
export function zipfianRank(n: number, seed: number): () => number {
  const theta = 0.99;
  let zetan = 0;
  for (let i = 1; i <= n; i++) zetan += 1 / i ** theta;
  const zeta2 = 1 + 1 / 2 ** theta;
  const alpha = 1 / (1 - theta);
  const eta = (1 - (2 / n) ** (1 - theta)) / (1 - zeta2 / zetan);
  const random = uniform(seed);
  return () => {
    const u = random();
    const uz = u * zetan;
    if (uz < 1) return 0;
    if (uz < 1 + 0.5 ** theta) return 1;
    return Math.min(n - 1, Math.floor(n * (eta * u - eta + 1) ** alpha));
  };
}

function fnv1a(x: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ ((x >>> (i * 8)) & 0xff), 0x01000193);
  }
  return h >>> 0;
}
