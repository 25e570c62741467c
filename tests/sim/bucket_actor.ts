// What every process of the bucket simulation is (tests/sim/bucket_actors.ts
// lists the kinds): one client of the shared in-memory store, whose process
// dies at the request the seed picked; an operation at a time, drawn from the
// seed; reads whose failures are allowed only for the store's faults, or for
// a missing object once the state read is older than gcMinAge.

import { type Db, open } from "../../mod.ts";
import type { MemoryClient } from "../../src/object_store/memory_object_store.ts";
import { byBytes, type ScanRange } from "./bucket_truth.ts";
import { codeOf, missingObject, storeFailure, type World } from "./bucket_world.ts";

/** Thrown inside an actor once its process is dead: whatever it was doing stops there. */
export class Dead extends Error {}

/** A process of the simulation. */
export interface Actor {
  readonly kind: string;
  readonly name: string;
  readonly client: MemoryClient;
  /** Until it was closed, or its process died (client.crashed). */
  alive: boolean;
  /** Opens (starts) the process. */
  start(): Promise<void>;
  /** One operation, drawn from the seed. */
  act(): Promise<void>;
  /** An orderly end. */
  close(): Promise<void>;
  /** After its process died: its requests fail, its memory is freed. Never checks anything. */
  reap(): Promise<void>;
}

/** A kind of process: how many may run at once, how often it acts, how to make one. */
export interface ActorKind {
  kind: string;
  /** Most processes of this kind alive at once. */
  max: number;
  /** Relative share of the operations. */
  weight: number;
  /** Chance to start another one while fewer than max run. */
  spawn: number;
  create(world: World): Actor;
}

const URL = "memory://sim/";

/** What every actor does around its process. */
export abstract class Base implements Actor {
  abstract readonly kind: string;
  readonly name: string;
  readonly client: MemoryClient;
  readonly world: World;
  db: Db<string, string> | undefined;
  alive = true;

  constructor(world: World, kind: string, safe: boolean) {
    this.world = world;
    this.name = world.name(kind);
    this.client = world.client(this.name, safe);
  }

  /** Opens the database; one that opens after its process died is closed at once. */
  protected open(options: Record<string, unknown>): Promise<Db<string, string>> {
    const opening = open(URL, {
      objectStore: this.client,
      ...this.world.config.engine,
      ...options,
    }) as unknown as Promise<
      Db<string, string>
    >;
    opening.then((db) => {
      if (this.client.crashed || !this.alive) void db.close().catch(() => {});
    }, () => {});
    return opening;
  }

  abstract start(): Promise<void>;
  abstract act(): Promise<void>;

  /** The outcome of p, unless the process died meanwhile (then Dead). */
  async io<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    let out: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      out = { ok: true, value: await p };
    } catch (error) {
      out = { ok: false, error };
    }
    if (this.client.crashed || !this.alive) throw new Dead();
    return out;
  }

  /** Runs an operation; Dead ends it quietly. */
  protected async guard(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      if (!(err instanceof Dead)) throw err;
    }
  }

  /** A read failed: allowed for the store's faults, and for a missing object once the view is older than gcMinAge. */
  readFailed(err: unknown, what: string, loadedAt: number): void {
    if (storeFailure(err)) return;
    const { gcMinAge, listLagMs } = this.world.config;
    const age = this.world.clock.now - loadedAt;
    if (missingObject(err) && age >= gcMinAge - listLagMs) {
      this.world.report.staleReads++;
      return;
    }
    this.world.fail(
      `${this.name}: ${what} failed (its state was loaded ${Math.round(age)} ms ago; gcMinAge ${gcMinAge} ms): ${
        codeOf(err)
      } ${(err as Error)?.message ?? err}`,
    );
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const db = this.db;
    this.alive = false;
    this.world.step(`${this.name}: close`);
    if (db !== undefined) await db.close().catch(() => {});
  }

  async reap(): Promise<void> {
    this.alive = false;
    this.client.release();
    await this.db?.close().catch(() => {});
  }

  /**
   * Reads a scan's first entry, runs `meanwhile`, then reads the rest: the
   * entries, or undefined when a read failed (as readFailed allows for a
   * state loaded at `loadedAt`).
   */
  async across(
    scan: AsyncIterableIterator<[string, string]> & { return?: () => unknown },
    loadedAt: number,
    meanwhile: () => Promise<void>,
  ): Promise<[string, string][] | undefined> {
    const got: [string, string][] = [];
    try {
      for (let first = true;; first = false) {
        const next = await this.io(scan.next());
        if (!next.ok) {
          this.readFailed(next.error, "a scan across other work", loadedAt);
          return undefined;
        }
        if (next.value.done) return got;
        got.push(next.value.value);
        if (first) await meanwhile();
      }
    } finally {
      void scan.return?.();
    }
  }

  /** A random range of the keyspace. */
  range(keys: string[]): ScanRange {
    const r: ScanRange = {};
    const bounds = [this.world.pick(keys), this.world.pick(keys)].sort(byBytes);
    if (this.world.chance(0.4)) r.gte = bounds[0];
    if (this.world.chance(0.4)) r.lt = bounds[1];
    if (this.world.chance(0.3)) r.reverse = true;
    if (this.world.chance(0.3)) r.limit = this.world.int(0, 5);
    return r;
  }
}

/** The keys of a seed. */
export function keysOf(world: World): string[] {
  return Array.from(
    { length: world.int(6, 30) },
    (_, i) => `k${i.toString(36)}${i % 5 === 3 ? "/" + "x".repeat(i) : ""}`,
  );
}
