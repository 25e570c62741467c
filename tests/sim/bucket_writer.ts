// A writer of the bucket simulation: opens (claims the store and fences the
// writer before it: it must show exactly what was committed before its
// fence), writes (puts, deletes, batches, bursts of them), reads, keeps
// snapshots, scans across its own compactions, flushes, compacts, resumes
// after a fault, and records every write and how it settled for the checks
// at the end (tests/sim/bucket_checks.ts).

import { type Db, SiltError } from "../../mod.ts";
import { History, type Write } from "./model.ts";
import { byBytes, type ScanRange, type Value } from "./bucket_truth.ts";
import { codeOf, storeFailure, View, type World } from "./bucket_world.ts";
import { Base } from "./bucket_actor.ts";

/** One write of a writer, as the checks at the end need it. */
export interface WriteRecord {
  changes: [string, Value][];
  status: "inFlight" | "acked" | "maybe" | "refused";
  /** The newest writer epoch whose open had finished when this write was issued. */
  newestOpen: number;
  /** How the write settled (the error's code), for messages. */
  how?: string;
}

/** Whether a failed write may be in the store: never if it was refused before its upload. */
function classify(err: unknown): "maybe" | "refused" {
  if (err instanceof SiltError) {
    if (err.code === "FENCED" || err.code === "CLOSED") return "refused";
    if (err.code === "IO_ERROR" && /refuses writes/.test(err.message)) return "refused";
  }
  return "maybe";
}

/** A writer: opens (claims the store, fences the one before), writes, reads, flushes, compacts. */
export class WriterActor extends Base {
  readonly kind = "writer";
  readonly keys: string[];
  readonly writes: WriteRecord[] = [];
  epoch: number | undefined;
  view: View | undefined;
  /** Its own writes since open, against the state it opened on (undefined: that state was not read). */
  history: History | undefined;
  #writes = new Map<WriteRecord, Write>();
  #failed = false;
  #fenced = false;
  #inFlight = 0;
  #snapshots: { snap: ReturnType<Db<string, string>["snapshot"]>; view: View; state?: Map<string, string> }[] = [];

  constructor(world: World, keys: string[], safe = false) {
    super(world, "writer", safe);
    this.keys = keys;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  start(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      w.step(`${this.name}: open (writer gc ${w.config.writerGc})`);
      const out = await this.io(this.open({ gcMinAge: w.config.writerGc ? w.config.gcMinAge : 2 ** 40 }));
      if (!out.ok) {
        if (storeFailure(out.error) || codeOf(out.error) === "FENCED") {
          w.step(`${this.name}: open failed: ${(out.error as Error).message}`);
          this.alive = false;
          return;
        }
        return w.fail(`${this.name}: open failed: ${codeOf(out.error)} ${(out.error as Error)?.message ?? out.error}`);
      }
      this.db = out.value;
      this.epoch = w.truth.epochOf.get(this.name);
      const fence = w.truth.fenceOf.get(this.name);
      if (this.epoch === undefined || fence === undefined) w.fail(`${this.name} opened without a claim or a fence`);
      w.opened.push({ epoch: this.epoch!, time: w.clock.now });
      const at = w.truth.positionBefore(fence!);
      w.step(`${this.name}: opened, epoch ${this.epoch}, fence wal/${fence}, history position ${at}`);
      this.view = new View(w, this.name, at, false);
      // Nothing of its own yet: it shows exactly what was committed before its fence.
      const scan = await this.io(this.db.scan().toArray());
      if (!scan.ok) return this.readFailed(scan.error, "the scan after open", this.#current());
      const expected = [...w.truth.stateAt(at)].sort(([a], [b]) => byBytes(a, b));
      if (JSON.stringify(scan.value) !== JSON.stringify(expected)) {
        w.fail(
          `${this.name} opened on a state that is not the one committed before its fence (position ${at}):\n` +
            `      got      ${JSON.stringify(scan.value)}\n      expected ${JSON.stringify(expected)}`,
        );
      }
      w.report.reads++;
      this.history = new History(new Map(scan.value), false, true);
    });
  }

  act(): Promise<void> {
    return this.guard(async () => {
      const w = this.world;
      if (this.#failed && !this.#fenced && w.chance(0.7)) return this.#resume();
      const r = w.int(0, 99);
      if (r < 34) return this.#awaitWrite();
      if (r < 44) {
        const n = w.int(2, w.config.remote ? 30 : 10);
        w.step(`${this.name}: burst of ${n} writes`);
        for (let i = 0; i < n; i++) void this.#write();
        return;
      }
      if (r < 56) return this.#get();
      if (r < 64) return this.#scan();
      if (r < 66) return this.#scanAcross();
      if (r < 72) return this.#snapshotOp();
      if (r < 84) return this.#maintenance(w.pick(["flush", "flush", "compact", "compactRange"] as const));
      if (r < 86) return this.close();
      // Let its background work go on for a while.
      await w.clock.sleep(w.int(1, 200));
    });
  }

  async #awaitWrite(): Promise<void> {
    await this.io(this.#write());
  }

  /** Issues one write (a put, a delete, or a batch); settles its record when it does. */
  #write(): Promise<void> {
    const w = this.world;
    const db = this.db!;
    const kind = w.int(0, 9);
    let changes: [string, Value][];
    let send: () => Promise<void>;
    if (kind < 6) {
      const k = w.pick(this.keys);
      const v = w.value(this.name);
      changes = [[k, v]];
      send = () => db.put(k, v);
    } else if (kind < 8) {
      const k = w.pick(this.keys);
      changes = [[k, null]];
      send = () => db.delete(k);
    } else {
      changes = Array.from(
        { length: w.int(1, 5) },
        () => [w.pick(this.keys), w.chance(0.3) ? null : w.value(this.name)],
      );
      const chained = w.chance(0.5);
      send = () => {
        if (chained) {
          const batch = db.batch();
          for (const [k, v] of changes) v === null ? batch.delete(k) : batch.put(k, v);
          return batch.write().then(() => {});
        }
        return db.batch(
          changes.map(([key, value]) =>
            value === null ? { type: "del" as const, key } : { type: "put" as const, key, value }
          ),
        );
      };
    }
    const newestOpen = Math.max(0, ...w.opened.map((o) => o.epoch));
    const record: WriteRecord = { changes, status: "inFlight", newestOpen };
    this.writes.push(record);
    const h = this.history?.issue(changes, false);
    if (h !== undefined) this.#writes.set(record, h);
    const objectsBefore = w.truth.walOf.get(this.name)?.length ?? 0;
    this.#inFlight++;
    w.step(`${this.name}: write #${this.writes.length - 1} ${JSON.stringify(changes).slice(0, 120)}`);
    let p: Promise<void>;
    try {
      p = send();
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(() => {
      this.#inFlight--;
      record.status = "acked";
      if (h !== undefined) this.history!.settle(h, "acked");
      // Its WAL object is the first of this writer's created since it was issued, or a later one.
      const mine = w.truth.walOf.get(this.name) ?? [];
      const first = mine[objectsBefore];
      if (first !== undefined && this.view !== undefined && !this.client.crashed) {
        this.view.atLeast(first.first + first.batches.length);
      }
    }, (err) => {
      this.#inFlight--;
      const status = this.client.crashed ? "maybe" : classify(err);
      record.status = status;
      record.how = `${codeOf(err)}: ${(err as Error)?.message}`;
      if (h !== undefined) this.history!.settle(h, status);
      if (!this.client.crashed) this.#failure(err, "a write");
    });
  }

  /**
   * Until when its state was the store's: now, or when a newer writer
   * claimed the store (its manifest replaced this writer's last one).
   */
  #current(): number {
    const newer = this.world.truth.manifests.find((m) => this.epoch !== undefined && m.state.writerEpoch > this.epoch);
    return newer?.time ?? this.world.clock.now;
  }

  /** A write or maintenance call failed: a fault, or FENCED; anything else is a violation. */
  #failure(err: unknown, what: string): void {
    const w = this.world;
    if (codeOf(err) === "FENCED") {
      if (!this.#fenced) {
        this.#fenced = true;
        w.report.fencings++;
        const newest = Math.max(0, ...w.truth.epochOf.values());
        w.step(`${this.name} (epoch ${this.epoch}) is FENCED; the newest epoch claimed is ${newest}`);
        if (this.epoch !== undefined && newest <= this.epoch) {
          w.fail(`${this.name} (epoch ${this.epoch}) got FENCED with no newer writer: ${(err as Error).message}`);
        }
      }
      return;
    }
    const message = (err as Error)?.message ?? "";
    if (storeFailure(err) || (codeOf(err) === "IO_ERROR" && /dead/.test(message))) {
      this.#failed = true;
      return;
    }
    if (codeOf(err) === "CLOSED") return;
    w.fail(`${this.name}: ${what} failed: ${codeOf(err)} ${(err as Error)?.message ?? err}`);
  }

  async #resume(): Promise<void> {
    this.world.step(`${this.name}: resume`);
    const out = await this.io(this.db!.resume());
    if (out.ok) this.#failed = false;
    else this.#failure(out.error, "resume()");
  }

  async #maintenance(what: "flush" | "compact" | "compactRange"): Promise<void> {
    const db = this.db!;
    const [a, b] = [this.world.pick(this.keys), this.world.pick(this.keys)].sort(byBytes);
    this.world.step(`${this.name}: ${what}`);
    const out = await this.io(
      what === "flush" ? db.flush() : what === "compact" ? db.compact() : db.compactRange(a, b),
    );
    if (this.world.config.remote && what !== "flush") {
      // A compactor process compacts: the writer flushes (that may fail as a flush does), then refuses.
      if (out.ok) this.world.fail(`${this.name}: ${what}() of a writer with compaction "remote" succeeded`);
      if (codeOf(out.error) !== "UNSUPPORTED") this.#failure(out.error, what);
      return;
    }
    if (!out.ok) this.#failure(out.error, what);
  }

  /** The exact state it must show, when none of its writes is in flight or in doubt. */
  #exact(): Map<string, string> | undefined {
    return this.history !== undefined && this.#inFlight === 0 && this.history.settled
      ? this.history.current()
      : undefined;
  }

  /** Still exact: no write issued since, and none in flight or in doubt. */
  #still(exact: Map<string, string> | undefined, writes: number): exact is Map<string, string> {
    return exact !== undefined && this.writes.length === writes && this.#exact() !== undefined;
  }

  async #get(): Promise<void> {
    const k = this.world.pick(this.keys);
    const exact = this.#exact();
    const writes = this.writes.length;
    const from = this.view!.mark();
    const out = await this.io(this.db!.get(k));
    if (!out.ok) return this.readFailed(out.error, `get(${k})`, this.#current());
    const v = out.value ?? null;
    this.view!.got(k, v, from);
    if (this.#still(exact, writes) && v !== (exact.get(k) ?? null)) {
      this.world.fail(`${this.name}: get(${k}) = ${v}, but its own writes say ${exact.get(k) ?? null}`);
    }
  }

  async #scan(): Promise<void> {
    const r = this.range(this.keys);
    const exact = this.#exact();
    const writes = this.writes.length;
    const from = this.view!.mark();
    const out = await this.io(this.db!.scan(r).toArray());
    if (!out.ok) return this.readFailed(out.error, `scan ${JSON.stringify(r)}`, this.#current());
    this.view!.scanned(out.value, r, from);
    if (this.#still(exact, writes)) {
      const want = expectedScan(exact, r);
      if (JSON.stringify(out.value) !== JSON.stringify(want)) {
        this.world.fail(
          `${this.name}: scan ${JSON.stringify(r)} = ${JSON.stringify(out.value)}, its own writes say ${
            JSON.stringify(want)
          }`,
        );
      }
    }
  }

  /** A scan that goes on across writes and a flush or compaction: it shows the state it started on. */
  async #scanAcross(): Promise<void> {
    const w = this.world;
    const r = this.range(this.keys);
    const exact = this.#exact();
    const view = this.view!.fork(`${this.name}'s scan across writes and a compaction`);
    view.loadedAt = this.#current();
    w.step(`${this.name}: a scan ${JSON.stringify(r)} across writes and a compaction`);
    const got = await this.across(this.db!.scan(r), view.loadedAt, async () => {
      for (let i = w.int(0, 3); i > 0; i--) void this.#write();
      await this.#maintenance(w.pick(["flush", "compact"] as const));
    });
    if (got === undefined) return;
    view.scanned(got, r);
    if (exact !== undefined) {
      const want = expectedScan(exact, r);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        w.fail(`${this.name}: a scan across a compaction = ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
    }
  }

  async #snapshotOp(): Promise<void> {
    const w = this.world;
    if (this.#snapshots.length > 0 && w.chance(0.6)) {
      const i = w.int(0, this.#snapshots.length - 1);
      const s = this.#snapshots[i];
      if (w.chance(0.3)) {
        s.snap.release();
        this.#snapshots.splice(i, 1);
        return;
      }
      const r = this.range(this.keys);
      const out = await this.io(s.snap.scan(r).toArray());
      if (!out.ok) return this.readFailed(out.error, `a snapshot's scan ${JSON.stringify(r)}`, s.view.loadedAt);
      s.view.scanned(out.value, r);
      if (s.state !== undefined) {
        const want = expectedScan(s.state, r);
        if (JSON.stringify(out.value) !== JSON.stringify(want)) {
          w.fail(
            `${this.name}: a snapshot's scan ${JSON.stringify(r)} = ${JSON.stringify(out.value)}, expected ${
              JSON.stringify(want)
            }`,
          );
        }
      }
      return;
    }
    const state = this.#exact();
    w.step(`${this.name}: snapshot`);
    const view = this.view!.fork(`${this.name}'s snapshot`);
    view.loadedAt = this.#current();
    this.#snapshots.push({ snap: this.db!.snapshot(), view, state });
  }
}

/** The entries a scan of range r returns from state. */
export function expectedScan(state: Map<string, string>, r: ScanRange): [string, string][] {
  let want = [...state].filter(([k]) =>
    (r.gte === undefined || byBytes(k, r.gte) >= 0) && (r.lt === undefined || byBytes(k, r.lt) < 0)
  ).sort(([a], [b]) => byBytes(a, b));
  if (r.reverse) want = want.reverse();
  if (r.limit !== undefined) want = want.slice(0, r.limit);
  return want;
}
