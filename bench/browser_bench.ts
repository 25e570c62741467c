// The browser benchmark (issue 12): in one headless Chromium run, the same
// workloads on siltdb on OPFS (in a dedicated worker, async and sync API, and
// through the main thread's proxy), raw IndexedDB and SQLite-WASM on OPFS
// ("opfs-sahpool" VFS), all in the same worker. Serves the repository with
// scripts/serve.mjs, drives bench/browser/index.html with puppeteer-core,
// prints a table, writes bench/results/browser.json and the section
// "## Browser (Chromium, OPFS)" of docs/benchmarks.md.
//
//   npm run bench:browser                       (node --import tsx bench/browser_bench.ts)
//   SILTDB_BROWSER_BENCH_N=20000                keys (default 20,000)
//   SILTDB_BROWSER_BENCH_ENGINES=siltdb,sqlite  a subset (default: all four)
//   SILTDB_BROWSER_BENCH_NO_DOCS=1              do not touch docs/benchmarks.md

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { serve } from "../scripts/serve.mjs";
import { findChrome, launchChromium, loadPuppeteer } from "../tests/browser/_launch.ts";

interface Row {
  workload: string;
  engine: string;
  ops: number;
  ms: number;
  opsPerSec: number;
  note?: string;
}

interface Result {
  n: number;
  rows: Row[];
  unavailable: Record<string, string>;
  info: {
    userAgent: string;
    sqlite?: string;
    siltdbOpen?: { files: number; bytes: number; createSyncAccessHandlesMs: number; getSizeMs: number };
  };
}

const root = fileURLToPath(new URL("..", import.meta.url));
const n = Number(process.env.SILTDB_BROWSER_BENCH_N ?? 20_000);
if (!Number.isInteger(n) || n < 1000) throw new Error(`SILTDB_BROWSER_BENCH_N must be an integer ≥ 1000 (got ${n})`);
const engines = process.env.SILTDB_BROWSER_BENCH_ENGINES ?? "siltdb,indexeddb,sqlite,siltdb-main";

/** Runs the page in Chromium; resolves to its results and the browser's version. */
async function run(): Promise<{ result: Result; chromium: string }> {
  const chrome = findChrome();
  if ("reason" in chrome) throw new Error(chrome.reason);
  if (!existsSync(join(root, "dist", "browser.js"))) {
    throw new Error("dist/browser.js not built: node scripts/build.mjs");
  }
  const loaded = await loadPuppeteer();
  if ("reason" in loaded) throw new Error(loaded.reason);
  const server = await serve({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), "siltdb-bench-chromium-"));
  const browser = await launchChromium(loaded.puppeteer, chrome.path, profile);
  try {
    const chromium = await browser.version();
    const page = await browser.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "log") console.log(`  [page] ${msg.text()}`);
      else if (msg.type() === "error") console.log(`  [page error] ${msg.text()}`);
    });
    page.on("pageerror", (err) => console.log(`  [page error] ${String(err)}`));
    await page.goto(`${server.url}/bench/browser/index.html?n=${n}&engines=${engines}`);
    // Polled with short calls: one long waitForSelector would outlast puppeteer's protocol timeout.
    const deadline = Date.now() + 30 * 60_000;
    let state: unknown;
    while ((state = await page.evaluate(`document.getElementById("out")?.dataset.state`)) === undefined) {
      if (Date.now() > deadline) throw new Error("the benchmark page did not finish in 30 minutes");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const text = String(await page.evaluate(`document.getElementById("out").textContent`));
    if (state !== "done") throw new Error(`the benchmark page failed:\n${text}`);
    return { result: JSON.parse(text) as Result, chromium };
  } finally {
    await browser.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const WORKLOADS: [string, string][] = [
  ["put", "awaited put, one by one (no sync)"],
  ["put-sync", "awaited put, one by one, sync / durable"],
  ["batch200", "batches of 200 puts"],
  ["get", "point reads, random existing keys"],
  ["seek100", "seek + next 100 (seeks/s)"],
  ["scan", "full scan (entries/s)"],
  ["open", "start-up: open a store of N keys + 1 read (opens/s)"],
  ["open-cold", "start-up with every OPFS handle taken again (opens/s)"],
];
const COLUMNS: [string, string][] = [
  ["siltdb", "siltdb worker"],
  ["siltdb-sync", "siltdb worker sync API"],
  ["siltdb-main", "siltdb main thread"],
  ["indexeddb", "IndexedDB"],
  ["sqlite", "SQLite-WASM"],
];

/** What the browser section of docs/benchmarks.md says before the figures (written once, when the section is created). */
const BROWSER_INTRO = [
  "`npm run bench:browser` (bench/browser_bench.ts, page and worker in bench/browser/): one headless Chromium run,",
  "every engine in the same dedicated worker, one after the other: siltdb on OPFS (the real `Db`, its async API and",
  "its `getSync`/`scanSync`), raw IndexedDB (one readwrite transaction per awaited put, awaited `oncomplete`;",
  "`getAllKeys`+`getAll` for seeks, a cursor for the full scan) and SQLite-WASM (`@sqlite.org/sqlite-wasm`, the",
  '"opfs-sahpool" VFS, `CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, prepared statements, one',
  "autocommit INSERT per put). Then siltdb once more through the main thread's proxy (`open()` on the main thread,",
  "the db in its module worker). Durability classes are matched: the `put` and `batch200` rows are siltdb without",
  'sync, IndexedDB with durability "relaxed", SQLite with `synchronous=OFF`; the `put-sync` row is siltdb',
  '`sync: true`, IndexedDB "strict", SQLite `synchronous=FULL`. Point reads and seeks use the same random existing',
  "keys for every engine; start-up is the median of 5 reopens (in the same worker, so WASM compilation is not",
  "counted for siltdb or SQLite) of the store holding N keys, up to the first read. siltdb takes the sync access",
  "handle of every OPFS file of the store at each open; SQLite's opfs-sahpool takes its handles once, when the VFS is",
  "installed, so its `open` row is warm: `open-cold` adds the VFS taking its handles again (`unpauseVfs()`).",
].join("\n");

const fmt = (x: number | undefined) => x === undefined ? "—" : Math.round(x).toLocaleString("en-US");
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? "—" : `${(a / b).toFixed(a / b >= 10 ? 1 : 2)}×`;

function table(result: Result): { markdown: string; targets: { what: string; value: number; min: number }[] } {
  const get = (w: string, e: string) => result.rows.find((r) => r.workload === w && r.engine === e)?.opsPerSec;
  // siltdb in its worker: the better of its async and sync API (getSync and scanSync exist only there).
  const best = (w: string) => {
    const xs = [get(w, "siltdb"), get(w, "siltdb-sync")].filter((x): x is number => x !== undefined);
    return xs.length > 0 ? Math.max(...xs) : undefined;
  };
  const lines = [
    `| workload | ${COLUMNS.map(([, h]) => h).join(" | ")} | siltdb ÷ IndexedDB | siltdb ÷ SQLite |`,
    `|---|${COLUMNS.map(() => "--:").join("|")}|--:|--:|`,
  ];
  for (const [w, label] of WORKLOADS) {
    const cells = COLUMNS.map(([e]) => fmt(get(w, e)));
    lines.push(
      `| ${w}: ${label} | ${cells.join(" | ")} | ${ratio(best(w), get(w, "indexeddb"))} | ${
        ratio(best(w), get(w, "sqlite"))
      } |`,
    );
  }
  const targets: { what: string; value: number; min: number }[] = [];
  const add = (what: string, ours: number | undefined, theirs: number | undefined, min: number) => {
    if (ours !== undefined && theirs !== undefined) targets.push({ what, value: ours / theirs, min });
  };
  add("awaited put (no sync) ≥ 10× IndexedDB (relaxed)", get("put", "siltdb"), get("put", "indexeddb"), 10);
  add("awaited put sync ≥ 10× IndexedDB (strict)", get("put-sync", "siltdb"), get("put-sync", "indexeddb"), 10);
  add("awaited get ≥ 10× IndexedDB", get("get", "siltdb"), get("get", "indexeddb"), 10);
  add("getSync ≥ 10× IndexedDB", get("get", "siltdb-sync"), get("get", "indexeddb"), 10);
  for (const [w] of WORKLOADS) add(`${w} ahead of SQLite-WASM`, best(w), get(w, "sqlite"), 1);
  return { markdown: lines.join("\n"), targets };
}

function notes(result: Result): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of result.rows) {
    if (!r.note || r.workload === "open") continue;
    const line = `${r.engine} ${r.workload === "get-alt" ? "get (other variant)" : r.workload}: ${r.note}` +
      (r.workload === "get-alt" ? ` — ${fmt(r.opsPerSec)} ops/s` : "");
    if (!seen.has(line)) out.push(line), seen.add(line);
  }
  const o = result.info.siltdbOpen;
  if (o) {
    out.push(
      `siltdb open: its store is ${o.files} OPFS slot files (${
        (o.bytes / 1048576).toFixed(1)
      } MiB); taking their sync access handles one by one would take ${
        o.createSyncAccessHandlesMs.toFixed(1)
      } ms alone (OpfsStorage takes them all at once; the rest of an open is recovery: manifest, log, tables)`,
    );
  }
  if (result.info.sqlite) out.push(`SQLite ${result.info.sqlite}`);
  for (const [e, why] of Object.entries(result.unavailable)) out.push(`${e} could not run: ${why}`);
  return out;
}

const { result, chromium } = await run();
// siltdb's and IndexedDB's open are cold already (siltdb takes every OPFS handle at each open): the same figure.
for (const r of result.rows.filter((r) => r.workload === "open")) {
  if (!result.rows.some((o) => o.workload === "open-cold" && o.engine === r.engine)) {
    result.rows.push({ ...r, workload: "open-cold", note: undefined });
  }
}
const { markdown, targets } = table(result);
const cpu = cpus();
const machine = `${cpu[0]?.model ?? "unknown CPU"} (${cpu.length} cores)`;
const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
const targetLines = targets.map((t) =>
  `- ${t.what}: ${t.value.toFixed(2)}× — ${t.value >= t.min ? "**holds**" : "**missed**"}`
);

console.log(`\nbrowser bench: ${n.toLocaleString("en-US")} keys, ${chromium}, ${machine}, ${date} (ops/s)\n`);
console.log(markdown);
console.log("\n" + notes(result).map((l) => `  ${l}`).join("\n"));
console.log("\ntargets:\n" + targetLines.join("\n"));

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/browser.json", import.meta.url),
  JSON.stringify({ date, machine, chromium, ...result, targets }, null, 2) + "\n",
);

if (!process.env.SILTDB_BROWSER_BENCH_NO_DOCS) {
  const docs = new URL("../docs/benchmarks.md", import.meta.url);
  const START = "<!-- browser bench start -->";
  const END = "<!-- browser bench end -->";
  const section = [
    START,
    "",
    `### ${n.toLocaleString("en-US")} keys, ${chromium} headless, ${machine}, ${date}`,
    "",
    "ops/s; keys 16 bytes, values 100 bytes; ratios: siltdb in its worker (the better of its async and sync API) ÷ peer.",
    "",
    markdown,
    "",
    ...notes(result).map((l) => `- ${l}`),
    "",
    "Targets (issue 12): at least 10× IndexedDB on awaited small writes and on point reads; ahead of SQLite-WASM on every workload.",
    "",
    ...targetLines,
    "",
    END,
  ].join("\n");
  let text = readFileSync(docs, "utf8");
  if (text.includes(START) && text.includes(END)) {
    text = text.slice(0, text.indexOf(START)) + section + text.slice(text.indexOf(END) + END.length);
  } else {
    text = text.trimEnd() + "\n\n## Browser (Chromium, OPFS)\n\n" + BROWSER_INTRO + "\n\n" + section + "\n";
  }
  writeFileSync(docs, text);
  // The tables padded as deno fmt wants them (the suite checks docs/ with deno fmt --check).
  const deno = join(root, "node_modules", ".bin", "deno");
  if (existsSync(deno)) spawnSync(deno, ["fmt", "-q", fileURLToPath(docs)], { stdio: "inherit" });
  console.log("\nwrote bench/results/browser.json and docs/benchmarks.md");
}
