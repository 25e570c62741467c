// What the scheduler (scheduler.ts) needs from its database: src/open.ts
// wires it.

import type { SiltError } from "../errors.ts";
import type { CompactionEvent, FlushEvent } from "../events.ts";
import type { ResolvedOptions } from "../options.ts";
import type { TableCache } from "../table/table_cache.ts";
import type { VersionSet } from "../version/version_set.ts";
import type { BlockCache } from "../wasm/block_cache.ts";
import type { CompactionExecutor } from "../compaction/compactor.ts";
import type { LiveFiles } from "./obsolete_files.ts";

/** What the scheduler needs from its database. */
export interface SchedulerContext {
  dir: string;
  options: ResolvedOptions;
  versions: VersionSet;
  tables: TableCache;
  blocks: BlockCache;
  /** Sequence of the oldest live snapshot, or the last visible sequence when there is none. */
  oldestSnapshot(): number;
  /** Sequence of the newest live snapshot (or transaction), or 0 when there is none (the compaction filter's bound). */
  newestSnapshot(): number;
  /** The last sequence handed out (recorded by flush edits). */
  lastSequence(): number;
  /** First log of the active memtable: the oldest log needed once every immutable memtable is flushed. */
  activeLog(): number;
  /** Called after every change of the tree or of the error (queued writes may go on, or fail). */
  changed(): void;
  /** Called once per background error, when it is set. */
  onError(err: SiltError): void;
  /** Called when the core traps during background work: the database must close. */
  onTrap(err: unknown): void;
  /** Called when a flush is installed (after the stats count it). Must not throw. */
  onFlush?(event: FlushEvent): void;
  /** Called when a compaction or trivial move is installed (after the stats count it). Must not throw. */
  onCompaction?(event: CompactionEvent): void;
  /** Where compactions run. */
  executor: CompactionExecutor;
  /**
   * Deletes the files nothing needs any more (the one deleter: on disk
   * obsolete_files.ts, in a bucket the collector); returns the table numbers
   * deleted now, for the caches to forget.
   */
  deleteObsolete(live: LiveFiles): number[];
}
