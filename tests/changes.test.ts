// The change feed (issue 19): db.changes({ since }) gives every committed
// write from a sequence on, in order, then live; changes flushed away (or
// before a reopen) are OUT_OF_RANGE; abort ends it with ABORTED and close
// with CLOSED. Checked against the writes a model issued, on disk and in a
// bucket (the writer, and a reader following it).

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Change, type Db, MemoryObjectStore, MemoryStorage, open, SiltError } from "../mod.ts";
import { fcRuns, rejectsWith, tempDir } from "./_harness.ts";

type Write = [key: string, value: string | undefined];

/** Takes n changes from a feed. */
async function take<K, V>(feed: AsyncIterable<Change<K, V>>, n: number): Promise<Change<K, V>[]> {
  const out: Change<K, V>[] = [];
  if (n === 0) return out;
  for await (const c of feed) {
    out.push(c);
    if (out.length === n) break;
  }
  return out;
}

const writes = fc.array(
  fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d"), fc.option(fc.string({ maxLength: 6 }), { nil: undefined })), {
    minLength: 1,
    maxLength: 4,
  }),
  { minLength: 1, maxLength: 30 },
);

for (const where of ["disk", "bucket"] as const) {
  test(`changes (${where}): every write from since on, in sequence order, caught up and then live`, async () => {
    await fc.assert(
      fc.asyncProperty(writes, fc.nat(29), async (groups, split) => {
        const { dir, cleanup } = tempDir();
        const location = where === "disk" ? dir : "memory://changes/";
        const db = await open(location, {
          keyEncoding: "utf8",
          valueEncoding: "utf8",
          objectStore: where === "bucket" ? new MemoryObjectStore() : undefined,
        }) as Db<string, string>;
        try {
          const issued: Write[] = [];
          const write = async (group: Write[]) => {
            const b = db.batch();
            for (const [k, v] of group) v === undefined ? b.delete(k) : b.put(k, v);
            await b.write();
            issued.push(...group);
          };
          const before = groups.slice(0, split % groups.length);
          for (const g of before) await write(g);
          const since = 1;
          const feed = db.changes({ since });
          const total = groups.flat().length;
          const got = take(feed, total);
          for (const g of groups.slice(before.length)) await write(g);
          const changes = await got;
          assert.deepEqual(
            changes.map((c) => [c.key, c.value] as Write),
            issued,
            "the writes in the order they were made",
          );
          changes.forEach((c, i) => {
            assert.equal(c.sequence, since + i);
            assert.equal(c.type, c.value === undefined ? "del" : "put");
          });
        } finally {
          await db.close();
          cleanup();
        }
      }),
      { numRuns: fcRuns(25) },
    );
  });
}

test("changes: from the next write by default; OUT_OF_RANGE once flushed or after a reopen; bad since refused", async () => {
  const { dir, cleanup } = tempDir();
  let db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  try {
    await db.put("a", "1");
    const feed = db.changes();
    await db.put("b", "2");
    assert.deepEqual(await take(feed, 1), [{ sequence: 2, type: "put", key: "b", value: "2" }]);
    await db.flush();
    await db.put("c", "3");
    await rejectsWith("OUT_OF_RANGE", () => take(db.changes({ since: 1 }), 1));
    assert.deepEqual((await take(db.changes({ since: 3 }), 1))[0].key, "c", "what the memtable holds is kept");
    await db.close();
    db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    await rejectsWith("OUT_OF_RANGE", () => take(db.changes({ since: 3 }), 1));
    const after = db.changes({ since: 4 });
    await db.put("d", "4");
    assert.deepEqual((await take(after, 1))[0], { sequence: 4, type: "put", key: "d", value: "4" });
    assert.throws(() => db.changes({ since: -1 }), (err: unknown) => (err as SiltError).code === "INVALID_ARGUMENT");
    assert.throws(() => db.changes({ since: 1.5 }), /since must be a non-negative integer/);
    assert.throws(() => db.changes({ nope: 1 } as never), /nope/);
  } finally {
    await db.close();
    cleanup();
  }
});

test("changes: a signal ends a waiting feed with ABORTED, close() with CLOSED", async () => {
  const { dir, cleanup } = tempDir();
  const db = await open(dir);
  try {
    const controller = new AbortController();
    const waiting = take(db.changes({ signal: controller.signal }), 1);
    setTimeout(() => controller.abort(new Error("enough")), 10);
    await assert.rejects(waiting, (err: unknown) => err instanceof SiltError && err.code === "ABORTED");
    const open2 = take(db.changes(), 1);
    setTimeout(() => void db.close(), 10);
    await assert.rejects(open2, (err: unknown) => err instanceof SiltError && err.code === "CLOSED");
  } finally {
    if (db.status === "open") await db.close();
    cleanup();
  }
});

test("changes: a close() that fails still ends every feed with CLOSED (found by the simulation)", async () => {
  // close() stopped at its first failure (here the log's, after a simulated
  // crash took the lock) before it woke the feeds: a consumer waiting for the
  // next change waited for ever.
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  const ended = (async () => {
    try {
      for await (const _ of db.changes()) { /* waits for the next change */ }
      return "no error";
    } catch (err) {
      return (err as SiltError).code;
    }
  })();
  await db.put("a", "1");
  fs.crash({ unsynced: "keep" });
  await assert.rejects(db.close(), (err: unknown) => err instanceof SiltError);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((resolve) => timer = setTimeout(() => resolve("still waiting after 2 s"), 2000));
  assert.equal(await Promise.race([ended, hang]), "CLOSED");
  clearTimeout(timer);
});

test("changes: a close or an abort while the consumer is still taking a batch ends the feed (found by the simulation)", async () => {
  // The feed looked for a close or an abort only before handing out a batch
  // of changes, then waited for the next wake-up: one that came while the
  // consumer was still taking the batch was missed, and the feed waited for ever.
  for (const how of ["close", "abort"] as const) {
    const { dir, cleanup } = tempDir();
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    try {
      for (let i = 0; i < 5; i++) await db.put(`k${i}`, "v");
      const controller = new AbortController();
      const feed = db.changes({ since: 1, signal: controller.signal });
      assert.equal((await feed.next()).value?.sequence, 1); // the feed is in the middle of the batch 1-5
      if (how === "close") await db.close();
      else controller.abort();
      const rest = (async () => {
        for (;;) {
          try {
            if ((await feed.next()).done) return "done";
          } catch (err) {
            return (err as SiltError).code;
          }
        }
      })();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hang = new Promise((resolve) => timer = setTimeout(() => resolve("still waiting after 2 s"), 2000));
      assert.equal(await Promise.race([rest, hang]), how === "close" ? "CLOSED" : "ABORTED");
      clearTimeout(timer);
    } finally {
      if (db.status === "open") await db.close();
      cleanup();
    }
  }
});

test("changes: a consumer far behind catches up from the memtables, in order, nothing lost", async () => {
  const { dir, cleanup } = tempDir();
  const db = await open(dir, { memtableSize: 64 << 20 });
  try {
    const feed = db.changes({ since: 1 });
    const first = await (async () => {
      const p = take(feed, 1);
      await db.put(new Uint8Array([0]), new Uint8Array([0]));
      return p;
    })();
    assert.equal(first[0].sequence, 1);
    // 70,000 writes while the consumer sleeps: more than a feed queues.
    for (let i = 0; i < 7; i++) {
      const b = db.batch();
      for (let j = 0; j < 10000; j++) b.put(new Uint8Array([1, i, j >> 8, j & 255]), new Uint8Array([i]));
      await b.write();
    }
    const rest = await take(db.changes({ since: 2 }), 70000);
    assert.equal(rest.length, 70000);
    rest.forEach((c, i) => assert.equal(c.sequence, 2 + i));
  } finally {
    await db.close();
    cleanup();
  }
});

test("changes: a reader of a bucket sees the writer's changes after its refresh", async () => {
  const store = new MemoryObjectStore();
  const writer = await open("memory://feed/", { objectStore: store, keyEncoding: "utf8", valueEncoding: "utf8" });
  const reader = await open("memory://feed/", {
    objectStore: store,
    readOnly: true,
    refreshInterval: 0,
    keyEncoding: "utf8",
    valueEncoding: "utf8",
  });
  try {
    const feed = reader.changes({ since: 1 });
    const got = take(feed, 3);
    await writer.batch().put("a", "1").put("b", "2").write();
    await writer.delete("a");
    await reader.refresh();
    assert.deepEqual((await got).map((c) => [c.sequence, c.type, c.key]), [[1, "put", "a"], [2, "put", "b"], [
      3,
      "del",
      "a",
    ]]);
  } finally {
    await reader.close();
    await writer.close();
  }
});
