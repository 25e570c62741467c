// The compactionFilter option: a module URL whose default export decides
// keep / drop / new value for the newest version of each key during
// compaction (inline and in the compaction worker), never for a version a
// snapshot reads; a module that cannot be loaded is refused at open; a
// filter that throws stops the compaction (outputs discarded, data
// untouched) and becomes the background error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MemoryStorage, open } from "../mod.ts";
import fc from "fast-check";
import { fcRuns, rejectsWith, tempDir, TINY } from "./_harness.ts";

const FILTER = `
export const seen = [];
const text = (b) => new TextDecoder().decode(b);
export default function filter(key, value, ctx) {
  const k = text(key);
  seen.push({ key: k, value: text(value), ...ctx });
  if (k === "boom") throw new Error("kaboom");
  if (k.startsWith("tmp:")) return "drop";
  if (k.startsWith("up:")) return { value: new TextEncoder().encode(text(value).toUpperCase()) };
  if (k.startsWith("bad:")) return 42;
  return "keep";
}
`;

const OPTIONS = { ...TINY, keyEncoding: "utf8", valueEncoding: "utf8" } as const;

/** Writes the filter module (and a module without a default function) to a temporary directory. */
function modules(): { filter: URL; noExport: URL; missing: URL; cleanup: () => void } {
  const { dir, cleanup } = tempDir("siltdb-filter-");
  writeFileSync(join(dir, "filter.mjs"), FILTER);
  writeFileSync(join(dir, "no_export.mjs"), "export const filter = 1;\n");
  return {
    filter: pathToFileURL(join(dir, "filter.mjs")),
    noExport: pathToFileURL(join(dir, "no_export.mjs")),
    missing: pathToFileURL(join(dir, "missing.mjs")),
    cleanup,
  };
}

type Seen = { key: string; value: string; level: number; sequence: number; expireAt?: number };

test("keep, drop and a new value, inline: the filter sees the newest version of each key with its level, sequence and expiry", async () => {
  const m = modules();
  let now = 1_000;
  try {
    const seen = (await import(m.filter.href)).seen as Seen[];
    const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), compactionFilter: m.filter, clock: () => now });
    await db.put("keep:1", "a");
    await db.put("tmp:1", "old");
    await db.put("tmp:1", "b");
    await db.put("up:1", "c", { ttl: 500 });
    await db.put("up:2", "d");
    await db.flush();
    seen.length = 0;
    await db.compact();
    assert.deepEqual(await db.scan().toArray(), [["keep:1", "a"], ["up:1", "C"], ["up:2", "D"]]);
    const byKey = new Map(seen.map((s) => [s.key, s]));
    assert.deepEqual(
      [...byKey.keys()].sort(),
      ["keep:1", "tmp:1", "up:1", "up:2"],
      "the newest version of each key, once",
    );
    assert.equal(byKey.get("tmp:1")!.value, "b");
    assert.equal(byKey.get("up:1")!.expireAt, 1_500);
    assert.equal(byKey.get("up:2")!.expireAt, undefined);
    assert.equal(byKey.get("keep:1")!.level, 1);
    assert.equal(byKey.get("keep:1")!.sequence, (await db.getEntry("keep:1")).version);
    assert.equal(db.stats().compaction.entriesFiltered, 3);
    // A new value keeps its expiry.
    now = 1_500;
    assert.equal(await db.get("up:1"), undefined);
    await db.close();
  } finally {
    m.cleanup();
  }
});

test("a version a snapshot reads is not filtered; a dropped newer version hides the older one kept for the snapshot", async () => {
  const m = modules();
  try {
    const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), compactionFilter: m.filter });
    await db.put("tmp:a", "v1");
    const snap = db.snapshot();
    await db.flush();
    await db.compact();
    assert.equal(await db.get("tmp:a"), "v1", "protected by the snapshot: kept");
    await db.put("tmp:a", "v2");
    await db.flush();
    await db.compact();
    assert.equal(await db.get("tmp:a"), undefined, "v2 dropped by the filter: a tombstone hides v1");
    assert.equal(await snap.get("tmp:a"), "v1", "the snapshot still reads what it read");
    snap.release();
    await db.compact();
    assert.equal(await db.get("tmp:a"), undefined);
    assert.deepEqual(await db.keys().toArray(), []);
    await db.close();
  } finally {
    m.cleanup();
  }
});

test("on disk the filter runs in the compaction worker", async () => {
  const m = modules();
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(dir, { ...OPTIONS, compactionFilter: m.filter.href });
    for (let i = 0; i < 40; i++) await db.put(`tmp:${i}`, "x".repeat(40));
    for (let i = 0; i < 10; i++) await db.put(`up:${i}`, "low");
    await db.flush();
    await db.compact();
    assert.equal(db.stats().compaction.mode, "worker");
    assert.deepEqual(await db.keys().toArray(), Array.from({ length: 10 }, (_, i) => `up:${i}`));
    assert.deepEqual(new Set(await db.values().toArray()), new Set(["LOW"]));
    // Every compaction filters again (automatic ones too): each up: key once or more, each tmp: key once.
    assert.ok(db.stats().compaction.entriesFiltered >= 50, `${db.stats().compaction.entriesFiltered} filtered`);
    await db.close();
  } finally {
    cleanup();
    m.cleanup();
  }
});

test("a module that cannot be loaded, or has no default function, is refused at open with INVALID_ARGUMENT naming it", async () => {
  const m = modules();
  try {
    const fs = new MemoryStorage();
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, compactionFilter: m.missing }),
      /missing\.mjs.*could not be loaded/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, compactionFilter: m.noExport }),
      /no_export\.mjs.*default export/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, compactionFilter: "./filter.mjs" }),
      /compactionFilter.*absolute/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", { fs, compactionFilter: 7 as never }), /compactionFilter/);
    assert.deepEqual(fs.list("/").filter((n) => n === "db"), [], "nothing created");
  } finally {
    m.cleanup();
  }
});

for (
  const [name, key, message] of [["throws", "boom", /filter\.mjs threw at key "boom": kaboom/], [
    "returns a bad decision",
    "bad:1",
    /filter\.mjs returned number for key "bad:1"/,
  ]] as const
) {
  test(`a filter that ${name}: the compaction stops, its outputs are discarded, writes stop with the error, data untouched`, async () => {
    const m = modules();
    const { dir, cleanup } = tempDir();
    try {
      const db = await open(dir, {
        ...OPTIONS,
        compactionFilter: m.filter,
        l0CompactionTrigger: 100,
        l0SlowdownTrigger: 200,
        l0StopTrigger: 300,
      });
      await db.put("a", "1");
      await db.put(key, "2");
      await db.put("tmp:z", "3");
      await db.flush();
      const files = () => db.stats().levels.reduce((n, l) => n + l.files, 0);
      const before = files();
      const err = await rejectsWith("ABORTED", () => db.compact(), message);
      assert.match(err.message, /outputs were discarded/);
      assert.equal(files(), before, "no output installed");
      assert.match(db.stats().backgroundError ?? "", message);
      await rejectsWith("IO_ERROR", () => db.put("c", "4"), message);
      assert.deepEqual(await db.keys().toArray(), ["a", key, "tmp:z"], "data untouched");
      await db.close();
      const plain = await open(dir, OPTIONS);
      assert.deepEqual(await plain.keys().toArray(), ["a", key, "tmp:z"]);
      await plain.close();
    } finally {
      cleanup();
      m.cleanup();
    }
  });
}

test("batches of many candidates across output cuts: the store equals the model with the filter applied", async () => {
  const m = modules();
  try {
    const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), compactionFilter: m.filter });
    const model = new Map<string, string>();
    let x = 12345;
    const next = (n: number) => (x = (x * 48271) % 2147483647) % n;
    for (let i = 0; i < 3000; i++) {
      const k = `${["tmp:", "up:", "keep:"][next(3)]}${String(next(700)).padStart(4, "0")}`;
      if (next(10) === 0) {
        await db.delete(k);
        model.delete(k);
      } else {
        const v = `v${i}-${"x".repeat(next(60))}`;
        await db.put(k, v);
        model.set(k, v);
      }
    }
    await db.flush();
    await db.compact();
    const expected = [...model]
      .filter(([k]) => !k.startsWith("tmp:"))
      .map(([k, v]) => [k, k.startsWith("up:") ? v.toUpperCase() : v])
      .sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(await db.scan().toArray(), expected);
    assert.ok(db.stats().levels.some((l) => l.files > 1), "the compaction cut several outputs");
    assert.ok(db.stats().compaction.entriesFiltered > 256, "more than one batch");
    await db.close();
  } finally {
    m.cleanup();
  }
});

test("filter model: reads show each key's last write, filtered or not, never an older one; snapshots never change", async () => {
  const m = modules();
  type Op =
    | { t: "put"; k: string; v: string }
    | { t: "del"; k: string }
    | { t: "snapshot" }
    | { t: "release"; i: number }
    | { t: "flush" }
    | { t: "compact" }
    | { t: "check" };
  const key = fc.tuple(fc.constantFrom("tmp:", "up:", "keep:"), fc.constantFrom("a", "b", "c", "d")).map(([p, k]) =>
    p + k
  );
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ t: fc.constant("put" as const), k: key, v: fc.stringMatching(/^[a-z]{1,30}$/) }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("snapshot" as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("release" as const), i: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("compact" as const) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("check" as const) }) },
  );
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60, size: "max" }), async (ops) => {
        // Compactions only when the test asks (a snapshot taken at the instant a background
        // compaction records its result could see the filter's decisions: see the next test).
        const db = await open("/db", {
          ...OPTIONS,
          l0CompactionTrigger: 100,
          l0SlowdownTrigger: 200,
          l0StopTrigger: 300,
          fs: new MemoryStorage(),
          compactionFilter: m.filter,
        });
        const model = new Map<string, string>();
        const snaps: { snap: ReturnType<typeof db.snapshot>; seen: [string, string][] }[] = [];
        const check = async () => {
          const got = new Map(await db.scan().toArray());
          for (const k of new Set([...got.keys(), ...model.keys()])) {
            const want = model.get(k);
            const a = got.get(k);
            const allowed = want === undefined
              ? [undefined]
              : k.startsWith("tmp:")
              ? [want, undefined]
              : k.startsWith("up:")
              ? [want, want.toUpperCase()]
              : [want];
            assert.ok(allowed.includes(a), `${k}: read ${a}, allowed ${JSON.stringify(allowed)}`);
          }
          return [...got];
        };
        try {
          for (const o of ops) {
            if (o.t === "put") {
              await db.put(o.k, o.v);
              model.set(o.k, o.v);
            } else if (o.t === "del") {
              await db.delete(o.k);
              model.delete(o.k);
            } else if (o.t === "snapshot") {
              const snap = db.snapshot();
              snaps.push({ snap, seen: await snap.scan().toArray() });
            } else if (o.t === "release" && snaps.length > 0) {
              snaps.splice(o.i % snaps.length, 1)[0].snap.release();
            } else if (o.t === "flush") await db.flush();
            else if (o.t === "compact") await db.compact();
            else await check();
            for (const s of snaps) assert.deepEqual(await s.snap.scan().toArray(), s.seen, "a snapshot changed");
          }
          await db.compact();
          await check();
          for (const s of snaps.splice(0)) {
            assert.deepEqual(await s.snap.scan().toArray(), s.seen);
            s.snap.release();
          }
          await db.compact();
          const final = await check();
          assert.ok(final.every(([k]) => !k.startsWith("tmp:")), "with no snapshot left, every tmp: key was dropped");
          assert.ok(final.every(([k, v]) => !k.startsWith("up:") || v === v.toUpperCase()));
        } finally {
          for (const s of snaps) s.snap.release();
          await db.close();
        }
      }),
      { numRuns: fcRuns(40) },
    );
  } finally {
    m.cleanup();
  }
});

test("a snapshot taken while a filtering compaction runs keeps reading what it read (the compaction runs again without the filter)", async () => {
  const m = modules();
  try {
    for (let round = 0; round < 20; round++) {
      const db = await open("/db", { ...OPTIONS, fs: new MemoryStorage(), compactionFilter: m.filter });
      await db.put("tmp:a", "1");
      await db.flush();
      await db.put("tmp:a", "2");
      await db.flush(); // two L0 tables: a background compaction starts now, its snapshot bound 0
      for (let i = 0; i < round; i++) await Promise.resolve();
      const snap = db.snapshot();
      const seen = await snap.scan().toArray();
      await db.compact();
      assert.deepEqual(await snap.scan().toArray(), seen, `round ${round}`);
      snap.release();
      await db.compact();
      assert.deepEqual(await db.scan().toArray(), []);
      await db.close();
    }
  } finally {
    m.cleanup();
  }
});
