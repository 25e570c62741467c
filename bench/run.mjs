// npm run bench: db_bench in Node, Deno and Bun one after the other (each
// engine in a child of that runtime), then bench/report.ts, which writes the
// tables, the target checks and the SVG charts into docs/benchmarks.md and
// bench/results/. Progress goes out as plain lines (fit for CI logs).
//
//   npm run bench                  200,000 keys, every runtime and peer
//   npm run bench -- --full        1,000,000 keys
//   npm run bench -- node bun      only these runtimes
//   npm run bench -- --scale       the scale benchmark instead (bench/scale_bench.ts: 100,000 to
//                                  10,000,000 keys in Node; SILTDB_SCALE_SIZES etc. there)
//   SILTDB_BENCH_ROUNDS=3 npm run bench -- node bun
//                                  three rounds per runtime, the engines' order rotated
//                                  each round; medians, and the speed targets' ratios
//                                  taken round by round (how docs/benchmarks.md's target
//                                  runs are made)
//   SILTDB_BENCH_ENGINES, SILTDB_BENCH_WORKLOADS, SILTDB_BENCH_QUIET_LOAD: see bench/db_bench.ts
//
// Other benchmarks have their own commands and are not part of this run:
// npm run bench:core (the memtable), npm run bench:browser (Chromium, OPFS),
// npm run bench:bucket (a store in a bucket: in-memory buckets with injected
// latency and Ceph radosgw, bench/bucket_bench.ts; also `npm run bench -- bucket`),
// npm run bench:txn (transactions vs lmdb and node:sqlite, bench/txn_bench.ts),
// npm run bench:kv (siltdb/kv vs Deno KV and @deno/kv, bench/kv_bench.ts).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
if (args[0] === "bucket") {
  const bucket = spawnSync(process.execPath, ["--import", "tsx", join(root, "bench", "bucket_bench.ts")], {
    cwd: root,
    stdio: "inherit",
  });
  process.exit(bucket.status ?? 1);
}
if (args.includes("--scale")) {
  const scale = spawnSync(process.execPath, ["--import", "tsx", join(root, "bench", "scale_bench.ts")], {
    cwd: root,
    stdio: "inherit",
  });
  process.exit(scale.status ?? 1);
}
const full = args.includes("--full");
const wanted = args.filter((a) => !a.startsWith("--"));
const n = full ? "1000000" : process.env.SILTDB_BENCH_N ?? "200000";
const script = join(root, "bench", "db_bench.ts");
const runtimes = {
  node: [process.execPath, ["--import", "tsx", script]],
  deno: [bin("deno"), ["run", "-A", "--unstable-kv", script]],
  bun: [bin("bun"), [script]],
};
const env = { ...process.env, SILTDB_BENCH_N: n };
let failed = false;
for (const name of wanted.length > 0 ? wanted : Object.keys(runtimes)) {
  const started = Date.now();
  console.log(`\n=== bench ${name}: ${Number(n).toLocaleString("en-US")} keys`);
  const result = spawnSync(...runtimes[name], { cwd: root, env, stdio: "inherit" });
  console.log(
    `=== bench ${name}: ${result.status === 0 ? "done" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  failed ||= result.status !== 0;
}
const report = spawnSync(process.execPath, ["--import", "tsx", join(root, "bench", "report.ts"), n], {
  cwd: root,
  stdio: "inherit",
});
process.exit(failed || report.status !== 0 ? 1 : 0);
