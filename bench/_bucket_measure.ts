// What bench/bucket_bench.ts measures with: the places a store lives in
// (a directory, an in-memory bucket with injected latency, a bucket on an S3
// server), request counts, latency percentiles, closed and open loops of
// operations, and a probe of the store's request latency.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MemoryObjectStore, type ObjectStore, ResilientStore, S3ObjectStore } from "../mod.ts";
import type { RequestCounters } from "../src/object_store/resilient_store.ts";
import { newBucket } from "../tests/_s3.ts";

/** Requests a store made (a difference of ResilientStore counters). */
export type Requests = Pick<RequestCounters, "gets" | "puts" | "lists" | "heads" | "deletes" | "waitMs">;

/** Where one store lives: the URL or path to open, and a new store object for each database opened there. */
export interface Place {
  url: string;
  /** The objectStore option of one database: its own ResilientStore (its own counters) over the same bucket. */
  store?: () => ResilientStore;
}

/** A backend: new places to open stores in, and the latency it injects (memory). */
export interface Backend {
  requestMs?: number;
  place(label: string): Promise<Place>;
  cleanup(): void;
}

/** The backend of that name: disk, memory-<n>ms, or ceph (the S3 server in SILTDB_TEST_S3_*). */
export function backendOf(name: string): Backend {
  if (name === "disk") {
    const dir = mkdtempSync(join(os.tmpdir(), "bucket-bench-disk-"));
    return {
      place: (label) => Promise.resolve({ url: join(dir, label) }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (name.startsWith("memory-")) {
    const latencyMs = Number(name.slice("memory-".length, -"ms".length));
    return {
      requestMs: latencyMs,
      place: (label) => {
        const bucket = new MemoryObjectStore({ name: label, latencyMs });
        // A ResilientStore whose transport is the shared bucket: one set of counters per database.
        return Promise.resolve({ url: bucket.location, store: () => new ResilientStore(bucket.location, bucket) });
      },
      cleanup() {},
    };
  }
  const endpoint = process.env.SILTDB_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error("no S3 server (SILTDB_TEST_S3_ENDPOINT)");
  const s3 = {
    endpoint,
    region: process.env.SILTDB_TEST_S3_REGION ?? "us-east-1",
    accessKeyId: process.env.SILTDB_TEST_S3_ACCESS_KEY_ID ?? "",
    secretAccessKey: process.env.SILTDB_TEST_S3_SECRET_ACCESS_KEY ?? "",
  };
  return {
    place: async (label) => {
      const { url, options } = await newBucket(s3, label);
      return { url, store: () => new S3ObjectStore(url, options) };
    },
    cleanup() {},
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** p50, p99 and max of latencies in ms. */
export function latencyFigures(latencies: Float64Array | number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = Float64Array.from(latencies).sort();
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted[sorted.length - 1] };
}

/** The requests counted so far. */
export function requestsOf(c: RequestCounters | undefined): Requests | undefined {
  return c && { gets: c.gets, puts: c.puts, lists: c.lists, heads: c.heads, deletes: c.deletes, waitMs: c.waitMs };
}

/** The requests counted between two readings. */
export function minus(a: Requests | undefined, b: Requests | undefined): Requests | undefined {
  if (a === undefined || b === undefined) return undefined;
  return {
    gets: a.gets - b.gets,
    puts: a.puts - b.puts,
    lists: a.lists - b.lists,
    heads: a.heads - b.heads,
    deletes: a.deletes - b.deletes,
    waitMs: a.waitMs - b.waitMs,
  };
}

/** Resolves after ms. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `writers` loops that together perform `total` awaited operations; resolves with each one's latency. */
export async function closedLoop(
  writers: number,
  total: number,
  op: (i: number) => Promise<unknown>,
): Promise<Float64Array> {
  const latencies = new Float64Array(total);
  let next = 0;
  const loop = async () => {
    while (next < total) {
      const i = next++;
      const t = performance.now();
      await op(i);
      latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: writers }, loop));
  return latencies;
}

/**
 * Offers `rate` operations per second in all for `seconds`, each started on
 * time whether or not earlier ones are answered (an open loop); a latency
 * runs from the operation's planned start, so a backlog shows. `ms` runs
 * from the start to the last answer.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ latencies: Float64Array; ms: number }> {
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    for (; issued < due; issued++) {
      const i = issued;
      const planned = started + (i * 1000) / rate;
      pending.push(op(i).then(() => void (latencies[i] = performance.now() - planned)));
    }
    await sleep(1);
  }
  await Promise.all(pending);
  return { latencies, ms: performance.now() - started };
}

/**
 * The p50 of 20 of each kind of request siltdb makes, on the store alone
 * (under probe/, removed after): a create-only PUT of a small WAL object, a
 * ranged GET of a 4 KiB block, a GET of a table's last 64 KiB, a LIST, a HEAD;
 * and the p99 of 150 create-only PUTs one after the other (what one writer's
 * 150 awaited puts would see from the store alone).
 */
export async function probeRequests(store: ObjectStore): Promise<Record<string, number>> {
  const figures = async (request: (i: number) => Promise<unknown>, count = 20) => {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await request(i);
      latencies.push(performance.now() - started);
    }
    return latencyFigures(latencies);
  };
  const p50 = async (request: (i: number) => Promise<unknown>) => (await figures(request)).p50Ms;
  await store.put("probe/table", new Uint8Array(2 << 20).fill(7));
  const latency = {
    put: await p50((i) => store.put(`probe/wal-${i}`, new Uint8Array(140), { ifNoneMatch: "*" })),
    getBlock: await p50((i) => store.get("probe/table", { offset: i * 4096, length: 4096 })),
    getTail: await p50(() => store.get("probe/table", { suffix: 64 << 10 })),
    list: await p50(() => store.list("probe/")),
    head: await p50(() => store.head("probe/table")),
    putP99: (await figures((i) => store.put(`probe/put-${i}`, new Uint8Array(140), { ifNoneMatch: "*" }), 150)).p99Ms,
  };
  const keys = [
    "probe/table",
    ...Array.from({ length: 20 }, (_, i) => `probe/wal-${i}`),
    ...Array.from({ length: 150 }, (_, i) => `probe/put-${i}`),
  ];
  await Promise.all(keys.map((k) => store.delete(k)));
  return latency;
}
