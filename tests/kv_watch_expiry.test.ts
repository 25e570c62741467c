// siltdb/kv's watch() and expiring entries. A watch gives the keys' state at
// once, then again after each commit that changes one of them (not after
// writes of other keys), and ends when its handle closes or its reader
// cancels. An entry set with expireIn reads as absent from its expiry on
// (get, getMany, list, checks), an overwrite replaces the expiry, and the
// sweep deletes it soon after (its index entry too), which watchers see.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openKv } from "../kv.ts";
import { open } from "../mod.ts";
import { collect, sleep, withDir, withKv } from "./_kv.ts";

/** A watch's chunks, read one at a time; next(ms) gives "none" if nothing comes within ms (and keeps waiting for it). */
class Chunks<T> {
  readonly #reader: ReadableStreamDefaultReader<T>;
  #pending: Promise<T | "done"> | undefined;

  constructor(stream: ReadableStream<T>) {
    this.#reader = stream.getReader();
  }

  async next(ms = 5000): Promise<T | "none" | "done"> {
    this.#pending ??= this.#reader.read().then((r) => (r.done ? "done" as const : r.value));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"none">((resolve) => (timer = setTimeout(() => resolve("none"), ms)));
    try {
      const got = await Promise.race([this.#pending, timeout]);
      if (got !== "none") this.#pending = undefined;
      return got;
    } finally {
      clearTimeout(timer);
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

test("a watch gives the current state at once, then each change of its keys", async () => {
  await withKv(async (kv) => {
    await kv.set(["b"], "before");
    const chunks = new Chunks(kv.watch([["a"], ["b"]]));
    const first = await chunks.next() as { value: unknown }[];
    assert.deepEqual(first.map((e) => e.value), [null, "before"]);
    const { versionstamp } = await kv.set(["a"], 1);
    const second = await chunks.next() as unknown[];
    assert.deepEqual(second[0], { key: ["a"], value: 1, versionstamp });
    await kv.set(["unrelated"], 1);
    await kv.delete(["never-set"]);
    assert.equal(await chunks.next(50), "none", "writes of other keys wake nobody");
    await kv.delete(["b"]);
    assert.deepEqual((await chunks.next() as unknown[])[1], { key: ["b"], value: null, versionstamp: null });
    await chunks.cancel();
    await chunks.cancel();
  });
});

test("a watch with raw gives every commit that writes its keys, changed or not", async () => {
  await withKv(async (kv) => {
    const chunks = new Chunks(kv.watch([["a"]], { raw: true }));
    await chunks.next();
    await kv.delete(["a"]); // absent before and after
    assert.deepEqual(await chunks.next(), [{ key: ["a"], value: null, versionstamp: null }]);
    await chunks.cancel();
    const plain = new Chunks(kv.watch([["a"]]));
    await plain.next();
    await kv.delete(["a"]);
    assert.equal(await plain.next(50), "none", "without raw, a write that changes nothing is not passed on");
    await plain.cancel();
  });
});

test("a watch ends when its handle closes; at most 10 keys", async () => {
  const kv = await openKv(":memory:");
  assert.throws(() => kv.watch(Array.from({ length: 11 }, (_, i) => [i])), {
    name: "TypeError",
    message: "Too many keys (max 10)",
  });
  const seen: unknown[] = [];
  const ended = (async () => {
    for await (const entries of kv.watch([["a"]]) as unknown as AsyncIterable<unknown>) seen.push(entries);
  })();
  await sleep(20);
  await kv.close();
  await ended;
  assert.equal(seen.length, 1);
});

test("an expiring entry reads as absent from its expiry on; an overwrite without expireIn keeps it", async () => {
  await withKv(async (kv) => {
    await kv.set(["gone"], 1, { expireIn: 30 });
    await kv.atomic().set(["kept"], 2, { expireIn: 30 }).commit();
    await kv.set(["kept"], 3);
    assert.equal((await kv.get(["gone"])).value, 1);
    await sleep(60);
    assert.deepEqual(await kv.get(["gone"]), { key: ["gone"], value: null, versionstamp: null });
    assert.deepEqual((await kv.getMany([["gone"], ["kept"]])).map((e) => e.value), [null, 3]);
    assert.deepEqual((await collect(kv.list({ prefix: [] }))).map((e) => e.key), [["kept"]]);
    const absent = await kv.atomic().check({ key: ["gone"], versionstamp: null }).set(["gone"], "new").commit();
    assert.ok(absent.ok, "an expired key checks as absent");
  });
});

test("the sweep deletes expired entries and their index entries; watchers see the deletion", async () => {
  await withDir(async (path) => {
    const kv = await openKv(path);
    await kv.set(["a"], 1, { expireIn: 40 });
    await kv.set(["b"], 2, { expireIn: 40 });
    await kv.set(["b"], 2); // b's index entry goes stale
    await kv.set(["c"], 3, { expireIn: 3_600_000 });
    const chunks = new Chunks(kv.watch([["a"]]));
    assert.equal((await chunks.next() as { value: unknown }[])[0].value, 1);
    assert.equal(
      (await chunks.next() as { value: unknown }[])[0].value,
      null,
      "the sweep's delete reaches the watcher",
    );
    await chunks.cancel();
    await sleep(100); // b's stale index entry falls due a moment after a's
    await kv.close();
    const db = await open(path);
    const keys = (await db.keys().toArray()).map((k) => [...k].map((b) => b.toString(16).padStart(2, "0")).join(""));
    await db.close();
    const user = keys.filter((k) => !k.startsWith("ff"));
    const index = keys.filter((k) => k.startsWith("ff02"));
    assert.deepEqual(user, ["026200", "026300"], "a is deleted, b and c stay");
    assert.equal(index.length, 1, "only c's index entry is left");
    assert.ok(index[0].endsWith("026300"));
  });
});

test("expired entries stay absent after a reopen and are swept then", async () => {
  await withDir(async (path) => {
    let kv = await openKv(path);
    await kv.atomic().set(["a"], 1, { expireIn: 30 }).set(["b"], 2, { expireIn: 30 }).commit();
    await kv.close();
    await sleep(50);
    kv = await openKv(path);
    assert.deepEqual((await kv.getMany([["a"], ["b"]])).map((e) => e.value), [null, null]);
    await sleep(50);
    await kv.close();
    const db = await open(path);
    assert.equal((await db.keys().toArray()).filter((k) => k[0] !== 0xff || k[1] === 0x02).length, 0);
    await db.close();
  });
});
