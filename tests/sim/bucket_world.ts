// What every actor of the bucket simulation shares (tests/sim/bucket_harness.ts
// runs it): the seed's random numbers and configuration, the virtual clock,
// the in-memory store and the ground truth of what it committed, the
// figures of the report, the trace of the last steps, and the checks that
// compare what a process shows with the truth (View).

import { MemoryObjectStore } from "../../src/object_store/memory_object_store.ts";
import type { MemoryClient } from "../../src/object_store/memory_object_store.ts";
import { SiltError } from "../../mod.ts";
import { rng } from "../_harness.ts";
import { Clock, Hang } from "./clock.ts";
import { EPOCH, type ScanRange, Truth, type Value } from "./bucket_truth.ts";

/** The figures of one seed. */
export interface BucketReport {
  seed: number;
  /** Operations the actors ran. */
  ops: number;
  /** Requests sent to the store (every attempt). */
  requests: number;
  /** Processes killed (writers, readers, collectors): at a request, or at a moment. */
  crashes: number;
  /** Of those, killed at the request the seed picked for them. */
  crashesAtRequest: number;
  /** Writers that opened while another writer was alive. */
  races: number;
  /** Writers that got FENCED. */
  fencings: number;
  /** Faults armed (500, 503, lost answers). */
  faults: number;
  /** Acknowledged writes checked against the committed history. */
  acked: number;
  /** Reads (gets and scans) checked against the committed history. */
  reads: number;
  /** Objects deleted by the collectors (a writer's own, or one of its own process). */
  deletes: number;
  /** Of those, deleted by a writer's own collector. */
  writerDeletes: number;
  /** Reads that failed on a missing object, allowed: their view was older than gcMinAge. */
  staleReads: number;
  /** Fenced writers stopped before a collector could free the WAL number they would write next (see RETIRE_STALE_WRITERS). */
  retired: number;
  /** Seeds whose writers open with compaction "remote" (1 or 0 for one seed). */
  remoteSeeds: number;
  /** Compactor processes that opened (claimed the compactor role). */
  compactors: number;
  /** Manifests the compactors committed (compactions and trivial moves; their claims not counted). */
  compactions: number;
  /** Compactors that got FENCED (by a newer one). */
  compactorFencings: number;
}

/**
 * A report with every figure 0: a seed's before it runs, or the totals of many.
 *
 * @example
 * ```ts
 * const totals = zeroReport(0);
 * totals.ops += 150;
 * ```
 */
export function zeroReport(seed: number): BucketReport {
  return {
    seed,
    ops: 0,
    requests: 0,
    crashes: 0,
    crashesAtRequest: 0,
    races: 0,
    fencings: 0,
    faults: 0,
    acked: 0,
    reads: 0,
    deletes: 0,
    writerDeletes: 0,
    staleReads: 0,
    retired: 0,
    remoteSeeds: 0,
    compactors: 0,
    compactions: 0,
    compactorFencings: 0,
  };
}

/** A check failed: the message says what, where and how to replay. */
export class Violation extends Error {}

/** The configuration one seed draws. */
export interface BucketConfig {
  gcMinAge: number;
  /** The writers' own collector runs (else their gcMinAge is out of reach). */
  writerGc: boolean;
  listLagMs: number;
  attempts: number;
  engine: Record<string, unknown>;
  /** Writers open with compaction "remote": compactor processes compact (tests/sim/bucket_compactor_actor.ts). */
  remote: boolean;
  /** The compactors' options (their policy and sizes). */
  compactor: Record<string, unknown>;
  /** How long writers may go without a compactor running on its own before one is started. */
  compactorRestartMs: number;
}

const TRACE_STEPS = Number(
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.SILTDB_BUCKET_TRACE,
) || 60;

export { EPOCH };

/**
 * One seed's world.
 *
 * @example
 * ```ts
 * const world = new World(42);
 * const client = world.client("writer-1");
 * ```
 */
export class World {
  readonly seed: number;
  readonly random: () => number;
  readonly clock: Clock;
  readonly truth: Truth;
  readonly store: MemoryObjectStore;
  readonly config: BucketConfig;
  readonly report: BucketReport;
  readonly clients: MemoryClient[] = [];
  /** The request each client's process dies at, if it does. */
  readonly crashAt: Map<MemoryClient, number> = new Map();
  readonly #trace: string[] = [];
  /** Writer epochs whose open had finished, in order, with the clock then. */
  readonly opened: { epoch: number; time: number }[] = [];
  #names = 0;
  #values = 0;

  constructor(seed: number) {
    this.seed = seed;
    this.random = rng(seed);
    this.clock = new Clock(EPOCH);
    this.truth = new Truth(this.clock.read);
    this.truth.onManifest = (m) =>
      this.step(
        `  manifest/${m.number} by ${m.client}: epoch ${m.state.writerEpoch}, WAL from ${m.state.walStart}, tables ${
          JSON.stringify(m.state.levels.map((l) => l.map((f) => f.number)).filter((l) => l.length > 0))
        }`,
      );
    this.truth.onWal = (o) =>
      this.step(
        `  wal/${o.number} by ${o.client}: batches ${o.first}..${o.first + o.batches.length - 1}${
          o.fenceEpoch ? ` (fence of epoch ${o.fenceEpoch})` : ""
        }`,
      );
    const l0 = this.int(2, 4);
    const remote = this.chance(0.5);
    // A remote writer's writes wait for a compactor at the stop trigger; some seeds let L0 grow far instead.
    const stop = remote && this.chance(0.25) ? 1000 : l0 + this.int(2, 6);
    const policy = this.pick(["leveled", "tiered"] as const);
    const targetFileSize = this.pick([4096, 8192]);
    const blockSize = this.pick([256, 1024]);
    const bloomBitsPerKey = this.pick([0, 10]);
    this.config = {
      gcMinAge: this.pick([30_000, 60_000, 120_000]),
      writerGc: this.chance(0.6),
      listLagMs: this.chance(0.5) ? 0 : this.pick([30, 300, 2000]),
      attempts: this.int(3, 8),
      engine: {
        keyEncoding: "utf8",
        valueEncoding: "utf8",
        compaction: remote ? "remote" : policy,
        // Remote seeds flush more often: a compactor has more to do.
        memtableSize: this.pick(remote ? [1024, 1024, 2048] : [1024, 2048, 4096]),
        blockSize,
        targetFileSize,
        levelBaseBytes: 8192,
        blockCacheSize: this.pick([0, 4096, 65536, 1 << 20]),
        maxOpenFiles: this.pick([1, 2, 16, 100]),
        bloomBitsPerKey,
        // From the seed, not the random stream (every seed's scenario stays as it was): odd seeds compress.
        compression: seed % 2 === 1 ? "lz4" : "none",
        l0CompactionTrigger: l0,
        // Equal: a write waits for room rather than being slowed down.
        l0SlowdownTrigger: stop,
        l0StopTrigger: stop,
        // How often a writer looks at the manifest (a newer writer fences it; a compactor's work lands).
        refreshInterval: this.pick([500, 1000, 5000]),
      },
      remote,
      compactor: {
        compaction: this.pick([policy, "leveled", "tiered"]),
        l0CompactionTrigger: l0,
        levelBaseBytes: 8192,
        targetFileSize,
        blockSize,
        bloomBitsPerKey,
        compression: seed % 2 === 1 ? "lz4" : "none",
      },
      compactorRestartMs: remote ? this.pick([0, 0, 1000, 10_000, 60_000]) : 0,
    };
    const spikes = this.chance(0.3);
    this.store = new MemoryObjectStore({
      name: `sim${seed}`,
      now: this.clock.read,
      listLagMs: this.config.listLagMs,
      latencyMs: () => spikes && this.chance(0.02) ? this.int(200, 3000) : this.int(1, 40),
      retry: { sleep: this.clock.sleep, random: this.random, attempts: this.config.attempts },
      onChange: this.truth.onChange,
    });
    this.report = { ...zeroReport(seed), remoteSeeds: remote ? 1 : 0 };
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  /** A name for a new process of this kind. */
  name(kind: string): string {
    return `${kind}-${++this.#names}`;
  }

  /** A value never written before. */
  value(who: string): string {
    const pad = this.chance(0.2) ? "_".repeat(this.int(50, 400)) : "";
    return `${who}.${++this.#values}${pad}`;
  }

  /**
   * A client for a new process: it dies at a request the seed picks (any
   * position, over many seeds), or never; `safe` for the final checks.
   */
  client(name: string, safe = false): MemoryClient {
    let crashAt: number | undefined;
    if (!safe && this.chance(0.55)) crashAt = 1 + Math.floor(this.random() * this.pick([6, 25, 100, 400, 1500]));
    const client = this.store.client({
      name,
      crashAt,
      crashLands: this.chance(0.5),
      retry: { sleep: this.clock.sleep, random: rng(this.int(0, 2 ** 31)), attempts: this.config.attempts },
    });
    this.clients.push(client);
    if (crashAt !== undefined) {
      this.crashAt.set(client, crashAt);
      this.step(`${name} will die at its request ${crashAt}`);
    }
    return client;
  }

  /** Notes a step for the failure message. */
  step(what: string): void {
    this.#trace.push(`[op ${this.report.ops} t+${((this.clock.now - EPOCH) / 1000).toFixed(3)}s] ${what}`);
    if (this.#trace.length > TRACE_STEPS) this.#trace.shift();
  }

  /** The first check that failed (thrown where it failed, too, but a write's settling cannot pass it on). */
  violation: Violation | undefined;

  /** Fails the seed: what went wrong, the replay command, the configuration and the last steps. */
  fail(what: string): never {
    if (this.violation !== undefined) throw this.violation;
    throw this.violation = new Violation(
      `seed ${this.seed} (replay: SEED=${this.seed} node --import tsx --test tests/bucket_sim.test.ts): ${what}\n` +
        `  config: ${JSON.stringify(this.config)}\n  last steps:\n    ${this.#trace.join("\n    ")}`,
    );
  }

  /** Lets the processes run until p settles, or `dead()` says its process died. */
  async run<T>(
    p: Promise<T>,
    what: string,
    dead: () => boolean = () => false,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | { stopped: true }> {
    try {
      return await this.clock.run(p, dead);
    } catch (err) {
      if (err instanceof Hang) this.fail(`${what} hangs: ${err.message}`);
      throw err;
    }
  }

  /** Lets the processes run for ms of virtual time. */
  async idle(ms: number): Promise<void> {
    await this.run(this.clock.sleep(ms), "idling");
  }
}

/** The error's code, or "?" when it is not a SiltError. */
export function codeOf(err: unknown): string {
  return err instanceof SiltError ? err.code : "?";
}

/** True for a failure the store's faults explain: a request that failed every try. */
export function storeFailure(err: unknown): boolean {
  return err instanceof SiltError && err.code === "IO_ERROR" &&
    /failed after \d+ tries|refuses writes/.test(err.message);
}

/** True for a failure on an object that is gone (deleted by a collector). */
export function missingObject(err: unknown): boolean {
  return err instanceof SiltError && (err.code === "CORRUPTION" || err.code === "NOT_FOUND") &&
    /missing|vanished|no longer|cannot be found|changed or vanished|no manifest/.test(err.message);
}

/**
 * What one process (or one snapshot) shows, held against the truth: the
 * history positions P its state may be at. A fixed view shows one P to
 * every read (a reader between refreshes, a snapshot); a moving one only
 * moves forward (a writer applying its writes), from its lowest possible P.
 */
export class View {
  readonly #world: World;
  readonly #who: string;
  /** A fixed view: the positions still possible (ascending). */
  #positions: number[] | undefined;
  /** A moving view: the lowest position possible. */
  #lo: number;
  /** When the state was loaded (for gcMinAge). */
  loadedAt: number;

  constructor(world: World, who: string, lo: number, fixed: boolean, loadedAt = world.clock.now) {
    this.#world = world;
    this.#who = who;
    this.#lo = lo;
    this.#positions = fixed ? range(lo, world.truth.committed) : undefined;
    this.loadedAt = loadedAt;
  }

  /** The lowest position possible. */
  get lo(): number {
    return this.#positions?.[0] ?? this.#lo;
  }

  /** A snapshot of this view: fixed at what it may be now. */
  fork(who: string): View {
    const v = new View(this.#world, who, this.lo, true, this.loadedAt);
    if (this.#positions !== undefined) v.#positions = [...this.#positions];
    return v;
  }

  /** A fixed view moved on (a refresh that began at loadedAt): any position from its lowest, at least lo, up to now. */
  moved(lo: number, loadedAt: number): void {
    this.#positions = range(Math.max(lo, this.lo), this.#world.truth.committed);
    this.loadedAt = loadedAt;
  }

  /** A moving view is at least at lo from now on (its own acknowledged writes). */
  atLeast(lo: number): void {
    this.#lo = Math.max(this.#lo, lo);
  }

  /** Where a read starts: what it may show is from here on (a moving view moves on during the read). */
  mark(): number {
    return this.lo;
  }

  #candidates(from: number): number[] {
    return this.#positions ?? range(from, this.#world.truth.committed);
  }

  #narrow(possible: number[], what: string, from: number): void {
    this.#world.report.reads++;
    if (possible.length === 0) {
      const c = this.#candidates(from);
      this.#world.fail(
        `${this.#who}: ${what}: no committed state it may show has this (positions ${
          c.length === 0 ? "none" : `${c[0]}..${c.at(-1)}`
        } of ${this.#world.truth.committed} committed batches)`,
      );
    }
    if (this.#positions !== undefined) this.#positions = possible;
    else this.#lo = Math.max(this.#lo, possible[0]);
  }

  /** get(k), started at mark `from`, returned v. */
  got(k: string, v: Value, from = this.lo): void {
    const truth = this.#world.truth;
    this.#narrow(
      this.#candidates(from).filter((p) => truth.valueAt(k, p) === v),
      `get(${JSON.stringify(k)}) = ${JSON.stringify(v)}`,
      from,
    );
  }

  /** A scan of range, started at mark `from`, returned entries. */
  scanned(entries: [string, string][], r: ScanRange, from = this.lo): void {
    const c = this.#candidates(from);
    const ok = c.length === 0
      ? new Set<number>()
      : new Set(this.#world.truth.positionsForScan(entries, r, c[0], c.at(-1)!));
    const shown = entries.length > 6
      ? `${JSON.stringify(entries.slice(0, 6))}…(${entries.length})`
      : JSON.stringify(entries);
    this.#narrow(c.filter((p) => ok.has(p)), `scan ${JSON.stringify(r)} = ${shown}`, from);
  }
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) out.push(p);
  return out;
}
