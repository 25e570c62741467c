// npm test: builds, type-checks, then runs the whole suite in Node (tsx),
// Deno (deno test) and Bun (bun test), one runtime after the other. Prints
// each runtime's summary and exits non-zero if any runtime fails.
//
//   node scripts/test.mjs [node|deno|bun ...]   only these runtimes
//   SILTDB_SKIP_BUILD=1                          reuse the current build
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const files = readdirSync(join(root, "tests")).filter((f) => f.endsWith(".test.ts")).sort().map((f) => join("tests", f));
const plain = !process.stdout.isTTY || process.env.CI;
const env = { ...process.env, ...(plain ? { NO_COLOR: "1" } : {}) };

const runtimes = {
  node: [process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files]],
  deno: [bin("deno"), ["test", "-A", "--no-check", ...files]],
  bun: [bin("bun"), ["test", "--timeout", "600000", ...files.map((f) => `./${f}`)]],
};

function run(label, cmd, args) {
  const started = Date.now();
  console.log(`\n=== ${label}: ${[cmd, ...args].join(" ").replace(root + "/", "")}`);
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`=== ${label}: ${ok ? "passed" : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds}s`);
  return ok;
}

const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? wanted : Object.keys(runtimes);
for (const name of selected) if (!runtimes[name]) throw new Error(`unknown runtime ${name}`);

const results = [];
if (!process.env.SILTDB_SKIP_BUILD) {
  if (!run("build", process.execPath, [join(root, "scripts", "build.mjs")])) process.exit(1);
  if (!run("typecheck", process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"])) {
    results.push(["typecheck", false]);
  }
}
for (const name of selected) results.push([name, run(name, ...runtimes[name])]);

console.log("\n=== summary");
for (const [name, ok] of results) console.log(`  ${name.padEnd(10)} ${ok ? "passed" : "FAILED"}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
