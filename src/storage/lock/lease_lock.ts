// The directory lock on real file systems: one protocol for Node, Deno and
// Bun, that holds across processes, PID namespaces (containers sharing a
// volume) and runtimes, and needs no permission beyond the directory.
//
// The LOCK file holds a lease (layout: ./lease_file.ts): a unique holder
// token, the holder's process identity (./process_identity.ts) and a
// heartbeat counter the holder rewrites every BEAT_MS. The directory is held
// while a live holder keeps its lease fresh. Files are touched through the
// runtime's LeaseOps (./lease_ops.ts).
//
// Taking the lock (writer):
// 1. In this process, a registry on globalThis (shared by every copy of
//    this module) refuses a second writer of the same directory.
// 2. The lease is written to LOCK.<token>.tmp, which is flock()ed where the
//    runtime can (Deno: FsFile.tryLockSync; Bun: flock through bun:ffi) and
//    hard-linked to LOCK: link() fails if LOCK exists, so of two openers one
//    wins, and LOCK never appears without its content and its OS lock.
// 3. If LOCK exists, its holder is judged:
//    - its flock() is held: alive (LOCKED);
//    - we got the flock() and the lease says the holder had it: the holder
//      is dead (the kernel released it), stale;
//    - the lease names our boot and PID namespace: /proc/<pid>/stat tells
//      dead (absent, or another start time: the pid was reused) or alive;
//    - otherwise (another container, another host, no /proc): the lease is
//      watched for STALE_MS; a beat means alive, none means stale.
//    Never "is pid N alive?" alone: in another PID namespace pid N is
//    somebody else.
// 4. A stale lease is replaced by renaming our (locked) lease file over it,
//    after checking that LOCK still holds the stale lease; after SETTLE_MS we
//    read LOCK back, and only the opener whose token is there holds it.
// Holding and releasing: ./lease_holder.ts.
// Read-only opens write nothing: they only check, as in step 3, that no
// live writer holds the directory.
//
// May import: ./lease_file.ts, ./lease_holder.ts, ./lease_ops.ts (types),
// ./process_identity.ts, ../storage.ts (types), ../../errors.ts, node:path.

import { resolve } from "node:path";
import { SiltError } from "../../errors.ts";
import type { LockOptions, StorageLock } from "../storage.ts";
import { decodeLease, encodeLease, type Lease, STALE_MS } from "./lease_file.ts";
import { LeaseHolder } from "./lease_holder.ts";
import type { LeaseOps } from "./lease_ops.ts";
import { ourIdentity, processState } from "./process_identity.ts";

/** Time between replacing a stale lease and reading it back. */
const SETTLE_MS = 100;
const POLL_MS = 100;

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

function newToken(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const registryKey = Symbol.for("siltdb.heldLocks");
const registry: Set<string> = ((globalThis as Record<symbol, Set<string> | undefined>)[registryKey] ??= new Set());

function locked(path: string, why: string): SiltError {
  return new SiltError("LOCKED", `${path} is held by ${why}`, { file: path });
}

function describe(lease: Lease | undefined): string {
  return lease === undefined
    ? "another process (its lease is being written)"
    : `process ${lease.pid} (lease ${lease.token.slice(0, 8)})`;
}

/**
 * Judges the holder of the lease read from path: true when it is provably
 * dead. May watch the lease for up to STALE_MS.
 */
async function isStale<H>(
  ops: LeaseOps<H>,
  path: string,
  observed: Uint8Array,
  osFree: boolean | undefined,
): Promise<boolean> {
  const lease = decodeLease(observed);
  const me = ourIdentity(ops as LeaseOps<unknown>);
  if (lease !== undefined) {
    if (osFree === true && lease.oslock) return true; // its kernel lock is gone: the holder is dead
    if (me.ns !== "" && lease.ns === me.ns) {
      const state = processState(ops as LeaseOps<unknown>, lease.pid, lease.start);
      if (state !== "unknown") return state === "dead";
    }
  }
  // Another namespace, host or an unreadable /proc: watch for a heartbeat.
  for (let waited = 0; waited < STALE_MS; waited += POLL_MS) {
    await sleep(POLL_MS);
    if (!same(ops.readFile(path), observed)) return false;
  }
  return true;
}

/** Writes our lease to a fresh temp file, flock()ed where possible. */
function writeOwnLease<H>(ops: LeaseOps<H>, path: string, lease: Lease): { tmp: string; handle: H; lease: Lease } {
  const tmp = `${path}.${lease.token}.tmp`;
  const handle = ops.createNew(tmp);
  if (handle === undefined) throw new SiltError("IO_ERROR", `${tmp} exists already`, { file: tmp });
  try {
    const os = ops.tryOsLock(handle, true);
    const full = { ...lease, oslock: os === true };
    ops.writeAt0(handle, encodeLease(full));
    return { tmp, handle, lease: full };
  } catch (err) {
    ops.close(handle);
    ops.remove(tmp);
    throw err;
  }
}

/**
 * Takes the lock of a database directory (the file at path) with the lease
 * protocol above, or, with `readOnly`, checks that no live writer holds it.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { acquireLease } from "./lease_lock.ts";
 * import { nodeLeaseOps } from "./node_lease_ops.ts";
 * const dir = mkdtempSync(`${tmpdir()}/siltdb-`);
 * const lock = await acquireLease(`${dir}/LOCK`, nodeLeaseOps(undefined));
 * await acquireLease(`${dir}/LOCK`, nodeLeaseOps(undefined)).catch((err) => console.log(err.code)); // "LOCKED"
 * lock.release();
 * ```
 */
export async function acquireLease<H>(path: string, ops: LeaseOps<H>, options: LockOptions = {}): Promise<StorageLock> {
  const key = resolve(path);
  if (registry.has(key)) throw locked(path, "another open database in this process");
  if (options.readOnly) {
    await checkNoWriter(path, ops);
    return { release() {} };
  }
  const me = ourIdentity(ops as LeaseOps<unknown>);
  for (let attempt = 0; attempt < 8; attempt++) {
    const own = writeOwnLease(ops, path, {
      token: newToken(),
      pid: me.pid,
      start: me.start,
      ns: me.ns,
      oslock: false,
      beat: 0,
    });
    let keep = false;
    try {
      if (ops.link(own.tmp, path)) {
        if (registry.has(key)) throw locked(path, "another open database in this process");
        registry.add(key);
        keep = true;
        return new LeaseHolder(ops, path, own.handle, own.lease, () => registry.delete(key));
      }
      // LOCK exists: judge its holder.
      const existing = ops.openExisting(path, false);
      if (existing === undefined) continue; // released meanwhile: try again
      let observed: Uint8Array | undefined;
      let osFree: boolean | undefined;
      try {
        osFree = ops.tryOsLock(existing, true);
        if (osFree === false) throw locked(path, "a live process (it holds the OS lock)");
        if (osFree === true && ops.inode(path) !== ops.handleInode(existing)) continue; // replaced meanwhile
        observed = ops.readFile(path);
        if (observed === undefined) continue;
        if (!await isStale(ops, path, observed, osFree)) throw locked(path, describe(decodeLease(observed)));
      } finally {
        ops.close(existing);
      }
      // Stale: replace it, unless it changed meanwhile, then see who won.
      if (!same(ops.readFile(path), observed)) continue;
      ops.rename(own.tmp, path);
      await sleep(SETTLE_MS);
      const now = decodeLease(ops.readFile(path));
      if (now?.token !== own.lease.token) throw locked(path, describe(now));
      if (registry.has(key)) throw locked(path, "another open database in this process");
      registry.add(key);
      keep = true;
      return new LeaseHolder(ops, path, own.handle, own.lease, () => registry.delete(key));
    } finally {
      if (!keep) ops.close(own.handle);
      ops.remove(own.tmp);
    }
  }
  throw locked(path, "other processes: the lock kept changing hands");
}

/** A read-only open: LOCKED if a live writer holds the directory. Writes nothing. */
async function checkNoWriter<H>(path: string, ops: LeaseOps<H>): Promise<void> {
  const handle = ops.openExisting(path, true);
  if (handle === undefined) return; // no writer
  try {
    const osFree = ops.tryOsLock(handle, false);
    if (osFree === false) throw locked(path, "a live writer (it holds the OS lock)");
    const observed = ops.readFile(path);
    if (observed === undefined) return;
    if (!await isStale(ops, path, observed, osFree)) {
      throw locked(path, `a live writer, ${describe(decodeLease(observed))}`);
    }
  } finally {
    ops.close(handle); // drops a shared OS lock taken to look
  }
}
