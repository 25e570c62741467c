// siltdb/kv in the browser: openKv(name) runs Deno KV's API on a siltdb
// store in the Origin Private File System ("siltdb-<name>", the same layout
// and Web Lock as siltdb/browser's open()). The engine, and so the KV layer,
// runs where OPFS's synchronous file handles exist: a dedicated worker.
// ":memory:" works anywhere. The modules load when openKv is first called,
// so a page that imports siltdb/browser does not load the engine.

import { SiltError } from "../errors.ts";
import type { Kv } from "../kv/kv.ts";
import type { StoreOptions } from "../kv/store.ts";
import type { WorkerEnv } from "./in_worker.ts";

/** Options of the browser's openKv: siltdb's open options (not the encodings or `fs`), and `wait` for the lock. */
export type BrowserKvOptions = Omit<StoreOptions, "fs" | "objectStore"> & {
  /** When another tab or worker has the store open: wait for it (true) or fail with LOCKED (false, the default). */
  wait?: boolean;
};

/** True in a dedicated worker (where OPFS has synchronous handles). */
function inDedicatedWorker(): boolean {
  const g = globalThis as { DedicatedWorkerGlobalScope?: unknown; self?: unknown };
  return typeof g.DedicatedWorkerGlobalScope === "function" && g.self instanceof
      (g.DedicatedWorkerGlobalScope as new () => unknown);
}

/**
 * Opens a Deno KV database on siltdb in the browser: a name on the Origin
 * Private File System (inside a dedicated worker), or ":memory:" (anywhere).
 * The store persists across reloads; one tab or worker holds it at a time.
 *
 * @example
 * ```ts ignore
 * // in a dedicated worker
 * import { openKv } from "siltdb/browser";
 * const kv = await openKv("app");
 * await kv.set(["visits"], 1);
 * await kv.atomic().sum(["hits"], 1n).commit();
 * console.log((await kv.get(["visits"])).value); // 1
 * kv.close();
 * ```
 */
export async function openKv(name: string, options: BrowserKvOptions = {}, env: WorkerEnv = {}): Promise<Kv> {
  const [{ KvStore }, { kvOn }] = await Promise.all([import("../kv/store.ts"), import("../kv/kv.ts")]);
  if (name === ":memory:") return kvOn(await KvStore.acquire({ kind: "memory" }, options));
  if (env.root === undefined && !inDedicatedWorker()) {
    throw new SiltError(
      "UNSUPPORTED",
      `openKv("${name}"): siltdb/kv keeps its store on the Origin Private File System, whose synchronous file ` +
        `handles exist only in dedicated workers: call openKv() inside one (or use ":memory:")`,
    );
  }
  const { openInWorker } = await import("./in_worker.ts");
  const sync = options.sync ?? true;
  const db = await openInWorker(name, { ...options, sync, keyEncoding: "binary", valueEncoding: "binary" }, env);
  return kvOn(await KvStore.acquire({ kind: "db", db: db as never }, { ...options, sync }));
}
