// The layout of src/ as docs/architecture.md draws it, held true: the
// WebAssembly core is reached only through src/wasm/, no import circle,
// the facade stays a facade, and no source file grows past what one reader
// can hold in mind.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
/** Written by scripts/build.mjs, not by hand. */
const GENERATED = new Set(["src/wasm/_core_wasm.ts", "src/wasm/_core_abi.ts", "src/_worker_source.ts"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  );
}

const files = sources(src).map((path) => ({ path, name: relative(root, path), text: readFileSync(path, "utf8") }));
const handWritten = files.filter((f) => !GENERATED.has(f.name));

/** The relative modules a file imports (type-only imports too), as paths. */
function importsOf(file: { path: string; text: string }): string[] {
  const specifiers = [...file.text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)].map((m) => m[1]);
  return specifiers.map((s) => resolve(dirname(file.path), s));
}

test("outside src/wasm/, no file imports the generated core module or calls core.*", () => {
  const offenders: string[] = [];
  for (const f of files.filter((f) => !f.name.startsWith("src/wasm/"))) {
    const imports = importsOf(f).map((p) => relative(root, p));
    if (imports.some((p) => p === "src/wasm/_core_wasm.ts" || p === "src/wasm/_core_abi.ts")) {
      offenders.push(`${f.name} imports the generated module`);
    }
    if (/import\s*(?:type\s*)?\{[^}]*\bcore\b[^}]*\}\s*from\s*"[^"]*wasm\/instance\.ts"/.test(f.text)) {
      offenders.push(`${f.name} imports core`);
    }
    for (const m of f.text.matchAll(/\bcore\.[a-zA-Z]\w*\(/g)) offenders.push(`${f.name} calls ${m[0]}`);
  }
  assert.deepEqual(offenders, []);
});

test("src/ has no import circle (type-only imports count)", () => {
  const graph = new Map(files.map((f) => [f.path, importsOf(f).filter((p) => p.startsWith(src))]));
  const state = new Map<string, "visiting" | "done">();
  const circles: string[] = [];
  const visit = (path: string, stack: string[]) => {
    if (state.get(path) === "done") return;
    if (state.get(path) === "visiting") {
      circles.push([...stack.slice(stack.indexOf(path)), path].map((p) => relative(root, p)).join(" -> "));
      return;
    }
    state.set(path, "visiting");
    for (const next of graph.get(path) ?? []) visit(next, [...stack, path]);
    state.set(path, "done");
  };
  for (const path of graph.keys()) visit(path, []);
  assert.deepEqual(circles, []);
});

test("no two folders of src/ import each other (the layers of docs/architecture.md)", () => {
  const unit = (path: string) => relative(src, path).split("/")[0];
  const deps = new Map<string, Set<string>>();
  for (const f of files) {
    for (const target of importsOf(f).filter((p) => p.startsWith(src))) {
      if (unit(target) !== unit(f.path)) {
        deps.set(unit(f.path), (deps.get(unit(f.path)) ?? new Set()).add(unit(target)));
      }
    }
  }
  const both = [...deps].flatMap(([a, targets]) =>
    [...targets].filter((b) => a < b && deps.get(b)?.has(a)).map((b) => `${a} <-> ${b}`)
  );
  assert.deepEqual(both, []);
});

test("src/db.ts is a facade of at most 500 lines; no hand-written file under src/ is over 600", () => {
  const lines = (f: { text: string }) => f.text.split("\n").length - (f.text.endsWith("\n") ? 1 : 0);
  const db = handWritten.find((f) => f.name === "src/db.ts")!;
  assert.ok(lines(db) <= 500, `src/db.ts has ${lines(db)} lines`);
  const long = handWritten.filter((f) => lines(f) > 600).map((f) => `${f.name}: ${lines(f)} lines`);
  assert.deepEqual(long, []);
});

test("src/object_store/ imports no node:* module itself (a browser build may follow)", () => {
  const offenders = files
    .filter((f) => f.name.startsWith("src/object_store/") && /^(?:import|export)\s[^;]*?from\s+"node:/ms.test(f.text))
    .map((f) => f.name);
  assert.deepEqual(offenders, []);
});
