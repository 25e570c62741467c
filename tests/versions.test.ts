// Versions (issue 19, step 1): db.getEntry(key) gives the value with the
// sequence number of the write that produced it. Checked against a model
// over random writes, deletes, batches, flushes, compactions, reopens and
// snapshots, on disk and in a bucket: a write gives its key a version
// above every version seen before; nothing else changes a key's version
// (not a flush, a compaction or a reopen); an absent key has none; a
// snapshot keeps the versions it saw.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryObjectStore, open } from "../mod.ts";
import { rejectsWith, tempDir, TINY } from "./_harness.ts";

type Op =
  | { op: "put"; key: number; value: string }
  | { op: "delete"; key: number }
  | { op: "batch"; writes: { key: number; value: string | null }[] }
  | { op: "flush" | "compact" | "reopen" | "snapshot" };

const key = fc.integer({ min: 0, max: 11 });
const value = fc.string({ maxLength: 12 });
const ops = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("put" as const), key, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("batch" as const),
        writes: fc.array(fc.record({ key, value: fc.option(value, { nil: null }) }), { minLength: 1, maxLength: 5 }),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom({ op: "flush" as const }, { op: "compact" as const }) },
    { weight: 1, arbitrary: fc.constantFrom({ op: "reopen" as const }, { op: "snapshot" as const }) },
  ) as fc.Arbitrary<Op>,
  { minLength: 1, maxLength: 60 },
);

const k = (n: number) => `k${String(n).padStart(2, "0")}`;

for (const where of ["disk", "bucket"] as const) {
  test(`versions (${where}): each write gives its key a new, higher version; nothing else changes it`, async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (list) => {
        const { dir, cleanup } = tempDir();
        const store = new MemoryObjectStore();
        const location = where === "disk" ? dir : "memory://versions/";
        const options = { ...TINY, keyEncoding: "utf8", valueEncoding: "utf8", objectStore: store } as const;
        const reopen = () =>
          (where === "disk"
            ? open(location, { ...options, objectStore: undefined })
            : open(location, options)) as Promise<Db<string, string>>;
        let db = await reopen();
        const model = new Map<string, { value: string; version: number }>();
        const snapshots: { snap: ReturnType<Db<string, string>["snapshot"]>; seen: Map<string, unknown> }[] = [];
        let highest = 0;
        const check = async () => {
          for (let n = 0; n < 12; n++) {
            const got = await db.getEntry(k(n));
            const want = model.get(k(n));
            assert.deepEqual(got, want ?? { value: undefined, version: undefined }, k(n));
          }
        };
        const wrote = async (keys: string[]) => {
          // Each key written gets a version above every version seen so far (the last write of a batch wins).
          for (const key of new Set(keys)) {
            const entry = await db.getEntry(key);
            if (entry.version !== undefined) {
              assert.ok(entry.version > highest, `${key}: version ${entry.version} not above ${highest}`);
              model.set(key, { value: entry.value!, version: entry.version });
            } else model.delete(key);
          }
          for (const { version } of model.values()) highest = Math.max(highest, version);
        };
        try {
          for (const o of list) {
            if (o.op === "put") {
              await db.put(k(o.key), o.value);
              await wrote([k(o.key)]);
            } else if (o.op === "delete") {
              await db.delete(k(o.key));
              await wrote([k(o.key)]);
            } else if (o.op === "batch") {
              const b = db.batch();
              for (const w of o.writes) w.value === null ? b.delete(k(w.key)) : b.put(k(w.key), w.value);
              await b.write();
              await wrote(o.writes.map((w) => k(w.key)));
            } else if (o.op === "flush") await db.flush();
            else if (o.op === "compact") await db.compact();
            else if (o.op === "snapshot") {
              const snap = db.snapshot();
              const seen = new Map<string, unknown>();
              for (let n = 0; n < 12; n++) seen.set(k(n), await snap.getEntry(k(n)));
              snapshots.push({ snap, seen });
            } else {
              for (const s of snapshots.splice(0)) s.snap.release();
              await db.close();
              db = await reopen();
            }
            await check();
            for (const { snap, seen } of snapshots) {
              for (const [key, entry] of seen) assert.deepEqual(await snap.getEntry(key), entry, `snapshot ${key}`);
            }
          }
        } finally {
          for (const s of snapshots) s.snap.release();
          await db.close();
          cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });
}

test("getEntry: the version of a value written in a batch is that write's own sequence; bad keys are refused", async () => {
  const { dir, cleanup } = tempDir();
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  try {
    await db.batch().put("a", "1").put("b", "2").put("a", "3").write();
    const a = db.getEntrySync("a");
    const b = db.getEntrySync("b");
    assert.equal(a.value, "3");
    assert.equal(b.version! + 1, a.version, "each write of a batch has its own sequence; the last one wins");
    await rejectsWith("INVALID_ARGUMENT", () => db.getEntry(42 as unknown as string));
    assert.throws(() => db.getEntrySync("a", { nope: 1 } as unknown as Record<string, never>), /nope/);
  } finally {
    await db.close();
    cleanup();
  }
});
