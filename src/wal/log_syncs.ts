// Compaction syncs give way to the log's (issue 21). A synced write waits
// for its log's fdatasync, and on a device with a volatile write cache and
// no FUA that sync flushes the cache behind everything written back before
// it: a compaction output's fsync (megabytes at a time) that lands just
// before it makes it wait for those megabytes too. Measured (db_bench's
// load, then one synced writer; docs/benchmarks.md, "Issue 21, eleventh
// stop"): synced puts cost 20-25% more while the load's compactions sync
// their outputs than once they are done.
//
// So the log tells this record when it syncs, and a compaction (in the
// worker or inline) that has an output ready to sync first waits for a
// pause in the log's syncs: none in flight and none ended in the last
// QUIET_MS. It waits DEFER_LIMIT_MS at most per output, so compactions go
// on under a writer that syncs without pause; the scheduler does not ask
// for the wait when L0 is at its slowdown trigger (writes already wait for
// compactions then). Until its sync the output's bytes stay in the OS page
// cache (the kernel writes dirty pages back after tens of seconds): nothing
// of it reaches the device in front of the log's syncs. Flushes never wait:
// a memtable is freed only once its table is durable. Only the order of
// syncs changes, never what is synced before the manifest names a table.
//
// Two cells, shared with the compaction worker when the runtime has
// SharedArrayBuffer (else a compaction in the worker does not wait):
//
//   cell 0  syncs of the log in flight (Int32, Atomics)
//   cell 1  when the last one ended: Date.now() | 0 (milliseconds, wrapping;
//           the same clock in every thread)

/** A pause of at least this long (ms) between the log's syncs lets a compaction sync an output. */
export const QUIET_MS = 2;
/** The longest a compaction output's sync waits for such a pause (ms). */
export const DEFER_LIMIT_MS = 1000;
/** How often a waiting compaction looks again (ms). */
const POLL_MS = 1;

/**
 * The record of a database log's syncs that compactions read (see the
 * header). The log calls syncing()/synced() around each sync; a compaction
 * awaits quiet() before syncing an output.
 *
 * @example
 * ```ts
 * const syncs = new LogSyncs();
 * syncs.syncing();                  // the log starts an fdatasync
 * syncs.synced();                   // ...and it ended
 * await syncs.quiet(1000);          // a compaction: returns after QUIET_MS without syncs (or 1 s)
 * const inWorker = new LogSyncs(syncs.shared); // the same record, seen from a worker
 * ```
 */
export class LogSyncs {
  readonly #cells: Int32Array;

  /** A new record, or (buffer) one shared by another thread. */
  constructor(buffer?: ArrayBufferLike) {
    this.#cells = new Int32Array(
      buffer ?? (typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(8) : new ArrayBuffer(8)),
    );
    if (buffer === undefined) this.#cells[1] = (Date.now() - 2 * QUIET_MS) | 0;
  }

  /** The buffer a worker attaches to, or undefined when it cannot be shared. */
  get shared(): SharedArrayBuffer | undefined {
    const buffer = this.#cells.buffer;
    return typeof SharedArrayBuffer === "function" && buffer instanceof SharedArrayBuffer ? buffer : undefined;
  }

  /** A sync of the log starts. */
  syncing(): void {
    Atomics.add(this.#cells, 0, 1);
  }

  /** A sync of the log ended (whether or not it succeeded). */
  synced(): void {
    Atomics.store(this.#cells, 1, Date.now() | 0);
    Atomics.sub(this.#cells, 0, 1);
  }

  /** True while a sync is in flight or one ended less than QUIET_MS ago. */
  get busy(): boolean {
    if (Atomics.load(this.#cells, 0) > 0) return true;
    const since = ((Date.now() | 0) - Atomics.load(this.#cells, 1)) | 0;
    return since >= 0 && since < QUIET_MS;
  }

  /** Resolves once the log's syncs pause (not busy), or after limitMs at most. */
  async quiet(limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (this.busy && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
