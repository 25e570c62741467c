// Bundled and compiled programs run compactions in the worker (defect 9 of
// the trust issue): the worker's code travels inside the module. Each
// runtime's run checks the bundles that run on it. `deno compile` needs to
// download its runtime (denort), which this machine's network does not
// allow: it is skipped with that reason. And when no worker can start at
// all, compactions run inline and a warning says so.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { MemoryStorage } from "../mod.ts";
import { InlineExecutor } from "../src/compaction/inline_executor.ts";
import { WorkerExecutor } from "../src/compaction/worker_executor.ts";
import type { CompactionJob } from "../src/compaction/compactor.ts";
import { currentRuntime, tempDir } from "./_harness.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

const APP = `
import { open } from ${JSON.stringify(`${root}mod.ts`)};
const dir = globalThis.process?.argv?.[2] ?? globalThis.Deno?.args?.[0];
const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 4096, targetFileSize: 8192, levelBaseBytes: 16384 });
const warnings = [];
db.on("warning", (e) => warnings.push(e.message));
for (let i = 0; i < 5000; i++) await db.put("k" + String(i % 1500).padStart(5, "0"), "value " + i);
await db.compact();
const s = db.stats();
console.log(JSON.stringify({ mode: s.compaction.mode, count: s.compaction.count, warnings, value: db.getSync("k00010") }));
await db.close();
`;

type Build = { name: string; runtime: "node" | "deno" | "bun"; build: (app: string, out: string) => string[] | undefined; run: (out: string, dir: string) => string[] };

const builds: Build[] = [
  {
    name: "esbuild --bundle (node)",
    runtime: "node",
    build: (app, out) => [bin("esbuild"), app, "--bundle", "--platform=node", "--format=esm", `--outfile=${out}.mjs`, "--log-level=warning"],
    run: (out, dir) => ["node", `${out}.mjs`, dir],
  },
  {
    name: "bun build --target=node",
    runtime: "node",
    build: (app, out) => [bin("bun"), "build", app, "--target=node", `--outfile=${out}.mjs`],
    run: (out, dir) => ["node", `${out}.mjs`, dir],
  },
  {
    name: "bun build",
    runtime: "bun",
    build: (app, out) => [bin("bun"), "build", app, "--target=bun", `--outfile=${out}.js`],
    run: (out, dir) => [bin("bun"), `${out}.js`, dir],
  },
  {
    name: "bun build --compile",
    runtime: "bun",
    build: (app, out) => [bin("bun"), "build", app, "--compile", `--outfile=${out}`],
    run: (out, dir) => [out, dir],
  },
  {
    name: "esbuild --bundle (deno)",
    runtime: "deno",
    build: (app, out) => [bin("esbuild"), app, "--bundle", "--platform=neutral", "--format=esm", "--external:node:*", `--outfile=${out}.mjs`, "--log-level=warning"],
    run: (out, dir) => [bin("deno"), "run", "-A", `${out}.mjs`, dir],
  },
];

for (const b of builds.filter((b) => b.runtime === currentRuntime)) {
  test(`a program bundled with ${b.name} compacts in the worker`, () => {
    const { dir, cleanup } = tempDir();
    try {
      const app = `${dir}/app.ts`;
      writeFileSync(app, APP);
      const [cmd, ...args] = b.build(app, `${dir}/out`)!;
      const built = spawnSync(cmd, args, { encoding: "utf8" });
      assert.equal(built.status, 0, `${b.name} failed: ${built.stderr}`);
      const [runCmd, ...runArgs] = b.run(`${dir}/out`, `${dir}/db`);
      const ran = spawnSync(runCmd, runArgs, { encoding: "utf8" });
      assert.equal(ran.status, 0, `the bundled program failed: ${ran.stderr}`);
      const result = JSON.parse(ran.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(result.warnings, []);
      assert.equal(result.mode, "worker");
      assert.ok(result.count > 0, "compactions ran");
      assert.equal(result.value, "value 4510");
    } finally {
      cleanup();
    }
  });
}

test("deno compile", { skip: currentRuntime !== "deno" ? "runs in the Deno pass" : "deno compile downloads its runtime (denort) from dl.deno.land, which this network does not reach" }, () => {});

test("when no worker can start, the job runs inline and one warning says so", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const warnings: string[] = [];
  const inline = new InlineExecutor(fs, "/db");
  const cannotStart = () => new URL(`data:text/javascript,${encodeURIComponent('import process from "node:process"; process.exit(3);')}`);
  const executor = new WorkerExecutor("/db", inline, (err) => warnings.push(err.message), undefined, cannotStart);
  const job: CompactionJob = {
    task: { inputs: [], outputLevel: 1, trivialMove: false, reason: "test" },
    oldestSnapshot: 0,
    older: [],
    fileNumbers: [10, 11],
    blockSize: 4096,
    bloomBitsPerKey: 10,
    targetFileSize: 1 << 20,
  };
  for (let i = 0; i < 2; i++) {
    const result = await executor.run(job);
    assert.deepEqual(result.outputs, []);
  }
  assert.equal(executor.mode, "inline");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /no compaction worker could start \(the worker exited \(code 3\)\); compactions run inline/);
  await executor.close();
});
