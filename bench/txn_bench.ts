// Transactions: siltdb's read-modify-write paths side by side with the
// stores that have transactions, in the same run. Each engine runs in its
// own child process; rounds repeat, the order of the engines rotating from
// one round to the next, and every round records the machine's load.
//
//   npm run bench:txn                     (node --import tsx bench/txn_bench.ts)
//   node --import tsx bench/txn_report.ts (npm run bench:txn runs it: docs/benchmarks.md)
//
// Workloads (100-byte values whose first 12 characters are a decimal counter):
//   rmw        uncontended read-modify-write: one transaction at a time, each
//              awaited, reading 2 random keys of N and writing both (a transfer:
//              one down, one up). Checked afterwards: the total is unchanged.
//   contended  W concurrent writers (default 8), each incrementing a random
//              one of K counters (default 10) in a transaction: read, add
//              one, write. Commits/s and retries per commit (attempts the body
//              ran, or conditional batches that failed, beyond the first).
//              Checked afterwards: the counters add up to the commits.
//   contended-yield  the same, with the body awaiting one turn of the event loop
//              (setImmediate) between its read and its write, as a body that
//              calls out to something would: the transactions overlap and
//              conflict. siltdb's asynchronous transactions and conditional
//              batches only (the peers' transactions take a synchronous
//              callback, with their write lock held; so does transactionSync).
//
// Engines (bench/results/txn-<runtime>.json keeps their labels):
//   siltdb-tx           db.transaction(async body), serializable (default)
//   siltdb-tx-snapshot  db.transaction(async body, { isolation: "snapshot" })
//   siltdb-txsync       db.transactionSync(sync body: getSync)
//   siltdb-cas          getEntry ×2, then batch().check().check().put().put().write(),
//                       again while { ok: false }
//   lmdb-tx             lmdb-js db.transaction(() => get, get, putSync, putSync)
//   lmdb-txsync         lmdb-js db.transactionSync(same)
//   node:sqlite         BEGIN IMMEDIATE; SELECT ×2; UPDATE ×2; COMMIT (Node ≥ 22.5)
//   classic-level-batch no transactions: get ×2 then a batch of 2 puts, not
//                       isolated (a floor, not a peer; sits out contended)
//
// Durability: every store as it ships, all in the same class (a commit
// survives a crash of the process, not of the machine): siltdb hands the
// commit to the OS; lmdb is opened with noSync; SQLite in WAL mode with
// synchronous=NORMAL; classic-level without sync.
//
// Environment: SILTDB_TXN_N (keys, 100,000), SILTDB_TXN_SECONDS (per
// workload, 3), SILTDB_TXN_WARMUP_MS (500), SILTDB_TXN_REPEATS (rounds, 3),
// SILTDB_TXN_WRITERS (8), SILTDB_TXN_HOT_KEYS (10), SILTDB_TXN_ENGINES
// (comma-separated), SILTDB_BENCH_QUIET_LOAD (1.5) and SILTDB_BENCH_MAX_WAIT
// (seconds to wait for the load to drop below it before a round, 300).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { uniform } from "./_shared.ts";
import {
  contended,
  machine,
  type Measured,
  rotatingRounds,
  runAsChild,
  runChild,
  runtime,
  runtimeVersion,
  timeBoxed,
} from "./_runs.ts";

const N = Number(process.env.SILTDB_TXN_N ?? 100_000);
const SECONDS = Number(process.env.SILTDB_TXN_SECONDS ?? 3);
const WARMUP_MS = Number(process.env.SILTDB_TXN_WARMUP_MS ?? 500);
const REPEATS = Number(process.env.SILTDB_TXN_REPEATS ?? 3);
const WRITERS = Number(process.env.SILTDB_TXN_WRITERS ?? 8);
const HOT = Number(process.env.SILTDB_TXN_HOT_KEYS ?? 10);
const QUIET = Number(process.env.SILTDB_BENCH_QUIET_LOAD ?? 1.5);
const MAX_WAIT = Number(process.env.SILTDB_BENCH_MAX_WAIT ?? 300);
const START = 1000;

/** What each engine is called in tables and charts. */
const LABELS: Record<string, string> = {
  "siltdb-tx": "siltdb transaction (serializable)",
  "siltdb-tx-snapshot": "siltdb transaction (snapshot)",
  "siltdb-txsync": "siltdb transactionSync",
  "siltdb-cas": "siltdb getEntry + conditional batch",
  "lmdb-tx": "lmdb transaction",
  "lmdb-txsync": "lmdb transactionSync",
  "node:sqlite": "node:sqlite BEGIN IMMEDIATE … COMMIT",
  "classic-level-batch": "classic-level get + batch (no isolation: floor)",
};

// ---- values: a counter in 100 bytes ----------------------------------------------

const FILL = "x".repeat(88);
const enc = (n: number) => String(n).padStart(12, " ") + FILL;
const dec = (s: string | undefined) => {
  if (s === undefined) throw new Error("a key the benchmark wrote is missing");
  return parseInt(s.slice(0, 12), 10);
};
const keyOf = (i: number) => `acct:${String(i).padStart(10, "0")}`;
const hotKey = (i: number) => `ctr:${String(i).padStart(4, "0")}`;

// ---- engines ---------------------------------------------------------------------

interface TxnEngine {
  open(dir: string): Promise<void> | void;
  /** Writes the entries in one batch (untimed loading). */
  load(entries: [string, string][]): Promise<void> | void;
  /** Reads k1 and k2, writes k1 - 1 and k2 + 1 atomically; resolves with the attempts it took. */
  transfer(k1: string, k2: string): Promise<number> | number;
  /** Reads k, writes k + 1 atomically; resolves with the attempts it took. */
  increment(k: string): Promise<number> | number;
  /** increment, awaiting a turn of the event loop between the read and the write (absent: not possible). */
  incrementYield?(k: string): Promise<number>;
  /** The counter at k (to check the totals). */
  read(k: string): Promise<number> | number;
  close(): Promise<void> | void;
  /** Workloads that do not apply. */
  skip?: string[];
}

async function siltdb(mode: "serializable" | "snapshot" | "sync" | "cas"): Promise<TxnEngine> {
  const { open } = await import("../mod.ts");
  let db: Awaited<ReturnType<typeof open<{ keyEncoding: "utf8"; valueEncoding: "utf8" }>>>;
  const options = { isolation: mode === "snapshot" ? "snapshot" : "serializable", retries: 1_000_000 } as const;
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const cas = async (writes: (values: number[]) => number[], keys: string[], yields = false) => {
    for (let attempts = 1;; attempts++) {
      const entries = [];
      for (const k of keys) entries.push(await db.getEntry(k));
      if (yields) await turn();
      const next = writes(entries.map((e) => dec(e.value)));
      const b = db.batch();
      for (let i = 0; i < keys.length; i++) b.check(keys[i], entries[i].version ?? null);
      for (let i = 0; i < keys.length; i++) b.put(keys[i], enc(next[i]));
      if ((await b.write()).ok) return attempts;
    }
  };
  return {
    async open(dir) {
      db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    },
    async load(entries) {
      const b = db.batch();
      for (const [k, v] of entries) b.put(k, v);
      await b.write();
    },
    async transfer(k1, k2) {
      let attempts = 0;
      if (mode === "cas") return cas(([a, b]) => [a - 1, b + 1], [k1, k2]);
      if (mode === "sync") {
        await db.transactionSync((tx) => {
          attempts++;
          const a = dec(tx.getSync(k1));
          const b = dec(tx.getSync(k2));
          tx.put(k1, enc(a - 1));
          tx.put(k2, enc(b + 1));
        }, options);
        return attempts;
      }
      await db.transaction(async (tx) => {
        attempts++;
        const a = dec(await tx.get(k1));
        const b = dec(await tx.get(k2));
        tx.put(k1, enc(a - 1));
        tx.put(k2, enc(b + 1));
      }, options);
      return attempts;
    },
    async increment(k) {
      let attempts = 0;
      if (mode === "cas") return cas(([a]) => [a + 1], [k]);
      if (mode === "sync") {
        await db.transactionSync((tx) => {
          attempts++;
          tx.put(k, enc(dec(tx.getSync(k)) + 1));
        }, options);
        return attempts;
      }
      await db.transaction(async (tx) => {
        attempts++;
        tx.put(k, enc(dec(await tx.get(k)) + 1));
      }, options);
      return attempts;
    },
    incrementYield: mode === "sync" ? undefined : async (k) => {
      let attempts = 0;
      if (mode === "cas") return cas(([a]) => [a + 1], [k], true);
      await db.transaction(async (tx) => {
        attempts++;
        const v = dec(await tx.get(k));
        await turn();
        tx.put(k, enc(v + 1));
      }, options);
      return attempts;
    },
    read: (k) => dec(db.getSync(k)),
    close: () => db.close(),
  };
}

async function lmdb(sync: boolean): Promise<TxnEngine> {
  const { open } = await import("lmdb");
  let db: ReturnType<typeof open<string, string>>;
  // Inside a transaction callback lmdb's putSync writes in that transaction
  // (put there measured the same here, one writer or eight).
  const run = (body: () => void): Promise<number> | number => {
    if (sync) {
      db.transactionSync(body);
      return 1;
    }
    return db.transaction(body).then(() => 1);
  };
  return {
    open(dir) {
      db = open<string, string>({ path: dir, encoding: "string", noSync: true });
    },
    load(entries) {
      db.transactionSync(() => {
        for (const [k, v] of entries) db.putSync(k, v);
      });
    },
    transfer: (k1, k2) =>
      run(() => {
        const a = dec(db.get(k1));
        const b = dec(db.get(k2));
        db.putSync(k1, enc(a - 1));
        db.putSync(k2, enc(b + 1));
      }),
    increment: (k) => run(() => void db.putSync(k, enc(dec(db.get(k)) + 1))),
    read: (k) => dec(db.get(k)),
    close: () => db.close(),
  };
}

async function nodeSqlite(): Promise<TxnEngine> {
  if (runtime !== "node") throw new Error("node:sqlite runs in Node only");
  let sqlite: typeof import("node:sqlite");
  try {
    sqlite = await import("node:sqlite");
  } catch {
    throw new Error(`node:sqlite is not in Node ${process.version} (it is from 22.5 on)`);
  }
  let db: InstanceType<typeof sqlite.DatabaseSync>;
  let begin: ReturnType<typeof db.prepare>,
    commit: ReturnType<typeof db.prepare>,
    get: ReturnType<typeof db.prepare>,
    update: ReturnType<typeof db.prepare>,
    insert: ReturnType<typeof db.prepare>;
  const value = (k: string) => dec((get.get(k) as { v: string } | undefined)?.v);
  const inTransaction = (body: () => void) => {
    begin.run();
    try {
      body();
      commit.run();
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
    return 1;
  };
  return {
    open(dir) {
      db = new sqlite.DatabaseSync(`${dir}.sqlite`);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID");
      begin = db.prepare("BEGIN IMMEDIATE");
      commit = db.prepare("COMMIT");
      get = db.prepare("SELECT v FROM kv WHERE k = ?");
      update = db.prepare("UPDATE kv SET v = ? WHERE k = ?");
      insert = db.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)");
    },
    load(entries) {
      inTransaction(() => {
        for (const [k, v] of entries) insert.run(k, v);
      });
    },
    transfer: (k1, k2) =>
      inTransaction(() => {
        const a = value(k1);
        const b = value(k2);
        update.run(enc(a - 1), k1);
        update.run(enc(b + 1), k2);
      }),
    increment: (k) => inTransaction(() => void update.run(enc(value(k) + 1), k)),
    read: value,
    close: () => db.close(),
  };
}

async function classicLevelBatch(): Promise<TxnEngine> {
  const { ClassicLevel } = await import("classic-level");
  let db: InstanceType<typeof ClassicLevel<string, string>>;
  return {
    async open(dir) {
      db = new ClassicLevel<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      await db.open();
    },
    load: (entries) => db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value }))),
    async transfer(k1, k2) {
      const a = dec(await db.get(k1));
      const b = dec(await db.get(k2));
      await db.batch([{ type: "put", key: k1, value: enc(a - 1) }, { type: "put", key: k2, value: enc(b + 1) }]);
      return 1;
    },
    increment() {
      throw new Error("classic-level has no transactions");
    },
    read: async (k) => dec(await db.get(k)),
    close: () => db.close(),
    skip: ["contended"],
  };
}

const ENGINES: Record<string, () => Promise<TxnEngine>> = {
  "siltdb-tx": () => siltdb("serializable"),
  "siltdb-tx-snapshot": () => siltdb("snapshot"),
  "siltdb-txsync": () => siltdb("sync"),
  "siltdb-cas": () => siltdb("cas"),
  "lmdb-tx": () => lmdb(false),
  "lmdb-txsync": () => lmdb(true),
  "node:sqlite": nodeSqlite,
  "classic-level-batch": classicLevelBatch,
};

// ---- child: one engine, both workloads ---------------------------------------------

async function runEngine(name: string): Promise<Record<string, unknown>> {
  const factory = ENGINES[name];
  if (factory === undefined) throw new Error(`unknown engine ${name}; known: ${Object.keys(ENGINES).join(", ")}`);
  const engine = await factory();
  const root = mkdtempSync(join(os.tmpdir(), `txn-bench-${name.replace(/\W/g, "_")}-`));
  const results: Record<string, Measured> = {};
  const checks: Record<string, string> = {};
  try {
    await engine.open(join(root, "db"));
    for (let i = 0; i < N; i += 1000) {
      const entries: [string, string][] = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) entries.push([keyOf(j), enc(START)]);
      await engine.load(entries);
    }
    await engine.load(Array.from({ length: HOT }, (_, i) => [hotKey(i), enc(0)]));

    // rmw: transfers between two random keys, one at a time.
    const random = uniform(7);
    let attempts = 0;
    let pairs = 0;
    results.rmw = await timeBoxed(SECONDS, WARMUP_MS, async () => {
      const a = Math.floor(random() * N);
      let b = Math.floor(random() * (N - 1));
      if (b >= a) b++;
      attempts += await engine.transfer(keyOf(a), keyOf(b));
      pairs++;
    });
    results.rmw.retriesPerCommit = (attempts - pairs) / pairs;
    let total = 0;
    for (let i = 0; i < N; i++) total += await engine.read(keyOf(i));
    checks.rmw = total === N * START ? "total unchanged" : `TOTAL CHANGED: ${total} != ${N * START}`;
    console.error(
      `  ${name} rmw: ${Math.round(results.rmw.opsPerSec).toLocaleString("en-US")} transactions/s (${checks.rmw})`,
    );

    if (!engine.skip?.includes("contended")) {
      const pick = Array.from({ length: WRITERS }, (_, w) => uniform(100 + w));
      let all = 0;
      results.contended = await contended(WRITERS, SECONDS, WARMUP_MS, async (w) => {
        const got = await engine.increment(hotKey(Math.floor(pick[w]() * HOT)));
        all++;
        return got;
      });
      let sum = 0;
      for (let i = 0; i < HOT; i++) sum += await engine.read(hotKey(i));
      checks.contended = sum === all ? "counters = commits" : `LOST UPDATES: counters ${sum} != commits ${all}`;
      console.error(
        `  ${name} contended (${WRITERS} writers, ${HOT} keys): ${
          Math.round(results.contended.opsPerSec).toLocaleString("en-US")
        } commits/s, ${results.contended.retriesPerCommit.toFixed(3)} retries per commit (${checks.contended})`,
      );
    }
    if (engine.incrementYield !== undefined) {
      const pick = Array.from({ length: WRITERS }, (_, w) => uniform(300 + w));
      let before = 0;
      for (let i = 0; i < HOT; i++) before += await engine.read(hotKey(i));
      let all = 0;
      results["contended-yield"] = await contended(WRITERS, SECONDS, WARMUP_MS, async (w) => {
        const got = await engine.incrementYield!(hotKey(Math.floor(pick[w]() * HOT)));
        all++;
        return got;
      });
      let sum = 0;
      for (let i = 0; i < HOT; i++) sum += await engine.read(hotKey(i));
      checks["contended-yield"] = sum - before === all
        ? "counters = commits"
        : `LOST UPDATES: counters ${sum - before} != commits ${all}`;
      const m = results["contended-yield"];
      console.error(
        `  ${name} contended-yield: ${Math.round(m.opsPerSec).toLocaleString("en-US")} commits/s, ${
          m.retriesPerCommit.toFixed(3)
        } retries per commit (${checks["contended-yield"]})`,
      );
    }
    await engine.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { version: runtimeVersion(), results, checks };
}

// ---- parent: rounds of children ------------------------------------------------------

function childCommand(engine: string): [string, string[]] {
  const script = new URL(import.meta.url).pathname;
  if (runtime === "deno") return [process.execPath, ["run", "-A", script, "--engine", engine]];
  if (runtime === "bun") return [process.execPath, [script, "--engine", engine]];
  return [process.execPath, ["--import", "tsx", script, "--engine", engine]];
}

async function main(): Promise<void> {
  if (await runAsChild(runEngine)) return;
  const names = process.env.SILTDB_TXN_ENGINES?.split(",") ?? Object.keys(ENGINES);
  const version = runtimeVersion();
  const cpu = machine();
  console.log(
    `txn_bench: ${version}, ${cpu}; ${N.toLocaleString("en-US")} keys, ${SECONDS} s per workload, ` +
      `${REPEATS} rounds, contended: ${WRITERS} writers on ${HOT} keys`,
  );
  const started = new Date().toISOString();
  const { rounds, unavailable } = await rotatingRounds(names, REPEATS, QUIET, MAX_WAIT, (name) => {
    const [cmd, args] = childCommand(name);
    const out = runChild(cmd, args, process.env, 600_000);
    return out.ok ? out : { ok: false, why: out.why.slice(0, 200) };
  });
  const out = new URL("./results/", import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`txn-${runtime}.json`, out);
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: "txn",
        runtime,
        version,
        cpu,
        date: started,
        n: N,
        seconds: SECONDS,
        warmupMs: WARMUP_MS,
        writers: WRITERS,
        hotKeys: HOT,
        quietLoad: QUIET,
        labels: Object.fromEntries(names.map((e) => [e, LABELS[e] ?? e])),
        rounds,
        unavailable,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`results: ${file.pathname}`);
}

await main();
