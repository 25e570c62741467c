// Turns bench/results/db_bench-<runtime>[-N].json into the tables, target
// checks and SVG bar charts of docs/benchmarks.md (between the markers
// <!-- db_bench N start --> and <!-- db_bench N end -->), and appends the
// target figures to bench/results/targets.jsonl, one line per run.
//
//   node --import tsx bench/report.ts [N]     (npm run bench runs it)

import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

interface Run {
  runtime: string;
  version: string;
  n: number;
  cpu: string;
  date: string;
  engines: Record<string, { results: Record<string, { opsPerSec: number }>; peakRssMiB: number }>;
  unavailable?: Record<string, string>;
}

const N = Number(process.argv[2] ?? 200_000);
const suffix = N === 200_000 ? "" : `-${N}`;
const results = new URL("./results/", import.meta.url);
const runs: Run[] = ["node", "deno", "bun"]
  .map((r) => new URL(`db_bench-${r}${suffix}.json`, results))
  .filter((f) => existsSync(f))
  .map((f) => JSON.parse(readFileSync(f, "utf8")));
if (runs.length === 0) throw new Error(`no results for ${N} keys in bench/results/`);

const ops = (run: Run, engine: string, workload: string) => run.engines[engine]?.results[workload]?.opsPerSec;
const fmt = (n: number | undefined) => n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#f08c00", "#7048e8", "#0c8599", "#868e96", "#c2255c"];

/** A target: siltdb's workload over a peer's, at least `min`. */
interface Target {
  what: string;
  runtime: string;
  ours: string;
  peer: string;
  theirs: string;
  min: number;
}

const TARGETS: Target[] = N >= 1_000_000
  ? [
    {
      what: "getSync ≥ 1× classic-level getSync",
      runtime: "node",
      ours: "readsync",
      peer: "classic-level",
      theirs: "readsync",
      min: 1,
    },
    {
      what: "awaited get ≥ 12× classic-level",
      runtime: "node",
      ours: "readrandom",
      peer: "classic-level",
      theirs: "readrandom",
      min: 12,
    },
  ]
  : [
    {
      what: "awaited get ≥ 20× classic-level",
      runtime: "node",
      ours: "readrandom",
      peer: "classic-level",
      theirs: "readrandom",
      min: 20,
    },
    { what: "getSync ≥ 1× lmdb get", runtime: "node", ours: "readsync", peer: "lmdb", theirs: "readsync", min: 1 },
    {
      what: "seek + next 10 ≥ 1× lmdb getRange",
      runtime: "node",
      ours: "seekrandom",
      peer: "lmdb",
      theirs: "seekrandom",
      min: 1,
    },
    { what: "full scan ≥ 1.5× lmdb", runtime: "node", ours: "readseq", peer: "lmdb", theirs: "readseq", min: 1.5 },
    {
      what: "Bun: full scan ≥ 1× bun:sqlite",
      runtime: "bun",
      ours: "readseq",
      peer: "bun:sqlite",
      theirs: "readseq",
      min: 1,
    },
    {
      what: "batch of 1,000 puts ≥ 2× classic-level",
      runtime: "node",
      ours: "fillbatch",
      peer: "classic-level",
      theirs: "fillbatch",
      min: 2,
    },
    {
      what: "awaited put ≥ 15× classic-level",
      runtime: "node",
      ours: "fillrandom",
      peer: "classic-level",
      theirs: "fillrandom",
      min: 15,
    },
  ];

function targetRows(): { rows: string[]; record: Record<string, number | undefined> } {
  const rows = ["| target | measured | |", "|---|---:|---|"];
  const record: Record<string, number | undefined> = {};
  for (const t of TARGETS) {
    const run = runs.find((r) => r.runtime === t.runtime);
    const a = run && ops(run, "siltdb", t.ours);
    const b = run && ops(run, t.peer, t.theirs);
    const ratio = a !== undefined && b !== undefined ? a / b : undefined;
    record[t.what] = ratio === undefined ? undefined : Number(ratio.toFixed(2));
    rows.push(
      `| ${t.what} | ${ratio === undefined ? "not run" : `${ratio.toFixed(2)}×`} | ${
        ratio === undefined ? "" : ratio >= t.min ? "met" : "**missed**"
      } |`,
    );
  }
  return { rows, record };
}

function table(run: Run): string[] {
  const engines = Object.keys(run.engines);
  const peers = engines.filter((e) => !e.startsWith("siltdb"));
  const workloads = [...new Set(engines.flatMap((e) => Object.keys(run.engines[e].results)))];
  const lines = [
    `| ops/s | ${engines.join(" | ")} | ${peers.map((p) => `÷ ${p}`).join(" | ")} |`,
    `|---|${engines.map(() => "---:").join("|")}|${peers.map(() => "---:").join("|")}|`,
  ];
  for (const w of workloads) {
    const ours = ops(run, "siltdb", w);
    const ratios = peers.map((p) => {
      const theirs = ops(run, p, w);
      return ours !== undefined && theirs !== undefined ? `${(ours / theirs).toFixed(2)}×` : "—";
    });
    lines.push(`| ${w} | ${engines.map((e) => fmt(ops(run, e, w))).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  lines.push(
    `| peak RSS MiB | ${engines.map((e) => run.engines[e].peakRssMiB.toFixed(0)).join(" | ")} | ${
      peers.map(() => "").join(" | ")
    } |`,
  );
  return lines;
}

/** Horizontal grouped bars: per workload, each engine's ops/s relative to the fastest (log-free, 0..1). */
function chart(run: Run): string {
  const engines = Object.keys(run.engines);
  const workloads = [...new Set(engines.flatMap((e) => Object.keys(run.engines[e].results)))];
  const bar = 9;
  const group = engines.length * bar + 8;
  const left = 110;
  const width = 640;
  const top = 40;
  const height = top + workloads.length * group + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      width + left + 20
    }" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="8" y="16" font-size="13" font-weight="bold">db_bench, ${
      run.n.toLocaleString("en-US")
    } keys, ${run.version}: ops/s relative to the fastest store per workload</text>`,
  ];
  engines.forEach((e, i) => {
    out.push(
      `<rect x="${left + i * 95}" y="24" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${
        left + i * 95 + 14
      }" y="33">${e}</text>`,
    );
  });
  workloads.forEach((w, wi) => {
    const y0 = top + wi * group;
    const best = Math.max(...engines.map((e) => ops(run, e, w) ?? 0));
    out.push(`<text x="${left - 6}" y="${y0 + group / 2}" text-anchor="end">${w}</text>`);
    engines.forEach((e, i) => {
      const v = ops(run, e, w);
      if (v === undefined) return;
      const len = Math.max(1, (v / best) * width);
      out.push(
        `<rect x="${left}" y="${y0 + i * bar}" width="${len.toFixed(1)}" height="${bar - 1}" fill="${
          COLORS[i % COLORS.length]
        }"><title>${e} ${w}: ${fmt(v)} ops/s</title></rect>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

const { rows, record } = targetRows();
const section: string[] = [
  `<!-- db_bench ${N} start -->`,
  `Generated by \`bench/report.ts\` from \`bench/results/db_bench-*${suffix}.json\` (\`npm run bench${
    N >= 1_000_000 ? " -- --full" : ""
  }\`).`,
  "",
  `Targets (issue 9), ${N.toLocaleString("en-US")} keys, ratio of ops/s in the same run:`,
  "",
  ...rows,
];
for (const run of runs) {
  const svg = `db_bench-${run.runtime}${suffix}.svg`;
  writeFileSync(new URL(svg, results), chart(run));
  section.push(
    "",
    `### ${run.runtime}: ${run.version}, ${run.cpu}, ${run.date.slice(0, 16).replace("T", " ")} UTC`,
    "",
    ...table(run),
    ...(run.unavailable && Object.keys(run.unavailable).length > 0
      ? ["", `Could not run here: ${Object.entries(run.unavailable).map(([e, why]) => `${e} (${why})`).join("; ")}.`]
      : []),
    "",
    `![db_bench ${run.runtime}](../bench/results/${svg})`,
  );
}
section.push(`<!-- db_bench ${N} end -->`);

const docs = new URL("../docs/benchmarks.md", import.meta.url);
const text = readFileSync(docs, "utf8");
const start = text.indexOf(`<!-- db_bench ${N} start -->`);
const end = text.indexOf(`<!-- db_bench ${N} end -->`);
const next = start >= 0 && end > start
  ? text.slice(0, start) + section.join("\n") + text.slice(end + `<!-- db_bench ${N} end -->`.length)
  : `${text.trimEnd()}\n\n## db_bench, ${N.toLocaleString("en-US")} keys\n\n${section.join("\n")}\n`;
writeFileSync(docs, next);
appendFileSync(
  new URL("targets.jsonl", results),
  JSON.stringify({
    date: new Date().toISOString(),
    n: N,
    runs: runs.map((r) => `${r.version} ${r.date}`),
    targets: record,
  }) + "\n",
);
console.log(
  `\nTargets, ${N.toLocaleString("en-US")} keys:\n${
    rows.join("\n")
  }\n\ndocs/benchmarks.md and bench/results/*.svg updated`,
);
