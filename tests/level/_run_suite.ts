// Runs abstract-level's compliance suite (node_modules/abstract-level/test)
// against SiltLevel with tape, printing TAP on standard output. Each
// database the suite makes gets a fresh directory under one temporary root,
// removed at the end. Runs as is in Node (with tsx), Deno and Bun:
//
//   node --import tsx tests/level/_run_suite.ts
//   deno run -A tests/level/_run_suite.ts
//   bun tests/level/_run_suite.ts
//
// Used by tests/level_compliance.test.ts, which checks the TAP summary.

import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { SiltLevel, type SiltLevelOptions } from "../../level.ts";

interface Tape {
  (name: string, fn: (t: unknown) => unknown): void;
  onFinish(fn: () => void): void;
}
type Suite = (
  options: { test: Tape; factory: (options?: SiltLevelOptions<unknown, unknown>) => SiltLevel<unknown, unknown> },
) => void;

const require = createRequire(import.meta.url);
const tape = require("tape") as Tape;
const suite = require("abstract-level/test") as Suite;

const root = mkdtempSync(join(tmpdir(), "siltdb-level-suite-"));
let n = 0;
tape.onFinish(() => rmSync(root, { recursive: true, force: true }));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));

suite({
  test: tape,
  factory: (options) => new SiltLevel(join(root, `db${n++}`), options),
});
