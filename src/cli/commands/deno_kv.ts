// siltdb kv list|get: reads a siltdb/kv store (Deno KV's API on siltdb)
// with tuple keys written as JSON, read-only, without siltdb/kv's handle
// (which would sweep expired entries: a write). Keys and values are shown
// as JSON with tagged forms for what JSON cannot hold (kvJson below).

import { intFlag, type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { stderr, stdout } from "../io.ts";
import { openStore, type Store } from "../store.ts";
import { decodeKey, encodeKey, type KvKey, type KvKeyPart } from "../../kv/key_codec.ts";
import { liveEntry } from "../../kv/entry.ts";
import { decodeValue } from "../../kv/value_codec.ts";
import { FORMAT_KEY, prefixEnd, RESERVED } from "../../kv/layout.ts";
import { KvU64 } from "../../kv/kv_u64.ts";
import { SiltError } from "../../errors.ts";

const toBase64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/**
 * A stored key or value as JSON: JSON's own types as they are; bigint as
 * {"$bigint": "12"}, Uint8Array as {"$bytes": base64}, KvU64 as {"$u64": "5"},
 * Date as {"$date": ISO}, Map, Set, RegExp and undefined tagged the same
 * way, other objects by their enumerable properties.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(kvJson(["users", 1n]))); // ["users",{"$bigint":"1"}]
 * ```
 */
export function kvJson(value: unknown, seen = new Set<unknown>()): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value === undefined) return { $undefined: true };
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) };
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return { $cycle: true };
  seen.add(value);
  try {
    if (value instanceof Uint8Array) return { $bytes: toBase64(value) };
    if (value instanceof KvU64) return { $u64: value.value.toString() };
    if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
    if (value instanceof RegExp) return { $regexp: value.toString() };
    if (value instanceof Map) return { $map: [...value].map(([k, v]) => [kvJson(k, seen), kvJson(v, seen)]) };
    if (value instanceof Set) return { $set: [...value].map((v) => kvJson(v, seen)) };
    if (ArrayBuffer.isView(value)) {
      return {
        [`$${value.constructor.name}`]: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)),
      };
    }
    if (value instanceof ArrayBuffer) return { $arraybuffer: toBase64(new Uint8Array(value)) };
    if (Array.isArray(value)) return value.map((v) => kvJson(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = kvJson(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** A tuple key from its JSON text (the tagged forms of kvJson for bigint and bytes). */
export function keyArg(text: string, what: string): KvKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${what} must be a JSON array of key parts, such as '["users", "alice"]', got ${text}`);
  }
  if (!Array.isArray(parsed)) throw new UsageError(`${what} must be a JSON array of key parts, got ${text}`);
  return parsed.map((part, i): KvKeyPart => {
    if (typeof part === "string" || typeof part === "number" || typeof part === "boolean") return part;
    if (part !== null && typeof part === "object") {
      const tagged = part as Record<string, unknown>;
      if (typeof tagged.$bigint === "string") return BigInt(tagged.$bigint);
      if (typeof tagged.$bytes === "string") return fromBase64(tagged.$bytes);
    }
    throw new UsageError(
      `${what}[${i}] must be a string, number, boolean, {"$bigint": "..."} or {"$bytes": base64}, got ${
        JSON.stringify(part)
      }`,
    );
  });
}

async function openKvStore(dir: string): Promise<Store> {
  const db = await openStore(dir, { write: false, command: "kv" });
  if (db.getSync(FORMAT_KEY) === undefined) {
    await db.close();
    throw new SiltError("INVALID_ARGUMENT", `${dir} is a siltdb store but not a siltdb/kv store (no KV format mark)`);
  }
  return db;
}

/** One entry as a JSON line: key, value, versionstamp (expired entries are absent). */
async function entryLine(key: Uint8Array, value: Uint8Array, version: number | undefined): Promise<string | undefined> {
  const live = liveEntry(key, value, version, Date.now());
  if (live === undefined) return undefined;
  const decoded = await decodeValue(live.stored);
  return JSON.stringify({ key: kvJson(decodeKey(key)), value: kvJson(decoded), versionstamp: live.versionstamp });
}

const HELP = `Reads a siltdb/kv store (Deno KV's API on siltdb: see README "Deno KV's
API") read-only: fails with LOCKED while a process has it open for writing.
Keys are JSON arrays of parts: strings, numbers, booleans, {"$bigint": "12"}
and {"$bytes": "<base64>"}. Each entry is printed as one JSON line
{"key", "value", "versionstamp"}; values JSON cannot hold are tagged
({"$bigint"}, {"$u64"}, {"$bytes"}, {"$date"}, {"$map"}, {"$set"}, ...).
Expired entries and siltdb/kv's own keys (queue, expiry index) are not shown.

  siltdb kv get <dir> <key>        the entry of one key (exit 1 if absent)
  siltdb kv list <dir> [--prefix <key>] [--start <key>] [--end <key>] [--limit n] [--reverse]
                                   entries in key order, as kv.list() selects them

example:
  siltdb kv list ./kv --prefix '["users"]' --limit 10
  siltdb kv get ./kv '["users", "alice"]'`;

/**
 * `siltdb kv get|list <dir> ...`: reads a siltdb/kv store.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await kv.run(parseArgs(["list", "./kv", "--prefix", '["users"]'], kv.args));
 * ```
 */
export const kv: Command = {
  name: "kv",
  summary: "read a siltdb/kv (Deno KV API) store: kv list|get with JSON tuple keys",
  usage:
    "siltdb kv get <dir> <key>\nsiltdb kv list <dir> [--prefix <key>] [--start <key>] [--end <key>] [--limit n] [--reverse]",
  help: HELP,
  args: {
    flags: { prefix: "string", start: "string", end: "string", limit: "number", reverse: "boolean" },
    positionals: [2, 3],
  },
  async run(args: ParsedArgs): Promise<number> {
    const [verb, dir, keyText] = args.positionals;
    if (verb === "get") {
      if (keyText === undefined) throw new UsageError("kv get needs a key: siltdb kv get <dir> '[\"part\", ...]'");
      const key = encodeKey(keyArg(keyText, "key"), "key");
      const db = await openKvStore(dir);
      try {
        const { value, version } = db.getEntrySync(key);
        const line = value === undefined ? undefined : await entryLine(key, value, version);
        if (line === undefined) {
          await stderr.write(`not found: ${keyText}\n`);
          return EXIT_PROBLEM;
        }
        await stdout.write(`${line}\n`);
        return EXIT_OK;
      } finally {
        await db.close();
      }
    }
    if (verb !== "list") throw new UsageError(`kv takes "get" or "list", got ${JSON.stringify(verb)}`);
    if (keyText !== undefined) throw new UsageError("kv list takes its range as --prefix, --start and --end");
    const flag = (name: string) => typeof args.flags[name] === "string" ? args.flags[name] as string : undefined;
    const prefix = flag("prefix") === undefined ? new Uint8Array(0) : encodeKey(keyArg(flag("prefix")!, "--prefix"));
    const start = flag("start") === undefined ? undefined : encodeKey(keyArg(flag("start")!, "--start"));
    const end = flag("end") === undefined ? undefined : encodeKey(keyArg(flag("end")!, "--end"));
    // Deno KV's selectors: a prefix's keys (not the prefix itself), from start, before end.
    const lower = start ?? (prefix.length > 0 ? Uint8Array.of(...prefix, 0) : new Uint8Array(0));
    const upper = end ?? (prefix.length > 0 ? prefixEnd(prefix) : Uint8Array.of(RESERVED));
    const limit = intFlag(args, "limit", Infinity, 0);
    const db = await openKvStore(dir);
    let shown = 0;
    try {
      const snap = db.snapshot();
      try {
        for (const [key, value] of snap.scanSync({ gte: lower, lt: upper, reverse: args.flags.reverse === true })) {
          if (shown >= limit) break;
          if (key[0] === RESERVED) continue;
          const line = await entryLine(key, value, snap.getEntrySync(key).version);
          if (line === undefined) continue;
          await stdout.write(`${line}\n`);
          shown++;
        }
      } finally {
        snap.release();
      }
      return EXIT_OK;
    } finally {
      await db.close();
    }
  },
};
