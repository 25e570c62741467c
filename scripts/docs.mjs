// npm run docs: the API reference, generated from the JSDoc of the public
// entry points by `deno doc --html` into docs/api/ (open docs/api/index.html).
// Also runs `deno doc --lint`, which fails on an export without JSDoc or
// without an explicit type. docs/api/ is generated, not committed.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const entries = ["mod.ts", "level.ts", "browser.ts"].filter((f) => existsSync(join(root, f)));
const out = join(root, "docs", "api");

function run(args) {
  const result = spawnSync(deno, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run(["doc", "--lint", "mod.ts"]); // level.ts extends abstract-level's types, which doc --lint calls private
rmSync(out, { recursive: true, force: true });
run(["doc", "--html", "--name=siltdb", `--output=${out}`, ...entries]);
console.log(`API reference in ${out}/index.html`);
