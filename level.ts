/**
 * siltdb for the Level ecosystem: {@linkcode SiltLevel} is an
 * [abstract-level](https://github.com/Level/abstract-level) database stored
 * by siltdb, a drop-in for `classic-level` / `level` that needs no native
 * bindings and runs in Node, Deno and Bun. Sublevels, encodings, hooks,
 * events, explicit snapshots and every other abstract-level feature work as
 * they do with `classic-level`.
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 *
 * const db = new SiltLevel<string, { name: string }>("./data", { valueEncoding: "json" });
 * await db.put("user:1", { name: "alice" });
 * console.log(await db.get("user:1"));                      // { name: "alice" }
 * await db.batch().put("user:2", { name: "bob" }).del("user:1").write();
 * for await (const [key, value] of db.iterator({ gte: "user:", lt: "user;" })) {
 *   console.log(key, value);                                // user:2 { name: "bob" }
 * }
 * const snapshot = db.snapshot();
 * await db.del("user:2");
 * console.log(await db.get("user:2", { snapshot }));       // { name: "bob" }
 * await snapshot.close();
 * await db.close();
 * ```
 *
 * @module
 */

export { SiltLevel, type SiltLevelOptions, type SiltOpenOptions } from "./src/abstract_level/silt_level.ts";
export { SiltLevelAbortError, SiltLevelError } from "./src/abstract_level/errors.ts";
export type { SiltData } from "./src/abstract_level/format.ts";
// siltdb's types, which SiltLevel's options and its `siltdb` getter refer to.
export type * from "./mod.ts";
