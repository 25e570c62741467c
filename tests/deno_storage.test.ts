// DenoStorage's files (Deno only): reads, positional writes and appends
// interleaved at random positions read back what a byte model holds. Deno
// has no positional read or write, so the file keeps track of where it left
// the handle's offset and seeks only when an operation starts elsewhere.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DenoStorage } from "../mod.ts";
import { currentRuntime, rng, tempDir } from "./_harness.ts";

const skip = currentRuntime === "deno" ? false : "DenoStorage needs Deno";

test("a positional file read and written at random positions holds what a byte model holds", { skip }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const fs = new DenoStorage();
    const file = fs.open(join(dir, "f"), { create: true, positional: true });
    const random = rng(7);
    let model = new Uint8Array(0);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    const place = (at: number, data: Uint8Array) => {
      const next = new Uint8Array(Math.max(model.length, at + data.length));
      next.set(model);
      next.set(data, at);
      model = next;
    };
    for (let op = 0; op < 3000; op++) {
      const r = random();
      if (r < 0.35) {
        // A write at the end (a log's next record), or anywhere up to it.
        const at = random() < 0.6 ? model.length : Math.floor(random() * (model.length + 1));
        const data = bytes(1 + Math.floor(random() * 300));
        file.writeAt!(at, data);
        place(at, data);
      } else if (r < 0.5) {
        const data = bytes(1 + Math.floor(random() * 300));
        file.appendSync(data);
        place(model.length, data);
      } else {
        // A read from anywhere, sometimes right where the last operation ended.
        const at = Math.floor(random() * (model.length + 1));
        const into = new Uint8Array(Math.floor(random() * 400));
        const n = file.read(at, into);
        const want = model.subarray(at, at + into.length);
        assert.equal(n, want.length, `op ${op}: read at ${at}`);
        assert.deepEqual(into.subarray(0, n), want, `op ${op}: bytes at ${at}`);
      }
      assert.equal(file.size(), model.length);
    }
    file.close();
    assert.deepEqual(new Uint8Array(fs.readFile(join(dir, "f"))), model);
  } finally {
    cleanup();
  }
});

test(
  "an appending file read while appends are in flight reads the bytes at the positions asked",
  { skip },
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fs = new DenoStorage();
      const file = fs.open(join(dir, "g"), { create: true });
      const first = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
      await file.append(first);
      for (let round = 0; round < 50; round++) {
        const pending = file.append(new Uint8Array(512).fill(round));
        const into = new Uint8Array(100);
        assert.equal(file.read(round * 10, into), 100);
        assert.deepEqual(into, first.subarray(round * 10, round * 10 + 100), `round ${round}: read during an append`);
        await pending; // the append moved the handle's offset to the end
        assert.equal(file.read(round * 10 + 100, into), 100, `round ${round}: a read where the last one ended`);
        assert.deepEqual(into, first.subarray(round * 10 + 100, round * 10 + 200), `round ${round}: read after it`);
      }
      assert.equal(file.size(), 4096 + 50 * 512);
      file.close();
    } finally {
      cleanup();
    }
  },
);
