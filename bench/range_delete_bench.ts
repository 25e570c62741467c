// Range tombstones (issue 20): what a range delete costs, and what
// tombstones cost reads, measured side by side in the same run.
//
//   npm run bench:range            (node --import tsx bench/range_delete_bench.ts)
//   SILTDB_BENCH_KEYS=200000 npm run bench:range   (fewer keys for a quick look)
//
// 1. deleteRange over 1,000,000 keys (16-byte keys, 100-byte values, on
//    disk in a temp directory, the keys in tables and in the memtable): the
//    time of the awaited deleteRange() and the log bytes it added (wal
//    bytesWritten before and after); then 100 more deleteRange() calls over
//    other ranges of the same store (median and p99 of their times).
//    Targets: < 1 ms and < 1 KiB.
// 2. get over a range covered by 1,000 tombstones against the same get on a
//    store without tombstones: two stores loaded alike (N keys in tables),
//    one then given 1,000 range tombstones over the keys read (500 flushed
//    to a table, 500 in the memtable); rounds alternate between the stores
//    (same keys, same order); ns per getSync() and the ratio. Target ≤ 1.5.
//    A third figure: the same get on the store with tombstones, of keys
//    outside every tombstone (what a tombstone elsewhere costs a read).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Db, open } from "../mod.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const KEYS = Number(env.SILTDB_BENCH_KEYS ?? 1_000_000);
const READ_KEYS = 200_000;
const TOMBSTONES = 1000;
const ROUNDS = 5;
const GETS = 200_000;

const key = (i: number) => `key${String(i).padStart(13, "0")}`; // 16 bytes
const value = "v".repeat(100);

async function load(db: Db<string, string>, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.put(key(j), value);
    await batch.write();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];

async function deleteRangeCost(dir: string): Promise<void> {
  const db = await open(join(dir, "delete"), { keyEncoding: "utf8", valueEncoding: "utf8" }) as Db<string, string>;
  await load(db, KEYS);
  await db.flush();
  await load(db, 10_000); // some of the range in the memtable too
  const before = db.stats().wal.bytesWritten;
  const t0 = performance.now();
  await db.deleteRange(key(0), key(KEYS));
  const ms = performance.now() - t0;
  const bytes = db.stats().wal.bytesWritten - before;
  const gone = db.getSync(key(KEYS >> 1)) === undefined && db.getSync(key(5)) === undefined;
  console.log(
    `deleteRange over ${KEYS.toLocaleString("en")} keys: ${
      ms.toFixed(3)
    } ms, ${bytes} bytes of log (keys gone: ${gone})`,
  );
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await db.deleteRange(key(i * 1000), key(i * 1000 + 500));
    times.push(performance.now() - t);
  }
  console.log(`100 more deleteRange calls: median ${median(times).toFixed(3)} ms, p99 ${p99(times).toFixed(3)} ms`);
  await db.close();
}

function getRound(db: Db<string, string>, order: Int32Array, offset: number): number {
  const t0 = performance.now();
  let found = 0;
  for (let i = 0; i < GETS; i++) if (db.getSync(key(order[i] + offset)) !== undefined) found++;
  const ns = ((performance.now() - t0) * 1e6) / GETS;
  if (found < 0) console.log(found);
  return ns;
}

async function getCost(dir: string): Promise<void> {
  const options = { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 64 << 20 } as const;
  const plain = await open(join(dir, "plain"), options) as Db<string, string>;
  const covered = await open(join(dir, "covered"), options) as Db<string, string>;
  for (const db of [plain, covered]) {
    await load(db, 2 * READ_KEYS);
    await db.flush();
    await db.compact();
  }
  // 1,000 tombstones over the first READ_KEYS keys: 500 in a table, 500 in the memtable.
  const span = READ_KEYS / TOMBSTONES;
  for (let t = 0; t < TOMBSTONES; t++) {
    if (t === TOMBSTONES / 2) await covered.flush();
    await covered.deleteRange(key(t * span), key((t + 1) * span));
  }
  // The same write in the plain store's memtable, so both memtables hold something.
  for (let t = 0; t < TOMBSTONES; t++) await plain.put(`zz${t}`, value);
  const order = new Int32Array(GETS);
  let x = 12345;
  for (let i = 0; i < GETS; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    order[i] = x % READ_KEYS;
  }
  const checks = [plain.getSync(key(10)) !== undefined, covered.getSync(key(10)) === undefined];
  if (!checks.every(Boolean)) throw new Error("the stores do not hold what the benchmark expects");
  const results = { plain: [] as number[], covered: [] as number[], outside: [] as number[] };
  getRound(plain, order, 0); // warm up both
  getRound(covered, order, 0);
  for (let r = 0; r < ROUNDS; r++) {
    const first = r % 2 === 0;
    if (first) results.plain.push(getRound(plain, order, 0));
    results.covered.push(getRound(covered, order, 0));
    if (!first) results.plain.push(getRound(plain, order, 0));
    results.outside.push(getRound(covered, order, READ_KEYS));
  }
  const p = median(results.plain);
  const c = median(results.covered);
  const o = median(results.outside);
  console.log(
    `getSync of ${READ_KEYS.toLocaleString("en")} keys (random order, ${
      GETS.toLocaleString("en")
    } per round, ${ROUNDS} rounds, median):`,
  );
  console.log(`  no tombstones                      ${p.toFixed(0)} ns`);
  console.log(`  covered by ${TOMBSTONES} tombstones           ${c.toFixed(0)} ns   ratio ${(c / p).toFixed(2)}`);
  console.log(`  store with tombstones, keys outside ${o.toFixed(0)} ns   ratio ${(o / p).toFixed(2)}`);
  await plain.close();
  await covered.close();
}

const dir = mkdtempSync(join(tmpdir(), "siltdb-range-bench-"));
try {
  console.log(`range tombstones, ${"Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node"}`);
  await deleteRangeCost(dir);
  await getCost(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
