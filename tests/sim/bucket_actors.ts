// The kinds of process of the bucket simulation, each on its own client of
// the shared in-memory store (its own retries; its process dies at the
// request the seed picked): writers (tests/sim/bucket_writer.ts), readers
// (tests/sim/bucket_reader.ts) and a collector (tests/sim/bucket_collector_actor.ts),
// all built on tests/sim/bucket_actor.ts. actorKinds() is the list the
// harness draws from: another kind of process joins the simulation by one
// more entry there.

import type { ActorKind } from "./bucket_actor.ts";
import { CollectorActor } from "./bucket_collector_actor.ts";
import { ReaderActor } from "./bucket_reader.ts";
import { WriterActor } from "./bucket_writer.ts";

export type { Actor, ActorKind } from "./bucket_actor.ts";
export { keysOf } from "./bucket_actor.ts";
export { CollectorActor } from "./bucket_collector_actor.ts";
export { READER_SNAPSHOTS_SURVIVE_REFRESH, ReaderActor } from "./bucket_reader.ts";
export { WriterActor, type WriteRecord } from "./bucket_writer.ts";

/**
 * The kinds of process the simulation runs, how many of each may be alive
 * at once, how often each acts, and how often another one starts.
 *
 * A remote compactor (runCompactor) joins as one more entry, e.g.
 * `{ kind: "compactor", max: 1, weight: 10, spawn: 0.5, create: (world) => new CompactorActor(world) }`,
 * with a CompactorActor extending Base (tests/sim/bucket_actor.ts): start()
 * runs the compactor on its own client (`this.client`, which dies at the
 * request the seed picked, like every process's), act() lets it run a
 * compaction, close() stops it; the seeds that run one open their writers
 * with `compaction: "remote"` (World's config.engine). The checks need
 * nothing new: every state a writer or reader shows is held against the
 * committed history, a writer that opens must show all of it, and the
 * newest manifest's tables must exist (tests/sim/bucket_checks.ts).
 */
export function actorKinds(keys: string[]): ActorKind[] {
  return [
    { kind: "writer", max: 2, weight: 50, spawn: 0.04, create: (world) => new WriterActor(world, keys) },
    { kind: "reader", max: 2, weight: 30, spawn: 0.1, create: (world) => new ReaderActor(world, keys) },
    { kind: "collector", max: 1, weight: 8, spawn: 1, create: (world) => new CollectorActor(world) },
  ];
}
