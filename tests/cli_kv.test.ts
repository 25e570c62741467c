// siltdb kv list|get and siltdb stats on a siltdb/kv store: tuple keys as
// JSON in and out, tagged forms for what JSON cannot hold, Deno KV's
// selectors, expired entries hidden, bad keys and plain stores refused.

import { test } from "node:test";
import assert from "node:assert/strict";
import { KvU64, openKv } from "../kv.ts";
import { open } from "../mod.ts";
import { runCli } from "./_cli.ts";
import { tempDir } from "./_harness.ts";

const lines = (text: string) => text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

test("siltdb kv list|get read a siltdb/kv store; stats works on it", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const kv = await openKv(dir);
    await kv.set(["users", "alice"], { name: "Alice", joined: new Date(0), tags: new Set(["a"]) });
    await kv.set(["users", "bob"], "Bob");
    await kv.set(["users", 3n], new Uint8Array([1, 2]));
    await kv.set(["count"], new KvU64(5n));
    await kv.set(["gone"], 1, { expireIn: 1 });
    const { versionstamp } = await kv.get(["users", "bob"]);
    await kv.close();
    await new Promise((r) => setTimeout(r, 5));

    const all = await runCli(["kv", "list", dir]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(lines(all.stdout).map((e) => e.key), [["count"], ["users", "alice"], ["users", "bob"], [
      "users",
      { $bigint: "3" },
    ]]);
    const users = lines(
      (await runCli(["kv", "list", dir, "--prefix", '["users"]', "--reverse", "--limit", "2"])).stdout,
    );
    assert.deepEqual(users, [
      { key: ["users", { $bigint: "3" }], value: { $bytes: "AQI=" }, versionstamp: users[0].versionstamp },
      { key: ["users", "bob"], value: "Bob", versionstamp },
    ]);
    const alice = await runCli(["kv", "get", dir, '["users", "alice"]']);
    assert.deepEqual(lines(alice.stdout)[0].value, {
      name: "Alice",
      joined: { $date: "1970-01-01T00:00:00.000Z" },
      tags: { $set: ["a"] },
    });
    assert.deepEqual(lines((await runCli(["kv", "get", dir, '["count"]'])).stdout)[0].value, { $u64: "5" });
    const ranged = await runCli([
      "kv",
      "list",
      dir,
      "--start",
      '["users", "b"]',
      "--end",
      '["users", {"$bigint": "3"}]',
    ]);
    assert.deepEqual(lines(ranged.stdout).map((e) => e.key), [["users", "bob"]]);
    const missing = await runCli(["kv", "get", dir, '["gone"]']);
    assert.equal(missing.code, 1, "an expired entry is absent");
    assert.match(missing.stderr, /not found/);
    const bad = await runCli(["kv", "get", dir, '{"no": 1}']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /JSON array of key parts/);
    const stats = await runCli(["stats", dir]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /sequence/);
  } finally {
    cleanup();
  }
});

test("siltdb kv refuses a store that is not a siltdb/kv store", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(dir);
    await db.put(new Uint8Array([1]), new Uint8Array([2]));
    await db.close();
    const r = await runCli(["kv", "list", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a siltdb\/kv store/);
  } finally {
    cleanup();
  }
});
