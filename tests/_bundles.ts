// Bundlers and compilers a siltdb program must survive, shared by
// tests/bundle.test.ts (programs importing the repository's mod.ts) and
// tests/package.test.ts (programs importing the installed npm package): a
// program that compacts, bundled or compiled each way, must run its
// compactions in the worker (whose code travels inside the module).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

/** A program that writes, compacts and prints {mode, count, warnings, value}; it opens the directory given as its first argument. */
export function bundleApp(specifier: string): string {
  return `
import { open } from ${JSON.stringify(specifier)};
const dir = globalThis.process?.argv?.[2] ?? globalThis.Deno?.args?.[0];
const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 4096, targetFileSize: 8192, levelBaseBytes: 16384 });
const warnings = [String()].slice(1); // string[] for TypeScript (deno compile type-checks), and plain JavaScript
db.on("warning", (e) => warnings.push(e.message));
for (let i = 0; i < 5000; i++) await db.put("k" + String(i % 1500).padStart(5, "0"), "value " + i);
await db.compact();
const s = db.stats();
console.log(JSON.stringify({ mode: s.compaction.mode, count: s.compaction.count, warnings, value: db.getSync("k00010") }));
await db.close();
`;
}

/** One way to bundle or compile a program, and how to run the result. */
export interface Bundler {
  name: string;
  /** The runtime whose test pass runs it in tests/bundle.test.ts. */
  runtime: "node" | "deno" | "bun";
  build: (app: string, out: string) => string[];
  run: (out: string, dir: string) => string[];
  /** Build output meaning the tool needs a download this machine cannot make: the test is skipped with it. */
  needsNetwork?: RegExp;
}

export const BUNDLERS: Bundler[] = [
  {
    name: "esbuild --bundle (node)",
    runtime: "node",
    build: (
      app,
      out,
    ) => [
      bin("esbuild"),
      app,
      "--bundle",
      "--platform=node",
      "--format=esm",
      `--outfile=${out}.mjs`,
      "--log-level=warning",
    ],
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
    build: (
      app,
      out,
    ) => [
      bin("esbuild"),
      app,
      "--bundle",
      "--platform=neutral",
      "--format=esm",
      "--external:node:*",
      `--outfile=${out}.mjs`,
      "--log-level=warning",
    ],
    run: (out, dir) => [bin("deno"), "run", "-A", `${out}.mjs`, dir],
  },
  {
    name: "deno compile",
    runtime: "deno",
    build: (app, out) => [bin("deno"), "compile", "-A", `--output=${out}`, app],
    run: (out, dir) => [out, dir],
    // deno compile downloads its runtime (denort) from dl.deno.land the first time.
    needsNetwork: /dl\.deno\.land[\s\S]*(error sending request|dns error|Connect|timed out)/,
  },
];

/**
 * Builds app (a file) with bundler into out, runs it on dir and checks that
 * its compactions ran in the worker. Returns a skip reason instead when the
 * tool needs a download this machine cannot make.
 */
export function bundleAndRun(
  bundler: Bundler,
  app: string,
  out: string,
  dir: string,
  cwd?: string,
): string | undefined {
  const [cmd, ...args] = bundler.build(app, out);
  const built = spawnSync(cmd, args, { encoding: "utf8", cwd, env: { ...process.env, NO_COLOR: "1" } });
  if (built.status !== 0 && bundler.needsNetwork?.test(built.stderr)) {
    const line = built.stderr.split("\n").find((l) => /error sending request|dns error|Connect|timed out/.test(l))
      ?.trim();
    return `${bundler.name} needs a download this machine cannot make (${line})`;
  }
  assert.equal(built.status, 0, `${bundler.name} failed: ${built.stderr}`);
  const [runCmd, ...runArgs] = bundler.run(out, dir);
  const ran = spawnSync(runCmd, runArgs, { encoding: "utf8", cwd });
  assert.equal(ran.status, 0, `the program built by ${bundler.name} failed: ${ran.stderr}`);
  const result = JSON.parse(ran.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(result.warnings, []);
  assert.equal(result.mode, "worker");
  assert.ok(result.count > 0, "compactions ran");
  assert.equal(result.value, "value 4510");
  return undefined;
}
