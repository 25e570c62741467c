// siltdb/kv against Deno's own KV (SQLite), same workload, same process:
//
//   deno run -A --unstable-kv bench/kv_bench.ts [n]
//   node --import tsx bench/kv_bench.ts [n]     (siltdb/kv alone; Bun too)
//
// Each store is a fresh temporary path. Workloads (n keys ["k", i] with a
// 100-byte string value): awaited sets one after another (each a durable
// commit), 64 sets at a time (commits that can share a sync), gets, a
// list of everything, and atomic check-and-set increments of one counter by
// 16 concurrent writers (conflicts retried). Prints operations per second.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Kv, openKv as openSiltKv } from "../kv.ts";

/** Deno's own KV, where there is one (Deno with --unstable-kv): its API is the one siltdb/kv has. */
const denoOpenKv = (globalThis as unknown as { Deno?: { openKv?(path: string): Promise<Kv> } }).Deno?.openKv;
const n = Number(process.argv[2] ?? 2000);
const value = "v".repeat(100);

async function time(label: string, ops: number, fn: () => Promise<void>): Promise<string> {
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  return `${label.padEnd(26)} ${Math.round(ops / (ms / 1000)).toString().padStart(9)} ops/s`;
}

async function run(name: string, open: (path: string) => Promise<Kv>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kv-bench-"));
  const kv = await open(`${dir}/kv`);
  const lines = [
    await time("set, awaited one by one", n, async () => {
      for (let i = 0; i < n; i++) await kv.set(["k", i], value);
    }),
    await time("set, 64 at a time", n, async () => {
      for (let i = 0; i < n; i += 64) {
        await Promise.all(Array.from({ length: Math.min(64, n - i) }, (_, j) => kv.set(["c", i + j], value)));
      }
    }),
    await time("get", n, async () => {
      for (let i = 0; i < n; i++) await kv.get(["k", i]);
    }),
    await time("list (entries read)", n, async () => {
      for await (const _ of kv.list({ prefix: ["k"] })) { /* read */ }
    }),
    await time("check-and-set, 16 writers", 16 * 50, async () => {
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let done = 0; done < 50;) {
          const entry = await kv.get<number>(["counter"]);
          const res = await kv.atomic().check(entry).set(["counter"], (entry.value ?? 0) + 1).commit();
          if (res.ok) done++;
        }
      }));
    }),
  ];
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`\n${name} (n = ${n})\n${lines.join("\n")}`);
}

await run("siltdb/kv", (path) => openSiltKv(path));
if (denoOpenKv) await run("Deno KV (SQLite)", (path) => denoOpenKv(path));
else console.log("\n(in Deno with --unstable-kv, Deno's own KV is measured too)");
