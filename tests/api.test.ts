// The API users of Level, lmdb and Deno KV expect: prefix scans, keys() and
// values(), getMany(), has(), clear() and deleteRange(), count() and
// approximateSize(), `using` / `await using`, AbortSignal on scans,
// `limit: -1`, and typed JSON values. Each is checked for its behaviour and
// for the INVALID_ARGUMENT it gives bad input.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLEAR_BATCH_BYTES, type Db, MemoryStorage, open, SiltError } from "../mod.ts";
import { rejectsWith, tempDir, TINY, utf8 } from "./_harness.ts";

const mem = () => ({ fs: new MemoryStorage() });

/** A utf8/utf8 store holding keys, each with its upper-cased value. */
async function withKeys(keys: string[], tuning: Record<string, unknown> = {}): Promise<Db<string, string>> {
  const db = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8", ...tuning });
  for (const k of keys) await db.put(k, k.toUpperCase());
  return db;
}

const KEYS = ["a", "ab", "abc", "abd", "b", "user:1", "user:2", "user:3", "user;", "v"];

describe("prefix scans", () => {
  test("scan({ prefix }) yields exactly the keys that start with the prefix, forward and reverse", async () => {
    const db = await withKeys(KEYS);
    assert.deepEqual(db.scanSync({ prefix: "user:" }).toArray(), [["user:1", "USER:1"], ["user:2", "USER:2"], [
      "user:3",
      "USER:3",
    ]]);
    assert.deepEqual(await db.scan({ prefix: "ab", reverse: true }).toArray(), [["abd", "ABD"], ["abc", "ABC"], [
      "ab",
      "AB",
    ]]);
    assert.deepEqual(db.scanSync({ prefix: "ab", limit: 2 }).toArray(), [["ab", "AB"], ["abc", "ABC"]]);
    assert.deepEqual(db.scanSync({ prefix: "user:", reverse: true, limit: 1 }).toArray(), [["user:3", "USER:3"]]);
    assert.deepEqual(db.scanSync({ prefix: "x" }).toArray(), []);
    assert.equal(db.scanSync({ prefix: "" }).toArray().length, KEYS.length, "the empty prefix selects every key");
    await db.close();
  });

  test("prefix combined with gt/gte/lt/lte scans their intersection", async () => {
    const db = await withKeys(KEYS);
    const keys = (o: Parameters<typeof db.keysSync>[0]) => db.keysSync(o).toArray();
    assert.deepEqual(keys({ prefix: "ab", gt: "ab" }), ["abc", "abd"]);
    assert.deepEqual(keys({ prefix: "ab", gte: "abc" }), ["abc", "abd"]);
    assert.deepEqual(keys({ prefix: "ab", lt: "abd" }), ["ab", "abc"]);
    assert.deepEqual(keys({ prefix: "ab", lte: "abd", gt: "ab", reverse: true }), ["abd", "abc"]);
    assert.deepEqual(
      keys({ prefix: "ab", gte: "a" }),
      ["ab", "abc", "abd"],
      "a lower bound before the prefix changes nothing",
    );
    assert.deepEqual(
      keys({ prefix: "ab", lt: "z" }),
      ["ab", "abc", "abd"],
      "an upper bound after the prefix changes nothing",
    );
    assert.deepEqual(keys({ prefix: "ab", gte: "b" }), [], "disjoint ranges are empty");
    assert.deepEqual(keys({ prefix: "user:", lt: "user:" }), []);
    await db.close();
  });

  test("binary prefixes ending in 0xff bytes (whose range has no upper bound or a carried one) select the right keys", async () => {
    const db = await open("/db", mem());
    const ks = [[0x61], [0x61, 0xff], [0x61, 0xff, 0x00], [0x61, 0xff, 0xff], [0x62], [0xff], [0xff, 0x01], [
      0xff,
      0xff,
    ]];
    for (const k of ks) await db.put(new Uint8Array(k), "v");
    const keys = (prefix: number[]) => db.keysSync({ prefix: new Uint8Array(prefix) }).toArray().map((k) => [...k]);
    assert.deepEqual(keys([0x61, 0xff]), [[0x61, 0xff], [0x61, 0xff, 0x00], [0x61, 0xff, 0xff]]);
    assert.deepEqual(keys([0xff]), [[0xff], [0xff, 0x01], [0xff, 0xff]]);
    assert.deepEqual(keys([0xff, 0xff]), [[0xff, 0xff]]);
    assert.deepEqual(db.keysSync({ prefix: "a" }).toArray().length, 4, "a string prefix is matched as UTF-8 bytes");
    await db.close();
  });

  test("with json keys, a string prefix selects the string keys that start with it", async () => {
    const db = await open("/db", { ...mem(), keyEncoding: "json", valueEncoding: "json" });
    for (const k of ["user:1", "user:2", "user", "users", 7, ["user:1"], { user: 1 }]) await db.put(k, { k });
    assert.deepEqual(db.keysSync({ prefix: "user:" }).toArray(), ["user:1", "user:2"]);
    assert.deepEqual(db.keysSync({ prefix: "user" }).toArray(), ["user", "user:1", "user:2", "users"]);
    assert.deepEqual(
      db.keysSync({ prefix: utf8("[") }).toArray(),
      [["user:1"]],
      "a Uint8Array is matched against the JSON text",
    );
    await db.close();
  });

  test("snapshots scan prefixes as of the snapshot", async () => {
    const db = await withKeys(KEYS);
    const snap = db.snapshot();
    await db.put("user:0", "new");
    await db.delete("user:2");
    assert.deepEqual(snap.keysSync({ prefix: "user:" }).toArray(), ["user:1", "user:2", "user:3"]);
    assert.deepEqual(await snap.scan({ prefix: "user:", reverse: true, limit: 1 }).toArray(), [["user:3", "USER:3"]]);
    assert.deepEqual(db.keysSync({ prefix: "user:" }).toArray(), ["user:0", "user:1", "user:3"]);
    snap.release();
    await db.close();
  });

  test("a prefix of the wrong type, with a lone surrogate or over maxKeySize is INVALID_ARGUMENT", async () => {
    const db = await withKeys(KEYS, { maxKeySize: 8 });
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.scan({ prefix: 5 as unknown as string }),
      /prefix must be a string or a Uint8Array, got a number/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.keys({ prefix: null as unknown as string }), /prefix/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.scanSync({ prefix: "a\ud800" }),
      /prefix is not a well-formed Unicode string/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.valuesSync({ prefix: "123456789" }),
      /prefix is 9 bytes, over the maximum of 8/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.snapshot().scanSync({ prefix: {} as unknown as string }), /prefix/);
    await db.close();
  });
});

describe("keys() and values()", () => {
  test("keys/values (async and sync, db and snapshot) are the projections of scan with the same options", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    await db.put("b", "changed");
    const snap = db.snapshot();
    await db.delete("ab");
    for (
      const options of [{}, { gte: "ab", lt: "user:3" }, { reverse: true, limit: 3 }, { prefix: "user" }, {
        gt: "b",
        limit: -1,
      }]
    ) {
      for (const reader of [db, snap]) {
        const entries = reader.scanSync(options).toArray();
        assert.deepEqual(await reader.keys(options).toArray(), entries.map(([k]) => k));
        assert.deepEqual(reader.keysSync(options).toArray(), entries.map(([k]) => k));
        assert.deepEqual(await reader.values(options).toArray(), entries.map(([, v]) => v));
        assert.deepEqual([...reader.valuesSync(options)], entries.map(([, v]) => v));
      }
    }
    assert.deepEqual(snap.keysSync({ prefix: "ab" }).toArray(), ["ab", "abc", "abd"]);
    assert.deepEqual(db.keysSync({ prefix: "ab" }).toArray(), ["abc", "abd"]);
    assert.equal(snap.valuesSync({ gte: "b", lte: "b" }).toArray()[0], "changed");
    const keys: string[] = [];
    for await (const k of db.keys({ limit: 2 })) keys.push(k);
    assert.deepEqual(keys, ["a", "abc"]);
    snap.release();
    await db.close();
  });

  test("keys() does not decode values, and values() does not decode keys", async () => {
    const fs = new MemoryStorage();
    const raw = await open("/db", { fs });
    await raw.put('"json key"', "not json");
    await raw.put("not json", '"json value"');
    await raw.close();
    const db = await open("/db", { fs, keyEncoding: "json", valueEncoding: "json" });
    assert.throws(() => db.scanSync().toArray(), /not JSON/, "a full scan decodes both, and fails");
    assert.deepEqual(db.keysSync({ lt: "n" }).toArray(), ["json key"]); // stored text up to "n" (with its quotes)
    assert.deepEqual(db.valuesSync({ gt: "zzz" }).toArray(), ["json value"]); // stored text after "zzz": the raw key not json
    await db.close();
  });

  test("breaking out of keys()/values() closes the scan", async () => {
    const db = await withKeys(KEYS);
    for await (const _ of db.keys()) break;
    for (const _ of db.valuesSync()) break;
    assert.equal(db.stats().scans, 0);
    await db.close();
  });
});

describe("getMany() and has()", () => {
  test("getMany() returns the values in order, undefined for absent keys", async () => {
    const db = await withKeys(KEYS);
    await db.delete("b");
    assert.deepEqual(await db.getMany(["user:2", "missing", "a", "b", "a"]), [
      "USER:2",
      undefined,
      "A",
      undefined,
      "A",
    ]);
    assert.deepEqual(db.getManySync(["v"]), ["V"]);
    assert.deepEqual(await db.getMany([]), []);
    await db.close();
  });

  test("getMany() reads every key as of one moment, from memtables and tables alike", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    await db.put("a", "newer");
    const snap = db.snapshot();
    await db.put("abc", "newest");
    assert.deepEqual(await snap.getMany(["a", "abc", "v"]), ["newer", "ABC", "V"]);
    assert.deepEqual(snap.getManySync(["abc"]), ["ABC"]);
    assert.deepEqual(db.getManySync(["a", "abc", "v"]), ["newer", "newest", "V"]);
    snap.release();
    await db.close();
  });

  test("has() is true for a stored key (an empty value too) and false for an absent or deleted one", async () => {
    const db = await withKeys(KEYS);
    await db.put("empty", "");
    await db.delete("b");
    assert.equal(await db.has("a"), true);
    assert.equal(db.hasSync("empty"), true);
    assert.equal(await db.has("b"), false);
    assert.equal(db.hasSync("nope"), false);
    const snap = db.snapshot();
    await db.delete("a");
    await db.put("b", "back");
    assert.equal(snap.hasSync("a"), true);
    assert.equal(await snap.has("b"), false);
    assert.equal(db.hasSync("a"), false);
    assert.equal(await db.has("b"), true);
    snap.release();
    await db.close();
  });

  test("getMany() and has() refuse bad input with INVALID_ARGUMENT", async () => {
    const db = await withKeys(KEYS);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.getMany("a" as unknown as string[]),
      /getMany keys must be an array, got a string/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.getManySync(["a", 7 as unknown as string]),
      /getMany keys\[1\] must be a string or a Uint8Array, got a number/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.getMany(["a"], { fillCache: true } as unknown as Record<string, never>),
      /unknown getMany option "fillCache"/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.has(null as unknown as string),
      /key must be a string or a Uint8Array, got null/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.hasSync({} as unknown as string), /key/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.snapshot().getMany(undefined as unknown as string[]),
      /must be an array/,
    );
    await db.close();
  });
});

describe("clear() and deleteRange()", () => {
  test("clear() without a range deletes every key; a snapshot taken before still sees them all", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    await db.put("memtable-only", "x");
    const snap = db.snapshot();
    await db.clear();
    assert.deepEqual(db.scanSync().toArray(), []);
    assert.equal(await db.count(), 0);
    assert.equal(await snap.count(), KEYS.length + 1);
    assert.deepEqual(snap.keysSync().toArray(), [...KEYS, "memtable-only"].sort());
    snap.release();
    await db.put("after", "1");
    assert.deepEqual(db.keysSync().toArray(), ["after"], "writes after clear() are kept");
    await db.close();
  });

  test("clear() takes the range options of scan, prefix, limit and reverse included", async () => {
    const db = await withKeys(KEYS);
    await db.clear({ prefix: "user:" });
    assert.deepEqual(db.keysSync().toArray(), ["a", "ab", "abc", "abd", "b", "user;", "v"]);
    await db.clear({ prefix: "ab", gt: "ab" });
    assert.deepEqual(db.keysSync().toArray(), ["a", "ab", "b", "user;", "v"]);
    await db.clear({ gte: "b", limit: 2 });
    assert.deepEqual(db.keysSync().toArray(), ["a", "ab", "v"]);
    await db.clear({ reverse: true, limit: 1 });
    assert.deepEqual(db.keysSync().toArray(), ["a", "ab"]);
    await db.clear({ limit: -1, lt: "ab" });
    assert.deepEqual(db.keysSync().toArray(), ["ab"]);
    await db.clear({ prefix: "zzz", sync: true });
    assert.deepEqual(db.keysSync().toArray(), ["ab"]);
    await db.close();
  });

  test("clear() of json keys deletes the stored keys whatever their type", async () => {
    const db = await open("/db", { ...mem(), keyEncoding: "json", valueEncoding: "json" });
    for (const k of [1, "one", [1], { one: 1 }, null]) await db.put(k, true);
    await db.clear({ gte: [0] }); // stored JSON text from "[0]" on: [1], null, {"one":1}
    assert.deepEqual(db.keysSync().toArray(), ["one", 1]);
    await db.clear();
    assert.equal(await db.count(), 0);
    await db.close();
  });

  test("a clear() of more keys than one batch holds writes one range tombstone, and persists across reopen", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8" });
    const keySize = 4000;
    const n = Math.ceil((CLEAR_BATCH_BYTES * 1.5) / (keySize + 5));
    for (let i = 0; i < n; i += 100) {
      const batch = db.batch();
      for (let j = i; j < Math.min(n, i + 100); j++) {
        batch.put(`${String(j).padStart(6, "0")}${"x".repeat(keySize - 6)}`, "");
      }
      await batch.write();
    }
    await db.put("keep", "1");
    const snap = db.snapshot();
    const logBefore = db.stats().wal.bytesWritten;
    await db.clear({ lt: "k" });
    assert.equal(await db.count(), 1);
    assert.equal(await snap.count(), n + 1);
    assert.ok(db.stats().wal.bytesWritten - logBefore < 100, "one range tombstone was logged");
    snap.release();
    await db.close();
    const reopened = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
    assert.deepEqual(reopened.scanSync().toArray(), [["keep", "1"]]);
    await reopened.close();
  });

  test("deleteRange(start, end) deletes from start (inclusive) to end (exclusive)", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    const snap = db.snapshot();
    await db.deleteRange("ab", "b");
    assert.deepEqual(db.keysSync().toArray(), ["a", "b", "user:1", "user:2", "user:3", "user;", "v"]);
    await db.deleteRange("user:2", "user:2");
    await assert.rejects(db.deleteRange("v", "a"), {
      code: "INVALID_ARGUMENT",
      message: /start must not be after end/,
    });
    assert.equal(await db.count(), 7, "an empty range deletes nothing, an inverted one is refused");
    await db.deleteRange("user:2", "v", { sync: true });
    assert.deepEqual(db.keysSync().toArray(), ["a", "b", "user:1", "v"]);
    assert.deepEqual(snap.keysSync().toArray(), KEYS, "a snapshot taken before sees every key");
    snap.release();
    await db.close();
  });

  test("clear() and deleteRange() refuse bad input with INVALID_ARGUMENT, and read-only stores with READ_ONLY", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8" });
    await db.put("a", "1");
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.clear({ gt: 1 as unknown as string }),
      /clear option gt must be a string or a Uint8Array/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.clear({ from: "a" } as never), /unknown clear option "from"/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.clear({ limit: 1.5 }),
      /clear option limit must be a non-negative integer/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.clear({ sync: "yes" as unknown as boolean }),
      /clear option sync must be a boolean/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.clear({ gt: "a", gte: "a" }), /gt and gte cannot both be set/);
    await rejectsWith("INVALID_ARGUMENT", () => db.clear("a" as never), /clear options must be an object/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.deleteRange(1 as unknown as string, "b"),
      /deleteRange start must be a string or a Uint8Array/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.deleteRange("a", undefined as unknown as string), /deleteRange end/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.deleteRange("a", "b", { sync: 1 } as never),
      /deleteRange option sync must be a boolean/,
    );
    assert.equal(db.getSync("a") !== undefined, true, "nothing was deleted by a refused call");
    await db.close();
    const ro = await open("/db", { fs, readOnly: true });
    await rejectsWith("READ_ONLY", () => ro.clear());
    await rejectsWith("READ_ONLY", () => ro.deleteRange("a", "b"));
    await ro.close();
  });
});

describe("count() and approximateSize()", () => {
  test("count() is the exact number of visible keys in a range, whatever versions and tombstones lie in tables", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    for (const k of KEYS) await db.put(k, "overwritten");
    await db.delete("abc");
    await db.delete("never");
    assert.equal(await db.count(), KEYS.length - 1);
    assert.equal(await db.count({ prefix: "ab" }), 2);
    assert.equal(await db.count({ gt: "a", lte: "b" }), 3);
    assert.equal(await db.count({ prefix: "user:", lt: "user:3" }), 2);
    assert.equal(await db.count({ gte: "w" }), 0);
    await db.compact();
    assert.equal(await db.count(), KEYS.length - 1);
    await db.close();
  });

  test("count() refuses options other than a range", async () => {
    const db = await withKeys(KEYS);
    await rejectsWith("INVALID_ARGUMENT", () => db.count({ limit: 2 } as never), /unknown count option "limit"/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.count({ lt: [] as unknown as string }),
      /count option lt must be a string or a Uint8Array, got an array/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.snapshot().count(7 as never), /count options must be an object/);
    await db.close();
  });

  test("approximateSize() sums the table bytes a range covers: all of them for every key, none outside, about half for half", async () => {
    // compression "none": the repetitive values would shrink to nearly nothing, leaving index and filter bytes.
    const db = await open("/db", {
      ...mem(),
      keyEncoding: "utf8",
      blockSize: 1024,
      compactionMode: "inline",
      compression: "none",
    });
    assert.equal(await db.approximateSize(), 0, "an empty store");
    const value = "v".repeat(100);
    for (let i = 0; i < 2000; i += 200) {
      const batch = db.batch();
      for (let j = i; j < i + 200; j++) batch.put(`k${String(j).padStart(5, "0")}`, value);
      await batch.write();
    }
    assert.equal(await db.approximateSize(), 0, "data still in the memtable is not counted");
    await db.compact();
    const tableBytes = db.stats().levels.reduce((n, l) => n + l.bytes, 0);
    assert.equal(await db.approximateSize(), tableBytes);
    assert.equal(await db.approximateSize({ gte: "a", lte: "z" }), tableBytes);
    assert.equal(await db.approximateSize({ gt: "l" }), 0);
    assert.equal(await db.approximateSize({ prefix: "x" }), 0);
    const half = await db.approximateSize({ lt: "k01000" });
    assert.ok(half > tableBytes * 0.4 && half < tableBytes * 0.6, `half the keys: ${half} of ${tableBytes}`);
    const twentieth = await db.approximateSize({ prefix: "k000" }); // k00000 to k00099
    assert.ok(twentieth > 0 && twentieth < tableBytes * 0.15, `5% of the keys: ${twentieth} of ${tableBytes}`);
    const sub = await db.approximateSize({ gte: "k00500", lt: "k01500" });
    assert.ok(sub <= half * 1.2 + 2048 && sub > tableBytes * 0.4, `half the keys, in the middle: ${sub}`);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.approximateSize({ reverse: true } as never),
      /unknown approximateSize option "reverse"/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.approximateSize({ prefix: 1 as unknown as string }),
      /approximateSize option prefix/,
    );
    await db.close();
  });
});

describe("using and await using", () => {
  test("await using closes the database at the end of the block", async () => {
    let kept: Db | undefined;
    const fs = new MemoryStorage();
    {
      await using db = await open("/db", { fs });
      await db.put("k", "v");
      kept = db;
    }
    assert.equal(kept.status, "closed");
    const again = await open("/db", { fs, valueEncoding: "utf8" }); // the lock was released
    assert.equal(await again.get("k"), "v");
    await again.close();
  });

  test("Symbol.asyncDispose on a closed or closing database does not throw", async () => {
    const db = await open("/db", mem());
    await db.close();
    await db[Symbol.asyncDispose]();
    const other = await open("/db2", mem());
    const closing = other.close();
    const disposed = other[Symbol.asyncDispose]();
    assert.equal(other.status, "closing");
    await disposed;
    assert.equal(other.status, "closed");
    await closing;
    await rejectsWith("CLOSED", () => other.close(), /already closed/);
  });

  test("using releases a snapshot, and closes a scan", async () => {
    const db = await withKeys(Array.from({ length: 100 }, (_, i) => `k${i}`)); // more than one batch of a scan
    let snapshot;
    {
      using snap = db.snapshot();
      snapshot = snap;
      assert.equal(db.stats().snapshots, 1);
    }
    assert.equal(snapshot.live, false);
    assert.equal(db.stats().snapshots, 0);
    {
      using scan = db.scanSync();
      scan.next();
      using keys = db.keys();
      await keys.next();
      assert.equal(db.stats().scans, 2);
    }
    assert.equal(db.stats().scans, 0);
    const scan = db.scan();
    scan[Symbol.dispose]();
    scan[Symbol.dispose]();
    assert.deepEqual(await scan.next(), { done: true, value: undefined });
    await db.close();
  });
});

describe("AbortSignal on scans", () => {
  test("aborting mid-scan closes it: the next read fails with ABORTED, the reason as cause", async () => {
    const db = await withKeys(KEYS, TINY);
    await db.flush();
    const controller = new AbortController();
    const scan = db.scan({ signal: controller.signal });
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const [k] of scan) {
        seen.push(k);
        if (seen.length === 3) controller.abort(new Error("user went away"));
      }
    }, (err: unknown) => {
      assert.ok(err instanceof SiltError);
      assert.equal(err.code, "ABORTED");
      assert.match(err.message, /aborted: user went away/);
      assert.equal((err.cause as Error).message, "user went away");
      return true;
    });
    assert.deepEqual(seen, KEYS.slice(0, 3));
    assert.equal(db.stats().scans, 0, "the aborted scan let go of its resources");
    await rejectsWith("ABORTED", () => scan.next(), /aborted/);
    await db.close();
  });

  test("an abort stops sync scans, keys() and values() too", async () => {
    const db = await withKeys(KEYS);
    for (
      const make of [
        (signal: AbortSignal) => db.scanSync({ signal }),
        (signal: AbortSignal) => db.keysSync({ signal, reverse: true }),
        (signal: AbortSignal) => db.valuesSync({ signal, prefix: "user:" }),
        (signal: AbortSignal) => db.snapshot().keysSync({ signal }),
      ]
    ) {
      const controller = new AbortController();
      const it = make(controller.signal);
      assert.equal(it.next().done, false);
      controller.abort();
      await rejectsWith("ABORTED", () => it.next());
      await rejectsWith("ABORTED", () => it.toArray());
    }
    const controller = new AbortController();
    const values = db.values({ signal: controller.signal });
    controller.abort("stop");
    await rejectsWith("ABORTED", () => values.next(), /aborted: stop/);
    await db.close();
  });

  test("an already aborted signal fails the call at once", async () => {
    const db = await withKeys(KEYS);
    const signal = AbortSignal.abort();
    await rejectsWith("ABORTED", () => db.scan({ signal }));
    await rejectsWith("ABORTED", () => db.scanSync({ signal }));
    await rejectsWith("ABORTED", () => db.keys({ signal }));
    await rejectsWith("ABORTED", () => db.valuesSync({ signal }));
    await rejectsWith("ABORTED", () => db.snapshot().scan({ signal, limit: 0 }));
    assert.equal(db.stats().scans, 0);
    await db.close();
  });

  test("a scan that ended, or was closed, is not affected by a later abort; a non-signal is INVALID_ARGUMENT", async () => {
    const db = await withKeys(KEYS);
    const controller = new AbortController();
    const done = db.keysSync({ signal: controller.signal, limit: 2 });
    assert.deepEqual(done.toArray(), ["a", "ab"]);
    const closed = db.keysSync({ signal: controller.signal });
    closed.close();
    controller.abort();
    assert.deepEqual(done.next(), { done: true, value: undefined });
    assert.deepEqual(closed.next(), { done: true, value: undefined });
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.scan({ signal: {} as AbortSignal }),
      /scan option signal must be an AbortSignal, got an object/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.keys({ signal: "stop" as unknown as AbortSignal }),
      /keys option signal must be an AbortSignal, got a string/,
    );
    await db.close();
  });
});

describe("limit", () => {
  test("limit: -1 means no limit; other negative or fractional limits are INVALID_ARGUMENT", async () => {
    const db = await withKeys(KEYS);
    assert.equal(db.scanSync({ limit: -1 }).toArray().length, KEYS.length);
    assert.equal((await db.keys({ limit: -1, reverse: true }).toArray())[0], "v");
    assert.equal(db.snapshot().valuesSync({ limit: -1 }).toArray().length, KEYS.length);
    assert.equal(db.scanSync({ limit: Infinity }).toArray().length, KEYS.length);
    assert.equal(db.scanSync({ limit: 0 }).toArray().length, 0);
    for (const limit of [-2, 1.5, NaN, -Infinity, "3"]) {
      await rejectsWith(
        "INVALID_ARGUMENT",
        () => db.scan({ limit: limit as number }),
        /scan option limit must be a non-negative integer, Infinity or -1/,
      );
    }
    await db.close();
  });
});

describe("typed JSON values", () => {
  interface User {
    name: string;
    age?: number;
  }

  test('open<T>(path, { valueEncoding: "json" }) types values as T, with no cast', async () => {
    const dir = tempDir();
    try {
      const db = await open<User>(dir.dir, { valueEncoding: "json" });
      await db.put("u1", { name: "alice", age: 30 });
      const user: User | undefined = await db.get("u1");
      assert.equal(user?.name, "alice");
      const many: (User | undefined)[] = db.getManySync(["u1", "u2"]);
      assert.deepEqual(many, [{ name: "alice", age: 30 }, undefined]);
      const names: string[] = db.valuesSync().toArray().map((u) => u.name);
      assert.deepEqual(names, ["alice"]);
      const keys: Uint8Array[] = db.keysSync().toArray();
      assert.deepEqual(keys, [utf8("u1")]);
      await db.close();

      const byName = await open<User, "utf8">(dir.dir, { keyEncoding: "utf8", valueEncoding: "json" });
      for (const [k, v] of byName.scanSync()) {
        const key: string = k;
        const name: string = v.name;
        assert.equal(`${key}:${name}`, "u1:alice");
      }
      await byName.close();
    } finally {
      dir.cleanup();
    }
  });

  test("inference from the options is unchanged for utf8, binary and json", async () => {
    const text = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8" });
    await text.put("k", "v");
    const s: string | undefined = await text.get("k");
    const k: string[] = text.keysSync().toArray();
    assert.equal(s, "v");
    assert.deepEqual(k, ["k"]);
    await text.close();
    const bin = await open("/db", mem());
    const b: Uint8Array | undefined = bin.getSync("k");
    assert.equal(b, undefined);
    await bin.close();
    const json = await open("/db", { ...mem(), valueEncoding: "json" });
    const u: unknown = await json.get("k");
    assert.equal(u, undefined);
    await json.close();
    // Type errors (checked by tsc): a value type needs valueEncoding "json", and a key encoding other than binary as the second type argument.
    if (Math.random() > 2) {
      // @ts-expect-error valueEncoding "json" is required with a value type
      await open<User>("/never", { valueEncoding: "utf8" });
      // @ts-expect-error keyEncoding "utf8" must be named: open<User, "utf8">
      await open<User>("/never", { keyEncoding: "utf8", valueEncoding: "json" });
      const typed = await open<User>("/never", { valueEncoding: "json" });
      // @ts-expect-error values are User
      const n: number | undefined = await typed.get("k");
      void n;
    }
  });
});

describe("closed databases", () => {
  test("the new calls fail with CLOSED after close()", async () => {
    const db = await withKeys(KEYS);
    const snap = db.snapshot();
    await db.close();
    await rejectsWith("CLOSED", () => db.getMany(["a"]));
    await rejectsWith("CLOSED", () => db.hasSync("a"));
    await rejectsWith("CLOSED", () => db.keys());
    await rejectsWith("CLOSED", () => db.valuesSync());
    await rejectsWith("CLOSED", () => db.count());
    await rejectsWith("CLOSED", () => db.approximateSize());
    await rejectsWith("CLOSED", () => db.clear());
    await rejectsWith("CLOSED", () => db.deleteRange("a", "b"));
    await rejectsWith("RELEASED", () => snap.count());
  });
});
