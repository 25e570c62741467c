// Turns bench/results/db_bench-<runtime>[-N].json into the tables, target
// checks and SVG bar charts of docs/benchmarks.md (between the markers
// <!-- db_bench N start --> and <!-- db_bench N end -->), and appends the
// target figures to bench/results/targets.jsonl, one line per run. The
// speed targets (issue 21, 200,000 keys) are checked per runtime; when a
// run has several rounds (SILTDB_BENCH_ROUNDS), a ratio is taken in each
// round (the two engines ran minutes apart at most) and the median is
// checked, the range beside it.
//
//   node --import tsx bench/report.ts [N]     (npm run bench runs it)

import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { median } from "./_runs.ts";

interface Run {
  runtime: string;
  version: string;
  n: number;
  cpu: string;
  date: string;
  rounds?: number;
  engines: Record<string, EngineFigures>;
  unavailable?: Record<string, string>;
}

interface EngineFigures {
  results: Record<string, { opsPerSec: number }>;
  peakRssMiB: number;
  /** Each round's results (runs with SILTDB_BENCH_ROUNDS). */
  rounds?: Record<string, { opsPerSec: number }>[];
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

/**
 * A speed target of issue 21 in one runtime's run: a ratio of siltdb's
 * figure over a peer's (at least `min`), or, with `maxGapMicros`, siltdb's
 * awaited get within that many µs of its getSync.
 */
interface SpeedTarget {
  what: string;
  /** The runtimes it applies to (all when absent). */
  only?: (run: Run) => boolean;
  ours: string;
  peer?: (run: Run) => string | undefined;
  theirs?: string;
  min?: number;
  maxGapMicros?: number;
}

const sqliteOf = (run: Run) => Object.keys(run.engines).find((e) => e === "node:sqlite" || e === "bun:sqlite");
const isNode20 = (run: Run) => run.runtime === "node" && /v20\./.test(run.version);

const SPEED_TARGETS: SpeedTarget[] = [
  { what: "fillsync 1 writer ≥ 1.5× classic-level", ours: "fillsync-c1", peer: () => "classic-level", min: 1.5 },
  { what: "fillsync 1 writer ≥ 1× SQLite", ours: "fillsync-c1", peer: sqliteOf, min: 1 },
  { what: "fillsync 64 writers ≥ 10× classic-level", ours: "fillsync-c64", peer: () => "classic-level", min: 10 },
  {
    what: "awaited put ≥ 12× classic-level (Node 20)",
    only: isNode20,
    ours: "fillrandom",
    peer: () => "classic-level",
    min: 12,
  },
  {
    what: "awaited put ≥ 7× classic-level (Node 24)",
    only: (run) => run.runtime === "node" && !isNode20(run),
    ours: "fillrandom",
    peer: () => "classic-level",
    min: 7,
  },
  { what: "awaited get within 0.2 µs of getSync", ours: "readrandom", theirs: "readsync", maxGapMicros: 0.2 },
  { what: "getSync ≥ 1.2× lmdb", ours: "readsync", peer: () => "lmdb", min: 1.2 },
  { what: "YCSB-E ≥ 1.5× lmdb", ours: "ycsb-e", peer: () => "lmdb", min: 1.5 },
  { what: "seek + next 10 ≥ 2× lmdb", ours: "seekrandom", peer: () => "lmdb", min: 2 },
  {
    what: "full scan ≥ 1.2× bun:sqlite (Bun)",
    only: (run) => run.runtime === "bun",
    ours: "readseq",
    peer: () => "bun:sqlite",
    min: 1.2,
  },
];

/** A target's figure in each round of a run (one figure for a run of one round), or undefined. */
function perRound(run: Run, t: SpeedTarget): number[] | undefined {
  const ours = run.engines.siltdb;
  const peerName = t.peer?.(run);
  const theirs = peerName === undefined ? ours : run.engines[peerName];
  if (ours === undefined || theirs === undefined) return undefined;
  const figure = (a: EngineFigures["results"], b: EngineFigures["results"]) => {
    const x = a[t.ours]?.opsPerSec;
    const y = b[t.theirs ?? t.ours]?.opsPerSec;
    if (x === undefined || y === undefined) return undefined;
    return t.maxGapMicros !== undefined ? 1e6 / x - 1e6 / y : x / y;
  };
  const paired = ours.rounds !== undefined && ours.rounds.length === theirs.rounds?.length;
  const figures = paired
    ? ours.rounds!.map((r, i) => figure(r, theirs.rounds![i]))
    : [figure(ours.results, theirs.results)];
  return figures.every((f) => f !== undefined) ? figures as number[] : undefined;
}

/** The speed targets are set for Node and Bun (issue 21); Deno's runs are left out of them. */
function speedRows(): { rows: string[]; record: Record<string, Record<string, number[]>> } {
  const speedRuns = runs.filter((r) => r.runtime !== "deno");
  const rows = [
    `| target | ${speedRuns.map((r) => r.version).join(" | ")} |`,
    `|---|${speedRuns.map(() => "---").join("|")}|`,
  ];
  const record: Record<string, Record<string, number[]>> = {};
  for (const t of SPEED_TARGETS) {
    const cells = speedRuns.map((run) => {
      if (t.only !== undefined && !t.only(run)) return "";
      const figures = perRound(run, t);
      if (figures === undefined) return "not run";
      (record[run.version] ??= {})[t.what] = figures.map((f) => Number(f.toFixed(2)));
      const mid = median(figures);
      const met = t.maxGapMicros !== undefined ? mid <= t.maxGapMicros : mid >= t.min!;
      const unit = t.maxGapMicros !== undefined ? " µs" : "×";
      const range = figures.length > 1
        ? ` (${Math.min(...figures).toFixed(2)}-${Math.max(...figures).toFixed(2)}${unit})`
        : "";
      return `${mid.toFixed(2)}${unit}${range} ${met ? "met" : "**missed**"}`;
    });
    rows.push(`| ${t.what} | ${cells.join(" | ")} |`);
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
const speed = N === 200_000 ? speedRows() : undefined;
const roundsOf = (run: Run) => run.rounds ?? 1;
const section: string[] = [
  `<!-- db_bench ${N} start -->`,
  `Generated by \`bench/report.ts\` from \`bench/results/db_bench-*${suffix}.json\` (\`npm run bench${
    N >= 1_000_000 ? " -- --full" : ""
  }\`).`,
  "",
  `Targets (issue 9), ${N.toLocaleString("en-US")} keys, ratio of ops/s in the same run:`,
  "",
  ...rows,
  ...(speed === undefined ? [] : [
    "",
    `Speed targets (issue 21), per runtime, ratio of ops/s in the same run${
      runs.some((r) => roundsOf(r) > 1)
        ? ` (rounds per run: ${
          runs.map((r) => `${r.runtime} ${roundsOf(r)}`).join(", ")
        }; the median of each round's ratio, the range in brackets)`
        : ""
    }:`,
    "",
    ...speed.rows,
  ]),
];
for (const run of runs) {
  const svg = `db_bench-${run.runtime}${suffix}.svg`;
  writeFileSync(new URL(svg, results), chart(run));
  section.push(
    "",
    `### ${run.runtime}: ${run.version}, ${run.cpu}, ${run.date.slice(0, 16).replace("T", " ")} UTC${
      roundsOf(run) > 1 ? `, median of ${roundsOf(run)} rounds` : ""
    }`,
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
    ...(speed === undefined ? {} : { speed: speed.record }),
  }) + "\n",
);
console.log(
  `\nTargets, ${N.toLocaleString("en-US")} keys:\n${rows.join("\n")}${
    speed === undefined ? "" : `\n\nSpeed targets:\n${speed.rows.join("\n")}`
  }\n\ndocs/benchmarks.md and bench/results/*.svg updated`,
);
