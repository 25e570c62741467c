// A seeded simulation of checkpoints and backups (tests/checkpoint_sim.test.ts):
// one seed picks a configuration and runs bursts of concurrent writes (synced
// batches, so that a crash keeps a prefix of them), with checkpoints and
// backups taken at random moments (awaited, or running while writes go on),
// machine crashes at random moments (checkpoints, backups, flushes and
// compactions in flight) and single faults injected into the storage calls of
// the copies. Writes are stamped in call order, so the harness knows the
// sequence of every write it issues and the model's state at any sequence.
//
// Checked: every checkpoint that resolved opens with exactly the model's state
// at its sequence (also after later crashes); every listed backup restores
// exactly its sequence's state and its restored store verifies; the source
// after a crash holds a prefix of the writes with every acknowledged one;
// a copy cut short by a crash or a fault is refused on open with a typed
// error, or else is a whole state of the store.

import { listBackups, MemoryStorage, open, restoreBackup, SiltError, type UnsyncedFate, verify } from "../../mod.ts";
import type { Db } from "../../mod.ts";
import { rng } from "../_harness.ts";

/** What one seed did. */
export interface CheckpointSeedReport {
  checkpoints: number;
  backups: number;
  crashes: number;
  faults: number;
  refused: number;
}

type State = Map<string, string>;
const FATES: UnsyncedFate[] = ["drop", "prefix", "zeros", "sectors", "keep"];

/** Runs one seed; throws an Error naming the seed on any violation. */
export async function runCheckpointSeed(seed: number): Promise<CheckpointSeedReport> {
  try {
    return await simulate(seed);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("checkpoint sim seed")) throw err;
    throw new Error(`checkpoint sim seed ${seed} (SEED=${seed}): ${err}`, { cause: err });
  }
}

async function simulate(seed: number): Promise<CheckpointSeedReport> {
  const random = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const fail = (what: string): never => {
    throw new Error(`checkpoint sim seed ${seed} (SEED=${seed}): ${what}`);
  };
  const options = {
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    memtableSize: pick([1024, 4096]),
    targetFileSize: 4096,
    levelBaseBytes: 8192,
    l0CompactionTrigger: pick([2, 4]),
    compaction: pick(["leveled", "tiered"] as const),
  } as const;
  const fs = new MemoryStorage();
  const report: CheckpointSeedReport = { checkpoints: 0, backups: 0, crashes: 0, faults: 0, refused: 0 };
  const keys = Array.from({ length: int(5, 25) }, (_, i) => `k${i}`);
  let db = await open("/db", { fs, ...options }) as Db<string, string>;
  // The states of this process: [sequence, state after it], ascending.
  let states: [number, State][] = [[db.sequence, new Map()]];
  let next = db.sequence + 1; // the sequence the next write gets
  let acked = db.sequence; // every write up to here was acknowledged (synced)
  const verified: { dir: string; state: State }[] = [];
  let copies = 0;
  let inFlight: Promise<unknown>[] = [];

  const stateAt = (s: number, of = states): State | undefined => {
    let found: State | undefined;
    for (const [seq, st] of of) if (seq <= s) found = st;
    return found;
  };
  const same = (a: State, b: State) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  const contents = async (d: Db<string, string>): Promise<State> => new Map(await d.scan().toArray());
  const openCopy = async (dir: string, retried = false): Promise<State | "refused"> => {
    try {
      const copy = await open(dir, { fs, ...options, readOnly: true }) as Db<string, string>;
      try {
        return await contents(copy);
      } finally {
        await copy.close();
      }
    } catch (err) {
      if (err instanceof SiltError && (err.code === "CORRUPTION" || err.code === "NOT_FOUND")) return "refused";
      if (err instanceof SiltError && err.code === "IO_ERROR" && !retried) {
        fs.clearFaults(); // a fault injected for the copies hit the check instead
        return openCopy(dir, true);
      }
      return fail(`a copy in ${dir} failed to open with ${err}`);
    }
  };

  const write = () => {
    const changes = Array.from({ length: int(1, 3) }, () => [pick(keys), random() < 0.25 ? null : `v${next}`] as const);
    const seq = next;
    next += changes.length;
    const state = new Map(states[states.length - 1][1]);
    for (const [k, v] of changes) v === null ? state.delete(k) : state.set(k, v);
    states.push([seq + changes.length - 1, state]);
    const batch = db.batch();
    for (const [k, v] of changes) v === null ? batch.delete(k) : batch.put(k, v);
    const p = batch.write({ sync: true }).then((r) => {
      if (r.ok && r.sequence !== seq) fail(`a batch got sequence ${r.sequence}, expected ${seq}`);
      acked = Math.max(acked, seq + changes.length - 1);
    }, () => {});
    inFlight.push(p);
  };

  const checkpoint = () => {
    const dir = `/cp${copies++}`;
    const mine = states;
    const p = db.checkpoint(dir).then(async (info) => {
      const expected = stateAt(info.sequence, mine) ?? fail(`checkpoint ${dir} at ${info.sequence}: no such state`);
      const got = await openCopy(dir);
      if (got === "refused" || !same(got, expected)) fail(`checkpoint ${dir} at ${info.sequence} is not that state`);
      verified.push({ dir, state: expected });
      report.checkpoints++;
    }, (err) => {
      if (!(err instanceof SiltError)) fail(`checkpoint ${dir} failed with ${err}`);
    });
    inFlight.push(p);
    return { dir, states: mine };
  };

  const backup = () => {
    const p = db.backup("/bk").then(() => report.backups++, (err) => {
      if (!(err instanceof SiltError)) fail(`a backup failed with ${err}`);
    });
    inFlight.push(p);
  };

  /** Every listed backup restores exactly its state (states: every one this seed saw, by sequence). */
  const allStates: [number, State][][] = [];
  const checkBackups = async () => {
    if (!fs.exists("/bk")) return;
    for (const b of await listBackups("/bk", { fs })) {
      const dir = `/restore${copies++}`;
      await restoreBackup("/bk", b.id, dir, { fs });
      const got = await openCopy(dir);
      const expected = allStates.concat([states]).map((s) => stateAt(b.sequence, s)).filter((s) => s !== undefined);
      if (got === "refused" || !expected.some((e) => same(got, e))) {
        fail(`backup ${b.id} at ${b.sequence} is not that state`);
      }
      if (!(await verify(dir, { fs })).ok) fail(`the store restored from backup ${b.id} does not verify`);
    }
  };

  for (let round = 0; round < int(4, 10); round++) {
    const pending: { dir: string; states: [number, State][] }[] = [];
    for (let i = 0; i < int(5, 40); i++) {
      const r = random();
      if (r < 0.8) write();
      else if (r < 0.9) pending.push(checkpoint());
      else backup();
      if (random() < 0.2) await Promise.resolve();
    }
    if (random() < 0.3) {
      fs.injectFault({
        op: pick(["open", "append", "sync", "syncDir", "link", "rename"] as const),
        path: /^\/(cp|bk)/,
        after: int(0, 8),
      });
      report.faults++;
    }
    if (random() < 0.4) {
      // A machine crash with copies, writes and background work in flight.
      for (let i = int(0, 6); i > 0; i--) await new Promise((r) => setTimeout(r, 0));
      fs.crash({ unsynced: pick(FATES), random });
      report.crashes++;
      fs.clearFaults();
      await Promise.all(inFlight);
      inFlight = [];
      await db.close().catch(() => {});
      db = await open("/db", { fs, ...options }) as Db<string, string>;
      const got = await contents(db);
      const prefix = states.filter(([seq]) => seq >= acked).find(([, st]) => same(got, st));
      if (prefix === undefined) {
        fail(`after a crash the store holds no prefix of the writes with every acknowledged one`);
      }
      for (const { dir, states: of } of pending) {
        const copy = fs.exists(dir) ? await openCopy(dir) : "refused";
        if (copy === "refused") report.refused++;
        else if (!of.some(([, st]) => same(copy, st))) fail(`the copy ${dir} cut short by a crash opened as no state`);
      }
      allStates.push(states);
      states = [[db.sequence, prefix![1]]];
      next = db.sequence + 1;
      acked = db.sequence;
    } else {
      await Promise.all(inFlight);
      inFlight = [];
      fs.clearFaults();
    }
    for (const { dir, state } of verified) {
      const got = await openCopy(dir);
      if (got === "refused" || !same(got, state)) fail(`checkpoint ${dir} changed after it resolved`);
    }
  }
  await Promise.all(inFlight);
  await db.close();
  await checkBackups();
  return report;
}
