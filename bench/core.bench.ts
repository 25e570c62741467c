// Micro benchmarks of the WASM memtable, driven from JavaScript, side by side
// in the same run with sorted-btree (bytewise comparator) and a plain JS
// sorted array (binary search + splice). Workload: 16-byte random keys,
// 100-byte values, memtables of 4 MiB and 64 MiB (entry counts chosen so the
// WASM memtable's arena holds that many bytes).
//
//   node --import tsx bench/core.bench.ts      (or: npm run bench)
//   deno run -A bench/core.bench.ts
//   bun bench/core.bench.ts
//
// Prints mitata's report, then a summary of ops/s and ratios, and writes the
// figures to bench/results/core-<runtime>.json.
// SILTDB_BENCH_SIZES=4 runs only the 4 MiB size.

import { bench, do_not_optimize, group, run } from "mitata";
import BTreeModule from "sorted-btree";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import { bytes, core, scratch, words } from "../src/wasm/instance.ts";
import { Lookup, resultValue, resultValueLength } from "../src/wasm/abi.ts";
import { copyOut } from "../src/wasm/values.ts";
import { KIND_PUT } from "../src/format/internal_key.ts";
import { TestMemtable as Memtable } from "../tests/_core.ts";

// sorted-btree is CommonJS: its default export arrives wrapped in some runtimes
// (and its types too: Deno sees the module object where tsc sees the class).
type BTreeClass = typeof import("sorted-btree").default;
const BTree = ((BTreeModule as unknown as { default?: BTreeClass }).default ?? BTreeModule) as unknown as BTreeClass;
type BTree<K, V> = import("sorted-btree").default<K, V>;

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const runtimeVersion = runtime === "deno"
  ? (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
  : runtime === "bun"
  ? (process.versions as Record<string, string>).bun
  : process.version;
const ENTRY_BYTES_ESTIMATE = 152; // node header + links + 16 + 100, measured below

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function dataSet(count: number, seed: number) {
  const r = random(seed);
  const keys = Array.from({ length: count }, () => Uint8Array.from({ length: 16 }, () => (r() * 256) | 0));
  const values = Array.from({ length: 1024 }, () => Uint8Array.from({ length: 100 }, () => (r() * 256) | 0));
  // Lookups use fresh copies of the keys, as a request brings its own key
  // object; probing with the stored objects themselves would let a JS
  // structure compare an object with itself.
  const probe = keys.map((k) => k.slice());
  for (let i = probe.length - 1; i > 0; i--) {
    const j = (r() * (i + 1)) | 0;
    [probe[i], probe[j]] = [probe[j], probe[i]];
  }
  return { keys, values, probe };
}

// ---- the three structures behind one small interface ----------------------

function fillMemtable(mt: Memtable, keys: Uint8Array[], values: Uint8Array[]): void {
  for (let i = 0; i < keys.length; i++) mt.add(keys[i], i + 1, KIND_PUT, values[i & 1023]);
}

function lookupMemtable(mt: Memtable, key: Uint8Array): Uint8Array | undefined {
  const ptr = scratch(key.length);
  bytes().set(key, ptr);
  if (mt.lookupAt(ptr, key.length, Number.MAX_SAFE_INTEGER) !== Lookup.Found) return undefined;
  return copyOut(resultValue(), resultValueLength());
}

function scanMemtable(mt: Memtable): number {
  const children = scratch(4);
  words()[children >>> 2] = core.memSourceNew(mt.ptr);
  const it = core.iterCreate(children, 1, Number.MAX_SAFE_INTEGER, 0, 0, 0, 0, 0, Date.now(), 0);
  let n = 0;
  try {
    while (true) {
      const out = scratch(1024 * 16);
      const got = core.iterFill(it, out, 1024);
      const w = words();
      for (let i = 0, q = out >>> 2; i < got; i++, q += 4) {
        do_not_optimize(copyOut(w[q], w[q + 1]));
        do_not_optimize(copyOut(w[q + 2], w[q + 3]));
        n++;
      }
      if (got < 1024) return n;
    }
  } finally {
    core.iterFree(it);
  }
}

function fillBTree(tree: BTree<Uint8Array, Uint8Array>, keys: Uint8Array[], values: Uint8Array[]): void {
  for (let i = 0; i < keys.length; i++) tree.set(keys[i], values[i & 1023]);
}

class SortedArray {
  keys: Uint8Array[] = [];
  values: Uint8Array[] = [];
  #find(key: Uint8Array): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.keys[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  set(key: Uint8Array, value: Uint8Array): void {
    const i = this.#find(key);
    if (i < this.keys.length && compareBytes(this.keys[i], key) === 0) this.values[i] = value;
    else {
      this.keys.splice(i, 0, key);
      this.values.splice(i, 0, value);
    }
  }
  get(key: Uint8Array): Uint8Array | undefined {
    const i = this.#find(key);
    return i < this.keys.length && compareBytes(this.keys[i], key) === 0 ? this.values[i] : undefined;
  }
}

// ---- benchmarks -------------------------------------------------------------

const sizes = (process.env.SILTDB_BENCH_SIZES ?? "4,64").split(",").map(Number);
const plan: { label: string; mib: number; count: number }[] = [];
for (const mib of sizes) {
  // Entry count that fills `mib` MiB of WASM memtable, measured on a probe fill.
  const probe = new Memtable();
  const sample = dataSet(20_000, 7);
  fillMemtable(probe, sample.keys, sample.values);
  const perEntry = probe.bytesUsed / 20_000 || ENTRY_BYTES_ESTIMATE;
  probe.free();
  plan.push({ label: `${mib} MiB`, mib, count: Math.floor((mib << 20) / perEntry) });
}

const sortedArrayFillLimit = Number(process.env.SILTDB_BENCH_ARRAY_LIMIT ?? 100_000);
const plain = !!process.env.CI || !process.stdout.isTTY;
const avgNs = new Map<string, number>();

// One mitata run per size, so that the structures of one size are built right
// before its benchmarks and released (or freed) before the next size.
for (const { label, count } of plan) {
  const { keys, values, probe } = dataSet(count, 42 + count);
  // Pre-filled structures for lookups and iteration.
  const mt = new Memtable();
  fillMemtable(mt, keys, values);
  const tree = new BTree<Uint8Array, Uint8Array>(undefined, compareBytes);
  fillBTree(tree, keys, values);
  const array = new SortedArray();
  const sortedKeys = keys.slice().sort(compareBytes);
  array.keys = sortedKeys;
  array.values = sortedKeys.map((_, i) => values[i & 1023]);

  let last: Memtable | undefined;
  group(`insert ${count} entries (${label})`, () => {
    bench(`wasm memtable insert ${label}`, function* () {
      yield {
        [0]() {
          last?.free();
          return (last = new Memtable());
        },
        bench(m: Memtable) {
          fillMemtable(m, keys, values);
        },
      };
    });
    bench(`sorted-btree insert ${label}`, function* () {
      yield {
        [0]: () => new BTree<Uint8Array, Uint8Array>(undefined, compareBytes),
        bench(t: BTree<Uint8Array, Uint8Array>) {
          fillBTree(t, keys, values);
        },
      };
    });
    if (count <= sortedArrayFillLimit) { // binary search + splice is O(n) per insert
      bench(`sorted array insert ${label}`, function* () {
        yield {
          [0]: () => new SortedArray(),
          bench(a: SortedArray) {
            for (let i = 0; i < keys.length; i++) a.set(keys[i], values[i & 1023]);
          },
        };
      });
    }
  });

  group(`point lookup, hits in random order (${label})`, () => {
    let i = 0;
    bench(`wasm memtable lookup ${label}`, () => do_not_optimize(lookupMemtable(mt, probe[i++ % count])));
    let j = 0;
    bench(`sorted-btree lookup ${label}`, () => do_not_optimize(tree.get(probe[j++ % count])));
    let k = 0;
    bench(`sorted array lookup ${label}`, () => do_not_optimize(array.get(probe[k++ % count])));
  });

  group(`full iteration of ${count} entries (${label})`, () => {
    bench(`wasm memtable iterate ${label}`, () => do_not_optimize(scanMemtable(mt)));
    bench(`sorted-btree iterate ${label}`, () => {
      let n = 0;
      for (const entry of tree.entries()) {
        do_not_optimize(entry);
        n++;
      }
      return n;
    });
    bench(`sorted array iterate ${label}`, () => {
      let n = 0;
      for (let x = 0; x < array.keys.length; x++) {
        do_not_optimize(array.keys[x]);
        do_not_optimize(array.values[x]);
        n++;
      }
      return n;
    });
  });

  const result = await run({ colors: !plain });
  for (const trial of result.benchmarks) {
    for (const r of trial.runs) if (r.stats) avgNs.set(r.name, r.stats.avg);
  }
  mt.free();
  last?.free();
}

// ---- summary: ops/s and ratios ---------------------------------------------
const rows: { workload: string; size: string; wasm: number; btree: number; array?: number }[] = [];
for (const { label, count } of plan) {
  for (const [workload, perOp] of [["insert", count], ["lookup", 1], ["iterate", count]] as const) {
    const opsPerSec = (name: string) => {
      const ns = avgNs.get(`${name} ${workload} ${label}`);
      return ns === undefined ? undefined : (perOp / ns) * 1e9;
    };
    rows.push({
      workload,
      size: label,
      wasm: opsPerSec("wasm memtable")!,
      btree: opsPerSec("sorted-btree")!,
      array: opsPerSec("sorted array"),
    });
  }
}
const fmt = (n: number | undefined) =>
  n === undefined ? "—" : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`;
console.log(
  `\nsiltdb core memtable, ${runtime} ${runtimeVersion}, ${os.cpus()[0]?.model ?? "cpu?"} (${os.cpus().length} cores)`,
);
console.log("workload  size     wasm memtable  sorted-btree  sorted array  wasm/btree  wasm/array");
for (const r of rows) {
  console.log(
    `${r.workload.padEnd(9)} ${r.size.padEnd(8)} ${fmt(r.wasm).padStart(13)} ${fmt(r.btree).padStart(13)} ${
      fmt(r.array).padStart(13)
    }` +
      `  ${(r.wasm / r.btree).toFixed(2).padStart(9)}x  ${
        r.array ? `${(r.wasm / r.array).toFixed(2).padStart(9)}x` : "        —"
      }`,
  );
}
const out = new URL("./results/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(
  new URL(`core-${runtime}.json`, out),
  JSON.stringify(
    { runtime, version: runtimeVersion, cpu: os.cpus()[0]?.model, date: new Date().toISOString(), plan, rows },
    null,
    2,
  ) + "\n",
);
