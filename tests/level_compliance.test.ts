// abstract-level's compliance suite against SiltLevel (siltdb/level), in the
// runtime running this file: a child process of the same runtime (Node with
// tsx, Deno, Bun) runs tests/level/_run_suite.ts, which runs the suite with
// tape and prints TAP; this test reads the summary and fails on any failure.
// The suite covers every feature SiltLevel's `supports` manifest claims.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SiltLevel } from "../level.ts";
import { currentRuntime } from "./_harness.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runner = join(root, "tests", "level", "_run_suite.ts");

/** The command that runs the suite runner in this runtime. */
function suiteCommand(): [string, string[]] {
  if (currentRuntime === "deno") return [process.execPath, ["run", "-A", "--quiet", runner]];
  if (currentRuntime === "bun") return [process.execPath, [runner]];
  return [process.execPath, [
    "--import",
    pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href,
    runner,
  ]];
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => stdout += d);
    child.stderr.setEncoding("utf8").on("data", (d: string) => stderr += d);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `# name N` of a TAP summary (0 when absent: tape omits "# fail 0"). */
function count(tap: string, name: string): number {
  const m = tap.match(new RegExp(`^# ${name}\\s+(\\d+)\\s*$`, "m"));
  return m ? Number(m[1]) : 0;
}

test("SiltLevel declares what it supports", () => {
  const db = new SiltLevel(join(tmpdir(), "siltdb-level-never-opened"));
  const s = db.supports;
  const features = s as unknown as Record<string, unknown>;
  for (
    const feature of [
      "permanence",
      "seek",
      "createIfMissing",
      "errorIfExists",
      "implicitSnapshots",
      "explicitSnapshots",
      "has",
      "getSync",
      "deferredOpen",
    ]
  ) {
    assert.equal(features[feature], true, feature);
  }
  assert.equal(s.signals.iterators, true);
  for (const encoding of ["utf8", "view", "buffer", "json", "hex", "base64"]) {
    assert.equal(s.encodings[encoding], true, encoding);
  }
  return db.close(); // closes before opening: touches nothing
});

test(
  `${currentRuntime}: abstract-level's compliance suite passes (tape, in a child process)`,
  { timeout: 180_000 },
  async () => {
    const [cmd, args] = suiteCommand();
    const started = Date.now();
    const { code, stdout, stderr } = await run(cmd, args);
    const tests = count(stdout, "tests");
    const pass = count(stdout, "pass");
    const fail = count(stdout, "fail");
    const skip = count(stdout, "skip");
    const todo = count(stdout, "todo");
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `abstract-level suite in ${currentRuntime}: # tests ${tests}, # pass ${pass}, # fail ${fail}, # skip ${skip}, # todo ${todo} (${seconds} s)`,
    );
    const failures = stdout.split("\n").filter((line) => line.startsWith("not ok")).slice(0, 20);
    const context = `\n${failures.join("\n")}\n--- stderr:\n${stderr.slice(-2000)}\n--- TAP tail:\n${
      stdout.slice(-1500)
    }`;
    assert.ok(tests > 5000, `the suite ran (${tests} assertions)${context}`);
    assert.equal(fail, 0, `${fail} assertions failed${context}`);
    assert.equal(pass, tests, `every assertion passed${context}`);
    assert.equal(code, 0, `the runner exited with ${code}${context}`);
  },
);
