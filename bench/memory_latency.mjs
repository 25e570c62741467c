// Random-access latency of this machine at growing working-set sizes: a
// pointer chase through a random cyclic permutation of 64-byte lines, one
// dependent load per step. Explains the memtable figures in docs/benchmarks.md.
//
//   node bench/memory_latency.mjs

for (const mib of [0.25, 1, 4, 16, 64, 256]) {
  const ints = (mib * 1024 * 1024) / 4;
  const chase = new Int32Array(ints);
  const lines = ints / 16;
  const order = Array.from({ length: lines }, (_, i) => i);
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < lines; i++) chase[order[i] * 16] = order[(i + 1) % lines] * 16;
  let at = 0;
  const steps = 2_000_000;
  const started = performance.now();
  for (let i = 0; i < steps; i++) at = chase[at];
  const ns = ((performance.now() - started) * 1e6) / steps;
  console.log(`${String(mib).padStart(6)} MiB: ${ns.toFixed(1)} ns per access${at < 0 ? "" : ""}`);
}
