// The soak of the bucket simulation (tests/bucket_sim.test.ts): many seeds,
// split into contiguous runs in parallel processes of one runtime. Each
// failing seed is printed as it is found, with the command that replays it;
// at the end, the totals of every run (seeds, operations, requests,
// crashes, races, fencings, faults, acknowledged writes and reads checked,
// objects deleted) and the time it took. Exits 1 if any seed failed.
//
//   node scripts/bucket_soak.mjs [seeds] [--base N] [--jobs N] [--runtime node|deno|bun]
//
// Defaults: 10,000 seeds from a random base, 2 jobs, Node (the one running this).

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const runtime = option("runtime", "node");
const jobs = Math.max(1, Number(option("jobs", 2)));
const base = Number(option("base", Math.floor(Math.random() * 1e9)));
const seeds = Number(args[0] ?? 10_000);
if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(base) || base < 0) {
  console.error("usage: node scripts/bucket_soak.mjs [seeds] [--base N] [--jobs N] [--runtime node|deno|bun]");
  process.exit(2);
}

const bin = (name) => join(root, "node_modules", ".bin", name);
const commands = {
  node: [process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", "tests/bucket_sim.test.ts"]],
  deno: [bin("deno"), ["test", "-A", "tests/bucket_sim.test.ts"]],
  bun: [bin("bun"), ["test", "--timeout", "0", "./tests/bucket_sim.test.ts"]],
};
if (!(runtime in commands)) {
  console.error(`unknown runtime ${runtime}`);
  process.exit(2);
}
const replay = {
  node: "node --import tsx --test tests/bucket_sim.test.ts",
  deno: "node_modules/.bin/deno test -A tests/bucket_sim.test.ts",
  bun: "node_modules/.bin/bun test ./tests/bucket_sim.test.ts",
};

/** Runs seeds [from, from + count) in one process; resolves with its totals and failures. */
function run(from, count) {
  const [cmd, cmdArgs] = commands[runtime];
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      env: { ...process.env, SILTDB_BUCKET_SOAK: String(count), SILTDB_BUCKET_BASE: String(from), NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const failures = [];
    let totals;
    const onData = (chunk) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl).replace(/^#\s?/, "");
        out = out.slice(nl + 1);
        const failed = /FAILED seed (\d+) \(replay: [^)]*\): (.*)/.exec(line);
        if (failed) {
          failures.push(failed[1]);
          console.log(`seed ${failed[1]} FAILED: ${failed[2]}\n  replay: SEED=${failed[1]} ${replay[runtime]}`);
        }
        const result = /BUCKET_SOAK_RESULT (\{.*\})/.exec(line);
        if (result) totals = JSON.parse(result[1]);
        if (/bucket sim: \d+ of \d+ seeds/.test(line)) console.log(`[${from}..${from + count - 1}] ${line.trim()}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => resolve({ from, count, code, totals, failures }));
  });
}

const started = Date.now();
console.log(`bucket soak: ${seeds} seeds from ${base}, ${jobs} jobs, ${runtime}`);
const per = Math.ceil(seeds / jobs);
const runs = [];
for (let from = base; from < base + seeds; from += per) runs.push(run(from, Math.min(per, base + seeds - from)));
const results = await Promise.all(runs);
const totals = {};
const positions = new Map();
for (const r of results) {
  if (r.totals === undefined) {
    console.log(`seeds ${r.from}..${r.from + r.count - 1}: the run printed no totals (exit ${r.code})`);
    continue;
  }
  const { crashPositions, ...counts } = r.totals;
  for (const [k, v] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + v;
  for (const [at, n] of Object.entries(crashPositions ?? {})) {
    positions.set(Number(at), (positions.get(Number(at)) ?? 0) + n);
  }
}
let covered = 0;
while (positions.has(covered + 1)) covered++;
const fewest = Math.min(...Array.from({ length: covered }, (_, i) => positions.get(i + 1)));
const failed = results.flatMap((r) => r.failures);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\nbucket soak: ${seeds} seeds from ${base} (${runtime}, ${jobs} jobs) in ${minutes} min`);
console.log(JSON.stringify(totals));
console.log(
  `processes died at every request position from 1 to ${covered} (each at least ${fewest} times), ` +
    `and at ${positions.size} positions in all, up to ${Math.max(0, ...positions.keys())}`,
);
console.log(failed.length === 0 ? "violations: 0" : `violations: ${failed.length} (seeds ${failed.join(", ")})`);
process.exit(failed.length > 0 || results.some((r) => r.totals === undefined) ? 1 : 0);
