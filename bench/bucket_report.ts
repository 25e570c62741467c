// Turns bench/results/bucket-<runtime>.json (bench/bucket_bench.ts) into the
// tables, target checks and the SVG chart of the section "In a bucket" of
// docs/benchmarks.md (between <!-- bucket bench start --> and
// <!-- bucket bench end -->) and bench/results/bucket-<runtime>.svg. Every
// figure is a range over the repeats (min–max); the chart shows the median
// with a whisker over the range.
//
//   node --import tsx bench/bucket_report.ts [runtime]     (bucket_bench.ts runs it)

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BackendRun, Figures } from "./bucket_bench.ts";

interface Results {
  runtime: string;
  version: string;
  n: number;
  cpu: string;
  date: string;
  runs: BackendRun[][];
  unavailable: Record<string, string>;
}

const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#f08c00", "#7048e8"];
const BUCKETS = ["memory-20ms", "memory-50ms", "ceph"];

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
const dec = (n: number) => n.toFixed(n >= 10 ? 1 : 2);

/** min–max of the values, formatted; one value as itself; none as —. */
function range(values: number[], format: (n: number) => string): string {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return "—";
  const [lo, hi] = [Math.min(...v), Math.max(...v)];
  return format(lo) === format(hi) ? format(lo) : `${format(lo)}–${format(hi)}`;
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** What to show of each workload: a label and a value drawn from its figures. */
interface Row {
  label: string;
  of: (run: BackendRun) => number | undefined;
  format: (n: number) => string;
}

const w = (run: BackendRun, name: string): Figures | undefined => run.workloads[name];
const perOp = (run: BackendRun, name: string, kind: "gets" | "puts" | "lists") => {
  const f = w(run, name);
  return f?.requests ? f.requests[kind] / f.ops : undefined;
};

const WRITE_ROWS: Row[] = [
  { label: "put, 1 writer: p50 ms", of: (r) => w(r, "put-c1")?.p50Ms, format: ms },
  { label: "put, 1 writer: p99 ms", of: (r) => w(r, "put-c1")?.p99Ms, format: ms },
  { label: "put, 1 writer: puts/s", of: (r) => w(r, "put-c1")?.opsPerSec, format: int },
  { label: "put, 1 writer: PUT requests per put", of: (r) => perOp(r, "put-c1", "puts"), format: dec },
  { label: "put, 1 writer: mean wait of one PUT, ms", of: (r) => meanWait(w(r, "put-c1")), format: ms },
  { label: "put, 64 writers: p50 ms", of: (r) => w(r, "put-c64")?.p50Ms, format: ms },
  { label: "put, 64 writers: p99 ms", of: (r) => w(r, "put-c64")?.p99Ms, format: ms },
  { label: "put, 64 writers: acknowledged puts/s", of: (r) => w(r, "put-c64")?.opsPerSec, format: int },
  {
    label: "put, 64 writers: 64 ÷ one PUT's latency, puts/s (their bound)",
    of: (r) => (64 * 1000) / putLatency(r),
    format: int,
  },
  { label: "put, 64 writers: puts per PUT request", of: (r) => 1 / (perOp(r, "put-c64", "puts") ?? NaN), format: dec },
  ...[20, 40].flatMap((k): Row[] => [
    {
      label: `open loop, ${k},000 puts/s offered: acknowledged puts/s`,
      of: (r) => w(r, `put-open-${k}k`)?.opsPerSec,
      format: int,
    },
    { label: `open loop, ${k},000/s: p50 ms`, of: (r) => w(r, `put-open-${k}k`)?.p50Ms, format: ms },
    { label: `open loop, ${k},000/s: p99 ms`, of: (r) => w(r, `put-open-${k}k`)?.p99Ms, format: ms },
    {
      label: `open loop, ${k},000/s: puts per PUT request`,
      of: (r) => 1 / (perOp(r, `put-open-${k}k`, "puts") ?? NaN),
      format: int,
    },
  ]),
  {
    label: "burst, 64 × 1,000 puts at once: acknowledged puts/s",
    of: (r) => w(r, "put-burst")?.opsPerSec,
    format: int,
  },
  { label: "fillbatch (batches of 1,000): puts/s", of: (r) => w(r, "fillbatch")?.opsPerSec, format: int },
  { label: "flush: ms", of: (r) => w(r, "flush")?.ms, format: ms },
  { label: "compact (whole tree, in the writer): s", of: (r) => (w(r, "compact")?.ms ?? NaN) / 1000, format: dec },
  { label: "compact: MiB of tables read", of: (r) => Number(w(r, "compact")?.mibRead), format: dec },
  { label: "compact: MiB of tables written", of: (r) => Number(w(r, "compact")?.mibWritten), format: dec },
  { label: "compact: MiB/s read", of: (r) => Number(w(r, "compact")?.mibPerSec), format: dec },
  {
    label: "compact: GETs per MiB read",
    of: (r) => (w(r, "compact")?.requests?.gets ?? NaN) / Number(w(r, "compact")?.mibRead),
    format: dec,
  },
];

const remote = (r: BackendRun, field: string) => Number(w(r, "compact-remote")?.[field] ?? NaN);

const COMPACTOR_ROWS: Row[] = [
  { label: 'writer (compaction "remote"): load, puts/s', of: (r) => w(r, "load-remote")?.opsPerSec, format: int },
  { label: "L0 tables left by the writer", of: (r) => remote(r, "l0Before"), format: int },
  {
    label: "compactions (merges + trivial moves)",
    of: (r) => remote(r, "compactions") + remote(r, "trivialMoves"),
    format: int,
  },
  { label: "MiB of tables read", of: (r) => remote(r, "mibRead"), format: dec },
  { label: "MiB of tables written", of: (r) => remote(r, "mibWritten"), format: dec },
  { label: "seconds", of: (r) => remote(r, "ms") / 1000, format: ms },
  { label: "MiB/s, read + written", of: (r) => remote(r, "mibPerSec"), format: dec },
  { label: "MiB/s read", of: (r) => remote(r, "mibRead") / (remote(r, "ms") / 1000), format: dec },
  { label: "MiB/s written", of: (r) => remote(r, "mibWritten") / (remote(r, "ms") / 1000), format: dec },
  {
    label: "GETs per MiB read",
    of: (r) => (w(r, "compact-remote")?.requests?.gets ?? NaN) / remote(r, "mibRead"),
    format: dec,
  },
  {
    label: "PUTs per MiB written",
    of: (r) => (w(r, "compact-remote")?.requests?.puts ?? NaN) / remote(r, "mibWritten"),
    format: dec,
  },
  { label: "requests in all (GET, PUT, LIST, HEAD)", of: (r) => sumRequests(w(r, "compact-remote")), format: int },
  {
    label: "time waiting on requests ÷ time",
    of: (r) => (w(r, "compact-remote")?.requests?.waitMs ?? NaN) / remote(r, "ms"),
    format: dec,
  },
  { label: "CPU time ÷ time", of: (r) => remote(r, "cpuMs") / remote(r, "ms"), format: dec },
];

const paired = (r: BackendRun, field: string) => Number(w(r, "paired-warm")?.[field] ?? NaN);

const REQUEST_ROWS: Row[] = [
  { label: "PUT of a 140-byte object, create-only", of: (r) => r.requestLatency?.put, format: ms },
  { label: "GET of a 4 KiB range", of: (r) => r.requestLatency?.getBlock, format: ms },
  { label: "GET of the last 64 KiB", of: (r) => r.requestLatency?.getTail, format: ms },
  { label: "LIST", of: (r) => r.requestLatency?.list, format: ms },
  { label: "HEAD", of: (r) => r.requestLatency?.head, format: ms },
  { label: "PUT of a 140-byte object, create-only: p99 of 150", of: (r) => r.requestLatency?.putP99, format: ms },
];

const READ_ROWS: Row[] = [
  { label: "readrandom, warm: gets/s", of: (r) => w(r, "readrandom-warm")?.opsPerSec, format: int },
  { label: "readrandom, warm: GETs per read", of: (r) => perOp(r, "readrandom-warm", "gets"), format: dec },
  { label: "full scan, warm: entries/s", of: (r) => w(r, "scan-warm")?.opsPerSec, format: int },
  {
    label: "warm get, time ÷ local disk: median of the interleaved chunks",
    of: (r) => Number(w(r, "paired-warm")?.getRatio ?? NaN),
    format: dec,
  },
  { label: "warm get, ÷ local disk: chunks' 1st quartile", of: (r) => paired(r, "getRatioP25"), format: dec },
  { label: "warm get, ÷ local disk: chunks' 3rd quartile", of: (r) => paired(r, "getRatioP75"), format: dec },
  { label: "warm get, ÷ local disk: total time ÷ total time", of: (r) => paired(r, "getRatioTotal"), format: dec },
  { label: "warm get (interleaved): µs per get in the bucket", of: (r) => paired(r, "bucketGetUs"), format: dec },
  { label: "warm get (interleaved): µs per get on local disk", of: (r) => paired(r, "diskGetUs"), format: dec },
  {
    label: "warm full scan, time ÷ local disk (interleaved, median)",
    of: (r) => paired(r, "scanRatio"),
    format: dec,
  },
  { label: "reads to fill the cache, 64 readers: gets/s", of: (r) => w(r, "warmup-c64")?.opsPerSec, format: int },
  {
    label: "reads to fill the cache, 64 readers: GETs per read",
    of: (r) => perOp(r, "warmup-c64", "gets"),
    format: dec,
  },
  { label: "open a reader: requests", of: (r) => sumRequests(w(r, "open-reader")), format: int },
  { label: "readrandom, cold reader: p50 ms", of: (r) => w(r, "readrandom-cold")?.p50Ms, format: ms },
  { label: "readrandom, cold reader: p99 ms", of: (r) => w(r, "readrandom-cold")?.p99Ms, format: ms },
  { label: "readrandom, cold reader: GETs per read", of: (r) => perOp(r, "readrandom-cold", "gets"), format: dec },
  {
    label: "readrandom, tables open, 64 KiB block cache: p50 ms",
    of: (r) => w(r, "readrandom-miss")?.p50Ms,
    format: ms,
  },
  {
    label: "readrandom, tables open, 64 KiB block cache: GETs per read",
    of: (r) => perOp(r, "readrandom-miss", "gets"),
    format: dec,
  },
  { label: "scan of 10,000 keys, cold reader: entries/s", of: (r) => w(r, "scan-cold")?.opsPerSec, format: int },
  {
    label: "scan, cold reader: GETs per 1,000 entries",
    of: (r) => 1000 * (perOp(r, "scan-cold", "gets") ?? NaN),
    format: dec,
  },
  { label: "reader lag (refreshInterval 250 ms): p50 ms", of: (r) => w(r, "reader-lag")?.p50Ms, format: ms },
  { label: "reader lag: max ms", of: (r) => w(r, "reader-lag")?.maxMs, format: ms },
  {
    label: "reader lag: the reader's requests per sample",
    of: (r) => (sumRequests(w(r, "reader-lag")) ?? NaN) / (w(r, "reader-lag")?.ops ?? NaN),
    format: dec,
  },
  { label: "reader lag: mean wait of one of them, ms", of: (r) => meanWait(w(r, "reader-lag")), format: ms },
  { label: "tables (L0, L1, …)", of: () => undefined, format: int },
];

function sumRequests(f: Figures | undefined): number | undefined {
  const q = f?.requests;
  return q && q.gets + q.puts + q.lists + q.heads + q.deletes;
}

function backendsOf(results: Results): string[] {
  const seen = new Set(results.runs.flat().map((r) => r.backend));
  return ["disk", ...BUCKETS].filter((b) => seen.has(b));
}

function runsOf(results: Results, backend: string): BackendRun[] {
  return results.runs.flat().filter((r) => r.backend === backend);
}

function table(results: Results, rows: Row[]): string[] {
  const backends = backendsOf(results);
  const lines = [`| | ${backends.join(" | ")} |`, `|---|${backends.map(() => "---:").join("|")}|`];
  for (const row of rows) {
    const cells = backends.map((b) => {
      const runs = runsOf(results, b);
      if (row.label.startsWith("tables")) {
        return [...new Set(runs.map((r) => r.tables.slice(0, r.tables.findLastIndex((n) => n > 0) + 1).join(", ")))]
          .join(" / ");
      }
      return range(runs.map((r) => row.of(r) ?? NaN), row.format);
    });
    lines.push(`| ${row.label} | ${cells.join(" | ")} |`);
  }
  return lines;
}

/** A target, checked on each bucket backend: the measured value per repeat and whether every repeat holds. */
interface Target {
  what: string;
  value: (run: BackendRun, disk: BackendRun | undefined) => number | undefined;
  limit: (run: BackendRun) => number;
  atMost: boolean;
  format: (n: number) => string;
}

/**
 * One request of the write path: the injected latency, or (a real server)
 * the mean wait of the writer's own PUTs during put-c1, one per put.
 */
const putLatency = (r: BackendRun) => r.requestMs ?? meanWait(w(r, "put-c1"));
/** One request of a reader's refresh: the injected latency, or the mean wait of the reader's requests during reader-lag. */
const readLatency = (r: BackendRun) => r.requestMs ?? meanWait(w(r, "reader-lag"));

function meanWait(f: Figures | undefined): number {
  const q = f?.requests;
  return q ? q.waitMs / (q.gets + q.puts + q.lists + q.heads) : NaN;
}

const TARGETS: Target[] = [
  {
    what: "64 writers, each awaiting its put: ≥ 20,000 acknowledged puts/s",
    value: (r) => w(r, "put-c64")?.opsPerSec,
    limit: () => 20_000,
    atMost: false,
    format: int,
  },
  {
    what: "64 writers offering 40,000 puts/s (open loop): ≥ 20,000 acknowledged puts/s",
    value: (r) => w(r, "put-open-40k")?.opsPerSec,
    limit: () => 20_000,
    atMost: false,
    format: int,
  },
  {
    what: "one writer's awaited put, p50: ≤ 1.5 request latencies",
    value: (r) => (w(r, "put-c1")?.p50Ms ?? NaN) / putLatency(r),
    limit: () => 1.5,
    atMost: true,
    format: dec,
  },
  {
    what: "one writer's awaited put, p99: ≤ 1.5 request latencies",
    value: (r) => (w(r, "put-c1")?.p99Ms ?? NaN) / putLatency(r),
    limit: () => 1.5,
    atMost: true,
    format: dec,
  },
  {
    what: "warm-cache get: time ≤ 1.2× the same store on local disk (interleaved in one process, median)",
    value: (r) => Number(w(r, "paired-warm")?.getRatio ?? NaN),
    limit: () => 1.2,
    atMost: true,
    format: dec,
  },
  {
    what: "cold get, index and filter held: ≤ 1 GET per read",
    value: (r) => perOp(r, "readrandom-miss", "gets"),
    limit: () => 1,
    atMost: true,
    format: dec,
  },
  {
    what: "reader lag, max: ≤ refreshInterval + 2 request latencies (ms)",
    value: (r) => w(r, "reader-lag")?.maxMs,
    limit: (r) => Number(w(r, "reader-lag")?.refreshIntervalMs ?? NaN) + 2 * readLatency(r),
    atMost: true,
    format: ms,
  },
];

function targetTable(results: Results): string[] {
  const buckets = backendsOf(results).filter((b) => b !== "disk");
  const lines = [`| target | ${buckets.join(" | ")} |`, `|---|${buckets.map(() => "---").join("|")}|`];
  for (const t of TARGETS) {
    const cells = buckets.map((b) => {
      const pairs = results.runs.map((
        round,
      ) => [round.find((r) => r.backend === b), round.find((r) => r.backend === "disk")])
        .filter(([r]) => r !== undefined) as [BackendRun, BackendRun | undefined][];
      const values = pairs.map(([r, d]) => t.value(r, d) ?? NaN).filter(Number.isFinite);
      if (values.length === 0) return "not run";
      const limit = t.limit(pairs[0][0]);
      const held = values.filter((v) => (t.atMost ? v <= limit : v >= limit)).length;
      const verdict = held === values.length ? "met" : held === 0 ? "**missed**" : `met ${held} of ${values.length}`;
      return `${range(values, t.format)} (limit ${t.format(limit)}): ${verdict}`;
    });
    lines.push(`| ${t.what} | ${cells.join(" | ")} |`);
  }
  return lines;
}

const CHART: [string, string][] = [
  ["put-c1", "put, 1 writer"],
  ["put-c64", "put, 64 writers"],
  ["put-open-20k", "put, open loop 20k/s"],
  ["put-open-40k", "put, open loop 40k/s"],
  ["put-burst", "put, burst 64k"],
  ["fillbatch", "fillbatch"],
  ["readrandom-warm", "get, warm"],
  ["scan-warm", "scan, warm"],
  ["readrandom-cold", "get, cold reader"],
  ["readrandom-miss", "get, block not cached"],
  ["scan-cold", "scan, cold reader"],
];

/** Horizontal grouped bars on a log scale: per workload, each backend's ops/s (median, whisker min–max). */
function chart(results: Results): string {
  const backends = backendsOf(results);
  const bar = 10;
  const group = backends.length * bar + 10;
  const left = 140;
  const width = 600;
  const top = 48;
  const [lo, hi] = [1, 7]; // 10 to 10,000,000 ops/s
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * width;
  const height = top + CHART.length * group + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      left + width + 30
    }" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="8" y="16" font-size="13" font-weight="bold">A store in a bucket, ${
      results.n.toLocaleString("en-US")
    } keys, ${results.version}: ops/s (log scale), median of ${results.runs.length} runs, whisker min–max</text>`,
  ];
  backends.forEach((b, i) => {
    out.push(
      `<rect x="${left + i * 110}" y="24" width="10" height="10" fill="${COLORS[i]}"/><text x="${
        left + i * 110 + 14
      }" y="33">${b}</text>`,
    );
  });
  for (let d = lo; d <= hi; d++) {
    out.push(
      `<line x1="${x(10 ** d)}" y1="${top - 6}" x2="${x(10 ** d)}" y2="${height - 24}" stroke="#dee2e6"/>`,
      `<text x="${x(10 ** d)}" y="${height - 10}" text-anchor="middle">${int(10 ** d)}</text>`,
    );
  }
  CHART.forEach(([name, label], wi) => {
    const y0 = top + wi * group;
    out.push(`<text x="${left - 6}" y="${y0 + group / 2}" text-anchor="end">${label}</text>`);
    backends.forEach((b, i) => {
      const values = runsOf(results, b).map((r) => w(r, name)?.opsPerSec ?? NaN).filter(Number.isFinite);
      if (values.length === 0) return;
      const y = y0 + i * bar;
      const m = median(values);
      out.push(
        `<rect x="${left}" y="${y}" width="${(x(m) - left).toFixed(1)}" height="${bar - 2}" fill="${
          COLORS[i]
        }"><title>${b} ${name}: ${range(values, int)} ops/s</title></rect>`,
        `<line x1="${x(Math.min(...values)).toFixed(1)}" y1="${y + (bar - 2) / 2}" x2="${
          x(Math.max(...values)).toFixed(1)
        }" y2="${y + (bar - 2) / 2}" stroke="#212529"/>`,
      );
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Writes the section of docs/benchmarks.md and the chart for `runtime`'s results. */
export function report(runtime: string): void {
  const results: Results = JSON.parse(
    readFileSync(new URL(`./results/bucket-${runtime}.json`, import.meta.url), "utf8"),
  );
  const svg = `bucket-${runtime}.svg`;
  writeFileSync(new URL(`./results/${svg}`, import.meta.url), chart(results));
  const unavailable = Object.entries(results.unavailable);
  const section = [
    "<!-- bucket bench start -->",
    `Generated by \`bench/bucket_report.ts\` from \`bench/results/bucket-${runtime}.json\` (\`npm run bench:bucket\`).`,
    "",
    `### ${results.version}, ${results.cpu}, ${results.date.slice(0, 16).replace("T", " ")} UTC`,
    "",
    `${results.n.toLocaleString("en-US")} keys; ${results.runs.length} run${
      results.runs.length === 1 ? "" : "s"
    } of every backend, one after the other ` +
    `(min–max over the runs); the machine's 1-minute load average at the start and end of each run: ${
      range(results.runs.flat().flatMap((r) => r.loadAverage ?? []), dec)
    } (2 cores).`,
    "",
    "Targets (issue 18), per bucket backend, each against its own request latency:",
    "",
    ...targetTable(results),
    "",
    "Request latency, ms (on the store alone: the p50 of 20 of each, and the p99 of 150 PUTs):",
    "",
    ...table(results, REQUEST_ROWS),
    "",
    "Writes:",
    "",
    ...table(results, WRITE_ROWS),
    "",
    "Reads:",
    "",
    ...table(results, READ_ROWS),
    "",
    "The remote compactor (`Compactor`, one process with the writer; on disk: an in-memory bucket with no latency):",
    "",
    ...table(results, COMPACTOR_ROWS),
    ...(unavailable.length > 0
      ? ["", `Not run here: ${unavailable.map(([b, why]) => `${b} (${why})`).join("; ")}.`]
      : []),
    "",
    `![A store in a bucket, ${runtime}](../bench/results/${svg})`,
    "<!-- bucket bench end -->",
  ];
  const docs = new URL("../docs/benchmarks.md", import.meta.url);
  const text = readFileSync(docs, "utf8");
  const start = text.indexOf("<!-- bucket bench start -->");
  const end = text.indexOf("<!-- bucket bench end -->");
  const next = start >= 0 && end > start
    ? text.slice(0, start) + section.join("\n") + text.slice(end + "<!-- bucket bench end -->".length)
    : `${text.trimEnd()}\n\n## In a bucket (issue 18)\n\n${section.join("\n")}\n`;
  writeFileSync(docs, next);
  // The tables and the chart as `deno fmt` writes them (npm test checks the formatting).
  const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));
  const chartFile = fileURLToPath(new URL(`./results/${svg}`, import.meta.url));
  if (existsSync(deno)) spawnSync(deno, ["fmt", "--quiet", fileURLToPath(docs), chartFile], { stdio: "inherit" });
  console.log(`docs/benchmarks.md (In a bucket) and bench/results/${svg} updated`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) report(process.argv[2] ?? "node");
