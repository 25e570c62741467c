// A directory written by one runtime is read by the other two: the on-disk
// format is the same everywhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { open } from "../mod.ts";
import { expectedData } from "./fixtures/data_set.ts";
import { currentRuntime, runtimeCommand, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;
const others = (["node", "deno", "bun"] as const).filter((r) => r !== currentRuntime);

function runChild(runtime: "node" | "deno" | "bun", args: string[]): string {
  const [cmd, argv] = runtimeCommand(runtime, child, args);
  const result = spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(result.status, 0, `${runtime} ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

async function writeHere(dir: string, tag: string): Promise<void> {
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  for (const [i, w] of expectedData(tag).writes.entries()) {
    if (w.batch) {
      const batch = db.batch();
      for (const [k, v] of w.batch) v === null ? batch.delete(k) : batch.put(k, v);
      await batch.write({ sync: i % 7 === 0 });
    } else if (w.value === null) await db.delete(w.key);
    else await db.put(w.key, w.value);
  }
  await db.close();
}

async function readHere(dir: string): Promise<[string, string][]> {
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", readOnly: true });
  try {
    return db.scanSync().toArray();
  } finally {
    await db.close();
  }
}

test(`a directory written by ${currentRuntime} is read by ${others.join(" and ")}`, async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeHere(dir, currentRuntime);
    const { entries } = expectedData(currentRuntime);
    for (const reader of others) {
      assert.deepEqual(
        JSON.parse(runChild(reader, ["dump", dir])),
        entries,
        `${reader} reads what ${currentRuntime} wrote`,
      );
    }
  } finally {
    cleanup();
  }
});

for (const writer of others) {
  test(`a directory written by ${writer} is read by ${currentRuntime}, and appended to`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      runChild(writer, ["write", dir, writer]);
      assert.deepEqual(await readHere(dir), expectedData(writer).entries);
      const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      await db.put("appended-by", currentRuntime, { sync: true });
      await db.close();
      const back = JSON.parse(runChild(writer, ["dump", dir])) as [string, string][];
      assert.deepEqual(back.find(([k]) => k === "appended-by"), ["appended-by", currentRuntime]);
    } finally {
      cleanup();
    }
  });
}
