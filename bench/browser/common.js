// Shared by bench/browser/page.js and bench/browser/worker.js: the keys and
// values of the browser benchmark (16-byte keys in a pseudo-random order,
// 100-byte values) and the timing helpers.

/** 16-byte key i: 8 bytes of a hash of i (so writes come in random key order), then i big-endian. */
export function makeKey(i) {
  const key = new Uint8Array(16);
  const view = new DataView(key.buffer);
  // splitmix32-style hash of i
  let h = (i + 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  view.setUint32(0, h);
  view.setUint32(4, Math.imul(h, 0x27d4eb2d) >>> 0);
  view.setUint32(8, Math.floor(i / 0x100000000));
  view.setUint32(12, i >>> 0);
  return key;
}

/** 100-byte value i. */
export function makeValue(i) {
  const value = new Uint8Array(100);
  for (let j = 0; j < 100; j++) value[j] = (i * 31 + j * 7) & 0xff;
  return value;
}

/** A seeded xorshift32 generator: integers in [0, n). */
export function random(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Precomputed keys and values 0..n-1. */
export function dataset(n) {
  const keys = new Array(n);
  const values = new Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = makeKey(i);
    values[i] = makeValue(i);
  }
  return { keys, values };
}

/** Random existing key indexes for the reads (the same sequence for every engine). */
export function readOrder(n, count, seed = 42) {
  const next = random(seed);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = next(n);
  return order;
}

/** Runs fn (async or not) and returns its result row: ops done, ms, ops/s. */
export async function timed(workload, engine, ops, fn, note) {
  const started = performance.now();
  const done = await fn();
  const ms = performance.now() - started;
  const count = typeof done === "number" ? done : ops;
  return { workload, engine, ops: count, ms, opsPerSec: count / (ms / 1000), ...(note ? { note } : {}) };
}

/** Fails when a read does not find what was written (a benchmark that reads nothing is no benchmark). */
export function check(condition, message) {
  if (!condition) throw new Error(`benchmark check failed: ${message}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The start-up row: `times` opens (each followed by one read), the median in ms. */
export async function startup(engine, times, openAndRead) {
  const ms = [];
  for (let i = 0; i < times; i++) ms.push(await openAndRead());
  const m = median(ms);
  return { workload: "open", engine, ops: 1, ms: m, opsPerSec: 1000 / m, note: `median of ${times}` };
}

/**
 * The siltdb workloads through the async API (the Db in a worker, or the
 * main thread's proxy), and through getSync/scanSync when `sync` is set (in
 * the worker). `open(name)` opens (or creates) database name.
 */
export async function siltdbSuite(engine, open, cfg, sync) {
  const { n, syncN, reads, seeks, opens, data, order, prefix } = cfg;
  const { keys, values } = data;
  const rows = [];
  const syncEngine = `${engine}-sync`;

  let db = await open(`${prefix}put`);
  rows.push(
    await timed("put", engine, n, async () => {
      for (let i = 0; i < n; i++) await db.put(keys[i], values[i]);
    }),
  );
  await db.close();

  db = await open(`${prefix}put-sync`);
  rows.push(
    await timed("put-sync", engine, syncN, async () => {
      for (let i = 0; i < syncN; i++) await db.put(keys[i], values[i], { sync: true });
    }),
  );
  await db.close();

  db = await open(`${prefix}main`);
  rows.push(
    await timed("batch200", engine, n, async () => {
      for (let i = 0; i < n; i += 200) {
        const ops = [];
        for (let j = i; j < Math.min(n, i + 200); j++) ops.push({ type: "put", key: keys[j], value: values[j] });
        await db.batch(ops);
      }
    }),
  );

  rows.push(
    await timed("get", engine, reads, async () => {
      let found = 0;
      for (let i = 0; i < reads; i++) if ((await db.get(keys[order[i]])) !== undefined) found++;
      check(found === reads, `${engine} get found ${found} of ${reads}`);
    }),
  );
  if (sync) {
    rows.push(
      await timed("get", syncEngine, reads, () => {
        let found = 0;
        for (let i = 0; i < reads; i++) if (db.getSync(keys[order[i]]) !== undefined) found++;
        check(found === reads, `${engine} getSync found ${found} of ${reads}`);
      }),
    );
  }

  rows.push(
    await timed("seek100", engine, seeks, async () => {
      let entries = 0;
      for (let i = 0; i < seeks; i++) {
        for await (const _ of db.scan({ gte: keys[order[i]], limit: 100 })) entries++;
      }
      check(entries > seeks, `${engine} seeks read ${entries} entries`);
    }),
  );
  if (sync) {
    rows.push(
      await timed("seek100", syncEngine, seeks, () => {
        let entries = 0;
        for (let i = 0; i < seeks; i++) {
          for (const _ of db.scanSync({ gte: keys[order[i]], limit: 100 })) entries++;
        }
        check(entries > seeks, `${engine} seeks read ${entries} entries`);
      }),
    );
  }

  rows.push(
    await timed("scan", engine, n, async () => {
      let entries = 0;
      for await (const _ of db.scan()) entries++;
      check(entries === n, `${engine} scan read ${entries} of ${n}`);
      return entries;
    }),
  );
  if (sync) {
    rows.push(
      await timed("scan", syncEngine, n, () => {
        let entries = 0;
        for (const _ of db.scanSync()) entries++;
        check(entries === n, `${engine} scanSync read ${entries} of ${n}`);
        return entries;
      }),
    );
  }
  await db.close();

  rows.push(
    await startup(engine, opens, async () => {
      const started = performance.now();
      const reopened = await open(`${prefix}main`);
      check((await reopened.get(keys[0])) !== undefined, `${engine} reopened store lost key 0`);
      const ms = performance.now() - started;
      await reopened.close();
      return ms;
    }),
  );
  return rows;
}

/** The configuration both sides compute from n. */
export function config(n, prefix) {
  const syncN = n;
  const reads = n;
  const seeks = Math.max(100, Math.min(2000, Math.floor(n / 10)));
  return { n, syncN, reads, seeks, opens: 5, data: dataset(n), order: readOrder(n, Math.max(reads, seeks)), prefix };
}
