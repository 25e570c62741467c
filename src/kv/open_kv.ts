// openKv(): where a Deno KV path puts the siltdb store, and the handle on it.
//
//   openKv(":memory:")      a private in-memory store (siltdb's MemoryStorage),
//                           gone when closed
//   openKv()                the directory "siltdb-kv" in the working directory
//   openKv("./data/kv")     that directory (created if missing)
//   openKv("s3://b/p")      a store in a bucket (siltdb's open; see its options)
//   openKv("./kv.sqlite3")  naming an existing FILE (Deno KV's databases are
//                           files): the store is the directory beside it,
//                           "./kv.sqlite3.siltdb", and that directory is used
//                           from then on even if the file goes
//
// Paths are resolved against the working directory; handles of the same
// directory in one process share one store. Another process cannot open a
// directory a process has open (siltdb's one-writer lock: LOCKED). With an
// `fs` or `objectStore` option (or an s3:// URL) the path is siltdb's to
// interpret and each openKv() opens a store of its own.

import { statSync } from "node:fs";
import { resolve } from "node:path";
import { type Kv, kvOn } from "./kv.ts";
import { KvStore, type StoreLocation, type StoreOptions } from "./store.ts";

/** The directory openKv() uses without a path. */
export const DEFAULT_KV_PATH = "siltdb-kv";
/** The suffix of the directory beside a path that names a file. */
export const FILE_SIDECAR_SUFFIX = ".siltdb";

/**
 * Options of openKv: siltdb's open options (not the encodings, which
 * siltdb/kv chooses). `sync` defaults to true here: a commit resolves once
 * it is durable (fsynced, shared by the commits of a moment), as Deno KV's
 * SQLite commits are; `sync: false` resolves once the operating system has
 * the bytes (a process crash loses nothing, a power loss may).
 */
export type KvOpenOptions = StoreOptions;

/**
 * Opens a Deno KV database on siltdb (Deno's `Deno.openKv`): `":memory:"`,
 * a directory, a path naming a file (the store goes beside it), an s3://
 * URL, or nothing (the directory "siltdb-kv").
 *
 * @example
 * ```ts
 * import { openKv } from "siltdb/kv";
 * const kv = await openKv("./kv");
 * await kv.set(["greeting"], "hello");
 * console.log((await kv.get(["greeting"])).value); // "hello"
 * await kv.close();
 * ```
 */
export async function openKv(path?: string, options: KvOpenOptions = {}): Promise<Kv> {
  return kvOn(await KvStore.acquire(locate(path, options), options));
}

/** Where a path's store is (the TypeErrors are Deno KV's). */
function locate(path: string | undefined, options: KvOpenOptions): StoreLocation {
  if (path === undefined) path = DEFAULT_KV_PATH;
  if (typeof path !== "string") throw new TypeError(`openKv() takes a path string, got ${typeof path}`);
  if (path === "") throw new TypeError("Filename cannot be empty");
  if (path === ":memory:") return { kind: "memory" };
  if (path.startsWith(":")) throw new TypeError("Filename cannot start with ':' unless prefixed with './'");
  if (/^https?:\/\//i.test(path)) {
    throw new TypeError(`openKv(${JSON.stringify(path)}): siltdb/kv has no KV Connect client for remote databases`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || options.fs !== undefined || options.objectStore !== undefined) {
    return { kind: "private", path };
  }
  const full = resolve(path);
  const sidecar = full + FILE_SIDECAR_SUFFIX;
  if (isDirectory(sidecar)) return { kind: "path", path: sidecar };
  const stat = statOf(full);
  if (stat !== undefined && !stat.isDirectory()) return { kind: "path", path: sidecar };
  return { kind: "path", path: full };
}

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() ?? false;
}
