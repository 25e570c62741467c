// TTL and compaction filters: what they cost, side by side in one process
// and one run (rounds alternate between the stores, medians reported):
//
//   reads      N keys (16-byte keys, 100-byte values) put without a ttl vs
//              with a ttl that never comes due: getSync in random order,
//              a forward and a reverse scan of everything
//   compaction the same N keys in L0 tables compacted into one level with
//              no compactionFilter vs with a filter that keeps everything
//              (inline, so that the filter's per-entry call is on the clock)
//
//   node --import tsx bench/ttl_bench.ts        deno run -A bench/ttl_bench.ts        bun bench/ttl_bench.ts
//
// Environment: SILTDB_BENCH_N (keys, default 200,000), SILTDB_BENCH_ROUNDS (default 9).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { type Db, open } from "../mod.ts";
import { keyOf, permutation } from "./_shared.ts";

const N = Number(process.env.SILTDB_BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.SILTDB_BENCH_ROUNDS ?? 9);
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const root = mkdtempSync(join(os.tmpdir(), "ttl-bench-"));
const value = "v".repeat(100);
const order = permutation(N, 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function fill(
  name: string,
  options: Record<string, unknown>,
  ttl: number | undefined,
): Promise<Db<string, string>> {
  const db = await open(join(root, name), {
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    compactionMode: "inline",
    l0CompactionTrigger: 1000,
    l0SlowdownTrigger: 1000,
    l0StopTrigger: 1000,
    memtableSize: 1 << 20,
    ...options,
  }) as Db<string, string>;
  let batch = db.batch();
  for (let i = 0; i < N; i++) {
    batch.put(keyOf(order[i]), value, ttl === undefined ? undefined : { ttl });
    if (batch.length === 1000) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.write();
  await db.flush();
  return db;
}

function reads(db: Db<string, string>, round: number): { get: number; scan: number; reverse: number } {
  const probe = permutation(N, 100 + round);
  let t = performance.now();
  for (let i = 0; i < N; i++) db.getSync(keyOf(probe[i]));
  const get = (performance.now() - t) * 1000 / N;
  t = performance.now();
  for (const _ of db.scanSync()) { /* read everything */ }
  const scan = (performance.now() - t) * 1e6 / N;
  t = performance.now();
  for (const _ of db.scanSync({ reverse: true })) { /* read everything */ }
  const reverse = (performance.now() - t) * 1e6 / N;
  return { get, scan, reverse };
}

try {
  const filterUrl = pathToFileURL(join(root, "keep_all.mjs"));
  writeFileSync(filterUrl, "export default function keepAll() { return 'keep'; }\n");
  const plain = await fill("plain", {}, undefined);
  const expiring = await fill("expiring", {}, 10 ** 12);
  await plain.compact();
  await expiring.compact();
  const r = { plain: [] as ReturnType<typeof reads>[], expiring: [] as ReturnType<typeof reads>[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ["plain", "expiring"] as const : ["expiring", "plain"] as const) {
      r[which].push(reads(which === "plain" ? plain : expiring, round));
    }
  }
  await plain.close();
  await expiring.close();

  const compactions = { none: [] as number[], filter: [] as number[] };
  for (let round = 0; round < Math.max(3, ROUNDS >> 1); round++) {
    for (const which of round % 2 === 0 ? ["none", "filter"] as const : ["filter", "none"] as const) {
      const name = `c-${which}-${round}`;
      const db = await fill(name, which === "filter" ? { compactionFilter: filterUrl } : {}, undefined);
      const t = performance.now();
      await db.compact();
      compactions[which].push((performance.now() - t) * 1e6 / N);
      await db.close();
      rmSync(join(root, name), { recursive: true, force: true });
    }
  }

  const row = (label: string, a: number, b: number, unit: string) =>
    `| ${label.padEnd(26)} | ${a.toFixed(3).padStart(9)} | ${b.toFixed(3).padStart(9)} | ${
      (b / a).toFixed(2).padStart(5)
    } | ${unit}`;
  console.log(`ttl_bench (${runtime}, ${N.toLocaleString("en-US")} keys, median of ${ROUNDS} alternating rounds)`);
  console.log(`| ${"".padEnd(26)} | ${"without".padStart(9)} | ${"with".padStart(9)} | ratio |`);
  const m = (xs: ReturnType<typeof reads>[], k: "get" | "scan" | "reverse") => median(xs.map((x) => x[k]));
  console.log(row("getSync (µs), ttl", m(r.plain, "get"), m(r.expiring, "get"), "µs per get"));
  console.log(row("scan (ns/entry), ttl", m(r.plain, "scan"), m(r.expiring, "scan"), "ns per entry"));
  console.log(row("reverse (ns/entry), ttl", m(r.plain, "reverse"), m(r.expiring, "reverse"), "ns per entry"));
  console.log(
    row("compact (ns/entry), filter", median(compactions.none), median(compactions.filter), "ns per entry"),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
