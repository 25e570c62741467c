// Turns bench/results/txn-<runtime>.json (bench/txn_bench.ts) and
// bench/results/kv.json (bench/kv_bench.ts) into the sections
// "Transactions" and "Deno KV API (siltdb/kv)" of docs/benchmarks.md
// (between <!-- txn bench start/end --> and <!-- kv bench start/end -->)
// and the charts bench/results/txn-<runtime>.svg and bench/results/kv.svg.
// Every figure is the median over the rounds with its range (min–max);
// a ratio is taken within each round (the two engines ran minutes apart in
// the same run), then its median and range are shown.
//
//   node --import tsx bench/txn_report.ts [txn|kv ...]    (npm run bench:txn / bench:kv run it)

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { median, span } from "./_runs.ts";

interface Measured {
  ops: number;
  ms: number;
  opsPerSec: number;
  retriesPerCommit?: number;
}
interface EngineRun {
  version: string;
  results: Record<string, Measured>;
  checks: Record<string, string> | string[];
  loadBefore: number[];
  loadAfter: number[];
}
interface Round {
  round: number;
  date: string;
  load: number[];
  waitedSeconds: number;
  engines: Record<string, EngineRun>;
}
interface Results {
  benchmark: "txn" | "kv";
  cpu: string;
  date: string;
  n: number;
  seconds: number;
  warmupMs: number;
  writers: number;
  hotKeys: number;
  quietLoad: number;
  labels: Record<string, string>;
  rounds: Round[];
  unavailable: Record<string, string>;
  // txn
  runtime?: string;
  version?: string;
  // kv
  versions?: Record<string, string | undefined>;
  siltdbKv?: string | null;
}

// siltdb's engines in warm colours, the peers in cool ones, floors and references in grey.
const WARM = ["#c92a2a", "#e8590c", "#f59f00", "#d6336c"];
const COOL = ["#1971c2", "#2f9e44", "#7048e8", "#0c8599"];
function colors(engines: string[]): string[] {
  let w = 0, c = 0;
  return engines.map((e) =>
    /nosync|floor|classic-level/.test(e)
      ? "#adb5bd"
      : e.startsWith("siltdb")
      ? WARM[w++ % WARM.length]
      : COOL[c++ % COOL.length]
  );
}
const int = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—";
const dec2 = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "—";
const times = (n: number) => Number.isFinite(n) ? `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}×` : "—";

function rangeText(values: number[], format: (n: number) => string): string {
  const [lo, hi] = span(values);
  if (!Number.isFinite(lo)) return "—";
  return format(lo) === format(hi) ? format(lo) : `${format(lo)}–${format(hi)}`;
}

/** The engines that ran in at least one round, in the order of the labels. */
const enginesOf = (r: Results) =>
  Object.keys(r.labels).filter((e) => r.rounds.some((round) => round.engines[e] !== undefined));

const valuesOf = (r: Results, engine: string, workload: string, field: keyof Measured = "opsPerSec") =>
  r.rounds.map((round) => round.engines[engine]?.results[workload]?.[field] ?? NaN).filter(Number.isFinite);

/** Per-round ratios of ours over theirs on a workload. */
const ratiosOf = (r: Results, ours: string, theirs: string, workload: string) =>
  r.rounds
    .map((round) =>
      (round.engines[ours]?.results[workload]?.opsPerSec ?? NaN) /
      (round.engines[theirs]?.results[workload]?.opsPerSec ?? NaN)
    )
    .filter(Number.isFinite);

function ratioCell(ratios: number[], target?: number): string {
  if (ratios.length === 0) return "—";
  const m = median(ratios);
  const text = `${times(m)} (${rangeText(ratios, (n) => times(n).slice(0, -1))})`;
  return target !== undefined && m >= target ? `**${text}**` : text;
}

function loadLine(r: Results): string {
  const starts = r.rounds.map((round) => round.load[0]);
  const during = r.rounds.flatMap((round) =>
    Object.values(round.engines).flatMap((e) => [e.loadBefore?.[0], e.loadAfter?.[0]])
  ).filter((x): x is number => Number.isFinite(x));
  const waited = r.rounds.map((round) => round.waitedSeconds);
  return `Load (1-minute average, \`uptime\`, 2 cores): ${starts.map(dec2).join(", ")} at the start of rounds ` +
    `${
      r.rounds.map((x) => x.round).join(", ")
    } (each round first waits, up to \`SILTDB_BENCH_MAX_WAIT\` (300 s by default), for it to fall below ${r.quietLoad}; ` +
    `waited ${waited.map((s) => `${s} s`).join(", ")}); ${
      rangeText(during, dec2)
    } before and after each engine's child.`;
}

function checksLine(r: Results): string {
  const bad: string[] = [];
  for (const round of r.rounds) {
    for (const [e, run] of Object.entries(round.engines)) {
      const list = Array.isArray(run.checks) ? run.checks : Object.values(run.checks);
      for (const c of list) {
        if (/[A-Z]{4,}|!=|failed|missing|did not/.test(c)) bad.push(`${e} round ${round.round}: ${c}`);
      }
    }
  }
  return bad.length === 0
    ? "Checks: every run passed its checks (listed with the workloads)."
    : `Checks FAILED: ${bad.join("; ")}.`;
}

/** Horizontal grouped bars on a log scale: per workload, each engine's median (whisker min–max over rounds). */
function chart(
  r: Results,
  title: string,
  workloads: [string, string][],
  labelOf: (e: string) => string,
  lo = 2, // log10 of the smallest ops/s on the axis
  hi = 6,
): string {
  const engines = enginesOf(r);
  const COLORS = colors(engines);
  const bar = 11;
  const group = engines.length * bar + 12;
  const left = 130;
  const width = 560;
  const legendRows = Math.ceil(engines.length / 2);
  const top = 30 + legendRows * 16 + 14;
  const x = (v: number) => left + ((Math.log10(Math.min(Math.max(v, 10 ** lo), 10 ** hi)) - lo) / (hi - lo)) * width;
  const height = top + workloads.length * group + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      left + width + 40
    }" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${title}</text>`,
  ];
  engines.forEach((e, i) => {
    const lx = 8 + (i % 2) * 360;
    const ly = 30 + Math.floor(i / 2) * 16;
    out.push(
      `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[i]}"/>`,
      `<text x="${lx + 14}" y="${ly + 9}">${labelOf(e)}</text>`,
    );
  });
  for (let d = lo; d <= hi; d++) {
    out.push(
      `<line x1="${x(10 ** d)}" y1="${top - 6}" x2="${x(10 ** d)}" y2="${height - 24}" stroke="#dee2e6"/>`,
      `<text x="${x(10 ** d)}" y="${height - 10}" text-anchor="middle">${int(10 ** d)}</text>`,
    );
  }
  workloads.forEach(([name, label], wi) => {
    const y0 = top + wi * group;
    out.push(`<text x="${left - 6}" y="${y0 + group / 2}" text-anchor="end">${label}</text>`);
    engines.forEach((e, i) => {
      const values = valuesOf(r, e, name);
      if (values.length === 0) return;
      const y = y0 + i * bar;
      const m = median(values);
      out.push(
        `<rect x="${left}" y="${y}" width="${(x(m) - left).toFixed(1)}" height="${bar - 2}" fill="${
          COLORS[i]
        }"><title>${labelOf(e)}, ${label}: ${rangeText(values, int)} ops/s</title></rect>`,
        `<line x1="${x(Math.min(...values)).toFixed(1)}" y1="${y + (bar - 2) / 2}" x2="${
          x(Math.max(...values)).toFixed(1)
        }" y2="${y + (bar - 2) / 2}" stroke="#212529"/>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

const when = (r: Results) => r.date.slice(0, 16).replace("T", " ");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---- Transactions ------------------------------------------------------------------

function txnSection(r: Results, file: string, svg: string): string[] {
  const engines = enginesOf(r);
  const label = (e: string) => r.labels[e] ?? e;
  const short = (e: string) => e === "node:sqlite" ? "node:sqlite" : label(e);
  const peers = ["lmdb-tx", "lmdb-txsync", "node:sqlite"].filter((p) => engines.includes(p));
  const ours = engines.filter((e) => e.startsWith("siltdb"));
  const rounds = r.rounds.length;
  const rmw = [
    `| transactions/s | median | range (${plural(rounds, "round")}) | ${
      peers.map((p) => `÷ ${short(p)}`).join(" | ")
    } |`,
    `|---|---:|---:|${peers.map(() => "---:").join("|")}|`,
    ...engines.map((e) => {
      const v = valuesOf(r, e, "rmw");
      return `| ${label(e)} | ${int(median(v))} | ${rangeText(v, int)} | ${
        peers.map((p) => ours.includes(e) ? ratioCell(ratiosOf(r, e, p, "rmw")) : "").join(" | ")
      } |`;
    }),
  ];
  const cEngines = engines.filter((e) => valuesOf(r, e, "contended").length > 0);
  const cPeers = peers.filter((p) => cEngines.includes(p));
  const cont = [
    `| commits/s | median | range | retries per commit | ${cPeers.map((p) => `÷ ${short(p)}`).join(" | ")} |`,
    `|---|---:|---:|---:|${cPeers.map(() => "---:").join("|")}|`,
    ...cEngines.map((e) => {
      const v = valuesOf(r, e, "contended");
      const retries = valuesOf(r, e, "contended", "retriesPerCommit");
      return `| ${label(e)} | ${int(median(v))} | ${rangeText(v, int)} | ${rangeText(retries, (n) => n.toFixed(3))} | ${
        cPeers.map((p) => ours.includes(e) ? ratioCell(ratiosOf(r, e, p, "contended")) : "").join(" | ")
      } |`;
    }),
  ];
  const yEngines = engines.filter((e) => valuesOf(r, e, "contended-yield").length > 0);
  const yielding = [
    "| commits/s | median | range | retries per commit, median (range) |",
    "|---|---:|---:|---:|",
    ...yEngines.map((e) => {
      const v = valuesOf(r, e, "contended-yield");
      const retries = valuesOf(r, e, "contended-yield", "retriesPerCommit");
      return `| ${label(e)} | ${int(median(v))} | ${rangeText(v, int)} | ${median(retries).toFixed(2)} (${
        rangeText(retries, dec2)
      }) |`;
    }),
  ];
  const unavailable = Object.entries(r.unavailable);
  return [
    `Generated by \`bench/txn_report.ts\` from \`bench/results/${file}\` (\`npm run bench:txn\`: \`bench/txn_bench.ts\`).`,
    "",
    `### ${r.version}, ${r.cpu}, ${when(r)} UTC`,
    "",
    `${int(r.n)} keys with 100-byte values; each engine in its own child process, one after the other, ` +
    `${
      plural(rounds, "round")
    } with the order rotating; ${r.seconds} s per workload after ${r.warmupMs} ms of warm-up. ` +
    `Ratios are siltdb ÷ peer within each round: median (range).`,
    "",
    "Engines: siltdb's `db.transaction` (serializable, the default, and snapshot isolation), `db.transactionSync` " +
    "(a synchronous body reading with `getSync`), and a compare-and-set of `getEntry` + " +
    "`batch().check().put().write()`; lmdb-js `transaction` and `transactionSync` (reads and `putSync` in the " +
    "callback; `put` there measured the same); node:sqlite `BEGIN IMMEDIATE`, two `SELECT`s, two " +
    "`UPDATE`s, `COMMIT` (prepared statements); classic-level has no transactions: its two `get`s and a batch, " +
    "not isolated, are shown as a floor. Durability as shipped and in one class (a commit survives a crash of the " +
    "process, not of the machine): siltdb hands the commit to the OS, lmdb is opened with `noSync`, SQLite runs in " +
    "WAL mode with `synchronous = NORMAL`, classic-level writes without sync.",
    "",
    loadLine(r),
    "",
    "**Uncontended read-modify-write**: one transaction at a time, awaited, reading 2 random keys and writing both " +
    "(a transfer; the total is checked afterwards).",
    "",
    ...rmw,
    "",
    `**Contended**: ${r.writers} concurrent writers, each incrementing a random one of ${r.hotKeys} counters ` +
    "(read, add one, write; the counters are checked against the commits afterwards). A retry is a run of the body " +
    "(or a conditional batch that failed) beyond the first; lmdb and SQLite take a write lock instead and never retry.",
    "",
    ...cont,
    "",
    ...(yEngines.length === 0 ? [] : [
      "**Contended, overlapping bodies**: the same, the body awaiting one turn of the event loop (`setImmediate`) " +
      "between its read and its write, as a body that calls out to something would. siltdb's asynchronous " +
      "transactions and conditional batches only: lmdb's and SQLite's transactions take a synchronous callback " +
      "holding the write lock (as `transactionSync` does), so their bodies cannot await.",
      "",
      ...yielding,
      "",
    ]),
    checksLine(r),
    ...(unavailable.length > 0
      ? ["", `Not run here: ${unavailable.map(([e, why]) => `${label(e)} (${why})`).join("; ")}.`]
      : []),
    "",
    `![Transactions](../bench/results/${svg})`,
  ];
}

// ---- Deno KV API -------------------------------------------------------------------

const KV_WORKLOADS: [string, string][] = [
  ["set", "set"],
  ["get", "get"],
  ["getMany10", "getMany of 10"],
  ["list100", "list of 100"],
  ["atomic", "check + set commit"],
  ["sum", "sum (KvU64)"],
  ["contended", "contended, 8 × 10 keys"],
];
const SINGLE = ["set", "get", "getMany10", "list100", "atomic", "sum"];
const KV_TARGET = 5;

function kvSection(r: Results, svg: string): string[] {
  const engines = enginesOf(r);
  const label = (e: string) => r.labels[e] ?? e;
  const rounds = r.rounds.length;
  const denoKv = "deno-kv@deno";
  const npmKv = "@deno/kv@node";
  const silts = engines.filter((e) => e.startsWith("siltdb-kv@"));
  const table = [
    `| ops/s, median (range) | ${engines.map(label).join(" | ")} |`,
    `|---|${engines.map(() => "---:").join("|")}|`,
    ...KV_WORKLOADS.map(([w, l]) =>
      `| ${l} | ${
        engines.map((e) => {
          const v = valuesOf(r, e, w);
          return v.length === 0 ? "—" : `${int(median(v))} (${rangeText(v, int)})`;
        }).join(" | ")
      } |`
    ),
    `| contended: retries per commit | ${
      engines.map((e) => rangeText(valuesOf(r, e, "contended", "retriesPerCommit"), dec2)).join(" | ")
    } |`,
  ];
  const pairs: [string, string][] = [
    ...silts.map((s): [string, string] => [s, denoKv]),
    ...silts.filter((s) => s.endsWith("@node")).map((s): [string, string] => [s, npmKv]),
  ].filter(([a, b]) => engines.includes(a) && engines.includes(b));
  const ratioTable = pairs.length === 0 ? ["(no pair of siltdb/kv and a peer ran)"] : [
    `| ratio, median (range) | ${pairs.map(([a, b]) => `${label(a)} ÷ ${label(b)}`).join(" | ")} |`,
    `|---|${pairs.map(() => "---:").join("|")}|`,
    ...KV_WORKLOADS.map(([w, l]) =>
      `| ${l} | ${
        pairs.map(([a, b]) => ratioCell(ratiosOf(r, a, b, w), SINGLE.includes(w) ? KV_TARGET : undefined)).join(" | ")
      } |`
    ),
  ];
  const verdicts = pairs.filter(([, b]) => b === denoKv).map(([a, b]) => {
    const met = SINGLE.filter((w) => median(ratiosOf(r, a, b, w)) >= KV_TARGET);
    const missed = SINGLE.filter((w) => !met.includes(w));
    return `${label(a)}: met on ${met.length === 0 ? "none" : met.join(", ")}; missed on ${
      missed.length === 0 ? "none" : missed.join(", ")
    }`;
  });
  const unavailable = Object.entries(r.unavailable);
  const versions = Object.values(r.versions ?? {}).filter(Boolean).join(", ");
  return [
    "Generated by `bench/txn_report.ts` from `bench/results/kv.json` (`npm run bench:kv`: `bench/kv_bench.ts`).",
    "",
    `### ${versions}, ${r.cpu}, ${when(r)} UTC`,
    "",
    `siltdb/kv: ${r.siltdbKv ?? "not found"}.`,
    "",
    `${
      int(r.n)
    } entries of about 100 bytes (an object of 6 fields) at \`["u", g, j]\`, loaded by atomic commits of 500; ` +
    `each engine in its own child process on a fresh store on disk, one after the other, ${plural(rounds, "round")} ` +
    `with the order rotating; ${r.seconds} s per workload after ${r.warmupMs} ms of warm-up, one operation at a time, ` +
    `awaited (contended: ${r.writers} writers on ${r.hotKeys} keys, get + check + set, again while it fails).`,
    "",
    "Engines: siltdb/kv (Deno KV's API on siltdb) in Node, Deno and Bun; Deno KV itself (`Deno.openKv`, its SQLite " +
    "backend) in Deno; @deno/kv (npm: the same SQLite backend as a native addon) in Node. Durability is the same " +
    "for the three: a commit resolves once fsynced (one `fsync`/`fdatasync` per awaited `set`, counted with " +
    "`strace -c` for 1,000 sets: Deno KV 1,023 fsync, @deno/kv 1,019 fsync, siltdb/kv 1,005 fdatasync), so every " +
    'awaited write waits for the disk. "siltdb/kv sync: false" (`openKv(path, { sync: false })`: a commit resolves ' +
    "once the OS has it) shows what the fsync costs; it is not compared with the others.",
    "",
    loadLine(r),
    "",
    ...table,
    "",
    `Ratios within each round, median (range); bold: the issue's target, ≥ ${KV_TARGET}× on a single-operation workload, met at the median:`,
    "",
    ...ratioTable,
    "",
    `Target ≥ ${KV_TARGET}× Deno KV on every single-operation workload: ${verdicts.join("; ") || "not measured"}.`,
    "",
    checksLine(r),
    ...(unavailable.length > 0
      ? ["", `Not run here: ${unavailable.map(([e, why]) => `${label(e)} (${why})`).join("; ")}.`]
      : []),
    "",
    `![Deno KV API](../bench/results/${svg})`,
  ];
}

// ---- docs --------------------------------------------------------------------------

function replaceSection(text: string, marker: string, heading: string, section: string[]): string {
  const start = `<!-- ${marker} start -->`;
  const end = `<!-- ${marker} end -->`;
  const body = [start, ...section, end].join("\n");
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  return a >= 0 && b > a
    ? text.slice(0, a) + body + text.slice(b + end.length)
    : `${text.trimEnd()}\n\n## ${heading}\n\n${body}\n`;
}

export function report(which: string[]): void {
  const results = new URL("./results/", import.meta.url);
  const docs = new URL("../docs/benchmarks.md", import.meta.url);
  let text = readFileSync(docs, "utf8");
  const written: string[] = [];
  if (which.includes("txn")) {
    for (const rt of ["node", "deno", "bun"]) {
      const file = `txn-${rt}.json`;
      if (!existsSync(new URL(file, results))) continue;
      const r: Results = JSON.parse(readFileSync(new URL(file, results), "utf8"));
      const svg = `txn-${rt}.svg`;
      writeFileSync(
        new URL(svg, results),
        chart(
          r,
          `Transactions, ${r.version}: per second (log scale), median of ${
            plural(r.rounds.length, "round")
          }, whisker min–max`,
          [
            ["rmw", "read 2, write 2"],
            ["contended", `${r.writers} writers, ${r.hotKeys} keys`],
            ["contended-yield", `${r.writers} writers, overlapping`],
          ],
          (e) => r.labels[e] ?? e,
          3,
        ),
      );
      text = replaceSection(text, `txn bench ${rt}`, "Transactions", txnSection(r, file, svg));
      written.push(`bench/results/${svg}`);
    }
  }
  if (which.includes("kv") && existsSync(new URL("kv.json", results))) {
    const r: Results = JSON.parse(readFileSync(new URL("kv.json", results), "utf8"));
    writeFileSync(
      new URL("kv.svg", results),
      chart(
        r,
        `Deno KV's API, ${int(r.n)} entries: ops/s (log scale), median of ${
          plural(r.rounds.length, "round")
        }, whisker min–max`,
        KV_WORKLOADS,
        (e) => r.labels[e] ?? e,
      ),
    );
    text = replaceSection(text, "kv bench", "Deno KV API (siltdb/kv)", kvSection(r, "kv.svg"));
    written.push("bench/results/kv.svg");
  }
  writeFileSync(docs, text);
  // As `deno fmt` writes them (npm test checks the formatting).
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  if (existsSync(deno)) {
    spawnSync(deno, [
      "fmt",
      "--quiet",
      fileURLToPath(docs),
      ...written.map((f) => fileURLToPath(new URL(`../${f}`, import.meta.url))),
    ], {
      stdio: "inherit",
    });
  }
  console.log(`docs/benchmarks.md and ${written.join(", ") || "no chart"} updated`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  report(process.argv.length > 2 ? process.argv.slice(2) : ["txn", "kv"]);
}
