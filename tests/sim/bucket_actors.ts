// The kinds of process of the bucket simulation, each on its own client of
// the shared in-memory store (its own retries; its process dies at the
// request the seed picked): writers (tests/sim/bucket_writer.ts), readers
// (tests/sim/bucket_reader.ts), a collector (tests/sim/bucket_collector_actor.ts),
// a taker of checkpoints (tests/sim/bucket_checkpoint_actor.ts)
// and, in the seeds whose writers open with compaction "remote", compactors
// (tests/sim/bucket_compactor_actor.ts), all built on tests/sim/bucket_actor.ts.
// actorKinds() is the list the harness draws from: another kind of process
// joins the simulation by one more entry there.

import type { ActorKind } from "./bucket_actor.ts";
import { CheckpointActor } from "./bucket_checkpoint_actor.ts";
import { CollectorActor } from "./bucket_collector_actor.ts";
import { CompactorActor } from "./bucket_compactor_actor.ts";
import { ReaderActor } from "./bucket_reader.ts";
import { WriterActor } from "./bucket_writer.ts";

export type { Actor, ActorKind } from "./bucket_actor.ts";
export { keysOf } from "./bucket_actor.ts";
export { CollectorActor } from "./bucket_collector_actor.ts";
export { CompactorActor, type CompactorMode } from "./bucket_compactor_actor.ts";
export { READER_SNAPSHOTS_SURVIVE_REFRESH, ReaderActor } from "./bucket_reader.ts";
export { WriterActor, type WriteRecord } from "./bucket_writer.ts";

/**
 * The kinds of process the simulation runs, how many of each may be alive
 * at once, how often each acts, and how often another one starts.
 * Compactors run only when the writers open with compaction "remote"
 * (`remote`); two of them race sometimes (the newer fences the older), and
 * the harness starts one whenever none runs on its own (writers may be
 * waiting on L0 for it).
 *
 * @example
 * ```ts
 * const kinds = actorKinds(["a", "b"], true);
 * console.log(kinds.map((k) => k.kind)); // writer, reader, collector, checkpointer, compactor
 * ```
 */
export function actorKinds(keys: string[], remote = false): ActorKind[] {
  const kinds: ActorKind[] = [
    { kind: "writer", max: 2, weight: 50, spawn: 0.04, create: (world) => new WriterActor(world, keys) },
    { kind: "reader", max: 2, weight: 30, spawn: 0.1, create: (world) => new ReaderActor(world, keys) },
    { kind: "collector", max: 1, weight: 8, spawn: 1, create: (world) => new CollectorActor(world) },
    { kind: "checkpointer", max: 1, weight: 6, spawn: 0.2, create: (world) => new CheckpointActor(world) },
  ];
  if (remote) {
    kinds.push({ kind: "compactor", max: 2, weight: 10, spawn: 0.15, create: (world) => new CompactorActor(world) });
  }
  return kinds;
}
