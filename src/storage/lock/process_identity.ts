// Who holds a lease, as /proc tells it: this process's identity (pid, start
// time, boot id and PID namespace), written into its lease, and whether a
// process of our namespace is alive. Never "is pid N alive?" alone: in
// another PID namespace (a container sharing the volume) pid N is somebody
// else, so the lease protocol (./lease_lock.ts) asks only when the lease
// names our boot and namespace; and a pid is reused, so the start time must
// match too. Where /proc is missing or unreadable, the identity is partly
// blank and leases are judged by their heartbeat alone.
//
// May import: ./lease_ops.ts (types), ../../_runtime.ts.

import { pid as ourPid } from "../../_runtime.ts";
import type { LeaseOps } from "./lease_ops.ts";

/**
 * This process: pid, start time and "boot id:pid namespace" (blank where /proc does not tell).
 *
 * @example
 * ```ts
 * import type { Identity } from "./process_identity.ts";
 * const unknown: Identity = { pid: 1, start: "0", ns: "" }; // no /proc: judged by heartbeat only
 * console.log(unknown.ns === ""); // true
 * ```
 */
export interface Identity {
  pid: number;
  start: string;
  ns: string;
}

const decoder = new TextDecoder();
let identity: Identity | undefined;

function startTimeOf(ops: LeaseOps<unknown>, pid: number | "self"): string | undefined {
  const stat = ops.readFile(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (the command) is in parentheses and may hold spaces: count from the last ")".
  const text = decoder.decode(stat);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 of the whole line
}

/**
 * This process's identity, read once through `ops` and kept.
 *
 * @example
 * ```ts
 * import { ourIdentity } from "./process_identity.ts";
 * import { nodeLeaseOps } from "./node_lease_ops.ts";
 * console.log(ourIdentity(nodeLeaseOps(undefined)).pid); // this process's pid
 * ```
 */
export function ourIdentity(ops: LeaseOps<unknown>): Identity {
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

/**
 * What /proc says of a process of our namespace: "dead" (gone, or its pid
 * now belongs to a process with another start time), "alive" or "unknown"
 * (/proc unreadable).
 *
 * @example
 * ```ts
 * import { processState } from "./process_identity.ts";
 * import { nodeLeaseOps } from "./node_lease_ops.ts";
 * console.log(processState(nodeLeaseOps(undefined), 999999999, "123")); // "dead"
 * ```
 */
export function processState(ops: LeaseOps<unknown>, pid: number, start: string): "dead" | "alive" | "unknown" {
  try {
    const actual = startTimeOf(ops, pid);
    if (actual === undefined) return "dead";
    return String(Number(actual)) === start ? "alive" : "dead"; // another start time: the pid was reused
  } catch {
    return "unknown";
  }
}
