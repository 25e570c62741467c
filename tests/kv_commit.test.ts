// The commit pipeline of siltdb/kv (src/kv/commit.ts), below the Kv API:
// operations that arrive together are written as one siltdb batch, each
// with its own versionstamp (the sequence of its first entry); its batch is
// conditional on what it read, so a write that lands between its reads and
// its write (nothing else writes a Kv's store; here a test does) makes it
// evaluate the group again instead of writing on stale reads.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type Db, MemoryStorage, open } from "../mod.ts";
import { CommitPipeline, type CommitRequest, type Committed } from "../src/kv/commit.ts";
import { encodeKey } from "../src/kv/key_codec.ts";
import { versionstamp } from "../src/kv/layout.ts";
import { type EncodedValue, encodeValue, readStored, storedValue } from "../src/kv/value_codec.ts";

const key = (name: string) => encodeKey([name]);
const value = (v: unknown) => encodeValue(v) as EncodedValue;
const set = (name: string, v: unknown): CommitRequest["mutations"][number] => ({
  type: "set",
  key: key(name),
  value: value(v),
  expireAt: undefined,
});

async function withDb(fn: (db: Db) => Promise<void>): Promise<void> {
  const db = await open("/kv", { fs: new MemoryStorage() });
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

test("operations submitted together are one batch; each has the sequence of its first entry as versionstamp", async () => {
  await withDb(async (db) => {
    const heard: Committed[] = [];
    const pipeline = new CommitPipeline(db, db.sequence, false, (c) => heard.push(c));
    const before = db.sequence;
    const [a, b, c] = await Promise.all([
      pipeline.commit({ checks: [], mutations: [set("a", 1), set("b", 2)], enqueues: [] }),
      pipeline.commit({ checks: [{ key: key("a"), versionstamp: null }], mutations: [set("x", 0)], enqueues: [] }),
      pipeline.commit({ checks: [], mutations: [set("c", 3)], enqueues: [] }),
    ]);
    assert.deepEqual(a, { ok: true, versionstamp: versionstamp(before + 1) });
    assert.deepEqual(b, { ok: false }, "the second sees the first's write of a");
    assert.deepEqual(c, { ok: true, versionstamp: versionstamp(before + 3) });
    assert.equal(heard.length <= 2, true, "the group was written in at most two batches");
    const entry = await db.getEntry(key("b"));
    assert.equal(entry.version! - readStored(entry.value!).index, before + 1);
    assert.equal(db.sequence, before + 3);
  });
});

test("a write landing between a group's reads and its write makes the group evaluate again", async () => {
  await withDb(async (db) => {
    let interfere = true;
    const meddling = new Proxy(db, {
      get(target, prop) {
        if (prop !== "batch") {
          const member = Reflect.get(target, prop, target);
          return typeof member === "function" ? member.bind(target) : member;
        }
        return () => {
          const batch = target.batch();
          const write = batch.write.bind(batch);
          batch.write = async (options) => {
            if (interfere) {
              interfere = false;
              await target.put(key("t"), storedValue(value("theirs"), 0, undefined));
            }
            return write(options);
          };
          return batch;
        };
      },
    });
    const pipeline = new CommitPipeline(meddling, db.sequence, false, () => {});
    const outcome = await pipeline.commit({
      checks: [{ key: key("t"), versionstamp: null }],
      mutations: [set("t", "ours")],
      enqueues: [],
    });
    assert.deepEqual(outcome, { ok: false }, "evaluated again, the check sees the write that came between");
    const { value: stored } = await db.getEntry(key("t"));
    assert.deepEqual(readStored(stored!).payload, value("theirs").payload, "the write that came between stays");
    const next = await pipeline.commit({ checks: [], mutations: [set("u", 1)], enqueues: [] });
    assert.ok(next.ok && next.versionstamp === versionstamp(db.sequence), "its sequence count follows the store's");
  });
});
