// The npm package, tried as a new user would (issue 11): `npm run pack`
// (scripts/pack.mjs) makes the tarball; it is installed with `npm install
// <tarball>` (offline) into a fresh project and the README's quick start runs
// from it in Node, Bun and Deno (bare "siltdb" from node_modules, and
// "npm:siltdb"), as do siltdb/level, the siltdb command and programs bundled
// or compiled from it. And deno.json is ready for JSR: `deno check` passes
// without --no-check and `deno publish --dry-run` passes.
//
// The package part packs and installs once and spawns all three runtimes, so
// it runs in the Node pass only; the JSR part (deno check, deno publish) runs
// in the Deno pass. The Bun pass skips both, saying so.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { currentRuntime } from "./_harness.ts";
import { bundleAndRun, bundleApp, BUNDLERS } from "./_bundles.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const env = {
  ...process.env,
  NO_COLOR: "1",
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

const inNode = currentRuntime === "node"
  ? false
  : "packs and installs once and spawns Node, Bun and Deno itself: runs in the Node pass";
const inDeno = currentRuntime === "deno" ? false : "runs in the Deno pass";

// Deno and Bun do not print a test's skip reason: say it once here.
if (currentRuntime !== "node") {
  console.log(
    `tests/package.test.ts in ${currentRuntime}: the package tests (pack, install, quick starts, bundles) run in the Node pass; ` +
      (inDeno ? "the JSR checks (deno check, deno publish --dry-run) run in the Deno pass" : "the JSR checks run here"),
  );
}

function run(cmd: string, args: string[], cwd: string, what: string): SpawnSyncReturns<string> {
  const result = spawnSync(cmd, args, { cwd, env, encoding: "utf8" });
  assert.equal(
    result.status,
    0,
    `${what} failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
  );
  return result;
}

function skip(t: { skip(message?: string): void }, reason: string): void {
  console.log(`  skipped: ${reason}`);
  t.skip(reason);
}

// ---- the package, packed and installed once (Node pass) -------------------

/** The fields of a package.json these tests read. */
interface Manifest {
  name: string;
  version: string;
  license?: string;
  repository?: { url?: string };
  homepage?: string;
  keywords?: string[];
  main: string;
  types: string;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface Packed {
  tarball: string;
  size: number;
  unpackedSize: number;
  files: string[];
  /** The published package.json, as read back from the tarball. */
  manifest: Manifest;
  /** Where the tarball was extracted (its package/ directory). */
  extracted: string;
}

let scratch: string | undefined;
function tmp(): string {
  if (scratch === undefined) {
    scratch = mkdtempSync(join(tmpdir(), "siltdb-package-"));
    const dir = scratch;
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

let packed: Packed | undefined;
function pack(): Packed {
  if (packed) return packed;
  const out = join(tmp(), "tarball");
  const args = [join(root, "scripts", "pack.mjs"), "--json", "--out", out];
  if (process.env.SILTDB_SKIP_BUILD) args.push("--no-build");
  const result = run(process.execPath, args, root, "npm run pack");
  const info = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  const extract = join(tmp(), "extract");
  mkdirSync(extract, { recursive: true });
  run("tar", ["-xzf", info.tarball, "-C", extract], root, "tar -x");
  const extracted = join(extract, "package");
  const manifest = JSON.parse(readFileSync(join(extracted, "package.json"), "utf8"));
  packed = { ...info, manifest, extracted };
  return packed!;
}

/** The directory of an installed package, looked up as Node would from `from`. */
function packageDir(name: string, from: string): string {
  for (let dir = from;; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === dirname(dir)) throw new Error(`${name} is not installed (looked from ${from})`);
  }
}

/** The installed directories of deps and everything they depend on (this repository's node_modules). */
function dependencyClosure(deps: string[]): string[] {
  const seen = new Map<string, string>();
  const visit = (name: string, from: string) => {
    const dir = packageDir(name, from);
    if (seen.has(dir)) return;
    seen.set(dir, name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
  };
  for (const dep of deps) visit(dep, root);
  return [...seen.keys()];
}

let project: string | undefined;
/**
 * A fresh project with the tarball installed by `npm install --offline`. The
 * package's dependencies (abstract-level and its own) come as tarballs packed
 * from this repository's node_modules, so no registry is needed.
 */
function installed(): string {
  if (project) return project;
  const { tarball, manifest } = pack();
  const dir = join(tmp(), "app");
  mkdirSync(join(dir, "deps"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "siltdb-package-test-app", private: true, type: "module" }),
  );
  copyFileSync(tarball, join(dir, basename(tarball)));
  const deps = dependencyClosure(Object.keys(manifest.dependencies ?? {}));
  if (deps.length > 0) {
    run("npm", ["pack", "--silent", "--ignore-scripts", ...deps], join(dir, "deps"), "npm pack of the dependencies");
  }
  const tarballs = readdirSync(join(dir, "deps")).map((f) => `./deps/${f}`);
  run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", `./${basename(tarball)}`, ...tarballs],
    dir,
    "npm install <tarball> --offline",
  );
  project = dir;
  return dir;
}

/** The code blocks under "### <heading>" in the README's "Install and quick start" section. */
function quickStart(heading: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Install and quick start"));
  const body = section.slice(0, section.indexOf("\n## ", 5));
  const at = body.indexOf(`### ${heading}`);
  assert.ok(at >= 0, `the README's quick start has a "### ${heading}" part`);
  const block = /```(?:js|ts)\n([\s\S]*?)```/.exec(body.slice(at));
  assert.ok(block, `the README's "### ${heading}" part has a code block`);
  return block[1];
}

test("npm run pack: a package with no install scripts, a LICENSE, types, every export, the command and the WASM once", {
  skip: inNode,
}, () => {
  const { manifest, files, size, unpackedSize, extracted } = pack();
  console.log(
    `  ${basename(pack().tarball)}: ${(size / 1024).toFixed(1)} KiB, ${
      (unpackedSize / 1024).toFixed(1)
    } KiB unpacked, ${files.length} files`,
  );

  // The manifest a user's npm reads: nothing runs at install.
  assert.equal(manifest.scripts, undefined, "no scripts in the published package.json");
  assert.equal(manifest.devDependencies, undefined, "no devDependencies in the published package.json");
  assert.equal(manifest.license, "MIT");
  assert.match(manifest.repository?.url ?? "", /siltdb/);
  assert.ok(manifest.homepage, "homepage");
  assert.ok((manifest.keywords?.length ?? 0) > 0, "keywords");
  assert.deepEqual(Object.keys(manifest.exports).filter((k) => k !== "./package.json").sort(), [
    ".",
    "./browser",
    "./kv",
    "./level",
  ]);
  assert.deepEqual(Object.keys(manifest.bin), ["siltdb"]);

  // Every file the manifest points at is in the tarball.
  const targets = (e: unknown): string[] => (typeof e === "string" ? [e] : Object.values(e as object).flatMap(targets));
  for (
    const path of [
      manifest.main,
      manifest.types,
      ...targets(manifest.exports),
      ...Object.values(manifest.bin),
    ]
  ) {
    assert.ok(existsSync(join(extracted, path)), `${path} is in the package`);
  }
  assert.match(
    readFileSync(join(extracted, "LICENSE"), "utf8"),
    /^MIT License[\s\S]*Copyright \(c\) 2026 the siltdb authors/,
  );
  assert.ok(files.includes("README.md"));
  assert.match(readFileSync(join(extracted, "dist", "cli.js"), "utf8"), /^#!\/usr\/bin\/env node\n/);

  // Built JavaScript and declarations only: no sources, no AssemblyScript, no build leftovers.
  const strays = files.filter((f) =>
    /^(src|core|build|tests|bench|scripts|docs\/api)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts"))
  );
  assert.deepEqual(strays, [], "no TypeScript sources in the package");

  // The core WASM (base64 text) is in one file once, dist/core_wasm.js, which every bundle imports.
  const wasm = readFileSync(join(root, "build", "siltdb_core.wasm")).toString("base64").slice(0, 100);
  const copies = files.map((f) => [f, readFileSync(join(extracted, f), "latin1").split(wasm).length - 1] as const)
    .filter(([, n]) => n > 0);
  assert.deepEqual(copies, [["dist/core_wasm.js", 1]], `the WASM is in one file once: ${JSON.stringify(copies)}`);
  for (const entry of ["dist/mod.js", "dist/cli.js", "dist/level.js", "dist/kv.js"]) {
    assert.match(
      readFileSync(join(extracted, entry), "utf8"),
      /from "\.\/chunk-[\w-]+\.js"/,
      `${entry} imports the shared chunk`,
    );
  }
  assert.match(readFileSync(join(extracted, "dist", "browser.js"), "utf8"), /from "\.\/core_wasm\.js"/);

  // Declarations resolve everywhere: no ".ts" specifiers left in .d.ts files.
  const tsSpecifiers = files.filter((f) =>
    f.endsWith(".d.ts") && /from\s+["']\.{1,2}\/[^"']*\.ts["']/.test(readFileSync(join(extracted, f), "utf8"))
  );
  assert.deepEqual(tsSpecifiers, [], "declarations import ./x.js, not ./x.ts");

  // Its dependencies run nothing at install either.
  for (const dir of dependencyClosure(Object.keys(manifest.dependencies ?? {}))) {
    const scripts = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).scripts ?? {};
    for (const hook of ["preinstall", "install", "postinstall", "prepare"]) {
      assert.equal(scripts[hook], undefined, `dependency ${basename(dir)} has no ${hook} script`);
    }
  }
});

test("installed from the tarball, the README quick start runs in Node, and so does the siltdb command", {
  skip: inNode,
}, () => {
  const dir = installed();
  writeFileSync(join(dir, "node.mjs"), quickStart("Node").replaceAll('"./data"', '"./data-node"'));
  const ran = run("node", ["node.mjs"], dir, "the Node quick start");
  assert.deepEqual(ran.stdout.trim().split("\n"), ["alice", "alice", "user:2 bob"]);
  // The bin, through node_modules/.bin as npx runs it.
  const got = run(join(dir, "node_modules", ".bin", "siltdb"), ["get", "./data-node", "user:2"], dir, "siltdb get");
  assert.equal(got.stdout.trim(), "bob");
});

test("installed from the tarball, the README quick start runs in Bun", { skip: inNode }, () => {
  const dir = installed();
  writeFileSync(join(dir, "bun.ts"), quickStart("Bun").replaceAll('"./data"', '"./data-bun"'));
  const ran = run(bin("bun"), ["bun.ts"], dir, "the Bun quick start");
  assert.match(ran.stdout, /theme: "dark"/);
});

test(
  'installed from the tarball, the README quick start runs in Deno (bare "siltdb" from node_modules) and type-checks',
  { skip: inNode },
  () => {
    const dir = installed();
    writeFileSync(join(dir, "deno.ts"), quickStart("Deno").replaceAll('"./data"', '"./data-deno"'));
    const ran = run(bin("deno"), ["run", "-A", "--cached-only", "deno.ts"], dir, "the Deno quick start");
    assert.match(ran.stdout, /Uint8Array\(1\) \[ 118 \]/);
    // The published .d.ts files, as Deno's type checker reads them.
    run(bin("deno"), ["check", "deno.ts"], dir, "deno check of the quick start");
  },
);

test(
  'installed from the tarball, the README quick start runs in Deno with "npm:siltdb" (resolved from node_modules, offline)',
  { skip: inNode },
  () => {
    const dir = installed();
    const code = quickStart("Deno").replace('from "siltdb"', 'from "npm:siltdb"').replaceAll(
      '"./data"',
      '"./data-deno-npm"',
    );
    assert.match(code, /from "npm:siltdb"/);
    writeFileSync(join(dir, "deno_npm.ts"), code);
    // --cached-only: nothing may come from a registry; the package.json + node_modules answer.
    const ran = run(
      bin("deno"),
      ["run", "-A", "--cached-only", "deno_npm.ts"],
      dir,
      "the Deno quick start with npm:siltdb",
    );
    assert.match(ran.stdout, /Uint8Array\(1\) \[ 118 \]/);
  },
);

/**
 * Runs the program app(dataPath, typescript) of siltdb/<entry> from the installed package in Node
 * (as .mjs), Bun and Deno (as .ts), each on its own data, checks that each prints `expected` last,
 * and type-checks the Deno one.
 */
function runEverywhere(dir: string, entry: string, app: (data: string, ts: boolean) => string, expected: string): void {
  const runs: [string, string, string[]][] = [
    ["node", "node", [`${entry}_node.mjs`]],
    ["bun", bin("bun"), [`${entry}_bun.ts`]],
    ["deno", bin("deno"), ["run", "-A", "--cached-only", `${entry}_deno.ts`]],
  ];
  for (const [runtime, cmd, args] of runs) {
    const file = args.at(-1)!;
    writeFileSync(join(dir, file), app(`./${entry}-${runtime}`, file.endsWith(".ts")));
    const ran = run(cmd, args, dir, `siltdb/${entry} in ${runtime}`);
    assert.equal(ran.stdout.trim().split("\n").at(-1), expected, `siltdb/${entry} in ${runtime}`);
  }
  run(bin("deno"), ["check", `${entry}_deno.ts`], dir, `deno check of siltdb/${entry}`);
}

test(
  "installed from the tarball, siltdb/level works in Node, Bun and Deno (and type-checks in Deno)",
  { skip: inNode },
  () => {
    const dir = installed();
    // (TypeScript: values are strings unless the type says otherwise, as with classic-level.)
    const app = (data: string, ts: boolean) =>
      `import { SiltLevel } from "siltdb/level";
const db = new SiltLevel${ts ? "<string, { name: string }>" : ""}(${JSON.stringify(data)}, { valueEncoding: "json" });
await db.put("user:1", { name: "alice" });
await db.batch([{ type: "put", key: "user:2", value: { name: "bob" } }]);
const entries = [];
for await (const [key, value] of db.iterator({ gte: "user:", lt: "user;" })) entries.push([key, value]);
console.log(JSON.stringify(entries));
await db.close();
`;
    const expected = JSON.stringify([["user:1", { name: "alice" }], ["user:2", { name: "bob" }]]);
    runEverywhere(dir, "level", app, expected);
  },
);

test(
  "installed from the tarball, siltdb/kv works in Node, Bun and Deno (and type-checks in Deno)",
  { skip: inNode },
  () => {
    const dir = installed();
    const app = (path: string, ts: boolean) =>
      `import { KvU64, openKv } from "siltdb/kv";
const kv = await openKv(${JSON.stringify(path)});
await kv.set(["users", "alice"], { age: 31, since: new Date(0) });
await kv.atomic().sum(["count"], 1n).check({ key: ["users", "bob"], versionstamp: null }).set(["users", "bob"], { age: 27 }).commit();
const users = [];
for await (const { key, value } of kv.list${ts ? "<{ age: number }>" : ""}({ prefix: ["users"] })) {
  users.push([key[1], value.age]);
}
const count = (await kv.get(["count"])).value;
console.log(JSON.stringify({ users, count: count instanceof KvU64 ? String(count) : null }));
await kv.close();
`;
    const expected = JSON.stringify({ users: [["alice", 31], ["bob", 27]], count: "1" });
    runEverywhere(dir, "kv", app, expected);
  },
);

for (const [i, b] of BUNDLERS.entries()) {
  test(`a program using the installed package, built with ${b.name}, compacts in the worker`, { skip: inNode }, (t) => {
    const dir = installed();
    const app = join(dir, `bundle_app_${i}.ts`);
    writeFileSync(app, bundleApp("siltdb"));
    const reason = bundleAndRun(b, app, join(tmp(), `bundle-out-${i}`), join(tmp(), `bundle-db-${i}`), dir);
    if (reason) skip(t, reason);
  });
}

// ---- JSR (Deno pass) --------------------------------------------------------

test("deno check mod.ts level.ts passes with type checking on, also from a project without this repository's config", {
  skip: inDeno,
}, () => {
  run(bin("deno"), ["check", "mod.ts", "level.ts"], root, "deno check mod.ts level.ts");
  // A user's project (no deno.json, no package.json) importing mod.ts by path.
  const dir = mkdtempSync(join(tmpdir(), "siltdb-check-"));
  try {
    writeFileSync(
      join(dir, "main.ts"),
      `import { open } from ${JSON.stringify(`${root}mod.ts`)};\nconst db = await open("./data");\nawait db.close();\n`,
    );
    run(bin("deno"), ["check", "--no-config", "main.ts"], dir, "deno check of a project importing mod.ts");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deno publish --dry-run passes (exports . and ./level, license, the generated WASM module, no slow types)", {
  skip: inDeno,
}, () => {
  const result = run(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], root, "deno publish --dry-run");
  const output = result.stdout + result.stderr;
  assert.match(output, /Success.*Dry run complete/);
  const listed = (path: string) => output.includes(`file://${root}${path} (`);
  for (
    const path of [
      "mod.ts",
      "level.ts",
      "LICENSE",
      "README.md",
      "src/wasm/_core_wasm.ts",
      "src/wasm/_core_abi.ts",
      "src/_worker_source.ts",
    ]
  ) {
    assert.ok(listed(path), `${path} is published`);
  }
  for (const dir of ["tests/", "core/", "bench/", "scripts/", "dist/", "node_modules/"]) {
    assert.ok(!output.includes(`${root}${dir}`), `nothing from ${dir} is published`);
  }
});
