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
