// Makes the npm package: `npm run pack` (or `node scripts/pack.mjs`).
//
// The repository's package.json is for working on siltdb: `npm install`
// builds it (the prepare script) and pulls in the dev tools. The published
// package must run nothing at install and ship only what runs. So this
// script builds (unless --no-build), stages dist/, docs/*.md, README.md and
// LICENSE with a package.json cut down to what a user needs (no scripts, no
// devDependencies; exports whose entry point does not exist yet are left
// out, loudly), checks the result (every export, type and bin target is
// there; the core wasm is in exactly one file), and runs `npm pack` on the
// staged directory.
//
//   node scripts/pack.mjs [--no-build] [--out <dir>] [--json]
//     --no-build   package the current dist/ (default: build first)
//     --out <dir>  where the .tgz goes (default: the repository root)
//     --json       print {tarball, size, unpackedSize, files, manifest} on stdout
//   node scripts/pack.mjs --refuse-publish   (prepublishOnly: publish the tarball, not the repository)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const json = args.includes("--json");
const log = (msg) => (json ? console.error : console.log)(`[pack] ${msg}`);
const fail = (msg) => {
  console.error(`[pack] error: ${msg}`);
  process.exit(1);
};

const source = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const tarballName = `${source.name}-${source.version}.tgz`;

if (args.includes("--refuse-publish")) {
  fail(
    `publish the staged package, not the repository (its package.json builds on install):\n` +
      `  npm run pack && npm publish ./${tarballName}`,
  );
}

const outIndex = args.indexOf("--out");
const outDir = outIndex >= 0 ? resolve(args[outIndex + 1] ?? fail("--out needs a directory")) : root;

if (!args.includes("--no-build")) {
  const built = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], {
    cwd: root,
    stdio: ["ignore", json ? 2 : "inherit", "inherit"],
  });
  if (built.status !== 0) fail("the build failed");
}

// The published manifest: what a user's package manager and runtime read.
const KEEP = [
  "name",
  "version",
  "description",
  "license",
  "author",
  "repository",
  "homepage",
  "bugs",
  "keywords",
  "type",
  "main",
  "types",
  "exports",
  "bin",
  "files",
  "engines",
  "dependencies",
  "peerDependencies",
  "peerDependenciesMeta",
  "optionalDependencies",
];
const manifest = {};
for (const key of KEEP) if (source[key] !== undefined) manifest[key] = structuredClone(source[key]);

/** The files an export entry points at (a string or a conditions object). */
const targets = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry).flatMap(targets));
const exists = (path) => existsSync(join(root, path));

for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
  if (subpath === "./package.json") continue;
  const missing = targets(entry).filter((t) => !exists(t));
  if (missing.length === 0) continue;
  // dist/<name>.js comes from <name>.ts at the root: no source, no export (yet).
  const name = subpath === "." ? "mod" : subpath.slice(2);
  if (!exists(`${name}.ts`)) {
    log(`warning: ${name}.ts does not exist, so the package leaves out the "${subpath}" export`);
    delete manifest.exports[subpath];
    continue;
  }
  fail(`export "${subpath}" points at missing ${missing.join(", ")}: run the build (or drop --no-build)`);
}
for (const path of [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})]) {
  if (path && !exists(path)) fail(`${path} is missing: run the build (or drop --no-build)`);
}

// Stage exactly the published files.
const stage = join(root, ".tmp", "pack", "package");
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const entry of manifest.files) {
  // A path, or dir/*.ext (generated files elsewhere in dir, such as docs/api/, stay out).
  const star = entry.lastIndexOf("*");
  const paths = star < 0 ? [entry] : readdirSync(join(root, dirname(entry)))
    .filter((name) => name.endsWith(entry.slice(star + 1)))
    .map((name) => join(dirname(entry), name));
  if (paths.length === 0 || !paths.every(exists)) fail(`${entry} (in "files") is missing`);
  for (const path of paths) cpSync(join(root, path), join(stage, path), { recursive: true });
}
writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// The core wasm travels as base64 text: it must be in one file only.
const wasmPath = join(root, "build", "siltdb_core.wasm");
if (!existsSync(wasmPath)) fail("build/siltdb_core.wasm is missing: run the build");
const marker = readFileSync(wasmPath).toString("base64").slice(0, 100);
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((
    e,
  ) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const holders = walk(stage).filter((file) => readFileSync(file, "latin1").split(marker).length > 1);
const copies = holders.reduce((n, file) => n + readFileSync(file, "latin1").split(marker).length - 1, 0);
if (copies !== 1) {
  fail(
    `the core wasm should be in the package once, found ${copies} copies (${
      holders.map((f) => relative(stage, f)).join(", ")
    })`,
  );
}

mkdirSync(outDir, { recursive: true });
const packed = spawnSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", outDir], {
  cwd: stage,
  encoding: "utf8",
  env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
});
if (packed.status !== 0) fail(`npm pack failed: ${packed.stderr}`);
const [info] = JSON.parse(packed.stdout);
const tarball = join(outDir, info.filename);
const files = info.files.map((f) => f.path).sort();
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
log(
  `${relative(process.cwd(), tarball) || tarball}: ${kib(statSync(tarball).size)} packed, ${
    kib(info.unpackedSize)
  } unpacked, ${files.length} files`,
);
log(
  `exports: ${Object.keys(manifest.exports).join(", ")}; bin: ${Object.keys(manifest.bin ?? {}).join(", ")}; wasm in ${
    relative(stage, holders[0])
  }`,
);
if (json) {
  console.log(
    JSON.stringify({ tarball, size: statSync(tarball).size, unpackedSize: info.unpackedSize, files, manifest }),
  );
}
