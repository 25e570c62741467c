/**
 * siltdb/kv: Deno KV's API (`Deno.openKv`, `Deno.Kv`, `Deno.KvU64`,
 * `Deno.AtomicOperation`) on siltdb, in Deno, Node and Bun, with one on-disk
 * format for all three. Keys sort as Deno KV sorts them; values are any
 * structured-cloneable value; atomic operations with checks, sum/min/max,
 * expiring entries, watches and a durable queue behave as Deno KV's (and
 * fail with its errors). The store is a siltdb directory (or `":memory:"`,
 * or a bucket).
 *
 * @example
 * ```ts
 * import { KvU64, openKv } from "siltdb/kv";
 *
 * const kv = await openKv("./kv");
 * await kv.set(["users", "alice"], { name: "Alice", joined: new Date() });
 * const alice = await kv.get(["users", "alice"]);
 * const ok = await kv.atomic()
 *   .check(alice)                                   // unchanged since the read
 *   .set(["users", "alice"], { ...alice.value as object, admin: true })
 *   .sum(["stats", "admins"], 1n)
 *   .commit();
 * console.log(ok);                                  // { ok: true, versionstamp: "..." }
 * for await (const entry of kv.list({ prefix: ["users"] })) console.log(entry.key, entry.value);
 * console.log((await kv.get<KvU64>(["stats", "admins"])).value?.value); // 1n
 * await kv.close();
 * ```
 *
 * @module
 */

export { DEFAULT_KV_PATH, FILE_SIDECAR_SUFFIX, type KvOpenOptions, openKv } from "./src/kv/open_kv.ts";
export { Kv, type KvConsistencyLevel, type KvEntryMaybe, type KvListOptions } from "./src/kv/kv.ts";
export {
  type AtomicCheck,
  AtomicOperation,
  type EnqueueOptions,
  type KvCommitError,
  type KvCommitResult,
  type KvMutationInput as KvMutation,
} from "./src/kv/atomic.ts";
export { KvU64 } from "./src/kv/kv_u64.ts";
export { type KvEntry, KvListIterator } from "./src/kv/list_iterator.ts";
export type { KvListSelector } from "./src/kv/selector.ts";
export type { KvKey, KvKeyPart } from "./src/kv/key_codec.ts";
