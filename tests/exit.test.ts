// A program that ends right after awaited writes, without close(), keeps
// every one of them (defect 8 of the trust issue): a write resolves only once
// its log bytes are in the OS. With bufferWrites (the opt-in that resolves
// before), process.exit() and uncaught errors still write the buffer.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { open } from "../mod.ts";
import { currentRuntime, runtimeCommand, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;
const N = 1000;

for (const buffered of [false, true]) {
  for (const how of ["exit", "throw", "reject", "return"]) {
    test(`${currentRuntime}: ${N} awaited puts then ${how === "return" ? "the end of the program" : how}${buffered ? " (bufferWrites)" : ""}: all ${N} are there`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const [cmd, args] = runtimeCommand(currentRuntime, child, [
          "exit-after",
          dir,
          `${N}:${how}${buffered ? ":buffered" : ""}`,
        ]);
        const result = spawnSync(cmd, args, { encoding: "utf8" });
        assert.ok(result.status !== null, `the child ended: ${result.stderr}`);
        const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", readOnly: true });
        try {
          const entries = db.scanSync().toArray();
          assert.equal(
            entries.length,
            N,
            `${entries.length} of ${N} acknowledged writes survived (child stderr: ${result.stderr.slice(0, 300)})`,
          );
          entries.forEach(([key, value], i) => {
            assert.equal(key, `k${String(i).padStart(6, "0")}`);
            assert.equal(value, `value ${i}`);
          });
        } finally {
          await db.close();
        }
      } finally {
        cleanup();
      }
    });
  }
}
