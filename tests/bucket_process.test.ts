// Real processes on one store in a bucket (the radosgw of tests/_s3.ts), in
// Node, Deno and Bun: each scenario crosses runtimes — the two runtimes
// other than the one running this file play the children
// (tests/fixtures/bucket_child.ts, and the siltdb command), and this one
// checks. An acknowledged write is one the child printed after its `await`
// resolved; the parent records what it read on the child's stdout.
//
// 1. Writers SIGKILLed while they upload (16 loops of puts, a small
//    memtable: WAL objects, tables and manifests in flight), after a random
//    number of acks, one after the other in the two other runtimes: each
//    next writer has every write acknowledged before; the last one writes
//    and closes; this runtime reads it all (SILTDB_BUCKET_KILLS, default 4).
// 2. Two writers in two runtimes: the second opens while the first writes;
//    the first gets FENCED and refuses later writes and a flush; the store
//    holds exactly what each acknowledged, nothing the fenced one tried.
//    Also with an old writer that never flushes (it learns of the new
//    epoch from the manifest it looks at every refreshInterval).
// 3. A reader (refreshInterval 200 ms) in one runtime follows a writer in
//    another: the lag from each acknowledgment to the reader seeing it is
//    measured and bounded generously (refreshInterval + 2 s).
// 4. A compactor process SIGKILLed mid-compaction (after it uploaded some
//    outputs, before its commit) while this runtime's writer (compaction
//    "remote", small memtables, tens of tables) writes: `siltdb compactor
//    --once` in another runtime finishes the work; the data equal the
//    model; collectGarbage (gcMinAge 0) leaves only listed tables, the
//    dead compactor's outputs gone, and every entry still readable.
//
// Children are stopped by the pids started, on failure too.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { collectGarbage, type Db, open, S3ObjectStore } from "../mod.ts";
import { latestManifest } from "../src/object_store/bucket_manifest.ts";
import { listAll, type ObjectStore } from "../src/object_store/object_store.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { currentRuntime, type Runtime, runtimeCommand, RUNTIMES } from "./_harness.ts";

const s3 = await testS3();
const skip = typeof s3 === "string" ? s3 : false;
const fixture = new URL("./fixtures/bucket_child.ts", import.meta.url).pathname;
const cliMain = new URL("../src/cli/main.ts", import.meta.url).pathname;
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const here = RUNTIMES.indexOf(currentRuntime);
/** The two other runtimes, in an order that depends on this one (so each plays each role over the three runs). */
const [X, Y] = [RUNTIMES[(here + 1) % 3], RUNTIMES[(here + 2) % 3]];
const REFRESH_MS = 200;
const LAG_BOUND_MS = REFRESH_MS + 2000;
const env = process.env;
/** Writers SIGKILLed in scenario 1 (SILTDB_BUCKET_KILLS, default 4). */
const KILLS = Number(env.SILTDB_BUCKET_KILLS) > 0 ? Number(env.SILTDB_BUCKET_KILLS) : 4;

/** The value every child writes for a key. */
const valueOf = (key: string) => `v:${key}:${"x".repeat(80)}`;

/** Every child started and not yet gone: after() kills them by pid. */
const running = new Set<Child>();
after(() => {
  for (const child of running) child.kill();
});

/** A child process whose stdout lines are kept, waited on and watched. */
class Child {
  readonly name: string;
  readonly lines: string[] = [];
  readonly closed: Promise<{ code: number | null; signal: string | null }>;
  readonly #proc: ChildProcess;
  #stderr = "";
  #buffered = "";
  #gone = false;
  #waiters: (() => void)[] = [];
  #watchers: ((line: string) => void)[] = [];

  constructor(runtime: Runtime, script: string, args: string[]) {
    if (typeof s3 === "string") throw new Error(s3);
    this.name = `${runtime} ${script === fixture ? args[0] : `siltdb ${args[0]}`}`;
    const [cmd, argv] = runtimeCommand(runtime, script, args);
    this.#proc = spawn(cmd, argv, {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        NO_COLOR: "1",
        CI: "true",
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_REGION: s3.region,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    });
    running.add(this);
    this.#proc.stdin!.on("error", () => {}); // a child killed before it read its stdin
    this.#proc.stderr!.setEncoding("utf8").on("data", (d: string) => this.#stderr += d);
    this.#proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      this.#buffered += d;
      const lines = this.#buffered.split("\n");
      this.#buffered = lines.pop()!;
      for (const line of lines) {
        this.lines.push(line);
        for (const watch of this.#watchers) watch(line);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      this.#proc.on("close", (code, signal) => {
        this.#gone = true;
        running.delete(this);
        for (const wake of this.#waiters.splice(0)) wake();
        resolve({ code, signal });
      });
    });
  }

  /** Calls fn with every line from now on, as it arrives. */
  watch(fn: (line: string) => void): void {
    this.#watchers.push(fn);
  }

  /** Resolves once the lines so far satisfy done; rejects if the child ends first or after timeoutMs. */
  async until(what: string, done: (lines: string[]) => boolean, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.lines)) {
      if (this.#gone) throw new Error(`${this.name} ended before ${what}: ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms: ${this.describe()}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, 1000);
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** Resolves with the first line starting with prefix (waiting for it). */
  async line(prefix: string): Promise<string> {
    await this.until(`"${prefix}"`, (lines) => lines.some((l) => l.startsWith(prefix)));
    return this.lines.find((l) => l.startsWith(prefix))!;
  }

  send(line: string): void {
    if (!this.#gone) this.#proc.stdin!.write(`${line}\n`);
  }

  /** SIGKILL, if it still runs. */
  kill(): void {
    if (!this.#gone) this.#proc.kill("SIGKILL");
  }

  /** Resolves once it ended; kills it and rejects if that takes over timeoutMs. */
  async ended(timeoutMs = 90_000): Promise<{ code: number | null; signal: string | null }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`${this.name} still ran after ${timeoutMs} ms: ${this.describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends "stop" and waits for a clean exit. */
  async stop(): Promise<void> {
    this.send("stop");
    const { code, signal } = await this.ended();
    assert.equal(code, 0, `${this.name} exited with ${code ?? signal}: ${this.describe()}`);
  }

  describe(): string {
    return `stderr: ${this.#stderr.slice(-2000) || "(none)"}; last lines: ${this.lines.slice(-5).join(" | ")}`;
  }
}

function child(runtime: Runtime, args: string[]): Child {
  return new Child(runtime, fixture, args);
}

/** The keys a writer child acknowledged, with the time of each. */
function acked(c: Child): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of c.lines) {
    const [kind, key, at] = line.split(" ");
    if (kind === "ack") out.set(key, Number(at));
  }
  return out;
}

/** The keys whose writes a writer child saw fail, with the error code. */
function failed(c: Child): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of c.lines) {
    const [kind, key, code] = line.split(" ");
    if (kind === "err") out.set(key, code);
  }
  return out;
}

async function readAll(url: string, options: object): Promise<Map<string, string>> {
  const reader = await open(url, { objectStore: options, ...utf8, readOnly: true, refreshInterval: 0 });
  try {
    return new Map(await reader.scan().toArray());
  } finally {
    await reader.close();
  }
}

/** Table objects in the bucket, and those the newest manifest lists. */
async function tables(store: ObjectStore): Promise<{ stored: string[]; listed: Set<string> }> {
  const stored: string[] = [];
  for await (const o of listAll(store, "sst/")) stored.push(o.key);
  const manifest = (await latestManifest(store))!;
  const listed = new Set(
    manifest.levels.flat().map((f) => `sst/${String(f.number).padStart(20, "0")}.sst`),
  );
  return { stored, listed };
}

test(
  `writers in ${X} and ${Y} SIGKILLed mid-upload in turn (${KILLS} kills); each next writer, in the other runtime, ` +
    `has every acknowledged write; ${currentRuntime} reads it all`,
  { skip },
  async () => {
    if (typeof s3 === "string") return;
    const { url, options } = await newBucket(s3, "kill");
    const store = new S3ObjectStore(url, options);
    const acknowledged = new Map<string, number>(); // every write any killed writer acknowledged
    const children: Child[] = [];
    const report: string[] = [];
    try {
      for (let round = 0; round <= KILLS; round++) {
        const runtime = round % 2 === 0 ? X : Y;
        const last = round === KILLS;
        // A writer of 16 loops with a small memtable (WAL objects, tables and manifests in flight),
        // killed after a random number of acks; the last one writes 100 puts and closes.
        const args = last ? ["--loops", "4", "--max", "25"] : ["--loops", "16", "--memtable", "8192"];
        const writer = child(runtime, ["writer", url, `r${round}`, "--dump", ...args]);
        children.push(writer);
        const killAt = 30 + Math.floor(Math.random() * 470);
        let acks = 0;
        if (!last) {
          writer.watch((line) => {
            if (line.startsWith("ack ") && ++acks === killAt) writer.kill();
          });
        }
        // It opened after the previous writer was killed: it has every write acknowledged before.
        const seen = new Map<string, string>(JSON.parse((await writer.line("dump ")).slice(5)));
        const lost = [...acknowledged.keys()].filter((k) => seen.get(k) !== valueOf(k));
        assert.deepEqual(lost, [], `round ${round}: the ${runtime} writer lacks acknowledged writes`);
        if (last) {
          await writer.line("done");
          await writer.stop();
        } else {
          await writer.until(`${killAt} acks`, () => acks >= killAt);
          const end = await writer.ended();
          assert.equal(end.signal, "SIGKILL", `${writer.name} ended by itself: ${writer.describe()}`);
        }
        assert.equal(failed(writer).size, 0, writer.describe());
        const mine = acked(writer);
        for (const [key, at] of mine) acknowledged.set(key, at);
        if (last) assert.equal(mine.size, 100);
        const { stored, listed } = await tables(store);
        report.push(
          `${runtime} ${
            last ? "closed" : "killed"
          } after ${mine.size} acks (tables: ${stored.length} stored, ${listed.size} listed)`,
        );
      }

      // This runtime reads it all; nothing there was never written.
      const all = await readAll(url, options);
      for (const key of acknowledged.keys()) assert.equal(all.get(key), valueOf(key), `${key} at the end`);
      for (const [key, value] of all) assert.equal(value, valueOf(key), `${key} holds what nobody wrote`);
      console.log(
        `${report.join("; ")}; ${acknowledged.size} acknowledged writes all present in ${currentRuntime} ` +
          `(${all.size - acknowledged.size} unacknowledged ones landed too); lost: 0`,
      );
    } finally {
      for (const c of children) c.kill();
    }
  },
);

// The older writer's memtable is small (it flushes all the time and learns of the fence from the
// manifest or from its next WAL object), or so large that it never fills: then it learns of the new
// epoch from the manifest it looks at every refreshInterval (a new writer's open() once chased such a
// writer's WAL objects for a minute). It stops after 1,500 puts; it must be fenced before that.
for (
  const { memtable, max, when } of [
    { memtable: 16384, max: Infinity, when: skip },
    { memtable: 4 << 20, max: 1500, when: skip },
  ]
) {
  test(
    `two writers (memtable ${memtable} bytes), ${Y} then ${X}: the older is FENCED and refuses writes; ` +
      `the store holds exactly what each acknowledged`,
    { skip: when },
    async () => {
      if (typeof s3 === "string") return;
      const { url, options } = await newBucket(s3, "fence");
      const first = child(Y, [
        "writer",
        url,
        "a",
        "--loops",
        "4",
        "--memtable",
        String(memtable),
        "--pause",
        "10",
        "--max",
        String(max),
      ]);
      let second: Child | undefined;
      try {
        await first.until("30 acks", () => acked(first).size >= 30);
        second = child(X, ["writer", url, "b", "--loops", "4", "--memtable", String(memtable), "--pause", "10"]);
        const newer = second;
        await newer.line("opened");
        await first.until("FENCED or its last put", (lines) => lines.includes("fenced-done") || lines.includes("done"));
        assert.ok(
          first.lines.includes("fenced-done"),
          `the older writer made all its ${4 * max} puts unfenced while the newer one opened`,
        );
        const fencedAt = newer.lines.length;
        // The newer writer goes on writing after the older one was fenced.
        await newer.until(
          "30 acks after the fence",
          (lines) => lines.slice(fencedAt).filter((l) => l.startsWith("ack ")).length >= 30,
        );
        await newer.stop();
        await first.stop();

        const oldLines = first.lines;
        const firstErr = oldLines.findIndex((l) => l.startsWith("err "));
        assert.ok(firstErr > 0, first.describe());
        // Writes already on their way up when the older writer learned it was fenced (through the manifest)
        // may still be acknowledged: their WAL object is below the newer writer's fence, and they must be
        // visible (checked below). Whatever it was asked to write once it saw FENCED is refused.
        const inFlight = oldLines.slice(firstErr).filter((l) => l.startsWith("ack ")).length;
        const how = /WAL object/.test(oldLines[firstErr]) ? "a WAL object" : "the manifest";
        const refused = failed(first);
        assert.deepEqual([...new Set(refused.values())], ["FENCED"], "every failure of the older writer is FENCED");
        for (let i = 0; i < 3; i++) assert.equal(refused.get(`a-late-${i}`), "FENCED", `late put ${i}`);
        assert.ok(oldLines.includes("flush FENCED"), "a flush of the fenced writer fails FENCED");
        assert.equal(failed(newer).size, 0, newer.describe());

        // Exactly what each acknowledged: every child reported every write it made.
        const all = await readAll(url, options);
        const olderAcks = acked(first);
        const newerAcks = acked(newer);
        for (const [key, value] of all) assert.equal(value, valueOf(key), `${key} holds what nobody wrote`);
        for (const key of refused.keys()) assert.equal(all.get(key), undefined, `${key}: a fenced write is visible`);
        assert.deepEqual(
          [...all.keys()].filter((k) => k.startsWith("a-")).sort(),
          [...olderAcks.keys()].sort(),
          "the older writer's keys are exactly those it acknowledged",
        );
        assert.deepEqual(
          [...all.keys()].filter((k) => k.startsWith("b-")).sort(),
          [...newerAcks.keys()].sort(),
          "the newer writer's keys are exactly those it acknowledged",
        );
        assert.equal(all.size, olderAcks.size + newerAcks.size);
        console.log(
          `memtable ${memtable}: older ${Y} writer: ${olderAcks.size} acks (${inFlight} of writes in flight after its first refusal), ` +
            `fenced through ${how}, then ${refused.size} writes refused FENCED (and a flush); ` +
            `newer ${X} writer: ${newerAcks.size} acks; visible: exactly those`,
        );
      } finally {
        first.kill();
        second?.kill();
      }
    },
  );
}

test(
  `a reader in ${Y} (refreshInterval ${REFRESH_MS} ms) sees each write of a writer in ${X} within ${LAG_BOUND_MS} ms`,
  { skip },
  async () => {
    if (typeof s3 === "string") return;
    const { url } = await newBucket(s3, "follow");
    const COUNT = 100;
    const writer = child(X, [
      "writer",
      url,
      "w",
      "--loops",
      "1",
      "--max",
      String(COUNT),
      "--pause",
      "60",
      "--memtable",
      "8192",
      "--go",
    ]);
    let reader: Child | undefined;
    try {
      await writer.line("opened");
      reader = child(Y, ["reader", url, "w-0-", String(COUNT), String(REFRESH_MS)]);
      const follower = reader;
      await follower.line("ready");
      writer.send("go");
      await writer.line("done");
      await follower.line("closed");
      await writer.stop();
      assert.equal(failed(writer).size, 0, writer.describe());
      const acks = acked(writer);
      const lags: number[] = [];
      for (const line of follower.lines) {
        const [kind, n, at] = line.split(" ");
        if (kind !== "seen") continue;
        const ackedAt = acks.get(`w-0-${n.padStart(6, "0")}`);
        assert.ok(ackedAt !== undefined, `the reader saw w-0-${n}, never acknowledged`);
        lags.push(Number(at) - ackedAt);
      }
      assert.equal(lags.length, COUNT);
      const sorted = [...lags].sort((a, b) => a - b);
      const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      console.log(
        `reader lag (${Y} reader, ${X} writer, refreshInterval ${REFRESH_MS} ms, ${COUNT} writes): ` +
          `min ${sorted[0]} ms, p50 ${pick(0.5)} ms, p90 ${pick(0.9)} ms, max ${sorted.at(-1)} ms`,
      );
      for (const [n, lag] of lags.entries()) {
        assert.ok(lag <= LAG_BOUND_MS, `write ${n} seen ${lag} ms after its acknowledgment (bound ${LAG_BOUND_MS} ms)`);
      }
    } finally {
      writer.kill();
      reader?.kill();
    }
  },
);

test(
  `a compactor in ${X} SIGKILLed mid-compaction loses nothing; siltdb compactor in ${Y} finishes; gc leaves only listed tables`,
  { skip },
  async () => {
    if (typeof s3 === "string") return;
    const { url, options } = await newBucket(s3, "compact");
    const store = new S3ObjectStore(url, options);
    const db = await open(url, {
      objectStore: options,
      ...utf8,
      compaction: "remote",
      gcMinAge: 0, // the grace period every collector keeps to (collectGarbage below uses 0)
      memtableSize: 4096,
      l0SlowdownTrigger: 500,
      l0StopTrigger: 1000,
    }) as Db<string, string>;
    const model = new Map<string, string>();
    let round = 0;
    /** 100 concurrent puts of distinct keys (so the order of writes to one key is the order of the rounds). */
    const writeRound = async () => {
      const r = round++;
      const keys = Array.from({ length: 100 }, (_, i) => `k${String((r * 101 + i) % 1500).padStart(4, "0")}`);
      const values = keys.map((k) => `${valueOf(k)}:${r}`);
      await Promise.all(keys.map((k, i) => db.put(k, values[i])));
      keys.forEach((k, i) => model.set(k, values[i]));
    };
    let dying: Child | undefined;
    let finisher: Child | undefined;
    try {
      for (let i = 0; i < 30; i++) await writeRound();
      await db.flush();
      const l0 = db.stats().levels[0].files;
      assert.ok(l0 >= 20, `the writer left ${l0} tables in L0 to the compactor`);

      // A compactor in another runtime, killed once it uploaded 1-3 outputs (its commit comes after all of them).
      const killAfter = 1 + Math.floor(Math.random() * 3);
      dying = child(X, ["compactor", url, "8192"]);
      const doomed = dying;
      let stored = 0;
      doomed.watch((line) => {
        if (line.startsWith("stored ") && ++stored === killAfter) doomed.kill();
      });
      // The writer goes on writing and flushing meanwhile (at a modest pace: the compactor is starting up).
      for (let i = 0; stored < killAfter && running.has(doomed); i++) {
        assert.ok(i < 2000, `the compactor stored no output: ${doomed.describe()}`);
        await writeRound();
        if (round % 5 === 0) await db.flush();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const end = await doomed.ended();
      assert.equal(end.signal, "SIGKILL", `the compactor ended by itself: ${doomed.describe()}`);
      // The outputs of the compaction it was killed in: uploaded, never committed.
      const commits = doomed.lines.filter((l) => l.startsWith("compacted ")).length;
      const lastCommit = doomed.lines.findLastIndex((l) => l.startsWith("compacted "));
      const outputs = doomed.lines.slice(lastCommit + 1).filter((l) => l.startsWith("stored ")).map((l) => l.slice(7));
      const read = doomed.lines.filter((l) => l.startsWith("read ")).length;
      assert.ok(outputs.length > 0, doomed.describe());
      for (let i = 0; i < 3; i++) await writeRound();
      await db.flush();
      const afterKill = await tables(store);
      for (const key of outputs) {
        assert.ok(afterKill.stored.includes(key) && !afterKill.listed.has(key), `${key}: an uncommitted output`);
      }

      // siltdb compactor --once in the third runtime finishes the work.
      finisher = new Child(Y, cliMain, ["compactor", url, "--once", "--target-file-size", "8192", "--poll-ms", "10"]);
      const done = await finisher.ended();
      assert.equal(done.code, 0, finisher.describe());
      const merged = finisher.lines.filter((l) => /^L0 -> L1: \d+ tables -> \d+/.test(l));
      assert.ok(merged.length >= 1, finisher.describe());
      await db.refresh();
      assert.ok(db.stats().levels[0].files < 4, `L0 holds ${db.stats().levels[0].files} tables after --once`);
      const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(await db.scan().toArray(), sorted, "the writer's data after the compactions");

      // The collector, with no grace period: only listed tables remain, the dead compactor's outputs gone.
      const beforeGc = await tables(store);
      // (The writer's own collector, with the same grace period of 0, may have taken some already.)
      assert.ok(outputs.every((k) => !beforeGc.listed.has(k)), "the dead compactor's outputs were never committed");
      const report = await collectGarbage(url, { objectStore: options, gcMinAge: 0 });
      const afterGc = await tables(store);
      assert.deepEqual(afterGc.stored.filter((k) => !afterGc.listed.has(k)), [], "only listed tables remain");
      assert.deepEqual(
        [...afterGc.listed].filter((k) => !afterGc.stored.includes(k)),
        [],
        "every listed table is there",
      );
      assert.deepEqual(await db.scan().toArray(), sorted, "the writer's data after gc");
      assert.deepEqual([...(await readAll(url, options))], sorted, "a new reader's data after gc");
      // The writer goes on.
      await writeRound();
      await db.flush();
      assert.deepEqual(await db.scan().toArray(), [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      console.log(
        `compactor in ${X} killed after ${commits} commits, reading ${read} tables and storing ${outputs.length} ` +
          `outputs of the compaction under way (L0 had ${l0}+); ` +
          `${Y} siltdb compactor --once: ${merged.length} merges; gc deleted ${report.deleted.tables} tables ` +
          `(${
            beforeGc.stored.length - beforeGc.listed.size
          } unlisted), ${afterGc.stored.length} remain, all listed; ${model.size} keys intact`,
      );
    } finally {
      dying?.kill();
      finisher?.kill();
      await db.close().catch(() => {});
    }
  },
);
