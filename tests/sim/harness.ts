// The deterministic simulation (as SlateDB's DST): one seed picks a
// configuration (policy, memtable and block sizes, triggers, bufferWrites)
// and a workload of puts, deletes, batches (some synced, some in concurrent
// bursts), reads, scans, snapshots, flushes, compactions, clean reopens,
// crashes (at any moment, bursts in flight, background work running) and
// injected faults: any single storage call failing (EIO, ENOSPC, partial
// appends) and full disks. It runs on MemoryStorage, whose crash drops
// unsynced bytes and directory entries, keeps torn prefixes, leaves zeros.
//
// After every crash or fault the store is recovered (resume(), a reopen, or
// a crash and reopen) and its whole contents are checked against the model
// (tests/sim/model.ts): every synced write there, every acknowledged write
// there unless the crash may drop it, no value never written, no deleted
// value back, batches whole; and the store always opens. Between recoveries
// every read and scan must equal the model exactly.
//
// Everything that varies comes from the seed (no timers race real I/O:
// MemoryStorage answers at once), so a failing seed replays exactly.

import { type Db, type FaultOp, MemoryStorage, open, SiltError, type UnsyncedFate } from "../../mod.ts";
import { compareBytes, rng, utf8 } from "../_harness.ts";
import { History, type Value, type Write } from "./model.ts";

/** What one seed did. */
export interface SeedReport {
  seed: number;
  ops: number;
  crashes: number;
  faultsArmed: number;
  faultsHit: number;
  fullDisks: number;
  recoveries: number;
  /** Acknowledged writes whose presence a check covered. */
  ackedChecked: number;
  reads: number;
}

const HANG_MS = 20_000;

class SimFailure extends Error {}

/** Rejects if p takes longer than HANG_MS: a hang is a failure. */
function timed<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new SimFailure(`${what} hangs`)), HANG_MS)
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));

/** Runs one seed; throws a SimFailure (or the unexpected error) on any violation. */
export async function runSeed(seed: number, opCount = 150): Promise<SeedReport> {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const chance = (p: number) => random() < p;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const report: SeedReport = {
    seed,
    ops: 0,
    crashes: 0,
    faultsArmed: 0,
    faultsHit: 0,
    fullDisks: 0,
    recoveries: 0,
    ackedChecked: 0,
    reads: 0,
  };

  const l0CompactionTrigger = pick([2, 3, 4]);
  const bufferWrites = chance(0.2);
  const options = {
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    compaction: pick(["leveled", "tiered"] as const),
    memtableSize: pick([1024, 2048, 4096]),
    blockSize: pick([256, 512, 1024]),
    targetFileSize: pick([4096, 8192]),
    levelBaseBytes: 8192,
    blockCacheSize: pick([0, 16384, 65536]),
    maxOpenFiles: pick([1, 3, 500]),
    bloomBitsPerKey: pick([0, 10]),
    l0CompactionTrigger,
    l0SlowdownTrigger: l0CompactionTrigger + int(0, 2),
    l0StopTrigger: l0CompactionTrigger + int(3, 6),
    ...(bufferWrites ? { bufferWrites: true } : {}),
  } as const;
  const keys = Array.from(
    { length: int(6, 30) },
    (_, i) => `k${i.toString(36)}${i % 7 === 3 ? "/" + "x".repeat(i) : ""}`,
  );
  let valueCounter = 0;
  const newValue = () => `s${seed}v${valueCounter++}${"_".repeat(int(0, 3) === 0 ? int(20, 120) : int(0, 8))}`;

  const fs = new MemoryStorage();
  const trace: string[] = []; // the last steps, for the failure message
  const step = (what: string) => {
    trace.push(`${report.ops}: ${what}`);
    if (trace.length > 40) trace.shift();
  };
  const context = () => `seed ${seed} (replay: SEED=${seed} npm test) op ${report.ops} [${JSON.stringify(options)}]`;
  const fail = (what: string): never => {
    throw new SimFailure(`${context()}: ${what}\n  last steps:\n    ${trace.join("\n    ")}`);
  };

  let db: Db<string, string> = await open("/db", { fs, ...options });
  let history = new History(new Map(), bufferWrites);
  let inFlight: Promise<unknown>[] = [];
  let snapshots: { snap: ReturnType<Db<string, string>["snapshot"]>; state: Map<string, string> }[] = [];
  let failed = false; // an operation failed (a fault hit): recover before going on

  /** How a rejected write settles in the model. */
  const classify = (err: unknown): "maybe" | "refused" => {
    if (!(err instanceof SiltError)) fail(`a write failed with ${err}`);
    const e = err as SiltError;
    if (e.code === "CLOSED" || (e.code === "IO_ERROR" && /refuses writes/.test(e.message))) return "refused";
    if (e.code === "IO_ERROR" || e.code === "LOCKED") return "maybe";
    return fail(`a write failed with ${e.code}: ${e.message}`);
  };

  const track = (w: Write, p: Promise<void>): Promise<void> => {
    // The history the write was issued in: a write still in flight at a crash
    // belongs to the crashed process, and its late settling must not touch
    // the history of the next one (it once marked the new history durable up
    // to an index it did not have: "no prefix matches", seed 129328998).
    const h = history;
    const settled = p.then(() => h.settle(w, "acked"), (err) => {
      h.settle(w, classify(err));
      if (h === history) failed = true;
    });
    inFlight.push(settled);
    return settled;
  };

  const issueWrite = (): Promise<void> => {
    const sync = chance(0.15);
    const kind = int(0, 9);
    step(`write #${history.issued}${sync ? " sync" : ""} kind ${kind}`);
    if (kind < 6) {
      const k = pick(keys);
      const v = newValue();
      const w = history.issue([[k, v]], sync);
      return track(w, db.put(k, v, { sync }));
    }
    if (kind < 8) {
      const k = pick(keys);
      const w = history.issue([[k, null]], sync);
      return track(w, db.delete(k, { sync }));
    }
    const changes: [string, Value][] = Array.from(
      { length: int(1, 6) },
      () => [pick(keys), chance(0.3) ? null : newValue()],
    );
    const w = history.issue(changes, sync);
    if (chance(0.5)) {
      const batch = db.batch();
      for (const [k, v] of changes) v === null ? batch.delete(k) : batch.put(k, v);
      return track(w, batch.write({ sync }).then(() => {}));
    }
    return track(
      w,
      db.batch(
        changes.map(([key, value]) =>
          value === null ? { type: "del" as const, key } : { type: "put" as const, key, value }
        ),
        { sync },
      ),
    );
  };

  const quiesce = async () => {
    await timed(Promise.all(inFlight), "writes");
    inFlight = [];
  };

  const contents = (d: Db<string, string>) => new Map(d.scanSync().toArray());

  /** Compares the live store with the model's exact state (nothing in doubt). */
  const checkExact = (what: string) => {
    const expected = history.current();
    const actual = contents(db);
    const m = history.check(actual, history.issued);
    if (m !== undefined || actual.size !== expected.size) {
      fail(`${what}: the store does not match the model: ${m ?? `${actual.size} entries, expected ${expected.size}`}`);
    }
  };

  const acked = () => history.writes.filter((w) => w.status === "acked").length;

  /** Opens the store again; an injected fault may fail it, a clean retry never may. */
  const reopen = async () => {
    for (let attempt = 0;; attempt++) {
      try {
        db = await timed(open("/db", { fs, ...options }), "open");
        return;
      } catch (err) {
        if (!(err instanceof SiltError) || err.code === "CORRUPTION" || attempt > 0) {
          fail(`the store does not open: ${err}`);
        }
        fs.clearFaults();
        fs.capacity = Infinity;
      }
    }
  };

  /** After a crash of the given kind: reopen, check against the model, start a new baseline. */
  const afterCrash = async (kind: "process" | "machine") => {
    const old = db;
    await timed(old.close().catch(() => {}), "closing a crashed store"); // frees its memory; it touches no file
    await reopen();
    fs.clearFaults(); // the check's own reads must not fail
    fs.capacity = Infinity;
    const actual = contents(db);
    const m = history.check(actual, history.lowerBound(kind));
    if (m !== undefined) fail(`after a ${kind} crash: ${m}`);
    report.ackedChecked += acked();
    history = new History(actual, bufferWrites);
    snapshots = [];
    inFlight = [];
    failed = false;
  };

  /** A clean close (if it finishes, every write issued before it is durable), then a reopen as after a crash of the process. */
  const closeAndReopen = async () => {
    const before = history.issued;
    if (await timed(db.close().then(() => true, () => false), "close")) history.markDurable(before);
    await afterCrash("process"); // a failed close leaves what the OS had
  };

  const crash = async () => {
    const fate = pick<UnsyncedFate>(["drop", "keep", "keep", "prefix", "zeros", "sectors"]);
    report.crashes++;
    fs.crash({ unsynced: fate, random });
    fs.clearFaults();
    fs.capacity = Infinity;
    step(`crash (${fate}); files after it: ${fs.list("/db").join(" ")}`);
    await afterCrash(fate === "keep" ? "process" : "machine");
  };

  /** A fault hit (or storage filled up): recover by resume(), a clean reopen, or a crash. */
  const recover = async () => {
    report.recoveries++;
    await timed(Promise.allSettled(inFlight), "writes");
    inFlight = [];
    // While writes are stopped, reads go on and see every acknowledged write.
    const lastAcked = history.writes.findLastIndex((w) => w.status === "acked") + 1;
    try {
      const m = history.check(contents(db), lastAcked);
      if (m !== undefined) fail(`reads after a failure: ${m}`);
    } catch (err) {
      if (err instanceof SimFailure) throw err;
      if (!(err instanceof SiltError) || err.code !== "IO_ERROR") fail(`a read after a failure: ${err}`);
    }
    const how = pick(["resume", "resume", "reopen", "crash"] as const);
    step(`recover by ${how} (${db.stats().backgroundError ?? "a failed call"})`);
    fs.clearFaults();
    fs.capacity = Infinity;
    if (how === "crash") return crash();
    if (how === "resume") {
      try {
        const hadError = db.stats().backgroundError !== undefined;
        await timed(db.resume(), "resume");
        const actual = contents(db);
        const m = history.check(actual, lastAcked);
        if (m !== undefined) fail(`after resume(): ${m}`);
        report.ackedChecked += acked();
        // After an error, resume() flushed every memtable: what the store holds now is durable,
        // and settles the writes in doubt. (Without an error it does nothing.)
        if (hadError) history = new History(actual, bufferWrites);
        failed = false;
        return;
      } catch (err) {
        if (err instanceof SimFailure) throw err;
        // resume() may fail (a fault we cleared raced it): fall back to a reopen
      }
    }
    await closeAndReopen();
  };

  for (; report.ops < opCount; report.ops++) {
    const op = int(0, 99);
    try {
      if (op < 35) {
        await timed(issueWrite(), "a write");
      } else if (op < 45) {
        // A burst of concurrent writes (one group, or queued behind a full memtable).
        const n = int(2, 12);
        for (let i = 0; i < n; i++) void issueWrite();
        if (chance(0.15)) {
          for (let t = int(0, 20); t > 0; t--) {
            await (chance(0.5) ? Promise.resolve() : new Promise((r) => setTimeout(r, 0)));
          }
          await crash();
          continue;
        }
        await quiesce();
      } else if (op < 55) {
        await quiesce();
        if (!failed && history.settled) {
          const k = pick(keys);
          report.reads++;
          const got = db.getSync(k);
          if (got !== history.current().get(k)) fail(`get(${k}) = ${got}, expected ${history.current().get(k)}`);
        }
      } else if (op < 62) {
        await quiesce();
        if (!failed && history.settled) {
          const expected = [...history.current()].sort(([a], [b]) => byBytes(a, b));
          const lo = chance(0.5) ? pick(keys) : undefined;
          const hi = chance(0.5) ? pick(keys) : undefined;
          const reverse = chance(0.4);
          let want = expected.filter(([k]) =>
            (lo === undefined || byBytes(k, lo) >= 0) && (hi === undefined || byBytes(k, hi) < 0)
          );
          if (reverse) want = want.reverse();
          const limit = chance(0.3) ? int(0, 5) : undefined;
          if (limit !== undefined) want = want.slice(0, limit);
          report.reads++;
          const got = db.scanSync({
            ...(lo !== undefined ? { gte: lo } : {}),
            ...(hi !== undefined ? { lt: hi } : {}),
            reverse,
            ...(limit !== undefined ? { limit } : {}),
          }).toArray();
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            fail(
              `scan ${lo}..${hi} reverse ${reverse} limit ${limit}: ${JSON.stringify(got)}, expected ${
                JSON.stringify(want)
              }`,
            );
          }
        }
      } else if (op < 66) {
        await quiesce();
        if (!failed && history.settled) {
          if (snapshots.length > 0 && chance(0.5)) {
            const { snap, state } = pick(snapshots);
            if (snap.live) {
              const got = new Map(snap.scanSync().toArray());
              if (JSON.stringify([...got].sort()) !== JSON.stringify([...state].sort())) {
                fail("a snapshot does not show its moment");
              }
              if (chance(0.3)) snap.release();
            }
          } else snapshots.push({ snap: db.snapshot(), state: history.current() });
        }
      } else if (op < 74) {
        const h = history;
        const before = h.issued;
        const what = pick(["flush", "flush", "compact", "compactRange"] as const);
        const range = [pick(keys), pick(keys)].sort(byBytes);
        step(what);
        const done = what === "flush"
          ? db.flush()
          : what === "compact"
          ? db.compact()
          : db.compactRange(range[0], range[1]);
        await timed(done.then(() => h.markDurable(before), () => failed = true), what);
      } else if (op < 78) {
        await crash();
      } else if (op < 82) {
        step("close and reopen");
        await quiesce();
        await closeAndReopen();
      } else if (op < 94) {
        const ops: FaultOp[] = [
          "open",
          "read",
          "append",
          "append",
          "sync",
          "sync",
          "rename",
          "remove",
          "syncDir",
          "list",
        ];
        const paths = [undefined, /\.log$/, /\.sst\.tmp$/, /MANIFEST/, /CURRENT/];
        const fault = {
          op: pick(ops),
          path: pick(paths),
          code: pick(["EIO", "ENOSPC"] as const),
          after: int(0, 25),
          partialBytes: int(0, 200),
        };
        step(`arm fault ${JSON.stringify({ ...fault, path: String(fault.path) })}`);
        fs.injectFault(fault);
        report.faultsArmed++;
      } else {
        fs.capacity = fs.usedBytes + int(0, 8192);
        step(`disk full at ${fs.capacity} bytes`);
        report.fullDisks++;
      }
    } catch (err) {
      if (err instanceof SimFailure) throw err;
      if (!(err instanceof SiltError) || !["IO_ERROR", "LOCKED"].includes(err.code)) fail(`unexpected ${err}`);
      step(`failed: ${(err as Error).message}`);
      if (globalThis.process?.env?.SIM_DEBUG) console.log((err as Error).stack);
      failed = true;
    }
    if (failed || db.stats().backgroundError !== undefined) {
      report.faultsHit++;
      await recover();
    }
  }
  await quiesce();
  fs.clearFaults();
  fs.capacity = Infinity;
  if (!failed && db.stats().backgroundError === undefined) checkExact("at the end");
  await closeAndReopen();
  await db.close();
  return report;
}
