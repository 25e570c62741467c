// A real process is killed (SIGKILL) while it writes with sync: true; every
// write it acknowledged must be there after reopening, and nothing else but
// writes it made.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { open } from "../mod.ts";
import { currentRuntime, runtimeCommand, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;

function killAfterAcks(dir: string, acks: number): Promise<string[]> {
  const [cmd, argv] = runtimeCommand(currentRuntime, child, ["sync-writer", dir]);
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const acked: string[] = [];
    let buffered = "";
    let stderr = "";
    proc.stderr.on("data", (d) => stderr += d);
    proc.stdout.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith("ack ")) acked.push(line.slice(4));
      if (acked.length >= acks) proc.kill("SIGKILL");
    });
    proc.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

test(`every acknowledged synced write survives SIGKILL of a ${currentRuntime} writer`, async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (let round = 0; round < 3; round++) {
      const acked = await killAfterAcks(dir, 150 + round * 100);
      const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      try {
        for (const key of acked) assert.equal(db.getSync(key), `value of ${key}`, `acknowledged ${key} is missing`);
        for (const [key, value] of db.scanSync()) assert.equal(value, `value of ${key}`, "only values that were written");
      } finally {
        await db.close();
      }
    }
  } finally {
    cleanup();
  }
});
