// The directory lock on real file systems: one protocol for Node, Deno and
// Bun, that holds across processes, PID namespaces (containers sharing a
// volume) and runtimes, and needs no permission beyond the directory.
//
// The LOCK file holds a lease: a unique holder token, the holder's process
// identity and a heartbeat counter the holder rewrites every BEAT_MS. The
// directory is held while a live holder keeps its lease fresh.
//
//   +------------------------------------------------------------------+
//   | siltdb-lock 1                                                    |
//   | token  <32 hex digits: random, unique to this open>              |
//   | pid    <12 digits>                                               |
//   | start  <20 digits: process start time, /proc/<pid>/stat field 22>|
//   | ns     <64 chars: boot id ":" pid namespace, or blanks>          |
//   | oslock <1 if the holder also holds flock() on this file, else 0> |
//   | beat   <16 digits: heartbeat counter>                            |
//   | check  <8 hex digits: FNV-1a of the lines above>                 |
//   +------------------------------------------------------------------+
//   ASCII, one field per line, fixed widths (the holder rewrites it in place).
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
// Holding: a timer beats every BEAT_MS (unref'd: it never keeps a process
// alive). Before the database touches a file, `valid` re-reads LOCK if the
// last check is older than VERIFY_MS (the event loop may have been blocked
// past STALE_MS); a lease that is not ours any more means the lock was lost,
// and the database stops touching files.
// Releasing: LOCK is removed (if still ours), then the OS lock dropped.
// Read-only opens write nothing: they only check, as in step 3, that no
// live writer holds the directory.

import { resolve } from "node:path";
import { SiltError } from "../errors.ts";
import { pid as ourPid } from "../_runtime.ts";
import type { LockOptions, StorageLock } from "./storage.ts";

/** Heartbeat period of a holder. */
export const BEAT_MS = 500;
/** A lease without a beat for this long is stale. */
export const STALE_MS = 3000;
/** A holder re-checks its lease before touching files if its last check is older than this. */
const VERIFY_MS = 1000;
/** Time between replacing a stale lease and reading it back. */
const SETTLE_MS = 100;
const POLL_MS = 100;

/** File operations the protocol needs, from the runtime's own API. H is an open file. */
export interface LeaseOps<H> {
  /** Creates path exclusively (read/write); undefined if it exists. */
  createNew(path: string): H | undefined;
  /** Opens an existing file (read/write unless readOnly); undefined if it does not exist. */
  openExisting(path: string, readOnly: boolean): H | undefined;
  /** Writes data at offset 0. */
  writeAt0(handle: H, data: Uint8Array): void;
  /** Tries flock(): true if taken, false if another holds it, undefined if the runtime cannot. */
  tryOsLock(handle: H, exclusive: boolean): boolean | undefined;
  /** Inode of the open file (undefined where the runtime does not tell). */
  handleInode(handle: H): number | undefined;
  close(handle: H): void;
  /** The whole file, or undefined if it does not exist. */
  readFile(path: string): Uint8Array | undefined;
  /** Inode at path, or undefined if nothing is there. */
  inode(path: string): number | undefined;
  /** Hard link; false if `to` exists. */
  link(from: string, to: string): boolean;
  rename(from: string, to: string): void;
  /** Removes a file; no error if it is missing. */
  remove(path: string): void;
  /** Target of a symbolic link, or undefined if unreadable. */
  readLink(path: string): string | undefined;
}

interface Lease {
  token: string;
  pid: number;
  start: string;
  ns: string;
  oslock: boolean;
  beat: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function encodeLease(l: Lease): Uint8Array {
  const body = [
    "siltdb-lock 1",
    `token  ${l.token}`,
    `pid    ${String(l.pid).padStart(12, "0")}`,
    `start  ${l.start.padStart(20, "0")}`,
    `ns     ${l.ns.padEnd(64, " ")}`,
    `oslock ${l.oslock ? 1 : 0}`,
    `beat   ${String(l.beat).padStart(16, "0")}`,
  ].join("\n") + "\n";
  return encoder.encode(`${body}check  ${fnv1a(body)}\n`);
}

function decodeLease(bytes: Uint8Array | undefined): Lease | undefined {
  if (bytes === undefined) return undefined;
  const text = decoder.decode(bytes);
  const at = text.lastIndexOf("check  ");
  if (at < 0 || text.slice(at + 7, at + 15) !== fnv1a(text.slice(0, at))) return undefined;
  const field = (name: string) =>
    /^(\S+)\s+(.*)$/m.exec(text.split("\n").find((l) => l.startsWith(name + " ")) ?? "")?.[2];
  if (!text.startsWith("siltdb-lock 1\n")) return undefined;
  const token = field("token");
  if (token === undefined || !/^[0-9a-f]{32}$/.test(token)) return undefined;
  return {
    token,
    pid: Number(field("pid")),
    start: String(Number(field("start") ?? "0")),
    ns: (field("ns") ?? "").trim(),
    oslock: field("oslock") === "1",
    beat: Number(field("beat")),
  };
}

/** The holder token of lease file bytes, or undefined if they hold no valid lease. */
export function leaseToken(bytes: Uint8Array | undefined): string | undefined {
  return decodeLease(bytes)?.token;
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

function newToken(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This process: pid, start time and "boot id:pid namespace" (blank where /proc does not tell). */
interface Identity {
  pid: number;
  start: string;
  ns: string;
}

let identity: Identity | undefined;

function startTimeOf(ops: LeaseOps<unknown>, pid: number | "self"): string | undefined {
  const stat = ops.readFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (the command) is in parentheses and may hold spaces: count from the last ")".
  const text = decoder.decode(stat);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 of the whole line
}

function ourIdentity(ops: LeaseOps<unknown>): Identity {
  if (identity !== undefined) return identity;
  let start = "0";
  let ns = "";
  try {
    const boot = ops.readFile("/proc/sys/kernel/random/boot_id");
    const pidNs = ops.readLink("/proc/self/ns/pid");
    start = startTimeOf(ops, "self") ?? "0";
    if (boot !== undefined && pidNs !== undefined && start !== "0") ns = `${decoder.decode(boot).trim()}:${pidNs}`;
  } catch {
    // No /proc, or no permission to read it: leases are judged by their heartbeat alone.
  }
  identity = { pid: ourPid, start, ns };
  return identity;
}

/** What /proc says of a process of our namespace: "dead", "alive" or "unknown". */
function processState(ops: LeaseOps<unknown>, pid: number, start: string): "dead" | "alive" | "unknown" {
  try {
    const actual = startTimeOf(ops, pid);
    if (actual === undefined) return "dead";
    return String(Number(actual)) === start ? "alive" : "dead"; // another start time: the pid was reused
  } catch {
    return "unknown";
  }
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

/** A held lease: beats, verifies, releases. */
class LeaseHolder<H> implements StorageLock {
  #lease: Lease;
  #lostReason: string | undefined;
  #released = false;
  #verifiedAt = performance.now();
  #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly ops: LeaseOps<H>,
    private readonly path: string,
    private readonly key: string,
    private readonly handle: H,
    lease: Lease,
  ) {
    this.#lease = lease;
    this.#timer = setInterval(() => this.#beat(), BEAT_MS);
    unrefTimer(this.#timer);
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
    registry.delete(this.key);
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
      if (this.#lostReason === undefined) registry.delete(this.key);
    }
  }
}

function unrefTimer(timer: ReturnType<typeof setInterval>): void {
  const t = timer as unknown as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer as unknown as number);
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
        return new LeaseHolder(ops, path, key, own.handle, own.lease);
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
      return new LeaseHolder(ops, path, key, own.handle, own.lease);
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
