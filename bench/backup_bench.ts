// Settling and copies (issue 20): three rounds of overwrites of
// SILTDB_BENCH_N (200,000) keys with 100-byte values, default options, then
//
//   settle      space amplification right after the last flush, and after
//               db.waitForCompactions() (and how long it waited)
//   checkpoint  db.checkpoint() of the settled store (tables hard-linked)
//   backup      a first db.backup() (every table copied), and a second one
//               right after (nothing new: no table copied)
//
//   node --import tsx bench/backup_bench.ts
//   deno run -A bench/backup_bench.ts
//   bun bench/backup_bench.ts
//
// One line of figures on stdout.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const N = Number(process.env.SILTDB_BENCH_N ?? 200_000);
const dir = mkdtempSync(join(os.tmpdir(), "siltdb-backup-bench-"));
try {
  const db = await open(join(dir, "db"), { keyEncoding: "utf8", valueEncoding: "utf8" });
  const value = "x".repeat(99);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < N; i += 1000) {
      const batch = db.batch();
      for (let j = i; j < Math.min(N, i + 1000); j++) batch.put(`key${String(j).padStart(10, "0")}`, value + round);
      await batch.write();
    }
  }
  await db.flush();
  const before = db.stats().spaceAmplification;
  let t = performance.now();
  await db.waitForCompactions();
  const waitMs = performance.now() - t;
  const after = db.stats().spaceAmplification;
  t = performance.now();
  const cp = await db.checkpoint(join(dir, "checkpoint"));
  const cpMs = performance.now() - t;
  t = performance.now();
  const first = await db.backup(join(dir, "backups"));
  const firstMs = performance.now() - t;
  t = performance.now();
  const second = await db.backup(join(dir, "backups"));
  const secondMs = performance.now() - t;
  await db.close();
  console.log(
    `${runtime}: space amplification ${before.toFixed(2)} -> ${after.toFixed(2)} after waitForCompactions (${
      waitMs.toFixed(0)
    } ms); checkpoint ${cpMs.toFixed(1)} ms (${cp.linked} tables linked); backup ${firstMs.toFixed(0)} ms (${
      (first.bytes / 2 ** 20).toFixed(1)
    } MiB, ${first.tablesCopied} tables), again ${secondMs.toFixed(1)} ms (${second.tablesCopied} tables copied)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
