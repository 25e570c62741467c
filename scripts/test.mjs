// npm test: builds, checks, then runs the whole suite in Node (tsx) — on the
// Node LTS installed from npm (the `node` package, 24) and on the machine's
// own Node (20) when it has one — Deno (deno test, type-checked) and Bun (bun
// test), one runtime after the other. The checks: tsc; `deno check` of the
// entry points, the command, bench/ and scripts/, and of every JSDoc example
// of the entry points and of every hand-written file of src/ (no --no-check
// anywhere); `deno doc --lint` (JSDoc and explicit types on every export);
// `deno lint`; `deno fmt --check`. Before the runtimes it starts one
// throw-away Ceph cluster (an S3 server for the object-storage tests, when
// Ceph is installed) and stops it at the end. Prints each step's summary and
// exits non-zero if any step fails.
//
//   node scripts/test.mjs [node|node20|deno|bun|checks ...]   only these
//   SILTDB_SKIP_BUILD=1                                        reuse the current build
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cephMissing, startCluster, stopCluster } from "./ceph_cluster.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const files = readdirSync(join(root, "tests")).filter((f) => f.endsWith(".test.ts")).sort().map((f) =>
  join("tests", f)
);
const plain = !process.stdout.isTTY || process.env.CI;
const env = { ...process.env, ...(plain ? { NO_COLOR: "1" } : {}) };

/** The machine's own Node (the first `node` on PATH outside node_modules), if it differs from this one. */
function machineNode() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ["--version"], { encoding: "utf8" }).stdout?.trim();
    if (version && version !== process.version) return { path: candidate, version };
    return undefined;
  }
  return undefined;
}

const nodeArgs = ["--import", "tsx", "--test", "--test-reporter=spec", ...files];
const machine = machineNode();
const entryPoints = ["mod.ts", "level.ts", "browser.ts", "kv.ts"].filter((f) => existsSync(join(root, f)));
/** Written by scripts/build.mjs, not by hand (tests/architecture.test.ts skips the same three). */
const GENERATED = new Set(["src/wasm/_core_wasm.ts", "src/wasm/_core_abi.ts", "src/_worker_source.ts"]);

/** Every hand-written .ts file under dir (relative to root), sorted. */
function sourcesUnder(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourcesUnder(path);
    return e.name.endsWith(".ts") && !GENERATED.has(path) ? [path] : [];
  }).sort();
}

const runtimes = {
  node: [[process.execPath, nodeArgs]],
  node20: machine ? [[machine.path, nodeArgs]] : [],
  deno: [[bin("deno"), ["test", "-A", ...files]]],
  bun: [[bin("bun"), ["test", "--timeout", "600000", ...files.map((f) => `./${f}`)]]],
  checks: [
    [bin("deno"), ["check", ...entryPoints, "src/cli/main.ts", "bench/", "scripts/"]],
    // Every JSDoc example of the entry points and of every hand-written file
    // of src/, type-checked: public ones as a user would write them (deno.json
    // maps "siltdb" and "siltdb/level" to the source), internal ones with
    // declared values and relative imports.
    [bin("deno"), ["check", "--doc", ...entryPoints, ...sourcesUnder("src")]],
    // level.ts is left out: SiltLevel extends abstract-level's AbstractLevel,
    // a type of another package that `deno doc --lint` counts as private.
    [bin("deno"), ["doc", "--lint", "mod.ts"]],
    [bin("deno"), ["doc", "--lint", "kv.ts"]],
    [bin("deno"), ["lint"]],
    [bin("deno"), ["fmt", "--check"]],
  ],
};

function run(label, cmd, args) {
  const started = Date.now();
  console.log(`\n=== ${label}: ${[cmd, ...args].join(" ").replace(root + "/", "").slice(0, 300)}`);
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`=== ${label}: ${ok ? "passed" : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds}s`);
  return ok;
}

const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? wanted : ["checks", "node", "node20", "deno", "bun"];
for (const name of selected) {
  if (!runtimes[name]) throw new Error(`unknown step ${name} (known: ${Object.keys(runtimes).join(", ")})`);
}

// The object-storage tests run against a real S3 server: one throw-away Ceph
// cluster for the whole run (scripts/ceph_cluster.mjs), passed to every
// runtime in SILTDB_TEST_S3_*. Without Ceph installed they skip — or, with
// CI set, fail (tests/_s3.ts).
let cluster;
const needsS3 = selected.some((name) => name !== "checks") && !env.SILTDB_TEST_S3_ENDPOINT;
if (needsS3 && cephMissing().length === 0) {
  const started = Date.now();
  try {
    cluster = await startCluster();
    Object.assign(env, {
      SILTDB_TEST_S3_ENDPOINT: cluster.endpoint,
      SILTDB_TEST_S3_REGION: cluster.region,
      SILTDB_TEST_S3_ACCESS_KEY_ID: cluster.accessKeyId,
      SILTDB_TEST_S3_SECRET_ACCESS_KEY: cluster.secretAccessKey,
    });
    console.log(`\n=== ceph: an S3 server at ${cluster.endpoint} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (err) {
    console.log(`\n=== ceph: FAILED to start: ${err.message}`);
  }
} else if (needsS3) {
  console.log(
    `\n=== ceph: not installed (${cephMissing().join(", ")}): the object-storage tests skip (fail with CI set)`,
  );
}
process.on("exit", () => cluster && stopCluster(cluster));
process.on("SIGINT", () => process.exit(130));

const results = [];
if (!process.env.SILTDB_SKIP_BUILD) {
  if (!run("build", process.execPath, [join(root, "scripts", "build.mjs")])) process.exit(1);
  results.push([
    "typecheck",
    run("typecheck", process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]),
  ]);
}
for (const name of selected) {
  if (name === "node20" && !machine) {
    console.log(`\n=== node20: skipped: no Node other than ${process.version} on PATH outside node_modules`);
    continue;
  }
  const label = name === "node" ? `node ${process.version}` : name === "node20" ? `node ${machine.version}` : name;
  const steps = runtimes[name];
  let ok = true;
  for (const [cmd, args] of steps) ok = run(label, cmd, args) && ok;
  results.push([label, ok]);
}

console.log("\n=== summary");
for (const [name, ok] of results) console.log(`  ${name.padEnd(14)} ${ok ? "passed" : "FAILED"}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
