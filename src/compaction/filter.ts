// The compaction filter (open option compactionFilter; RocksDB's
// CompactionFilter): a module, named by URL, whose default export decides
// during compaction what becomes of the newest version of each key that no
// snapshot reads. It is imported where the compaction runs: at open (to
// refuse a URL that does not load), and in the compaction worker (the job
// carries the URL; each runtime caches the module). The core queues the
// entries it keeps and stops once per batch of candidates
// (core/compaction_iter.ts and filter_queue.ts, CI_FILTER); filterBatch()
// reads them, calls the filter for each and gives the core its decisions.
//
// Which versions it sees: only a put (or a live expiring put) that is the
// newest version of its key and newer than every live snapshot when the
// job is made, so a snapshot keeps reading what it read when it was taken;
// a snapshot taken while the compaction runs makes the scheduler run it
// again without the filter (src/background/scheduler.ts). (RocksDB used to
// skip versions a snapshot can see in the same way; since 6.0 it filters
// them too and snapshots may change.) "drop" turns the version into a
// tombstone, as RocksDB's kRemove: older versions kept for snapshots stay
// hidden from new reads.

import { invalidArgument, SiltError } from "../errors.ts";
import { EXPIRY_PREFIX_SIZE, KIND_PUT_EXPIRING } from "../format/internal_key.ts";
import type { CoreCompaction } from "../wasm/compaction_iter.ts";
import type { TableBuilder } from "../wasm/table_builder.ts";

/**
 * A compaction filter's decision: keep the entry, drop it (it reads as
 * deleted from then on), or keep it with a new value.
 *
 * @example
 * ```ts
 * const decisions: CompactionDecision[] = ["keep", "drop", { value: new Uint8Array([1]) }];
 * ```
 */
export type CompactionDecision = "keep" | "drop" | { value: Uint8Array };

/**
 * What a compaction filter knows of an entry besides its key and value.
 *
 * @example
 * ```ts
 * const ctx: CompactionFilterContext = { level: 1, sequence: 42, expireAt: undefined };
 * ```
 */
export interface CompactionFilterContext {
  /** The level the compaction writes to. */
  level: number;
  /** The entry's sequence number (its version). */
  sequence: number;
  /** An expiring put's expiry time (epoch ms), else undefined. A new value keeps it. */
  expireAt: number | undefined;
}

/**
 * The default export of a compactionFilter module: called during compaction
 * with the stored key and value bytes (not decoded by the key/value
 * encodings) of the newest version of each key no snapshot reads. It must
 * be synchronous, fast and deterministic; a throw stops the compaction
 * (its outputs are discarded) and becomes the background error.
 *
 * @example
 * ```ts
 * // filter.js, opened with open(dir, { compactionFilter: new URL("./filter.js", import.meta.url) })
 * export default function filter(key: Uint8Array, value: Uint8Array): CompactionDecision {
 *   if (new TextDecoder().decode(key).startsWith("tmp:")) return "drop";
 *   return value.length > 1000 ? { value: value.subarray(0, 1000) } : "keep";
 * }
 * const typed: CompactionFilter = filter;
 * ```
 */
export type CompactionFilter = (key: Uint8Array, value: Uint8Array, ctx: CompactionFilterContext) => CompactionDecision;

const loaded = new Map<string, Promise<CompactionFilter>>();

/**
 * Imports the filter module at url (once per runtime) and returns its
 * default export; INVALID_ARGUMENT names a URL that does not load or whose
 * default export is not a function.
 *
 * @example
 * ```ts
 * const filter = await loadCompactionFilter("file:///srv/app/filter.js");
 * ```
 */
export function loadCompactionFilter(url: string): Promise<CompactionFilter> {
  let p = loaded.get(url);
  if (p === undefined) {
    p = importFilter(url);
    loaded.set(url, p);
    p.catch(() => loaded.delete(url)); // a module fixed later may load next time
  }
  return p;
}

async function importFilter(url: string): Promise<CompactionFilter> {
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (err) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      `compactionFilter ${url} could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
      {},
      err,
    );
  }
  if (typeof mod.default !== "function") {
    throw invalidArgument(`compactionFilter ${url} has no default export that is a function (a CompactionFilter)`);
  }
  return mod.default as CompactionFilter;
}

/**
 * Decides the batch the compaction stopped at (status Filter): calls the
 * filter for each candidate and hands the core its decisions. A throw or a
 * bad decision becomes a SiltError (ABORTED: the compaction stops) naming
 * the filter and the key.
 *
 * @example
 * ```ts
 * import type { CoreCompaction } from "../wasm/compaction_iter.ts";
 * import type { TableBuilder } from "../wasm/table_builder.ts";
 * declare const merge: CoreCompaction, builder: TableBuilder, filter: CompactionFilter;
 * filterBatch(merge, builder, filter, "file:///srv/app/filter.js", 1);
 * ```
 */
export function filterBatch(
  merge: CoreCompaction,
  builder: TableBuilder,
  filter: CompactionFilter,
  url: string,
  level: number,
): void {
  const decisions = merge.filterCandidates().map((e) => decideOne(e, filter, url, level));
  merge.decide(builder, decisions);
}

const keyText = (key: Uint8Array) => JSON.stringify(new TextDecoder().decode(key));

function decideOne(
  e: { key: Uint8Array; value: Uint8Array; sequence: number; kind: number },
  filter: CompactionFilter,
  url: string,
  level: number,
): "keep" | "drop" | Uint8Array {
  const expiring = e.kind === KIND_PUT_EXPIRING;
  const value = expiring ? e.value.subarray(EXPIRY_PREFIX_SIZE) : e.value;
  const prefix = new DataView(e.value.buffer, e.value.byteOffset, e.value.byteLength);
  const expireAt = expiring ? prefix.getUint32(0, true) + prefix.getUint32(4, true) * 2 ** 32 : undefined;
  let decision: unknown;
  try {
    decision = filter(e.key, value, { level, sequence: e.sequence, expireAt });
  } catch (err) {
    throw new SiltError(
      "ABORTED",
      `compactionFilter ${url} threw at key ${keyText(e.key)}: ${
        err instanceof Error ? err.message : String(err)
      } (the compaction's outputs were discarded)`,
      {},
      err,
    );
  }
  if (decision === "keep" || decision === "drop") return decision;
  const replaced = (decision as { value?: unknown } | null)?.value;
  if (typeof decision === "object" && replaced instanceof Uint8Array) {
    if (!expiring) return replaced;
    const stored = new Uint8Array(EXPIRY_PREFIX_SIZE + replaced.length);
    stored.set(e.value.subarray(0, EXPIRY_PREFIX_SIZE));
    stored.set(replaced, EXPIRY_PREFIX_SIZE);
    return stored;
  }
  throw new SiltError(
    "ABORTED",
    `compactionFilter ${url} returned ${
      typeof decision === "string" ? JSON.stringify(decision) : typeof decision
    } for key ${
      keyText(e.key)
    }: it must return "keep", "drop" or { value: Uint8Array } (the compaction's outputs were discarded)`,
  );
}
