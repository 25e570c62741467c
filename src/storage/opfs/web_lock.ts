// The directory locks of OpfsStorage (Storage.lock): one writer per lock
// path, kept in this storage by a registry and across tabs and workers by a
// Web Lock named prefix + path (`navigator.locks`, or the manager given).
//
// The registry is per storage: only one OpfsStorage can have a directory's
// slots open at a time (sync access handles are exclusive), and two storages
// over two directories may use the same virtual path. A read-only lock takes
// the Web Lock shared and gives it back at once: it only checks that no
// writer holds it.
//
// May import: ./opfs_api.ts (types), ../storage.ts (types),
// ../../_runtime.ts, ../../errors.ts.

import { SiltError } from "../../errors.ts";
import { ioError } from "../../_runtime.ts";
import type { LockOptions, StorageLock } from "../storage.ts";
import type { OpfsLockManager } from "./opfs_api.ts";

/** Web Locks this process gave back and that are not free yet, by name. */
const releasingWebLocks = new Map<string, Promise<void>>();

/**
 * Takes the Web Lock `name` if it is free, without waiting for it: resolves
 * to the function that gives it back, or to null when another holder has
 * it. A shared request (a read-only check) is given back at once. Rejects
 * with the lock manager's own error.
 *
 * @example
 * ```ts ignore
 * import { takeWebLock } from "./web_lock.ts";
 * const giveBack = await takeWebLock(navigator.locks, "siltdb-opfs:dir:/db/LOCK", false);
 * if (giveBack === null) throw new Error("held elsewhere");
 * giveBack();
 * ```
 */
export async function takeWebLock(
  manager: OpfsLockManager,
  name: string,
  shared: boolean,
): Promise<(() => void) | null> {
  // A Web Lock given back is free only once its request settles: wait
  // for one this process gave back, so that close-then-open works.
  await releasingWebLocks.get(name);
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  let settled: Promise<unknown> | undefined;
  const granted = await new Promise<boolean>((resolve, reject) => {
    settled = manager.request(
      name,
      { mode: shared ? "shared" : "exclusive", ifAvailable: true },
      (lock) => {
        resolve(lock !== null && lock !== undefined);
        // Held until release (a read-only check gives it up at once).
        return lock && !shared ? held : undefined;
      },
    );
    settled.catch(reject);
  });
  if (!granted) return null;
  const done = settled!.then(() => {}, () => {}).finally(() => {
    if (releasingWebLocks.get(name) === done) releasingWebLocks.delete(name);
  });
  const giveBack = () => {
    releasingWebLocks.set(name, done);
    release();
  };
  if (!shared) return giveBack;
  giveBack();
  return () => {};
}

/**
 * The locks of one OpfsStorage: {@linkcode OpfsLocks.take} is its
 * `Storage.lock` after the path is normalized and the storage checked open.
 *
 * @example
 * ```ts
 * import { OpfsLocks } from "./web_lock.ts";
 * const locks = new OpfsLocks(null, "siltdb-opfs:dir:", () => false); // null: no Web Locks, in-storage only
 * const lock = await locks.take("/db/LOCK");
 * await locks.take("/db/LOCK").catch((err) => console.log(err.code)); // "LOCKED"
 * lock.release();
 * ```
 */
export class OpfsLocks {
  readonly #manager: OpfsLockManager | null;
  readonly #prefix: string;
  readonly #closed: () => boolean;
  readonly #own = new Map<string, () => void>();

  /**
   * `manager` null: no Web Locks (in-storage only). `closed` tells whether
   * the storage was closed: its locks are no longer valid then.
   */
  constructor(manager: OpfsLockManager | null, prefix: string, closed: () => boolean) {
    this.#manager = manager;
    this.#prefix = prefix;
    this.#closed = closed;
  }

  /**
   * Takes the lock of the normalized path `p` (LOCKED when this storage,
   * another worker or another tab holds it), or with `readOnly` only checks
   * that no writer holds it.
   */
  async take(p: string, options: LockOptions = {}): Promise<StorageLock> {
    const locked = () =>
      new SiltError(
        "LOCKED",
        `${p} is held by another open database (in this worker, another worker or another tab)`,
        { file: p },
      );
    if (this.#own.has(p)) throw locked();
    let releaseWebLock: (() => void) | undefined;
    if (this.#manager !== null) {
      let giveBack: (() => void) | null;
      try {
        giveBack = await takeWebLock(this.#manager, this.#prefix + p, !!options.readOnly);
      } catch (err) {
        throw ioError("lock", p, err);
      }
      if (giveBack === null) throw locked();
      if (!options.readOnly) releaseWebLock = giveBack;
    }
    if (this.#own.has(p)) {
      releaseWebLock?.();
      throw locked();
    }
    if (options.readOnly) {
      return { release() {}, valid: true };
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (this.#own.get(p) === release) this.#own.delete(p);
      releaseWebLock?.();
    };
    this.#own.set(p, release);
    const closed = this.#closed;
    return {
      release,
      get valid() {
        return !released && !closed();
      },
      get lostReason() {
        return closed() ? "the OPFS storage was closed" : undefined;
      },
    };
  }

  /** Releases every lock still held (the storage closes). */
  releaseAll(): void {
    for (const release of [...this.#own.values()]) release();
    this.#own.clear();
  }
}
