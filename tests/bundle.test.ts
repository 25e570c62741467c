// Bundled and compiled programs run compactions in the worker (defect 9 of
// the trust issue): the worker's code travels inside the module. Each
// runtime's run checks the bundles that run on it (tests/_bundles.ts; the
// same bundlers are run on the npm package by tests/package.test.ts).
// `deno compile` needs to download its runtime (denort) the first time:
// where the network does not allow it, it is skipped with that reason. And
// when no worker can start at all, compactions run inline and a warning
// says so.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { MemoryStorage } from "../mod.ts";
import { InlineExecutor } from "../src/compaction/inline_executor.ts";
import { tableFiles } from "../src/table/table_files.ts";
import { WorkerExecutor } from "../src/compaction/worker_executor.ts";
import type { CompactionJob } from "../src/compaction/compactor.ts";
import { currentRuntime, tempDir } from "./_harness.ts";
import { bundleAndRun, bundleApp, BUNDLERS } from "./_bundles.ts";

const root = new URL("..", import.meta.url).pathname;

for (const b of BUNDLERS.filter((b) => b.runtime === currentRuntime)) {
  test(`a program bundled with ${b.name} compacts in the worker`, (t) => {
    const { dir, cleanup } = tempDir();
    try {
      const app = `${dir}/app.ts`;
      writeFileSync(app, bundleApp(`${root}mod.ts`));
      const skip = bundleAndRun(b, app, `${dir}/out`, `${dir}/db`);
      if (skip) {
        console.log(`  skipped: ${skip}`); // Deno and Bun do not print skip reasons
        t.skip(skip);
      }
    } finally {
      cleanup();
    }
  });
}

test("when no worker can start, the job runs inline and one warning says so", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const warnings: string[] = [];
  const inline = new InlineExecutor(tableFiles({ fs, dir: "/db" }));
  const cannotStart = () =>
    new URL(`data:text/javascript,${encodeURIComponent('import process from "node:process"; process.exit(3);')}`);
  const executor = new WorkerExecutor("/db", inline, (err) => warnings.push(err.message), undefined, cannotStart);
  const job: CompactionJob = {
    task: { inputs: [], outputLevel: 1, trivialMove: false, reason: "test" },
    oldestSnapshot: 0,
    older: [],
    fileNumbers: [10, 11],
    blockSize: 4096,
    bloomBitsPerKey: 10,
    compression: "lz4",
    targetFileSize: 1 << 20,
    now: 0,
  };
  for (let i = 0; i < 2; i++) {
    const result = await executor.run(job);
    assert.deepEqual(result.outputs, []);
  }
  assert.equal(executor.mode, "inline");
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /no compaction worker could start \(the worker exited \(code 3\)\); compactions run inline/,
  );
  await executor.close();
});
