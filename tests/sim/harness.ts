// The deterministic simulation (as SlateDB's DST): one seed picks a
// configuration (policy, memtable and block sizes, triggers, bufferWrites)
// and a workload of puts, deletes, range deletes, batches (some synced, some in concurrent
// bursts), transactions and conditional batches (tests/sim/tx_workload.ts,
// alone or in the bursts), reads, scans, snapshots, change feeds, flushes,
// compactions, clean reopens, crashes (at any moment, bursts in flight,
// background work running) and injected faults: any single storage call
// failing (EIO, ENOSPC, partial appends) and full disks. It runs on
// MemoryStorage, whose crash drops unsynced bytes and directory entries,
// keeps torn prefixes, leaves zeros.
//
// Every process of the store has a change feed recording what it applies
// (tests/sim/feeds.ts), matched to the model's writes: that gives the model
// the order the store stamped them in, and checks the feed. After every
// crash or fault the store is recovered (resume(), a reopen, or a crash and
// reopen) and its whole contents are checked against the model
// (tests/sim/model.ts): every synced write there, every acknowledged write
// there unless the crash may drop it, no value never written, no deleted
// value back, batches and transactions whole, and the invariants of the
// transactional keys; and the store always opens. Between recoveries every
// read and scan must equal the model exactly.
//
// Everything that varies comes from the seed (no timers race real I/O:
// MemoryStorage answers at once; Math.random, which a transaction's retry
// pause uses, is seeded too), so a failing seed replays.

import { type Db, type FaultOp, MemoryStorage, open, SiltError, type UnsyncedFate } from "../../mod.ts";
import { compareBytes, rng, utf8 } from "../_harness.ts";
import { Probe, rangeLabel, Recorder } from "./feeds.ts";
import { expiringValue, History, setExpiryClock, type Value, visible, type Write } from "./model.ts";
import { noTxCounts, type TxCounts, TxWorkload } from "./tx_workload.ts";

/** What one seed did. */
export interface SeedReport extends TxCounts {
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
  /** Changes the recorders matched to the model, and probes checked. */
  changes: number;
  probes: number;
}

const HANG_MS = 20_000;

class SimFailure extends Error {}

/** Rejects if p takes longer than HANG_MS: a hang is a failure (`onHang` makes the error). */
function timedBy(onHang: (what: string) => Error): <T>(p: Promise<T>, what: string) => Promise<T> {
  return <T>(p: Promise<T>, what: string) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => timer = setTimeout(() => reject(onHang(what)), HANG_MS));
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  };
}

const byBytes = (a: string, b: string) => compareBytes(utf8(a), utf8(b));

/** Runs one seed; throws a SimFailure (or the unexpected error) on any violation. */
export async function runSeed(seed: number, opCount = 150): Promise<SeedReport> {
  const realRandom = Math.random;
  Math.random = rng(seed ^ 0x2545f491); // the engine's own randomness (a retry's pause), from the seed
  try {
    return await simulate(seed, opCount);
  } finally {
    Math.random = realRandom;
  }
}

async function simulate(seed: number, opCount: number): Promise<SeedReport> {
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
    changes: 0,
    probes: 0,
    ...noTxCounts(),
  };

  const l0CompactionTrigger = pick([2, 3, 4]);
  const bufferWrites = chance(0.2);
  // The store's clock (open option clock): expiring puts are judged by it; it moves only between operations.
  let ttlNow = 1_000_000;
  setExpiryClock(() => ttlNow);
  const options = {
    clock: () => ttlNow,
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
    // From the seed, not the random stream (so every seed's scenario stays as it was): odd seeds compress.
    compression: seed % 2 === 1 ? "lz4" : "none",
  } as const;
  const keys = Array.from(
    { length: int(6, 30) },
    (_, i) => `k${i.toString(36)}${i % 7 === 3 ? "/" + "x".repeat(i) : ""}`,
  );
  // Registers: plain writes set them, and so do transactions and checked batches (tests/sim/tx_workload.ts).
  const registers = Array.from({ length: int(1, 3) }, (_, i) => `reg/${i}`);
  keys.push(...registers);
  const sortedKeys = [...keys].sort((a, b) => compareBytes(utf8(a), utf8(b)));
  let valueCounter = 0;
  const newValue = () => `s${seed}v${valueCounter++}${"_".repeat(int(0, 3) === 0 ? int(20, 120) : int(0, 8))}`;

  const fs = new MemoryStorage();
  const trace: string[] = []; // the last steps, for the failure message
  const step = (what: string) => {
    trace.push(`${report.ops}: ${what}`);
    if (trace.length > 40) trace.shift();
  };
  const context = () => `seed ${seed} (replay: SEED=${seed} npm test) op ${report.ops} [${JSON.stringify(options)}]`;
  let failure: SimFailure | undefined; // the first, even if found in a callback nobody awaits any more
  const fail = (what: string): never => {
    failure ??= new SimFailure(`${context()}: ${what}\n  last steps:\n    ${trace.join("\n    ")}`);
    throw failure;
  };
  const timed = timedBy((what) => {
    try {
      return fail(`${what} (no end in ${HANG_MS / 1000} s)`);
    } catch (err) {
      return err as Error;
    }
  });

  let db: Db<string, string> = await open("/db", { fs, ...options });
  let history = new History(new Map(), bufferWrites);
  let recorder = new Recorder(db, history);
  let probes: Probe[] = [];
  let processStart = 1;
  let historyStart = 1; // the first sequence a write of this history can have
  let flushed = false; // a flush finished in this process (a probe may then find its changes gone)
  db.on("flush", () => flushed = true);
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

  const workload = new TxWorkload({
    db: () => db,
    registers,
    history: () => history,
    random,
    tag: () => `s${seed}t${valueCounter++}`,
    step,
    rejected: (h, w, err) => {
      const status = classify(err);
      if (w !== undefined) h.settle(w, status);
      if (h === history) failed = true;
    },
  });

  const track = (w: Write, p: Promise<unknown>): Promise<void> => {
    // The history the write was issued in: a write still in flight at a crash
    // belongs to the crashed process, and its late settling must not touch
    // the history of the next one (it once marked the new history durable up
    // to an index it did not have: "no prefix matches", seed 129328998).
    const h = history;
    const settled = p.then((r) => {
      const result = r as { sequence?: number } | undefined;
      if (result?.sequence !== undefined) w.returned = result.sequence;
      h.settle(w, "acked");
    }, (err) => {
      h.settle(w, classify(err));
      if (h === history) failed = true;
    });
    settled.catch(() => {}); // a failure is kept in `failure`, even once nobody awaits it
    inFlight.push(settled);
    return settled;
  };

  const issueWrite = (): Promise<void> => {
    const sync = chance(0.15);
    const kind = int(0, 9);
    step(`write #${history.issued}${sync ? " sync" : ""} kind ${kind}`);
    if (kind < 6) {
      const k = pick(keys);
      const ttl = !registers.includes(k) && chance(0.2) ? int(1, 40) : undefined;
      if (ttl !== undefined) {
        const v = expiringValue(newValue(), ttlNow + ttl);
        return track(history.issue([[k, v]], sync, true, "put ttl"), db.put(k, v, { sync, ttl }));
      }
      const v = newValue();
      return track(history.issue([[k, v]], sync, true, "put"), db.put(k, v, { sync }));
    }
    if (kind < 8) {
      const k = pick(keys);
      return track(history.issue([[k, null]], sync, true, "delete"), db.delete(k, { sync }));
    }
    if (kind === 9 && chance(0.4)) {
      // A range delete (one range tombstone): in the model, a delete of every key of the range.
      const i = int(0, sortedKeys.length - 2);
      const j = int(i + 1, sortedKeys.length - 1);
      const [lo, hi] = [sortedKeys[i], sortedKeys[j]];
      const doomed = sortedKeys.slice(i, j).map((k): [string, Value] => [k, null]);
      step(rangeLabel(lo, hi));
      const w = history.issue(doomed, sync, true, rangeLabel(lo, hi));
      w.entries = 1;
      return track(w, chance(0.5) ? db.deleteRange(lo, hi, { sync }) : db.clear({ gte: lo, lt: hi, sync }));
    }
    const changes: [string, Value][] = Array.from(
      { length: int(1, 6) },
      () => [pick(keys), chance(0.3) ? null : newValue()],
    );
    const w = history.issue(changes, sync, true, "batch");
    if (chance(0.5)) {
      const batch = db.batch();
      for (const [k, v] of changes) v === null ? batch.delete(k) : batch.put(k, v);
      return track(w, batch.write({ sync }));
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

  /** A transaction or a checked batch, tracked as in flight until it settles. */
  const issueTransactional = (): Promise<void> => {
    const p = workload.issue();
    p.catch(() => {}); // a failure is kept in `failure`, even once nobody awaits p
    inFlight.push(p);
    return p;
  };

  const quiesce = async () => {
    await timed(Promise.all(inFlight), "writes");
    inFlight = [];
  };

  const contents = (d: Db<string, string>) => new Map(d.scanSync().toArray());

  /** Waits for the recorder to report what is visible, and matches it to the model (nothing in flight). */
  const drain = async () => {
    const upTo = db.sequence;
    await timed(recorder.until(upTo), "the change feed");
    const m = recorder.match(upTo) ?? workload.checks.verify(history) ?? workload.checks.replay(history);
    if (m !== undefined) fail(m);
    const missing = history.unreported();
    if (missing.length > 0) {
      fail(`acknowledged write #${missing[0].index} (${missing[0].label}) never appeared on the change feed`);
    }
  };

  /** Compares the live store with the model's exact state (nothing in doubt). */
  const checkExact = async (what: string) => {
    await drain();
    const actual = contents(db);
    const m = history.check(actual, Infinity, "live") ?? workload.checks.exact(history, actual);
    if (m !== undefined) fail(`${what}: the store does not match the model: ${m}`);
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

  /** The recorder and the running probes report everything up to `visible`. */
  const catchUp = async (visible: number) => {
    await timed(recorder.until(visible), "the change feed");
    for (const p of probes) if (!p.aborted && !p.stopped) await timed(p.until(visible), "a probe");
  };

  /** The end of a process: its recorder and probes report up to `visible`, then end with CLOSED. */
  const endProcess = async (visible: number) => {
    await catchUp(visible);
    const m = recorder.match(visible) ?? workload.checks.verify(history);
    if (m !== undefined) fail(m);
    await timed(db.close().catch(() => {}), "closing a crashed store"); // frees its memory; it touches no file
    await timed(recorder.until(Infinity), "the end of the change feed after close");
    const end = recorder.checkEnd();
    if (end !== undefined) fail(end);
    for (const p of probes) {
      await timed(p.until(Infinity), "the end of a probe after close");
      const pm = p.check(recorder, visible, flushed);
      if (pm !== undefined) fail(pm);
      report.probes++;
    }
    report.changes += recorder.reported;
  };

  /** A new process: a new history from what the store holds, its recorder, no probes. */
  const startProcess = (actual: Map<string, string>) => {
    workload.checks.forget(history);
    history = new History(actual, bufferWrites);
    recorder = new Recorder(db, history);
    processStart = historyStart = db.sequence + 1;
    probes = [];
    flushed = false;
    db.on("flush", () => flushed = true);
  };

  /** After a crash of the given kind (`visible`: the sequence visible then): reopen, check against the model. */
  const afterCrash = async (kind: "process" | "machine", visible: number) => {
    const h = history;
    h.crash(visible);
    await endProcess(visible);
    await reopen();
    fs.clearFaults(); // the check's own reads must not fail
    fs.capacity = Infinity;
    const actual = contents(db);
    const lower = h.lowerBound(kind, visible);
    const m = h.check(actual, lower, "crash") ?? workload.checks.afterCrash(h, actual, lower);
    if (m !== undefined) fail(`after a ${kind} crash: ${m}\n  the model's last writes:\n    ${h.describe()}`);
    report.ackedChecked += acked();
    startProcess(actual);
    snapshots = [];
    inFlight = [];
    failed = false;
  };

  /** A clean close (if it finishes, every write issued before it is durable), then a reopen as after a crash of the process. */
  const closeAndReopen = async () => {
    const visible = db.sequence;
    await catchUp(visible);
    if (await timed(db.close().then(() => true, () => false), "close")) history.markDurable(Infinity);
    await afterCrash("process", visible); // a failed close leaves what the OS had
  };

  const crash = async () => {
    const fate = pick<UnsyncedFate>(["drop", "keep", "keep", "prefix", "zeros", "sectors"]);
    report.crashes++;
    const visible = db.sequence;
    fs.crash({ unsynced: fate, random });
    fs.clearFaults();
    fs.capacity = Infinity;
    step(`crash (${fate}) at sequence ${visible}; files after it: ${fs.list("/db").join(" ")}`);
    await afterCrash(fate === "keep" ? "process" : "machine", visible);
  };

  /** A fault hit (or storage filled up): recover by resume(), a clean reopen, or a crash. */
  const recover = async () => {
    report.recoveries++;
    await timed(Promise.allSettled(inFlight), "writes");
    inFlight = [];
    // While writes are stopped, reads go on and see every applied write.
    await drain();
    try {
      const m = history.check(contents(db), Infinity, "live");
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
        await drain();
        const actual = contents(db);
        const m = history.check(actual, Infinity, "live") ?? workload.checks.exact(history, actual);
        if (m !== undefined) fail(`after resume(): ${m}`);
        report.ackedChecked += acked();
        // After an error, resume() flushed every memtable: what the store holds now is durable,
        // and settles the writes in doubt. (Without an error it does nothing.)
        if (hadError) {
          workload.checks.forget(history);
          history = new History(actual, bufferWrites);
          recorder.rebase(history);
          historyStart = db.sequence + 1;
        }
        failed = false;
        return;
      } catch (err) {
        if (err instanceof SimFailure) throw err;
        // resume() may fail (a fault we cleared raced it): fall back to a reopen
      }
    }
    step("close and reopen");
    await closeAndReopen();
  };

  /** Reads (get, getEntry, scan, snapshots) once everything settled: they must equal the model. */
  const read = async (what: "get" | "scan" | "snapshot") => {
    await quiesce();
    if (failed || !history.settled) return;
    await drain();
    const current = history.current();
    report.reads++;
    if (what === "get") {
      const k = pick(keys.concat(workload.accounts, workload.counters, workload.uniques));
      const got = chance(0.5) ? db.getEntrySync(k) : await db.getEntry(k);
      if (got.value !== current.get(k)) fail(`get(${k}) = ${got.value}, expected ${current.get(k)}`);
      // The version: the sequence the feed reported for the key's last write (or one before this history).
      const version = history.currentVersions().get(k);
      const ok = got.value === undefined
        ? got.version === undefined
        : version !== undefined
        ? got.version === version
        : got.version !== undefined && got.version >= 1 && got.version < historyStart;
      if (!ok) fail(`getEntry(${k}) has version ${got.version}; the feed says ${version ?? `before ${historyStart}`}`);
    } else if (what === "scan") {
      const expected = [...current].sort(([a], [b]) => byBytes(a, b));
      const lo = chance(0.5) ? pick(keys) : undefined;
      const hi = chance(0.5) ? pick(keys) : undefined;
      const reverse = chance(0.4);
      let want = expected.filter(([k]) =>
        (lo === undefined || byBytes(k, lo) >= 0) && (hi === undefined || byBytes(k, hi) < 0)
      );
      if (reverse) want = want.reverse();
      const limit = chance(0.3) ? int(0, 5) : undefined;
      if (limit !== undefined) want = want.slice(0, limit);
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
    } else if (snapshots.length > 0 && chance(0.5)) {
      const { snap, state } = pick(snapshots);
      if (snap.live) {
        const got = new Map(snap.scanSync().toArray());
        const want = [...state].filter(([, v]) => visible(v) !== null); // judged now
        if (JSON.stringify([...got].sort()) !== JSON.stringify(want.sort())) {
          fail("a snapshot does not show its moment");
        }
        if (chance(0.3)) snap.release();
      }
    } else snapshots.push({ snap: db.snapshot(), state: current });
  };

  /** Opens a probe at a sequence of the model's choosing, or aborts or stops one. */
  const probe = () => {
    const live = probes.filter((p) => !p.ended && !p.aborted && !p.stopped);
    if (live.length >= 3 || (live.length > 0 && chance(0.4))) {
      const p = pick(live);
      const abort = chance(0.5);
      step(`probe from ${p.since}: ${abort ? "abort" : "stop"} (it has ${p.changes.length} changes)`);
      return abort ? p.abort() : p.stopNow();
    }
    const visible = db.sequence;
    const since = pick([
      undefined,
      Math.max(1, processStart - int(1, 3)),
      int(processStart, Math.max(processStart, visible)),
      visible + int(1, 3),
    ]);
    step(`probe from ${since ?? "the next write"} (visible ${visible}, process from ${processStart})`);
    probes.push(new Probe(db, since, processStart));
  };

  // The transactional keys' first state: a synced batch before any fault.
  const setup = workload.setup();
  const first = db.batch();
  for (const [k, v] of setup) first.put(k, v!);
  await timed(track(history.issue(setup, true, true, "setup"), first.write({ sync: true })), "setup");

  for (; report.ops < opCount; report.ops++) {
    if (failure) throw failure;
    if (chance(0.1)) ttlNow += int(1, 30); // expiring puts come due
    const op = int(0, 99);
    try {
      if (op < 28) {
        await timed(issueWrite(), "a write");
      } else if (op < 38) {
        // A burst of concurrent writes, transactions and checked batches (one group, or queued behind a full memtable).
        const n = int(2, 12);
        const mix = pick([0, 0.3, 0.6, 1]);
        for (let i = 0; i < n; i++) void (chance(mix) ? issueTransactional() : issueWrite());
        if (chance(0.15)) {
          for (let t = int(0, 20); t > 0; t--) {
            await (chance(0.5) ? Promise.resolve() : new Promise((r) => setTimeout(r, 0)));
          }
          await crash();
          continue;
        }
        await quiesce();
      } else if (op < 46) {
        await timed(issueTransactional(), "a transaction");
      } else if (op < 54) {
        await read("get");
      } else if (op < 60) {
        await read("scan");
      } else if (op < 64) {
        await read("snapshot");
      } else if (op < 67) {
        probe();
      } else if (op < 74) {
        const h = history;
        const before = db.sequence;
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
  if (failure) throw failure;
  fs.clearFaults();
  fs.capacity = Infinity;
  if (!failed && db.stats().backgroundError === undefined) await checkExact("at the end");
  await closeAndReopen();
  await endProcess(db.sequence);
  Object.assign(report, workload.counts);
  return report;
}
