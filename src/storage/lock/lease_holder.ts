// Holding a lease (the LOCK file of ./lease_file.ts, taken by
// ./lease_lock.ts): a timer beats every BEAT_MS (unref'd: it never keeps a
// process alive). Before the database touches a file, `valid` re-reads LOCK
// if the last check is older than VERIFY_MS (the event loop may have been
// blocked past STALE_MS); a lease that is not ours any more means the lock
// was lost, and the database stops touching files.
// Releasing: LOCK is removed (if still ours), then the OS lock dropped.
//
// May import: ./lease_file.ts, ./lease_ops.ts (types), ../storage.ts (types).

import { keepAlive } from "../../_runtime.ts";
import type { StorageLock } from "../storage.ts";
import { BEAT_MS, decodeLease, encodeLease, type Lease, STALE_MS } from "./lease_file.ts";
import type { LeaseOps } from "./lease_ops.ts";

/** A holder re-checks its lease before touching files if its last check is older than this. */
const VERIFY_MS = 1000;

/**
 * A held lease: beats, verifies, releases. `forget` is called once the
 * lease is gone (released, or lost): the process-wide registry of held
 * directories lets the next opener in.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { acquireLease } from "./lease_lock.ts";
 * import { nodeLeaseOps } from "./node_lease_ops.ts";
 * const dir = mkdtempSync(`${tmpdir()}/siltdb-`);
 * const lock = await acquireLease(`${dir}/LOCK`, nodeLeaseOps(undefined)); // a LeaseHolder
 * console.log(lock.valid, lock.token?.length); // true 32
 * lock.release();
 * ```
 */
export class LeaseHolder<H> implements StorageLock {
  #lease: Lease;
  #lostReason: string | undefined;
  #released = false;
  #verifiedAt = performance.now();
  #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly ops: LeaseOps<H>,
    private readonly path: string,
    private readonly handle: H,
    lease: Lease,
    private readonly forget: () => void,
  ) {
    this.#lease = lease;
    this.#timer = setInterval(() => this.#beat(), BEAT_MS);
    keepAlive(this.#timer, false);
  }

  get token(): string {
    return this.#lease.token;
  }

  get valid(): boolean {
    if (this.#released || this.#lostReason !== undefined) return false;
    if (performance.now() - this.#verifiedAt > VERIFY_MS) this.#verify();
    return this.#lostReason === undefined;
  }

  get lostReason(): string | undefined {
    return this.#lostReason;
  }

  /** Re-reads LOCK: still ours? */
  #verify(): void {
    let current: Lease | undefined;
    try {
      const bytes = this.ops.readFile(this.path);
      if (bytes === undefined) {
        this.#lose("its LOCK file was removed");
        return;
      }
      current = decodeLease(bytes);
    } catch {
      return; // a failing read proves nothing; the next check retries
    }
    if (current !== undefined && current.token !== this.#lease.token) {
      this.#lose(
        `process ${current.pid} took it over: this process looked dead (no heartbeat for ${STALE_MS / 1000} s)`,
      );
      return;
    }
    this.#verifiedAt = performance.now();
  }

  #beat(): void {
    this.#verify();
    if (this.#lostReason !== undefined || this.#released) return;
    this.#lease = { ...this.#lease, beat: this.#lease.beat + 1 };
    try {
      this.ops.writeAt0(this.handle, encodeLease(this.#lease));
    } catch {
      // A missed beat: if beats keep failing, another opener may take over, and the next check notices.
    }
  }

  #lose(reason: string): void {
    this.#lostReason = reason;
    clearInterval(this.#timer);
    this.forget();
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    try {
      if (this.#lostReason === undefined && decodeLease(this.ops.readFile(this.path))?.token === this.#lease.token) {
        this.ops.remove(this.path);
      }
    } finally {
      this.ops.close(this.handle);
      if (this.#lostReason === undefined) this.forget();
    }
  }
}
