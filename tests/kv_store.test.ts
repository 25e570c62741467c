// Where siltdb/kv keeps a database and what survives: a directory keeps its
// data across close and reopen; a path naming a file gets the directory
// beside it; handles of one directory share it, and another process is
// refused; a commit acknowledged with the default sync survives a machine
// crash; a siltdb store siltdb/kv did not write is refused untouched; and a
// directory written by one runtime reads the same, byte for byte, in the
// other two.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import process from "node:process";
import { FILE_SIDECAR_SUFFIX, openKv } from "../kv.ts";
import { MemoryObjectStore, MemoryStorage, open, SiltError } from "../mod.ts";
import { currentRuntime, rejectsWith, runtimeCommand, tempDir } from "./_harness.ts";
import { dumpLines, kvDataSet } from "./fixtures/kv_data_set.ts";
import { collect, withDir } from "./_kv.ts";

const child = new URL("./fixtures/kv_child.ts", import.meta.url).pathname;

test("a directory keeps its entries and versionstamps across close and reopen", async () => {
  await withDir(async (path) => {
    let kv = await openKv(path);
    const { versionstamp } = await kv.set(["a"], { n: 1 });
    await kv.close();
    assert.ok(statSync(path).isDirectory());
    kv = await openKv(path);
    assert.deepEqual(await kv.get(["a"]), { key: ["a"], value: { n: 1 }, versionstamp });
    assert.ok((await kv.set(["b"], 2)).versionstamp > versionstamp, "versionstamps go on rising after a reopen");
    await kv.close();
  });
});

test("a path naming a file (as Deno KV's do) gets the directory beside it, used from then on", async () => {
  const { dir, cleanup } = tempDir("siltdb-kv-test-");
  try {
    const file = `${dir}/kv.db`;
    writeFileSync(file, "");
    let kv = await openKv(file);
    await kv.set(["a"], 1);
    await kv.close();
    assert.ok(statSync(`${file}${FILE_SIDECAR_SUFFIX}`).isDirectory());
    assert.equal(statSync(file).size, 0, "the file itself is left as it was");
    rmSync(file);
    kv = await openKv(file);
    assert.equal((await kv.get(["a"])).value, 1, "the directory beside it is found without the file");
    await kv.close();
  } finally {
    cleanup();
  }
});

test("openKv() without a path uses ./siltdb-kv", async () => {
  const { dir, cleanup } = tempDir("siltdb-kv-test-");
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    const kv = await openKv();
    await kv.set(["a"], 1);
    await kv.close();
    assert.ok(existsSync(`${dir}/siltdb-kv`));
  } finally {
    process.chdir(cwd);
    cleanup();
  }
});

test("handles of one directory share its store; it closes with the last, and reopens at once", async () => {
  await withDir(async (path) => {
    const [a, b, c] = await Promise.all([openKv(path), openKv(path), openKv(path)]);
    await a.set(["k"], "from a");
    assert.equal((await b.get(["k"])).value, "from a");
    await a.close();
    assert.equal((await c.get(["k"])).value, "from a", "the others go on after one closes");
    b.close();
    c.close();
    const again = await openKv(path); // waits for the close under way
    assert.equal((await again.get(["k"])).value, "from a");
    await again.close();
  });
});

test("another process cannot open a directory this one has open (LOCKED)", async () => {
  await withDir(async (path) => {
    const [cmd, args] = runtimeCommand(currentRuntime, child, ["hold", path]);
    const holder = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (d) => String(d).includes("held") && resolve());
        holder.on("exit", (code) => reject(new Error(`the holder exited (${code})`)));
      });
      await rejectsWith("LOCKED", () => openKv(path));
    } finally {
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.on("close", resolve));
    }
  });
});

test("a commit acknowledged with the default sync survives a machine crash", async () => {
  const fs = new MemoryStorage();
  const kv = await openKv("/kv", { fs });
  const stamps: string[] = [];
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const res = await kv.atomic().set(["k", i], i).sum(["count"], 1n).commit();
    if (res.ok) stamps[i] = res.versionstamp;
  }));
  fs.crash();
  await kv.close().catch(() => {}); // its files are gone with the crash
  const after = await openKv("/kv", { fs });
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(await after.get(["k", i]), { key: ["k", i], value: i, versionstamp: stamps[i] });
  }
  assert.equal(String((await after.get(["count"])).value), "20");
  await after.close();
});

test("a siltdb store that siltdb/kv did not write is refused and left untouched", async () => {
  await withDir(async (path) => {
    const db = await open(path, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.put("plain", "value");
    await db.close();
    const err = await rejectsWith("INVALID_ARGUMENT", () => openKv(path), /siltdb\/kv did not write/);
    assert.ok(err instanceof SiltError);
    const again = await open(path, { keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.deepEqual(await again.scan().toArray(), [["plain", "value"]]);
    await again.close();
  });
});

test("an empty directory becomes a store; a plain directory in the way of a file path is used as is", async () => {
  await withDir(async (path) => {
    mkdirSync(path);
    const kv = await openKv(path);
    await kv.set(["a"], 1);
    await kv.close();
    assert.ok(!existsSync(`${path}${FILE_SIDECAR_SUFFIX}`));
  });
});

test("a store in a bucket works the same (reads there are asynchronous) and keeps its data across reopen", async () => {
  const objectStore = new MemoryObjectStore();
  let kv = await openKv("memory://bucket/kv/", { objectStore });
  const { versionstamp } = await kv.atomic().set(["a", 1], "one").set(["a", 2], "two").sum(["n"], 5n).commit() as {
    versionstamp: string;
  };
  assert.deepEqual((await collect(kv.list({ prefix: ["a"] }, { reverse: true }))).map((e) => [e.key, e.value]), [
    [["a", 2], "two"],
    [["a", 1], "one"],
  ]);
  assert.equal((await kv.atomic().check({ key: ["a", 1], versionstamp }).delete(["a", 1]).commit()).ok, true);
  await kv.close();
  kv = await openKv("memory://bucket/kv/", { objectStore });
  assert.deepEqual((await kv.getMany([["a", 1], ["a", 2]])).map((e) => e.value), [null, "two"]);
  assert.equal(String((await kv.get(["n"])).value), "5");
  await kv.close();
});

const others = (["node", "deno", "bun"] as const).filter((r) => r !== currentRuntime);

function runChild(runtime: "node" | "deno" | "bun", args: string[]): string {
  const [cmd, argv] = runtimeCommand(runtime, child, args);
  const result = spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(result.status, 0, `${runtime} ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout.trim();
}

test(`a store written by ${currentRuntime} reads the same, byte for byte, in ${others.join(" and ")} (and back)`, {
  timeout: 120_000,
}, async () => {
  await withDir(async (path) => {
    const kv = await openKv(path);
    for (const commit of kvDataSet(currentRuntime)) {
      const op = kv.atomic();
      for (const [key, value] of commit) op.set(key, value);
      await op.commit();
    }
    const here = (await dumpLines(kv)).join("\n");
    await kv.close();
    for (const runtime of others) assert.equal(runChild(runtime, ["dump", path]), here, `${runtime} reads it`);
  });
  for (const writer of others) {
    await withDir(async (path) => {
      runChild(writer, ["write", path, writer]);
      const kv = await openKv(path);
      const lines = await dumpLines(kv);
      await kv.close();
      assert.equal(lines.length, kvDataSet(writer).flat().length);
      assert.equal(lines.join("\n"), runChild(writer, ["dump", path]), `${currentRuntime} reads what ${writer} wrote`);
    });
  }
});
