// The browser model test's operation sequences (tests/browser.test.ts): a
// seeded random run of writes (put, delete, batch, clear, deleteRange, puts
// with a ttl or an expiry time long past), reads (get,
// getMany, has, scan, keys, values, count; getSync and scanSync where the
// database has them, i.e. in the worker), snapshots, flush, compact and
// reopen (close + open again), each checked against a JS Map model. Runs the
// same against the real Db in a dedicated worker and against the main
// thread's proxy. Keys are ASCII, so string order is siltdb's byte order.

/** A small deterministic random generator (mulberry32), as tests/_harness.ts. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", "c", "d"];

function makeKeys() {
  const keys = [""];
  for (const x of ALPHABET) {
    keys.push(x);
    for (const y of ALPHABET) {
      keys.push(x + y);
      for (const z of ALPHABET.slice(0, 2)) keys.push(x + y + z);
    }
  }
  keys.push("b".repeat(40), "c\u007f", "zz");
  return keys;
}

const KEYS = makeKeys();
const PREFIXES = ["", "a", "b", "ab", "ca", "dd", "e", "zz", "b".repeat(20)];

const sortedKeys = (model) => [...model.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

function inRange(k, r) {
  if (r.gt !== undefined && !(k > r.gt)) return false;
  if (r.gte !== undefined && !(k >= r.gte)) return false;
  if (r.lt !== undefined && !(k < r.lt)) return false;
  if (r.lte !== undefined && !(k <= r.lte)) return false;
  if (r.prefix !== undefined && !k.startsWith(r.prefix)) return false;
  return true;
}

/** The model's answer to a scan: [key, value] pairs in order. */
function modelScan(model, o) {
  let keys = sortedKeys(model).filter((k) => inRange(k, o));
  if (o.reverse) keys.reverse();
  if (o.limit !== undefined && o.limit !== -1) keys = keys.slice(0, o.limit);
  return keys.map((k) => [k, model.get(k)]);
}

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** A mismatch, short: for lists, the first entries that differ and the lengths. */
function difference(expected, actual) {
  if (!Array.isArray(expected) || !Array.isArray(actual)) return { expected, actual };
  let i = 0;
  while (i < expected.length && i < actual.length && same(expected[i], actual[i])) i++;
  return {
    firstDifferenceAt: i,
    expected: expected.slice(i, i + 3),
    actual: actual.slice(i, i + 3),
    lengths: { expected: expected.length, actual: actual.length },
  };
}

/**
 * Runs one sequence. openDb() opens (or reopens) the database; the result
 * lists the mismatches (at most 20: step, operation, expected, actual).
 *
 * @param {() => Promise<any>} openDb
 * @param {{ seed: number, steps: number, syncReads?: boolean }} options
 */
export async function runModel(openDb, { seed, steps, syncReads = false }) {
  const random = rng(seed);
  const int = (n) => Math.floor(random() * n);
  const pick = (xs) => xs[int(xs.length)];
  const chance = (p) => random() < p;
  const value = () => {
    const n = chance(0.1) ? 500 + int(3000) : int(40);
    return `v${int(1e6)}:` + "xyz".repeat(Math.ceil(n / 3)).slice(0, n);
  };
  const range = () => {
    const r = {};
    if (chance(0.3)) r.prefix = pick(PREFIXES);
    if (chance(0.35)) r[chance(0.5) ? "gt" : "gte"] = pick(KEYS);
    if (chance(0.35)) r[chance(0.5) ? "lt" : "lte"] = pick(KEYS);
    return r;
  };
  const scanOptions = () => {
    const o = range();
    if (chance(0.4)) o.reverse = true;
    if (chance(0.3)) o.limit = pick([-1, 0, 1, 2, 5, 17]);
    return o;
  };

  const model = new Map();
  const counts = {};
  const mismatches = [];
  let snapshots = []; // { snap, model }
  let db = await openDb();
  let reopens = 0;
  const check = (step, op, expected, actual) => {
    if (!same(expected, actual) && mismatches.length < 20) {
      mismatches.push({ step, op, ...difference(expected, actual) });
    }
  };
  const releaseAll = async () => {
    for (const s of snapshots) await s.snap.release();
    snapshots = [];
  };
  const fullCheck = async (step, label) => {
    check(step, { t: label }, modelScan(model, {}), await collect(db.scan()));
    check(step, { t: `${label} count` }, model.size, await db.count());
  };

  const ops = [
    [30, "put"],
    [10, "delete"],
    [8, "batch"],
    [14, "get"],
    [4, "getMany"],
    [4, "has"],
    [10, "scan"],
    [3, "keys"],
    [3, "values"],
    [3, "count"],
    [1, "clear"],
    [2, "deleteRange"],
    [3, "putExpiring"],
    [2, "snapshot"],
    [3, "snapRead"],
    [1, "release"],
    [1, "flush"],
    [0.3, "compact"],
    [1.5, "reopen"],
    ...(syncReads ? [[6, "getSync"], [5, "scanSync"]] : []),
  ];
  const total = ops.reduce((s, [w]) => s + w, 0);
  const nextOp = () => {
    let x = random() * total;
    for (const [w, name] of ops) {
      if ((x -= w) < 0) return name;
    }
    return "put";
  };

  let step = 0;
  let op;
  try {
    for (; step < steps && mismatches.length === 0; step++) {
      const t = nextOp();
      counts[t] = (counts[t] ?? 0) + 1;
      switch (t) {
        case "put": {
          op = { t, k: pick(KEYS), v: value(), sync: chance(0.1) };
          await db.put(op.k, op.v, op.sync ? { sync: true } : undefined);
          model.set(op.k, op.v);
          break;
        }
        case "delete": {
          op = { t, k: pick(KEYS) };
          await db.delete(op.k);
          model.delete(op.k);
          break;
        }
        case "batch": {
          const list = [];
          for (let i = 1 + int(20); i > 0; i--) {
            list.push(
              chance(0.7) ? { type: "put", key: pick(KEYS), value: value() } : { type: "del", key: pick(KEYS) },
            );
          }
          op = { t, list };
          await db.batch(list, chance(0.2) ? { sync: true } : undefined);
          for (const o of list) o.type === "put" ? model.set(o.key, o.value) : model.delete(o.key);
          break;
        }
        case "clear": {
          op = { t, range: range() };
          if (Object.keys(op.range).length === 0) op.range.prefix = pick(PREFIXES.slice(1)); // not every key
          await db.clear(op.range);
          for (const k of [...model.keys()]) if (inRange(k, op.range)) model.delete(k);
          break;
        }
        case "deleteRange": {
          const [a, b] = [pick(KEYS), pick(KEYS)];
          op = { t, start: a < b ? a : b, end: a < b ? b : a };
          await db.deleteRange(op.start, op.end);
          for (const k of [...model.keys()]) if (k >= op.start && k < op.end) model.delete(k);
          break;
        }
        case "putExpiring": {
          // Deterministic expiry: a time long past (the key reads as deleted at once) or an hour away.
          op = { t, k: pick(KEYS), v: value(), past: chance(0.5) };
          await db.put(op.k, op.v, op.past ? { expireAt: 1 } : { ttl: 3_600_000 });
          if (op.past) model.delete(op.k);
          else model.set(op.k, op.v);
          break;
        }
        case "get": {
          op = { t, k: pick(KEYS) };
          check(step, op, model.get(op.k) ?? null, (await db.get(op.k)) ?? null);
          break;
        }
        case "getSync": {
          op = { t, k: pick(KEYS) };
          check(step, op, model.get(op.k) ?? null, db.getSync(op.k) ?? null);
          break;
        }
        case "getMany": {
          op = { t, ks: Array.from({ length: int(6) }, () => pick(KEYS)) };
          const got = await db.getMany(op.ks);
          check(step, op, op.ks.map((k) => model.get(k) ?? null), got.map((v) => v ?? null));
          break;
        }
        case "has": {
          op = { t, k: pick(KEYS) };
          check(step, op, model.has(op.k), await db.has(op.k));
          break;
        }
        case "scan": {
          op = { t, o: scanOptions() };
          check(step, op, modelScan(model, op.o), await collect(db.scan(op.o)));
          break;
        }
        case "scanSync": {
          op = { t, o: scanOptions() };
          check(step, op, modelScan(model, op.o), [...db.scanSync(op.o)]);
          break;
        }
        case "keys": {
          op = { t, o: scanOptions() };
          check(step, op, modelScan(model, op.o).map(([k]) => k), await collect(db.keys(op.o)));
          break;
        }
        case "values": {
          op = { t, o: scanOptions() };
          check(step, op, modelScan(model, op.o).map(([, v]) => v), await collect(db.values(op.o)));
          break;
        }
        case "count": {
          op = { t, range: range() };
          check(step, op, modelScan(model, op.range).length, await db.count(op.range));
          break;
        }
        case "snapshot": {
          op = { t };
          if (snapshots.length < 3) snapshots.push({ snap: await db.snapshot(), model: new Map(model) });
          break;
        }
        case "snapRead": {
          if (snapshots.length === 0) break;
          const i = int(snapshots.length);
          const { snap, model: then } = snapshots[i];
          op = { t, i, k: pick(KEYS), o: scanOptions() };
          check(step, { ...op, read: "get" }, then.get(op.k) ?? null, (await snap.get(op.k)) ?? null);
          check(step, { ...op, read: "scan" }, modelScan(then, op.o), await collect(snap.scan(op.o)));
          break;
        }
        case "release": {
          if (snapshots.length === 0) break;
          const i = int(snapshots.length);
          op = { t, i };
          await snapshots[i].snap.release();
          snapshots.splice(i, 1);
          break;
        }
        case "flush": {
          op = { t };
          await db.flush();
          break;
        }
        case "compact": {
          op = { t };
          await db.compact();
          break;
        }
        case "reopen": {
          op = { t };
          await releaseAll();
          await db.close();
          db = await openDb();
          reopens++;
          await fullCheck(step, "scan after reopen");
          break;
        }
      }
    }
    op = { t: "final" };
    await releaseAll();
    await fullCheck(step, "final scan");
    await db.close();
    db = await openDb();
    reopens++;
    await fullCheck(step, "final scan after reopen");
    const stats = await db.stats();
    await db.close();
    return {
      seed,
      steps: step,
      reopens,
      keys: model.size,
      counts,
      tables: stats.levels.reduce((s, l) => s + l.files, 0),
      mismatches,
    };
  } catch (err) {
    try {
      await db.close();
    } catch {
      // the error above is the one to report
    }
    mismatches.push({
      step,
      op,
      error: {
        name: err?.name,
        code: err?.code,
        message: String(err?.message ?? err),
        stack: String(err?.stack ?? ""),
      },
    });
    return { seed, steps: step, reopens, keys: model.size, counts, mismatches };
  }
}
