// The tables and the chart of the scale benchmark (bench/scale_bench.ts).
// From bench/results/scale-node.json it takes, for each store size, the
// latest runs that measured it (SILTDB_SCALE_RUNS, default 2: one figure,
// or min–max over the runs; ratios to the peers are taken within a run,
// then ranged); prints markdown tables (ops/s per workload and engine,
// siltdb after the load and settled, the ratios to the peers, RSS, disk,
// write amplification), draws bench/results/scale-node.svg (µs per
// operation against store size, log-log, one panel per workload) and puts
// the tables into docs/benchmarks.md between <!-- scale bench start --> and
// <!-- scale bench end -->.
//
//   node --import tsx bench/scale_report.ts     (bench/scale_bench.ts runs it at its end)

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { median } from "./_runs.ts";

/** The reads of one phase, ops/s (readseq: entries/s). */
export interface ScaleReads {
  readrandom: number;
  readsync?: number;
  seekrandom: number;
  readseq: number;
}

/** What one child measured: one engine, one store size. */
export interface ScaleFigures {
  engine: string;
  n: number;
  /** Keys and values written by the user. */
  userBytes: number;
  loadMs: number;
  /** Keys loaded per second. */
  fillrandom: number;
  afterLoad: {
    diskBytes: number;
    /** /proc/self/io write_bytes since before open. */
    writeBytes: number;
    stats?: Record<string, number>;
    reads: ScaleReads;
  };
  /** siltdb only: after waitForCompactions(). */
  settled?: {
    settleMs: number;
    diskBytes: number;
    writeBytes: number;
    stats?: Record<string, number>;
    reads: ScaleReads;
  };
  /** Before close. */
  end: { diskBytes: number; writeBytes: number; cancelledWriteBytes: number; wchar: number; readBytes: number };
  peakRssMiB: number;
  /** Wall time of the child (s). */
  seconds?: number;
  loadBefore?: number[];
  loadAfter?: number[];
}

/** One run of bench/scale_bench.ts, as appended to bench/results/scale-node.json. */
export interface ScaleRun {
  date: string;
  machine: string;
  version: string;
  sizes: number[];
  engines: string[];
  secondsPerRead: number;
  load: number[];
  results: ScaleFigures[];
  unavailable: Record<string, string>;
  seconds?: number;
}

const WORKLOADS = ["fillrandom", "readrandom", "readsync", "seekrandom", "readseq"] as const;
type Workload = typeof WORKLOADS[number];
const COLORS: Record<string, string> = {
  siltdb: "#d9480f",
  "siltdb-lz4": "#f08c00",
  "classic-level": "#1971c2",
  lmdb: "#2f9e44",
};
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (digits: number) => (n: number) => n.toFixed(digits);
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const sizeLabel = (n: number) => n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} K`;
const when = (r: ScaleRun) => r.date.slice(0, 16).replace("T", " ");

/** One value, or min–max over runs; "—" when none. */
function range(values: (number | undefined)[], format: (n: number) => string): string {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length === 0) return "—";
  const [lo, hi] = [Math.min(...v), Math.max(...v)];
  return format(lo) === format(hi) ? format(lo) : `${format(lo)}–${format(hi)}`;
}

/** One line of the chart and tables: an engine, after the load or settled. */
interface Series {
  label: string;
  engine: string;
  settled: boolean;
}

function opsOf(f: ScaleFigures | undefined, w: Workload, settled: boolean): number | undefined {
  if (f === undefined) return undefined;
  if (w === "fillrandom") return settled ? undefined : f.fillrandom;
  return (settled ? f.settled?.reads : f.afterLoad.reads)?.[w];
}

/** How many of the latest runs of each size the report takes (SILTDB_SCALE_RUNS, default 2). */
const LATEST = Number(process.env.SILTDB_SCALE_RUNS ?? 2);

/** The latest runs that measured `n` keys, oldest first. */
function runsOf(runs: ScaleRun[], n: number): ScaleRun[] {
  return runs.filter((r) => r.results.some((f) => f.n === n)).slice(-LATEST);
}

const figuresOf = (run: ScaleRun, n: number, engine: string) =>
  run.results.find((f) => f.n === n && f.engine === engine);

function seriesOf(runs: ScaleRun[], n?: number): Series[] {
  const all = runs.flatMap((r) => r.results).filter((f) => n === undefined || f.n === n);
  // In the order of the latest run's engines (a run lists an engine that failed in it too).
  const order = runs.at(-1)?.engines ?? [];
  const rank = (e: string) => order.includes(e) ? order.indexOf(e) : order.length;
  const engines = [...new Set(all.map((f) => f.engine))].sort((a, b) => rank(a) - rank(b));
  return engines.flatMap((engine) => {
    const settles = all.some((f) => f.engine === engine && f.settled !== undefined);
    return [
      { label: settles ? `${engine}, after load` : engine, engine, settled: false },
      ...(settles ? [{ label: `${engine}, settled`, engine, settled: true }] : []),
    ];
  });
}

/**
 * The markdown tables of one store size over its latest runs
 * (one figure, or min–max over the runs): ops/s per workload and engine
 * (siltdb after the load and settled), same-run ratios of siltdb to each
 * peer, and load time, RSS, disk bytes and write amplification.
 *
 * @example
 * ```ts
 * import { scaleTables } from "./scale_report.ts";
 * declare const runs: import("./scale_report.ts").ScaleRun[];
 * console.log(scaleTables(runs, 1_000_000).join("\n"));
 * ```
 */
export function scaleTables(allRuns: ScaleRun[], n: number): string[] {
  const runs = runsOf(allRuns, n);
  const series = seriesOf(runs, n);
  const engines = [...new Set(series.map((s) => s.engine))];
  const per = <T>(engine: string, pick: (f: ScaleFigures) => T | undefined) =>
    runs.map((r) => figuresOf(r, n, engine)).filter((f) => f !== undefined).map(pick);
  const ops = (engine: string, w: Workload, settled: boolean) => per(engine, (f) => opsOf(f, w, settled));
  const lines = [
    `${n.toLocaleString("en-US")} keys, ${runs.length === 1 ? "one run" : `${runs.length} runs (min–max)`}: ${
      runs.map((r) => `${when(r)} UTC (load ${r.load.join(" ")})`).join(", ")
    }; ${runs[0].version}, ${runs[0].machine}; ops/s (readseq: entries/s), ${
      runs[0].secondsPerRead
    } s per time-boxed read.`,
    "",
    `| ops/s | ${series.map((s) => s.label).join(" | ")} |`,
    `|---|${series.map(() => "---:").join("|")}|`,
    ...WORKLOADS.map((w) =>
      `| ${w} | ${
        series.map((s) => s.settled && w === "fillrandom" ? "" : range(ops(s.engine, w, s.settled), int)).join(" | ")
      } |`
    ),
  ];
  const peers = engines.filter((e) => !e.startsWith("siltdb"));
  const settles = series.some((s) => s.engine === "siltdb" && s.settled);
  if (engines.includes("siltdb") && peers.length > 0) {
    const cols = peers.flatMap((p) =>
      [
        [`after load ÷ ${p}`, false, p],
        ...(settles ? [[`settled ÷ ${p}`, true, p]] : []),
      ] as [string, boolean, string][]
    );
    const sameRun = (w: Workload, settled: boolean, peer: string) =>
      runs.map((r) => {
        const a = opsOf(figuresOf(r, n, "siltdb"), w, settled);
        const b = opsOf(figuresOf(r, n, peer), w, false);
        return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
      });
    lines.push(
      "",
      `| siltdb, same run | ${cols.map(([c]) => c).join(" | ")} |`,
      `|---|${cols.map(() => "---:").join("|")}|`,
      ...WORKLOADS.map((w) =>
        `| ${w} | ${
          cols.map(([, settled, p]) =>
            settled && w === "fillrandom" ? "" : `${range(sameRun(w, settled, p), fixed(2))}×`.replace("—×", "—")
          ).join(" | ")
        } |`
      ),
    );
  }
  const amp = (bytes: number, f: ScaleFigures) => bytes / f.userBytes;
  lines.push(
    "",
    "| | load s | settle s | peak RSS MiB | disk MiB after load | disk MiB at the end | write amp (/proc) after load | write amp (/proc) at the end | write amp (stats) after load / settled | sorted runs after load / settled | getSync after load ÷ settled |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...engines.map((e) =>
      `| ${e} | ${range(per(e, (f) => f.loadMs / 1000), fixed(1))} | ${
        range(per(e, (f) => f.settled && f.settled.settleMs / 1000), fixed(1))
      } | ${range(per(e, (f) => f.peakRssMiB), int)} | ${range(per(e, (f) => f.afterLoad.diskBytes), mib)} | ${
        range(per(e, (f) => f.end.diskBytes), mib)
      } | ${range(per(e, (f) => amp(f.afterLoad.writeBytes, f)), fixed(2))} | ${
        range(per(e, (f) => amp(f.end.writeBytes, f)), fixed(2))
      } | ${
        per(e, (f) => f.afterLoad.stats).some((x) => x !== undefined)
          ? `${range(per(e, (f) => f.afterLoad.stats?.writeAmplification), fixed(2))} / ${
            range(per(e, (f) => f.settled?.stats?.writeAmplification), fixed(2))
          }`
          : "—"
      } | ${
        per(e, (f) => f.afterLoad.stats).some((x) => x !== undefined)
          ? `${range(per(e, (f) => f.afterLoad.stats?.sortedRuns), int)} / ${
            range(per(e, (f) => f.settled?.stats?.sortedRuns), int)
          }`
          : "—"
      } | ${
        `${
          range(
            per(e, (f) => f.settled && (f.afterLoad.reads.readsync ?? NaN) / (f.settled.reads.readsync ?? NaN)),
            fixed(2),
          )
        }×`.replace("—×", "—")
      } |`
    ),
  );
  const failed = runs.flatMap((r) =>
    Object.entries(r.unavailable).map(([e, why]) => `${e} in the run of ${when(r)} (${why})`)
  );
  if (failed.length > 0) lines.push("", `Did not finish: ${failed.join("; ")}.`);
  return lines;
}

/**
 * The chart: µs per operation (log) against store size (log), one panel per
 * workload, one line per engine (siltdb settled dashed); the median where
 * several runs measured a size.
 *
 * @example
 * ```ts
 * import { scaleChart } from "./scale_report.ts";
 * declare const runs: import("./scale_report.ts").ScaleRun[];
 * const svg = scaleChart(runs);
 * ```
 */
export function scaleChart(runs: ScaleRun[]): string {
  const sizes = [...new Set(runs.flatMap((r) => r.results.map((f) => f.n)))].sort((a, b) => a - b);
  const series = seriesOf(runs);
  const [pw, ph, ml, mt, gap] = [250, 190, 52, 28, 24];
  const cols = 3;
  const top = 30;
  const width = cols * (pw + ml + gap) + 10;
  const height = top + 2 * (ph + mt + 40) + 10;
  const [xlo, xhi] = [Math.log10(Math.min(...sizes)), Math.log10(Math.max(...sizes))];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="13" font-weight="bold">Scale (issue 21), ${
      runs.at(-1)?.version
    }: µs per operation against keys in the store (log-log; dashed: siltdb after waitForCompactions)</text>`,
  ];
  WORKLOADS.forEach((w, wi) => {
    const x0 = 10 + (wi % cols) * (pw + ml + gap) + ml;
    const y0 = top + Math.floor(wi / cols) * (ph + mt + 40) + mt;
    const points = series.map((s) => ({
      s,
      pts: sizes.map((n) => {
        const ops = median(runsOf(runs, n).map((r) => opsOf(figuresOf(r, n, s.engine), w, s.settled) ?? NaN));
        return Number.isFinite(ops) ? [n, 1e6 / ops] as const : undefined;
      }).filter((p) => p !== undefined),
    }));
    const us = points.flatMap((p) => p.pts.map(([, u]) => u));
    if (us.length === 0) return;
    const ylo = Math.floor(Math.log10(Math.min(...us)));
    const yhi = Math.max(ylo + 1, Math.ceil(Math.log10(Math.max(...us))));
    const x = (n: number) => x0 + (xhi > xlo ? (Math.log10(n) - xlo) / (xhi - xlo) : 0.5) * pw;
    const y = (u: number) => y0 + ph - ((Math.log10(u) - ylo) / (yhi - ylo)) * ph;
    out.push(
      `<text x="${x0}" y="${y0 - 8}" font-weight="bold">${w}${
        w === "seekrandom"
          ? " (seek + 10)"
          : w === "readseq"
          ? " (per entry)"
          : w === "fillrandom"
          ? " (batches of 1,000)"
          : ""
      }</text>`,
      `<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#adb5bd"/>`,
    );
    for (let d = ylo; d <= yhi; d++) {
      out.push(
        `<line x1="${x0}" y1="${y(10 ** d)}" x2="${x0 + pw}" y2="${y(10 ** d)}" stroke="#e9ecef"/>`,
        `<text x="${x0 - 4}" y="${y(10 ** d) + 4}" text-anchor="end">${
          10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)
        } µs</text>`,
      );
    }
    for (const n of sizes) {
      out.push(
        `<line x1="${x(n)}" y1="${y0}" x2="${x(n)}" y2="${y0 + ph}" stroke="#e9ecef"/>`,
        `<text x="${x(n)}" y="${y0 + ph + 16}" text-anchor="middle">${sizeLabel(n)}</text>`,
      );
    }
    for (const { s, pts } of points) {
      if (pts.length === 0) continue;
      const color = COLORS[s.engine] ?? "#868e96";
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${
          s.settled ? ` stroke-dasharray="5,3"` : ""
        } points="${pts.map(([n, u]) => `${x(n).toFixed(1)},${y(u).toFixed(1)}`).join(" ")}"/>`,
        ...pts.map(([n, u]) =>
          `<circle cx="${x(n).toFixed(1)}" cy="${y(u).toFixed(1)}" r="3" fill="${color}"><title>${s.label}, ${
            n.toLocaleString("en-US")
          } keys, ${w}: ${u.toFixed(3)} µs/op (${int(1e6 / u)} ops/s)</title></circle>`
        ),
      );
    }
  });
  // The legend in the sixth cell.
  const lx = 10 + 2 * (pw + ml + gap) + ml;
  const ly = top + (ph + mt + 40) + mt;
  series.forEach((s, i) => {
    const color = COLORS[s.engine] ?? "#868e96";
    out.push(
      `<line x1="${lx}" y1="${ly + i * 18}" x2="${lx + 24}" y2="${ly + i * 18}" stroke="${color}" stroke-width="2"${
        s.settled ? ` stroke-dasharray="5,3"` : ""
      }/>`,
      `<text x="${lx + 30}" y="${ly + i * 18 + 4}">${s.label}</text>`,
    );
  });
  sizes.forEach((n, i) => {
    const dates = runsOf(runs, n).map(when);
    const day = dates[0].slice(0, 10);
    const times = dates.every((d) => d.startsWith(day))
      ? `${day} ${dates.map((d) => d.slice(11)).join(", ")}`
      : dates.join(", ");
    out.push(
      `<text x="${lx}" y="${ly + series.length * 18 + 12 + i * 14}">${sizeLabel(n)}, ${
        dates.length > 1 ? `median of ${dates.length} runs` : "one run"
      }: ${times} UTC</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * Prints the tables of each store size (its latest runs), writes
 * bench/results/scale-node.svg, and puts the tables between the markers
 * `<!-- scale bench start -->` and `<!-- scale bench end -->` of
 * docs/benchmarks.md (its section "Scale (issue 21)"; appended when absent).
 *
 * @example
 * ```ts
 * import { scaleReport } from "./scale_report.ts";
 * scaleReport(); // after `npm run bench -- --scale`
 * ```
 */
export function scaleReport(): void {
  const file = new URL("./results/scale-node.json", import.meta.url);
  if (!existsSync(file)) throw new Error("no bench/results/scale-node.json: run npm run bench -- --scale");
  const runs: ScaleRun[] = JSON.parse(readFileSync(file, "utf8"));
  const sizes = [...new Set(runs.flatMap((r) => r.results.map((f) => f.n)))].sort((a, b) => a - b);
  const tables = sizes.flatMap((n) => [`### ${n.toLocaleString("en-US")} keys`, "", ...scaleTables(runs, n), ""]);
  console.log(tables.join("\n"));
  const svg = new URL("./results/scale-node.svg", import.meta.url);
  writeFileSync(svg, scaleChart(runs));
  const docs = new URL("../docs/benchmarks.md", import.meta.url);
  const [start, end] = ["<!-- scale bench start -->", "<!-- scale bench end -->"];
  const body = [
    start,
    "Generated by `bench/scale_report.ts` from `bench/results/scale-node.json`.",
    "",
    ...tables,
    "![Scale: µs per operation against keys in the store](../bench/results/scale-node.svg)",
    end,
  ].join("\n");
  const text = readFileSync(docs, "utf8");
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  writeFileSync(
    docs,
    a >= 0 && b > a
      ? text.slice(0, a) + body + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n## Scale (issue 21)\n\n${body}\n`,
  );
  // As `deno fmt` writes them (npm test checks the formatting).
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  if (existsSync(deno)) {
    spawnSync(deno, ["fmt", "--quiet", fileURLToPath(docs), fileURLToPath(svg)], { stdio: "inherit" });
  }
  console.log("docs/benchmarks.md (Scale) and bench/results/scale-node.svg updated");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) scaleReport();
