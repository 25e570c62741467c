// siltdb/kv's list(): the four selector forms, reverse, limit, batchSize,
// cursors (Deno KV's exact text) and their errors; a model check that a
// list over random keys, selectors and options gives what a sorted model
// gives, whatever the batch size, and that a cursor resumes exactly after
// (or before) the last entry; siltdb/kv's own records never show.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type KvKey, openKv } from "../kv.ts";
import { compareKeys, encodeKey } from "../src/kv/key_codec.ts";
import { fcRuns } from "./_harness.ts";
import { collect, eightKeys, withKv } from "./_kv.ts";

const keysOf = async (iter: AsyncIterable<{ key: KvKey }>) => (await collect(iter as never)).map((e) => e.key);

test("a prefix lists the keys under it, never the prefix itself; with start or end, part of them", async () => {
  await withKv(async (kv) => {
    const versionstamp = await eightKeys(kv);
    assert.deepEqual(await collect(kv.list({ prefix: ["a"] })), [
      { key: ["a", "a"], value: 0, versionstamp },
      { key: ["a", "b"], value: 1, versionstamp },
      { key: ["a", "c"], value: 2, versionstamp },
      { key: ["a", "d"], value: 3, versionstamp },
      { key: ["a", "e"], value: 4, versionstamp },
    ]);
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"], start: ["a", "c"] })), [["a", "c"], ["a", "d"], ["a", "e"]]);
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"], end: ["a", "c"] })), [["a", "a"], ["a", "b"]]);
    assert.deepEqual(await keysOf(kv.list({ prefix: ["c"] })), []);
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"], start: ["a", "f"] })), []);
    assert.equal((await keysOf(kv.list({ prefix: [] }))).length, 8);
  });
});

test("a range lists from start (inclusive) to end (exclusive); a key sorts just before its extensions", async () => {
  await withKv(async (kv) => {
    await eightKeys(kv);
    assert.deepEqual(await keysOf(kv.list({ start: ["a"], end: ["a", "d"] })), [["a"], ["a", "a"], ["a", "b"], [
      "a",
      "c",
    ]]);
    assert.deepEqual(await keysOf(kv.list({ start: ["a", "b"], end: ["a", "d"] })), [["a", "b"], ["a", "c"]]);
    assert.deepEqual(await keysOf(kv.list({ start: ["a"], end: ["a"] })), []);
  });
});

test("reverse, limit and batchSize", async () => {
  await withKv(async (kv) => {
    await eightKeys(kv);
    const e = (c: string) => ["a", c];
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"] }, { reverse: true })), ["e", "d", "c", "b", "a"].map(e));
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"] }, { limit: 2, reverse: true })), ["e", "d"].map(e));
    for (const batchSize of [1, 2, 3, 1000]) {
      assert.deepEqual(await keysOf(kv.list({ prefix: ["a"] }, { batchSize })), ["a", "b", "c", "d", "e"].map(e));
      assert.deepEqual(
        await keysOf(kv.list({ prefix: ["a"] }, { batchSize, limit: 3, reverse: true })),
        ["e", "d", "c"].map(e),
      );
    }
    assert.equal((await keysOf(kv.list({ prefix: ["a"] }, { limit: 5000 }))).length, 5);
  });
});

test("the cursor is Deno KV's: URL-safe base64 of the last key without the selector's common prefix", async () => {
  await withKv(async (kv) => {
    await eightKeys(kv);
    const it = kv.list({ prefix: ["a"] }, { limit: 2 });
    assert.throws(() => it.cursor, { message: "Cannot get cursor before first iteration" });
    await collect(it);
    assert.equal(it.cursor, "AmIA");
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"] }, { cursor: it.cursor })), [["a", "c"], ["a", "d"], [
      "a",
      "e",
    ]]);
    const back = kv.list({ prefix: ["a"] }, { limit: 2, reverse: true });
    await collect(back);
    assert.equal(back.cursor, "AmQA");
    assert.deepEqual(await keysOf(kv.list({ prefix: ["a"] }, { cursor: back.cursor, reverse: true })), [
      ["a", "c"],
      ["a", "b"],
      ["a", "a"],
    ]);
    const range = kv.list({ start: ["a", "a"], end: ["a", "z"] }, { limit: 1 });
    await collect(range);
    assert.equal(range.cursor, "YQA=");
    const done = kv.list({ prefix: ["b"] });
    await collect(done);
    assert.equal(done.cursor, "", "an exhausted list's cursor is empty");
  });
});

test("a list ends when an entry's key is the selector's common prefix (its cursor is empty), in both directions", {
  timeout: 10_000,
}, async () => {
  await withKv(async (kv) => {
    await kv.set([new Uint8Array([0])], "bytes");
    await kv.set(["a"], "a");
    for (const reverse of [false, true]) {
      for (const batchSize of [1, 2]) {
        const it = kv.list({ start: [new Uint8Array([0])], end: [new Uint8Array([0]), 0] }, { reverse, batchSize });
        assert.deepEqual(await keysOf(it), [[new Uint8Array([0])]]);
        const range = kv.list({ start: ["a"], end: ["a", 1] }, { reverse, batchSize });
        assert.deepEqual(await keysOf(range), [["a"]]);
      }
    }
    const one = kv.list({ start: ["a"], end: ["a", 1] }, { limit: 1 });
    await collect(one);
    assert.equal(one.cursor, "", "the key equal to the common prefix has the empty cursor (as in Deno KV)");
  });
});

test("bad selectors, options and cursors are TypeErrors with Deno KV's words", async () => {
  await withKv(async (kv) => {
    await eightKeys(kv);
    const cases: [() => AsyncIterable<unknown>, string | RegExp][] = [
      [
        () => kv.list({ prefix: ["a"], start: ["a", "b"], end: ["a", "c"] } as never),
        /can not specify both 'start' and 'end'/,
      ],
      [() => kv.list({ start: ["a"] } as never), /must specify either 'prefix' or both 'start' and 'end'/],
      [() => kv.list({ end: ["a"] } as never), /must specify either 'prefix' or both 'start' and 'end'/],
      [() => kv.list({ prefix: ["a"], start: ["a"] }), "Start key is not in the keyspace defined by prefix"],
      [() => kv.list({ prefix: ["b"], start: ["a"] }), "Start key is not in the keyspace defined by prefix"],
      [() => kv.list({ prefix: ["a"], end: ["a"] }), "End key is not in the keyspace defined by prefix"],
      [() => kv.list({ prefix: ["a"], end: ["b"] }), "End key is not in the keyspace defined by prefix"],
      [() => kv.list({ start: ["b"], end: ["a"] }), "Start key is greater than end key"],
      [() => kv.list({ prefix: ["a"] }, { limit: 2.3 }), "Limit must be a positive integer: received 2.3"],
      [() => kv.list({ prefix: ["a"] }, { limit: 0 }), "Limit must be a positive integer: received 0"],
      [() => kv.list({ prefix: ["a"] }, { batchSize: 2.3 }), "batchSize must be a positive integer: received 2.3"],
      [() => kv.list({ prefix: ["a"] }, { batchSize: 1001 }), "Too many entries (max 1000)"],
      [() => kv.list({ prefix: ["a"] }, { cursor: "***" }), "invalid cursor"],
      [() => kv.list({ start: ["a", "c"], end: ["a", "e"] }, { cursor: "YQA=" }), "cursor out of bounds"],
      [
        () => kv.list({ start: ["a", "a"], end: ["a", "c"] }, { cursor: "ZAA=", reverse: true }),
        "cursor out of bounds",
      ],
      [() => kv.list({ prefix: [] }, { cursor: "__8=", reverse: true }), "cursor out of bounds"],
    ];
    for (const [i, [list, message]] of cases.entries()) {
      await assert.rejects(async () => await collect(list() as never), (err: Error) => {
        assert.ok(err instanceof TypeError, `case ${i}: ${err}`);
        if (typeof message === "string") assert.equal(err.message, message);
        else assert.match(err.message, message);
        return true;
      });
    }
  });
});

test("key order across types: bytes, strings, bigints, numbers, false, true", async () => {
  await withKv(async (kv) => {
    await kv.atomic()
      .set([true], 0).set([false], 0).set([3.14], 0).set([1n], 0).set(["a"], 0).set([new Uint8Array(1)], 0)
      .commit();
    assert.deepEqual(await keysOf(kv.list({ prefix: [] })), [[new Uint8Array(1)], ["a"], [1n], [3.14], [false], [
      true,
    ]]);
  });
});

test("siltdb/kv's own records (format mark, queue, expiry index) never show in a list", async () => {
  await withKv(async (kv) => {
    await kv.set(["a"], 1, { expireIn: 60_000 });
    await kv.enqueue("message", { delay: 60_000 });
    assert.deepEqual(await keysOf(kv.list({ prefix: [] })), [["a"]]);
    assert.deepEqual(await keysOf(kv.list({ prefix: [] }, { reverse: true })), [["a"]]);
    assert.deepEqual(await keysOf(kv.list({ start: [new Uint8Array()], end: [true, true] })), [["a"]]);
  });
});

const part = fc.oneof(
  fc.constantFrom("a", "b", "c", ""),
  fc.integer({ min: -3, max: 3 }),
  fc.bigInt({ min: -2n, max: 2n }),
  fc.boolean(),
  fc.constantFrom(new Uint8Array([0]), new Uint8Array([1, 0])),
);
const key = fc.array(part, { minLength: 1, maxLength: 3 });
const selector = fc.oneof(
  fc.record({ prefix: fc.array(part, { maxLength: 2 }) }),
  fc.tuple(key, key).map(([a, b]) => (compareKeys(a, b) <= 0 ? { start: a, end: b } : { start: b, end: a })),
);

const startsWith = (k: KvKey, p: KvKey) => {
  const [kb, pb] = [encodeKey(k), encodeKey(p)];
  return kb.length > pb.length && pb.every((b, i) => kb[i] === b);
};
const inSelector = (k: KvKey, s: { prefix?: KvKey; start?: KvKey; end?: KvKey }) =>
  s.prefix !== undefined ? startsWith(k, s.prefix) : compareKeys(k, s.start!) >= 0 && compareKeys(k, s.end!) < 0;

test("list gives what a sorted model gives, for any selector, limit, batch size and direction; cursors resume exactly", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(key, { selector: (k) => encodeKey(k).join(","), maxLength: 25 }),
      selector,
      fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      fc.integer({ min: 1, max: 6 }),
      fc.boolean(),
      async (keys, sel, limit, batchSize, reverse) => {
        const kv = await openKv(":memory:");
        try {
          for (const [i, k] of keys.entries()) await kv.set(k, i);
          let expected = keys.filter((k) => inSelector(k, sel)).sort(compareKeys);
          if (reverse) expected.reverse();
          const it = kv.list(sel, { limit, batchSize, reverse });
          const got = await keysOf(it);
          assert.deepEqual(got, limit === undefined ? expected : expected.slice(0, limit));
          if (limit !== undefined && got.length === limit) {
            // A last key equal to the selector's common prefix has the empty cursor, which as an option means
            // "no cursor" in Deno KV too: that list starts over (fast-check seed -152981671).
            const all = expected;
            expected = it.cursor === "" ? all : all.slice(limit);
            assert.deepEqual(await keysOf(kv.list(sel, { cursor: it.cursor, reverse, batchSize })), expected);
          }
        } finally {
          await kv.close();
        }
      },
    ),
    { numRuns: fcRuns(150) },
  );
});
