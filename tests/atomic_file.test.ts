// Files that appear whole or not at all (src/storage/atomic_file.ts), also
// when their sync, close and rename finish in the background (a compaction
// builds its next output meanwhile).

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage } from "../mod.ts";
import { writeFileAtomically } from "../src/storage/atomic_file.ts";

const bytes = new TextEncoder().encode("table bytes");

test("in the background, the file appears under its name only once the returned work settles", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  let finishing: Promise<void> | undefined;
  const result = await writeFileAtomically(fs, "/db", "000007.sst", async (f) => {
    await f.append(bytes);
    return 42;
  }, { syncDir: false, background: (p) => finishing = p });
  assert.equal(result, 42);
  assert.ok(finishing !== undefined);
  await finishing;
  assert.deepEqual(fs.list("/db"), ["000007.sst"]);
  assert.deepEqual(fs.readFile("/db/000007.sst"), bytes);
});

test("in the background, a failed sync rejects the returned work and leaves neither the file nor its temp file", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  fs.injectFault({ op: "sync", path: /000007\.sst\.tmp$/ });
  let finishing: Promise<void> | undefined;
  await writeFileAtomically(fs, "/db", "000007.sst", (f) => f.append(bytes), {
    syncDir: false,
    background: (p) => finishing = p,
  });
  await assert.rejects(finishing!, /sync/);
  assert.deepEqual(fs.list("/db"), []);
});

test("in the background, a refused rename (the lock was lost) rejects and removes the temp file", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  let finishing: Promise<void> | undefined;
  await writeFileAtomically(fs, "/db", "000007.sst", (f) => f.append(bytes), {
    syncDir: false,
    beforeRename: () => {
      throw new Error("lock lost");
    },
    background: (p) => finishing = p,
  });
  await assert.rejects(finishing!, /lock lost/);
  assert.deepEqual(fs.list("/db"), []);
});
