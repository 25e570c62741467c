// The lease: what the LOCK file of a database directory holds on a real
// file system (the protocol that writes and judges it: ./lease_lock.ts).
// A unique holder token, the holder's process identity and a heartbeat
// counter the holder rewrites in place every BEAT_MS; the timing constants
// other processes judge a holder by are here too.
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
//   On disk (docs/format.md, "LOCK"): do not change; a change of layout
//   gets a new first line.
//
// May import: nothing of siltdb (the compaction worker imports leaseToken
// from here, and bundles what this file imports).

/**
 * Heartbeat period of a holder, in ms. Part of the protocol between
 * processes (other openers judge a holder by it): do not change.
 *
 * @example
 * ```ts
 * import { BEAT_MS, STALE_MS } from "./lease_file.ts";
 * console.log(STALE_MS / BEAT_MS); // 6: beats a stale lease has missed
 * ```
 */
export const BEAT_MS = 500;
/**
 * A lease whose beat does not change for this long, in ms, is stale (its
 * holder is taken for dead). Part of the protocol between processes: do
 * not change.
 *
 * @example
 * ```ts
 * import { STALE_MS } from "./lease_file.ts";
 * console.log(`no beat for ${STALE_MS / 1000} s: stale`); // "no beat for 3 s: stale"
 * ```
 */
export const STALE_MS = 3000;

/**
 * A decoded lease.
 *
 * @example
 * ```ts
 * import type { Lease } from "./lease_file.ts";
 * const lease: Lease = { token: "ab".repeat(16), pid: 7, start: "0", ns: "", oslock: false, beat: 0 };
 * console.log(lease.token.length); // 32
 * ```
 */
export interface Lease {
  /** 32 hex digits, random, unique to one open. */
  token: string;
  pid: number;
  /** Start time of the process (/proc/<pid>/stat field 22), "0" if unknown. */
  start: string;
  /** "<boot id>:<pid namespace link>", "" if unknown. */
  ns: string;
  /** The holder also holds flock() on the file. */
  oslock: boolean;
  /** Heartbeat counter. */
  beat: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * The bytes of a lease file.
 *
 * @example
 * ```ts
 * import { encodeLease, leaseToken } from "./lease_file.ts";
 * const token = "0123456789abcdef0123456789abcdef";
 * const bytes = encodeLease({ token, pid: 42, start: "0", ns: "", oslock: false, beat: 0 });
 * console.log(leaseToken(bytes) === token); // true
 * ```
 */
export function encodeLease(l: Lease): Uint8Array {
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

/**
 * Decodes lease file bytes; undefined when absent, torn or damaged (bad
 * check, first line or token).
 *
 * @example
 * ```ts
 * import { decodeLease, encodeLease } from "./lease_file.ts";
 * const bytes = encodeLease({ token: "ab".repeat(16), pid: 7, start: "0", ns: "", oslock: true, beat: 3 });
 * console.log(decodeLease(bytes)?.beat, decodeLease(bytes.subarray(0, 20))); // 3 undefined
 * ```
 */
export function decodeLease(bytes: Uint8Array | undefined): Lease | undefined {
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

/**
 * The holder token of lease file bytes, or undefined if they hold no valid lease.
 *
 * @example
 * ```ts
 * import { leaseToken } from "./lease_file.ts";
 * console.log(leaseToken(new TextEncoder().encode("not a lease"))); // undefined
 * ```
 */
export function leaseToken(bytes: Uint8Array | undefined): string | undefined {
  return decodeLease(bytes)?.token;
}
