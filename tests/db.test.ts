import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open, SiltError } from "../mod.ts";
import { rejectsWith, tempDir, text, utf8 } from "./_harness.ts";

const mem = () => ({ fs: new MemoryStorage() });

describe("reads and writes", () => {
  test("get() returns what put() stored, as bytes by default", async () => {
    const db = await open("/db", mem());
    await db.put("user:1", "alice");
    await db.put(utf8("bin"), new Uint8Array([0, 1, 255]));
    assert.deepEqual(await db.get("user:1"), utf8("alice"));
    assert.deepEqual(db.getSync(utf8("user:1")), utf8("alice"));
    assert.deepEqual(await db.get("bin"), new Uint8Array([0, 1, 255]));
    await db.close();
  });

  test("get() returns undefined for a missing key and for a deleted key", async () => {
    const db = await open("/db", mem());
    assert.equal(await db.get("nope"), undefined);
    await db.put("k", "v");
    await db.delete("k");
    assert.equal(await db.get("k"), undefined);
    assert.equal(db.getSync("k"), undefined);
    await db.delete("never-existed");
    await db.close();
  });

  test("the latest put wins; empty keys and empty values are allowed", async () => {
    const db = await open("/db", { ...mem(), valueEncoding: "utf8" });
    await db.put("k", "1");
    await db.put("k", "2");
    await db.put("", "empty key");
    await db.put("empty", "");
    assert.equal(await db.get("k"), "2");
    assert.equal(await db.get(""), "empty key");
    assert.equal(await db.get("empty"), "");
    await db.close();
  });

  test("writes apply in call order even without awaiting, and are visible once they resolve", async () => {
    const db = await open("/db", { ...mem(), valueEncoding: "utf8" });
    const pending = [db.put("k", "a"), db.delete("k"), db.put("k", "b")];
    await pending[0];
    assert.equal(db.getSync("k"), "b", "writes made together are written (and applied) together");
    await Promise.all(pending);
    await db.close();
  });

  test("utf8 and json encodings round-trip keys and values", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "json" });
    await db.put("naïve ☃ 🎉", { a: [1, 2, { b: null }], s: "x" });
    assert.deepEqual(await db.get("naïve ☃ 🎉"), { a: [1, 2, { b: null }], s: "x" });
    const keys = [];
    for await (const [k] of db.scan()) keys.push(k);
    assert.deepEqual(keys, ["naïve ☃ 🎉"]);
    await db.close();
    const raw = await open("/db", { fs });
    assert.equal(text(await raw.get("naïve ☃ 🎉")), '{"a":[1,2,{"b":null}],"s":"x"}');
    await raw.close();
    const json = await open("/db", { fs, keyEncoding: "json", valueEncoding: "utf8" });
    await json.put([1, "a"], "array key");
    assert.equal(await json.get([1, "a"]), "array key");
    await json.close();
  });

  test("large values (megabytes) round-trip", async () => {
    const db = await open("/db", mem());
    const big = Uint8Array.from({ length: 5 << 20 }, (_, i) => (i * 7) & 0xff);
    await db.put("big", big, { sync: true });
    assert.deepEqual(await db.get("big"), big);
    await db.close();
  });
});

describe("batches", () => {
  test("a batch applies all its operations in order", async () => {
    const db = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.put("b", "old");
    const batch = db.batch().put("a", "1").delete("b").put("c", "3").put("a", "again");
    assert.equal(batch.length, 4);
    await batch.write({ sync: true });
    assert.deepEqual(db.scanSync().toArray(), [["a", "again"], ["c", "3"]]);
    await db.close();
  });

  test("a batch with a bad operation rejects that operation and keeps the others", async () => {
    const db = await open("/db", { ...mem(), maxKeySize: 10 });
    const batch = db.batch().put("ok", "1");
    assert.throws(() => batch.put(42 as unknown as string, "x"), SiltError);
    assert.throws(() => batch.put("x".repeat(11), "x"), /over the maximum of 10/);
    assert.throws(() => batch.delete(undefined as unknown as string), /key must be a string or a Uint8Array/);
    assert.equal(batch.length, 1);
    await batch.write();
    assert.deepEqual(await db.get("ok"), utf8("1"));
    assert.equal(db.stats().sequence, 1);
    await db.close();
  });

  test("a batch can be written once; an empty batch applies nothing", async () => {
    const db = await open("/db", mem());
    const batch = db.batch().put("a", "1");
    await batch.write();
    await rejectsWith("CLOSED", () => batch.write(), /already written/);
    assert.throws(() => batch.put("b", "2"), /already written/);
    await db.batch().write();
    assert.equal(db.stats().sequence, 1);
    await db.close();
  });

  test("a batch is atomic across a crash: all of it or none", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
    const batch = db.batch();
    for (let i = 0; i < 100; i++) batch.put(`k${i}`, `v${i}`);
    batch.write().catch(() => {}); // the crash comes first: the "dead" process never writes it
    fs.crash({ unsynced: "keep" });
    const reopened = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
    const all = reopened.scanSync().toArray();
    assert.ok(all.length === 0 || all.length === 100, `found ${all.length} of 100`);
    await reopened.close();
  });
});

describe("scans", () => {
  async function letters() {
    const db = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8" });
    for (const k of ["a", "b", "c", "d", "e"]) await db.put(k, k.toUpperCase());
    await db.put("c", "C2");
    await db.delete("d");
    return db;
  }
  const keys = (entries: [string, string][]) => entries.map(([k]) => k).join("");

  test("scan() yields live keys in order with their newest values", async () => {
    const db = await letters();
    const seen: [string, string][] = [];
    for await (const entry of db.scan()) seen.push(entry);
    assert.deepEqual(seen, [["a", "A"], ["b", "B"], ["c", "C2"], ["e", "E"]]);
    await db.close();
  });

  test("bounds gt/gte/lt/lte, reverse and limit combine", async () => {
    const db = await letters();
    assert.equal(keys(db.scanSync({ gte: "b" }).toArray()), "bce");
    assert.equal(keys(db.scanSync({ gt: "b" }).toArray()), "ce");
    assert.equal(keys(db.scanSync({ lt: "c" }).toArray()), "ab");
    assert.equal(keys(db.scanSync({ lte: "c" }).toArray()), "abc");
    assert.equal(keys(db.scanSync({ gt: "a", lt: "e" }).toArray()), "bc");
    assert.equal(keys(db.scanSync({ reverse: true }).toArray()), "ecba");
    assert.equal(keys(db.scanSync({ reverse: true, lte: "c" }).toArray()), "cba");
    assert.equal(keys(db.scanSync({ reverse: true, lt: "c", gt: "a" }).toArray()), "b");
    assert.equal(keys(db.scanSync({ reverse: true, gte: "d" }).toArray()), "e");
    assert.equal(keys(db.scanSync({ limit: 2 }).toArray()), "ab");
    assert.equal(keys(db.scanSync({ reverse: true, limit: 2 }).toArray()), "ec");
    assert.equal(keys(db.scanSync({ limit: 0 }).toArray()), "");
    assert.equal(keys(db.scanSync({ gte: "x" }).toArray()), "");
    assert.equal(keys(db.scanSync({ gt: "c", lt: "c" }).toArray()), "");
    assert.equal(keys(await db.scan({ gte: "b", lte: "d" }).toArray()), "bc");
    await db.close();
  });

  test("a scan sees the data as of its start, not later writes", async () => {
    const db = await letters();
    const scan = db.scan();
    const first = await scan.next();
    await db.put("b2", "new");
    await db.delete("e");
    const rest: string[] = [];
    for await (const [k] of scan) rest.push(k);
    assert.equal(first.value?.[0], "a");
    assert.deepEqual(rest, ["b", "c", "e"]);
    await db.close();
  });

  test("breaking out of a scan frees it; scans over thousands of keys cross batch boundaries", async () => {
    const db = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8" });
    const batch = db.batch();
    for (let i = 0; i < 5000; i++) batch.put(`k${String(i).padStart(5, "0")}`, String(i));
    await batch.write();
    let n = 0;
    for await (const [k, v] of db.scan()) {
      assert.equal(k, `k${v.padStart(5, "0")}`);
      if (++n === 10) break;
    }
    assert.equal(db.stats().scans, 0);
    assert.equal(db.scanSync().toArray().length, 5000);
    assert.equal(db.scanSync({ reverse: true }).toArray()[0][0], "k04999");
    await db.close();
  });

  test("bad scan options are INVALID_ARGUMENT", async () => {
    const db = await letters();
    await rejectsWith("INVALID_ARGUMENT", () => db.scan({ gt: "a", gte: "b" }), /cannot both be set/);
    await rejectsWith("INVALID_ARGUMENT", () => db.scan({ limit: -2 }), /limit/); // -1 is no limit (tests/api.test.ts)
    await rejectsWith("INVALID_ARGUMENT", () => db.scan({ limit: 1.5 }), /limit/);
    await rejectsWith("INVALID_ARGUMENT", () => db.scan({ reverse: "yes" as unknown as boolean }), /reverse/);
    await rejectsWith("INVALID_ARGUMENT", () => db.scan({ gte: 5 as unknown as string }), /gte must be a string/);
    await db.close();
  });
});

describe("snapshots", () => {
  test("a snapshot keeps seeing the data as of when it was taken", async () => {
    const db = await open("/db", { ...mem(), keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.put("a", "1");
    await db.put("b", "1");
    const snap = db.snapshot();
    await db.put("a", "2");
    await db.delete("b");
    await db.put("c", "new");
    assert.equal(snap.getSync("a"), "1");
    assert.equal(await snap.get("b"), "1");
    assert.equal(snap.getSync("c"), undefined);
    assert.deepEqual(snap.scanSync().toArray(), [["a", "1"], ["b", "1"]]);
    assert.deepEqual(await snap.scan({ reverse: true }).toArray(), [["b", "1"], ["a", "1"]]);
    assert.deepEqual(db.scanSync().toArray(), [["a", "2"], ["c", "new"]]);
    assert.equal(db.stats().snapshots, 1);
    snap.release();
    assert.equal(db.stats().snapshots, 0);
    await rejectsWith("RELEASED", () => snap.getSync("a"));
    await rejectsWith("RELEASED", () => snap.scan());
    snap.release();
    await db.close();
  });
});

describe("misuse gets a typed SiltError and leaves data untouched", () => {
  test("wrong key and value types", async () => {
    const db = await open("/db", mem());
    await db.put("k", "v");
    for (const bad of [42, null, undefined, {}, [1], new ArrayBuffer(2), new Uint16Array(2), true]) {
      await rejectsWith(
        "INVALID_ARGUMENT",
        () => db.put(bad as unknown as string, "x"),
        /key must be a string or a Uint8Array/,
      );
      await rejectsWith(
        "INVALID_ARGUMENT",
        () => db.put("k", bad as unknown as string),
        /value must be a string or a Uint8Array/,
      );
      await rejectsWith("INVALID_ARGUMENT", () => db.get(bad as unknown as string), /key must/);
      await rejectsWith("INVALID_ARGUMENT", () => db.delete(bad as unknown as string), /key must/);
    }
    assert.throws(() => db.getSync(7 as unknown as string), /key must be a string or a Uint8Array, got a number/);
    assert.deepEqual(await db.get("k"), utf8("v"));
    assert.equal(db.stats().sequence, 1);
    await db.close();
  });

  test("json encoding rejects what JSON cannot hold", async () => {
    const db = await open("/db", { ...mem(), valueEncoding: "json" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejectsWith("INVALID_ARGUMENT", () => db.put("k", cyclic), /JSON/);
    await rejectsWith("INVALID_ARGUMENT", () => db.put("k", undefined), /JSON/);
    await rejectsWith("INVALID_ARGUMENT", () => db.put("k", 10n as unknown as string), /JSON/);
    assert.equal(db.stats().sequence, 0);
    await db.close();
  });

  test("keys and values over the configured maximum", async () => {
    const db = await open("/db", { ...mem(), maxKeySize: 8, maxValueSize: 16 });
    await rejectsWith("INVALID_ARGUMENT", () => db.put("123456789", "v"), /key is 9 bytes, over the maximum of 8/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.put("k", "x".repeat(17)),
      /value is 17 bytes, over the maximum of 16/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.put("ééééé", "v"), /key is 10 bytes/);
    await db.put("12345678", "x".repeat(16));
    assert.equal(db.stats().sequence, 1);
    await db.close();
  });

  test("bad options name the option", async () => {
    const fs = new MemoryStorage();
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", { fs, memtableSize: -1 }), /memtableSize/);
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", { fs, keyEncoding: "hex" as "utf8" }), /keyEncoding/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, sync: "yes" as unknown as boolean }),
      /sync must be a boolean/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", { fs, compaction: "lazy" as "leveled" }), /compaction/);
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => open("/db", { fs, nonsense: 1 } as object),
      /unknown option "nonsense"/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", { fs: {} as MemoryStorage }), /option fs/);
    await rejectsWith("INVALID_ARGUMENT", () => open("", { fs }), /path/);
    await rejectsWith("INVALID_ARGUMENT", () => open("/db", "fast" as unknown as object), /options must be an object/);
    const db = await open("/db", { fs });
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.put("k", "v", { sync: 1 as unknown as boolean }),
      /sync must be a boolean/,
    );
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.batch().put("k", "v").write("now" as unknown as object),
      /write options/,
    );
    assert.equal(db.stats().sequence, 0);
    await db.close();
  });

  test("use after close and double close are CLOSED", async () => {
    const db = await open("/db", mem());
    await db.put("k", "v");
    const snap = db.snapshot();
    const scan = db.scanSync();
    await db.close();
    assert.equal(db.status, "closed");
    await rejectsWith("CLOSED", () => db.close(), /already closed/);
    await rejectsWith("CLOSED", () => db.put("k", "v"));
    await rejectsWith("CLOSED", () => db.get("k"));
    await rejectsWith("CLOSED", () => db.getSync("k"));
    await rejectsWith("CLOSED", () => db.delete("k"));
    await rejectsWith("CLOSED", () => db.batch());
    await rejectsWith("CLOSED", () => db.scan());
    await rejectsWith("CLOSED", () => db.snapshot());
    await rejectsWith("CLOSED", () => db.stats());
    await rejectsWith("CLOSED", () => scan.next());
    await rejectsWith("RELEASED", () => snap.getSync("k"));
  });

  test("writes started before close() are durable after it", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, valueEncoding: "utf8" });
    const writes = Array.from({ length: 100 }, (_, i) => db.put(`k${i}`, `v${i}`));
    await db.close();
    await Promise.all(writes);
    fs.crash();
    const again = await open("/db", { fs, valueEncoding: "utf8" });
    assert.equal(await again.get("k99"), "v99");
    await again.close();
  });

  test("createIfMissing, errorIfExists and readOnly", async () => {
    const fs = new MemoryStorage();
    await rejectsWith("NOT_FOUND", () => open("/none", { fs, createIfMissing: false }));
    await rejectsWith("NOT_FOUND", () => open("/none", { fs, readOnly: true }));
    fs.mkdir("/empty");
    await rejectsWith("NOT_FOUND", () => open("/empty", { fs, createIfMissing: false }), /holds no database/);
    const db = await open("/db", { fs });
    await db.put("k", "v", { sync: true });
    await db.close();
    await rejectsWith("EXISTS", () => open("/db", { fs, errorIfExists: true }));
    const ro = await open("/db", { fs, readOnly: true });
    assert.deepEqual(await ro.get("k"), utf8("v"));
    await rejectsWith("READ_ONLY", () => ro.put("k", "x"));
    await rejectsWith("READ_ONLY", () => ro.batch().put("k", "x").write());
    await ro.close();
  });

  test("a second open of the same directory is LOCKED until the first closes", async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs });
    await rejectsWith("LOCKED", () => open("/db", { fs }));
    await rejectsWith("LOCKED", () => open("/db/", { fs }));
    await db.close();
    const again = await open("/db", { fs });
    await again.close();
  });

  test("LOCKED on the real file system too; a LOCK that never changes is taken over after the stale window", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = await open(dir);
      await rejectsWith("LOCKED", () => open(dir), /held by another open database in this process/);
      await rejectsWith("LOCKED", () => open(`${dir}/./`));
      await db.close();
      const { writeFileSync } = await import("node:fs");
      writeFileSync(`${dir}/LOCK`, "999999999\n"); // no lease (an old format): nobody beats it
      const again = await open(dir);
      await again.close();
    } finally {
      cleanup();
    }
  });
});

describe("persistence", () => {
  test("a store written, closed and reopened returns every acknowledged write", async () => {
    const { dir, cleanup } = tempDir();
    try {
      let db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      for (let i = 0; i < 2000; i++) await db.put(`k${i}`, `v${i}`);
      for (let i = 0; i < 2000; i += 3) await db.delete(`k${i}`);
      await db.batch().put("batch", "yes").delete("k1").write({ sync: true });
      const sequence = db.stats().sequence;
      await db.close();
      db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      assert.equal(db.stats().sequence, sequence);
      for (let i = 0; i < 2000; i++) {
        const want = i % 3 === 0 || i === 1 ? undefined : `v${i}`;
        assert.equal(db.getSync(`k${i}`), want, `k${i}`);
      }
      assert.equal(db.getSync("batch"), "yes");
      await db.put("after", "reopen");
      await db.close();
      db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      assert.equal(db.getSync("after"), "reopen");
      assert.equal(db.stats().sequence, sequence + 1);
      await db.close();
    } finally {
      cleanup();
    }
  });
});
