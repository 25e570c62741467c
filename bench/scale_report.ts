// The tables and the chart of the scale benchmark (bench/scale_bench.ts):
// from bench/results/scale-node.json, for each store size the latest run
// that measured it; prints markdown tables (ops/s per workload and engine,
// siltdb after the load and settled, the ratios to the peers, RSS, disk,
// write amplification) and draws bench/results/scale-node.svg (µs per
// operation against store size, log-log, one panel per workload).
//
//   node --import tsx bench/scale_report.ts     (bench/scale_bench.ts runs it at its end)

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

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
const int = (n: number | undefined) =>
  n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString("en-US");
const mib = (b: number | undefined) => b === undefined ? "—" : (b / 2 ** 20).toFixed(0);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) ? "—" : `${(a / b).toFixed(2)}×`;

/** One line of the chart and tables: an engine, after the load or settled. */
interface Series {
  label: string;
  engine: string;
  settled: boolean;
}

function opsOf(f: ScaleFigures, w: Workload, settled: boolean): number | undefined {
  if (w === "fillrandom") return f.fillrandom;
  const reads = settled ? f.settled?.reads : f.afterLoad.reads;
  return reads?.[w];
}

/** For each size, the figures of the latest run that measured it, with that run. */
function latestBySize(runs: ScaleRun[]): { n: number; run: ScaleRun; figures: ScaleFigures[] }[] {
  const sizes = [...new Set(runs.flatMap((r) => r.results.map((f) => f.n)))].sort((a, b) => a - b);
  return sizes.map((n) => {
    const run = runs.findLast((r) => r.results.some((f) => f.n === n))!;
    return { n, run, figures: run.results.filter((f) => f.n === n) };
  });
}

function seriesOf(figures: ScaleFigures[]): Series[] {
  return figures.flatMap((f) => [
    { label: f.settled ? `${f.engine}, after load` : f.engine, engine: f.engine, settled: false },
    ...(f.settled ? [{ label: `${f.engine}, settled`, engine: f.engine, settled: true }] : []),
  ]);
}

/**
 * The markdown tables of one store size: ops/s per workload and engine
 * (siltdb after the load and settled), ratios of siltdb to each peer, and
 * load time, RSS, disk bytes and write amplification.
 *
 * @example
 * ```ts
 * import { scaleTables } from "./scale_report.ts";
 * declare const run: import("./scale_report.ts").ScaleRun;
 * console.log(scaleTables(run, 1_000_000).join("\n"));
 * ```
 */
export function scaleTables(run: ScaleRun, n: number): string[] {
  const figures = run.results.filter((f) => f.n === n);
  const series = seriesOf(figures);
  const byEngine = (e: string) => figures.find((f) => f.engine === e);
  const cell = (s: Series, w: Workload) =>
    s.settled && w === "fillrandom" ? "" : int(opsOf(byEngine(s.engine)!, w, s.settled));
  const lines = [
    `${n.toLocaleString("en-US")} keys, ${run.version}, ${run.machine}, ${
      run.date.slice(0, 16).replace("T", " ")
    } UTC, load ${
      run.load.join(" ")
    } at the start; ops/s (readseq: entries/s), ${run.secondsPerRead} s per time-boxed read:`,
    "",
    `| ops/s | ${series.map((s) => s.label).join(" | ")} |`,
    `|---|${series.map(() => "---:").join("|")}|`,
    ...WORKLOADS.map((w) => `| ${w} | ${series.map((s) => cell(s, w)).join(" | ")} |`),
  ];
  const peers = figures.filter((f) => !f.engine.startsWith("siltdb"));
  const ours = byEngine("siltdb");
  if (ours !== undefined && peers.length > 0) {
    const cols = peers.flatMap((p) =>
      [
        [`after load ÷ ${p.engine}`, false, p],
        ...(ours.settled ? [[`settled ÷ ${p.engine}`, true, p]] : []),
      ] as [string, boolean, ScaleFigures][]
    );
    lines.push(
      "",
      `| siltdb | ${cols.map(([c]) => c).join(" | ")} |`,
      `|---|${cols.map(() => "---:").join("|")}|`,
      ...WORKLOADS.map((w) =>
        `| ${w} | ${
          cols.map(([, settled, p]) =>
            settled && w === "fillrandom" ? "" : ratio(opsOf(ours, w, settled), opsOf(p, w, false))
          )
            .join(" | ")
        } |`
      ),
    );
  }
  const amp = (bytes: number | undefined, f: ScaleFigures) =>
    bytes === undefined ? "—" : (bytes / f.userBytes).toFixed(2);
  lines.push(
    "",
    "| | load s | settle s | peak RSS MiB | disk MiB after load / end | write amp (/proc) after load / end | write amp (stats) after load / settled | sorted runs after load / settled | getSync after load ÷ settled |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...figures.map((f) => {
      const st = f.afterLoad.stats;
      const ss = f.settled?.stats;
      return `| ${f.engine} | ${(f.loadMs / 1000).toFixed(1)} | ${
        f.settled ? (f.settled.settleMs / 1000).toFixed(1) : "—"
      } | ${int(f.peakRssMiB)} | ${mib(f.afterLoad.diskBytes)} / ${mib(f.end.diskBytes)} | ${
        amp(f.afterLoad.writeBytes, f)
      } / ${amp(f.end.writeBytes, f)} | ${
        st ? `${st.writeAmplification.toFixed(2)} / ${ss?.writeAmplification.toFixed(2) ?? "—"}` : "—"
      } | ${st ? `${st.sortedRuns} / ${ss?.sortedRuns ?? "—"}` : "—"} | ${
        f.settled ? ratio(f.afterLoad.reads.readsync, f.settled.reads.readsync) : "—"
      } |`;
    }),
  );
  if (Object.keys(run.unavailable).length > 0) {
    lines.push("", `Could not run: ${Object.entries(run.unavailable).map(([e, why]) => `${e} (${why})`).join("; ")}.`);
  }
  return lines;
}

/**
 * The chart: µs per operation (log) against store size (log), one panel per
 * workload, one line per engine (siltdb settled dashed).
 *
 * @example
 * ```ts
 * import { scaleChart } from "./scale_report.ts";
 * declare const runs: import("./scale_report.ts").ScaleRun[];
 * const svg = scaleChart(runs);
 * ```
 */
export function scaleChart(runs: ScaleRun[]): string {
  const bySize = latestBySize(runs);
  const all = bySize.flatMap((s) => s.figures);
  const engines = [...new Set(all.map((f) => f.engine))];
  const series = engines.flatMap((e) => seriesOf(all.filter((f) => f.engine === e).slice(-1)));
  const sizes = bySize.map((s) => s.n);
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
      pts: bySize.map(({ n, figures }) => {
        const f = figures.find((g) => g.engine === s.engine);
        const ops = f && opsOf(f, w, s.settled);
        return ops === undefined || (s.settled && w === "fillrandom") ? undefined : [n, 1e6 / ops] as const;
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
        `<text x="${x(n)}" y="${y0 + ph + 14}" text-anchor="middle">${
          n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} K`
        }</text>`,
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
  out.push(
    `<text x="${lx}" y="${ly + series.length * 18 + 12}">${
      bySize.map(({ n, run }) =>
        `${n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} K`}: ${run.date.slice(0, 16).replace("T", " ")}`
      ).join(", ")
    } UTC</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}

/**
 * Prints the tables of each store size (its latest run) and writes
 * bench/results/scale-node.svg.
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
  for (const { n, run } of latestBySize(runs)) console.log(`${scaleTables(run, n).join("\n")}\n`);
  writeFileSync(new URL("./results/scale-node.svg", import.meta.url), scaleChart(runs));
  console.log("chart: bench/results/scale-node.svg");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) scaleReport();
