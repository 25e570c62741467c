// siltdb/kv's get, getMany, set, delete, versionstamps, KvU64, open and
// close, as Deno KV documents them: values of every storable type come back
// equal, bad keys and values are refused with TypeErrors (and leave the data
// as it was), the limits and their messages are Deno KV's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { Kv, KvU64, openKv } from "../kv.ts";
import { SiltError } from "../mod.ts";
import { currentRuntime } from "./_harness.ts";
import { withKv } from "./_kv.ts";

const ZERO = "00000000000000000000";

/** The error a call on a closed Kv fails with: Deno's BadResource in Deno, SiltError CLOSED elsewhere. */
function isClosedError(err: unknown): boolean {
  const BadResource = (globalThis as { Deno?: { errors: { BadResource: new () => Error } } }).Deno?.errors.BadResource;
  return BadResource ? err instanceof BadResource : err instanceof SiltError && err.code === "CLOSED";
}

test("get of an absent key gives the key with null value and versionstamp", async () => {
  await withKv(async (kv) => {
    assert.deepEqual(await kv.get(["a"]), { key: ["a"], value: null, versionstamp: null });
  });
});

test("set, get and delete: versionstamps are 20 hex digits, rising with each commit", async () => {
  await withKv(async (kv) => {
    const first = await kv.set(["a"], "b");
    assert.equal(first.ok, true);
    assert.match(first.versionstamp, /^[0-9a-f]{20}$/);
    assert.ok(first.versionstamp > ZERO);
    assert.deepEqual(await kv.get(["a"]), { key: ["a"], value: "b", versionstamp: first.versionstamp });
    const second = await kv.set(["a"], "c");
    assert.ok(second.versionstamp > first.versionstamp);
    assert.equal((await kv.get(["a"])).versionstamp, second.versionstamp);
    assert.equal(await kv.delete(["a"]), undefined);
    assert.deepEqual(await kv.get(["a"]), { key: ["a"], value: null, versionstamp: null });
    await kv.delete(["never-there"]);
  });
});

test("every entry of one atomic commit has the commit's versionstamp", async () => {
  await withKv(async (kv) => {
    const res = await kv.atomic().set(["x"], 1).set(["y"], 2).delete(["z"]).sum(["n"], 3n).commit();
    assert.ok(res.ok);
    for (const key of [["x"], ["y"], ["n"]]) assert.equal((await kv.get(key)).versionstamp, res.versionstamp);
  });
});

test("values of every storable type come back equal (a Uint8Array as bytes, a KvU64 as itself)", async () => {
  const values: unknown[] = [
    "hello",
    42,
    -0,
    NaN,
    42n,
    true,
    null,
    undefined,
    new Date(0),
    new Uint8Array([1, 2, 3]),
    new ArrayBuffer(3),
    [1, 2, 3],
    { a: 1, b: 2 },
    [[1, 2], [3, 4]],
    { a: { b: 1 } },
    new Map([["k", new Set([1])]]),
    /re/g,
    new RangeError("r", { cause: 1 }),
    new Int16Array([-1, 2]),
    Object("boxed"),
    new KvU64(7n),
  ];
  await withKv(async (kv) => {
    for (const value of values) {
      await kv.set(["v"], value);
      assert.deepStrictEqual((await kv.get(["v"])).value, value);
    }
    const sparse = [1, , 3];
    await kv.set(["sparse"], sparse);
    assert.equal(Object.hasOwn((await kv.get<unknown[]>(["sparse"])).value!, 1), false);
  });
});

test("a Uint8Array value is stored as it was at set time (later changes are not)", async () => {
  await withKv(async (kv) => {
    const bytes = new Uint8Array([1, 2]);
    const op = kv.atomic().set(["b"], bytes);
    bytes[0] = 9;
    await op.commit();
    assert.deepEqual((await kv.get(["b"])).value, new Uint8Array([1, 2]));
  });
});

test("a recursive value keeps its cycle; Blob, File and CryptoKey values round-trip", async () => {
  await withKv(async (kv) => {
    const value: { self?: unknown } = {};
    value.self = value;
    await kv.set(["r"], value);
    const back = (await kv.get<{ self: unknown }>(["r"])).value!;
    assert.equal(back.self, back);
    await kv.set(["blob"], new Blob(["Hello"], { type: "text/plain" }));
    assert.equal(await (await kv.get<Blob>(["blob"])).value!.text(), "Hello");
    await kv.set(["file"], new File(["x"], "a.txt", { lastModified: 5 }));
    const file = (await kv.get<File>(["file"])).value!;
    assert.deepEqual([file.name, file.lastModified, await file.text()], ["a.txt", 5, "x"]);
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    await kv.set(["key"], { key });
    const stored = (await kv.get<{ key: CryptoKey }>(["key"])).value!.key;
    assert.ok(stored instanceof CryptoKey);
    assert.deepEqual([stored.type, stored.algorithm, stored.usages], ["secret", key.algorithm, key.usages]);
    assert.deepEqual(await crypto.subtle.exportKey("jwk", stored), await crypto.subtle.exportKey("jwk", key));
  });
});

test("a value that cannot be cloned is refused and leaves the key as it was", async () => {
  await withKv(async (kv) => {
    await kv.set(["a"], "kept");
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);
    const bad = [() => {}, Symbol("s"), new WeakMap(), new WeakSet(), new SharedArrayBuffer(3), {
      p: Promise.resolve(),
    }, key];
    for (const value of bad) {
      await assert.rejects(kv.set(["a"], value), (err: Error) => err.name === "DataCloneError");
      assert.equal((await kv.get(["a"])).value, "kept");
    }
  });
});

test("keys of every part type come back as they were set", async () => {
  const keys = [
    ["a"],
    ["a", "b", "c"],
    [1],
    ["a", 1.5, "b"],
    [1n],
    [-(2n ** 70n)],
    [true],
    [false, "x"],
    [new Uint8Array([1, 0, 3])],
    [1, 1n, true, new Uint8Array([1, 2, 3]), "a"],
    ["é😀"],
  ];
  await withKv(async (kv) => {
    for (const key of keys) {
      await kv.set(key, "v");
      const got = await kv.get(key);
      assert.deepEqual(got.key, key);
      assert.equal(got.value, "v");
    }
  });
});

test("a key that is not an array of valid parts is a TypeError; nothing is written", async () => {
  await withKv(async (kv) => {
    for (const bad of [[null], [undefined], [{}], [new Date()], [new ArrayBuffer(3)], [["a", "b"]], "a", 1]) {
      await assert.rejects(kv.set(bad as unknown as string[], 1), TypeError);
      await assert.rejects(kv.get(bad as unknown as string[]), TypeError);
    }
    await assert.rejects(kv.set([], 1), { name: "TypeError", message: "key cannot be empty" });
    assert.deepEqual(await kv.get([]), { key: [], value: null, versionstamp: null });
    await assert.rejects(kv.getMany(["a"] as unknown as string[][]), TypeError);
    await assert.rejects(kv.delete("a" as unknown as string[]), TypeError);
  });
});

test("key and value sizes are limited as in Deno KV, with its messages", async () => {
  await withKv(async (kv) => {
    const largest = [new Uint8Array(2046).fill(1)]; // 1 tag + 2046 + 1 terminator = 2048 bytes
    const res = await kv.set(largest, 1);
    assert.deepEqual(await kv.get(largest), { key: largest, value: 1, versionstamp: res.versionstamp });
    const tooLarge = [new Uint8Array(2047).fill(1)];
    await assert.rejects(kv.set(tooLarge, 1), {
      name: "TypeError",
      message: "Key too large for write (max 2048 bytes)",
    });
    await assert.rejects(kv.get(tooLarge), { name: "TypeError", message: "Key too large for read (max 2049 bytes)" });
    await kv.set(["v"], new Uint8Array(65536));
    assert.equal((await kv.get<Uint8Array>(["v"])).value!.length, 65536);
    await assert.rejects(kv.set(["w"], new Uint8Array(65537)), {
      name: "TypeError",
      message: "Value too large (max 65536 bytes)",
    });
    await assert.rejects(kv.set(["w"], "x".repeat(70_000)), /Value too large/);
    assert.equal((await kv.get(["w"])).value, null);
  });
});

test("getMany reads up to 10 keys at one moment, in order", async () => {
  await withKv(async (kv) => {
    const { versionstamp } = await kv.atomic().set(["a"], -1).set(["b", "a"], 100).commit() as { versionstamp: string };
    assert.deepEqual(await kv.getMany([["b", "a"], ["a"], ["c"]]), [
      { key: ["b", "a"], value: 100, versionstamp },
      { key: ["a"], value: -1, versionstamp },
      { key: ["c"], value: null, versionstamp: null },
    ]);
    const ten = Array.from({ length: 10 }, (_, i) => ["k", i]);
    assert.equal((await kv.getMany(ten)).length, 10);
    await assert.rejects(kv.getMany([...ten, ["k", 10]]), { name: "TypeError", message: "Too many ranges (max 10)" });
  });
});

test("set with expireIn checks it: a non-negative integer, not past JavaScript's last date", async () => {
  await withKv(async (kv) => {
    for (const expireIn of [-1, 1.5, NaN, Infinity]) {
      await assert.rejects(kv.set(["a"], 1, { expireIn }), {
        name: "TypeError",
        message: `expireIn must be a non-negative integer: received ${expireIn}`,
      });
    }
    await assert.rejects(kv.set(["a"], 1, { expireIn: Number.MAX_SAFE_INTEGER }), /expireIn is too large/);
    assert.equal((await kv.get(["a"])).value, null);
    assert.ok((await kv.set(["a"], 1, { expireIn: 1000 })).ok);
  });
});

test("KvU64: a frozen unsigned 64-bit integer that unboxes to its bigint", () => {
  const one = new KvU64(1n);
  assert.deepStrictEqual(one, new KvU64(1n));
  assert.notDeepStrictEqual(one, new KvU64(2n));
  assert.ok(Object.isFrozen(one));
  assert.equal(one.value, 1n);
  assert.equal(one.valueOf(), 1n);
  assert.equal((one as unknown as bigint) + 1n, 2n);
  assert.equal(one.toString(), "1");
  assert.equal(Object.prototype.toString.call(one), "[object Deno.KvU64]");
  assert.throws(() => new KvU64(2n ** 64n), {
    name: "RangeError",
    message: "Value must fit in a 64-bit unsigned integer",
  });
  assert.throws(() => new KvU64(-1n), { name: "RangeError", message: "Value must be a positive bigint: received -1" });
  assert.throws(() => new KvU64(1 as unknown as bigint), {
    name: "TypeError",
    message: "Value must be a bigint: received number",
  });
  assert.equal(new KvU64(2n ** 64n - 1n).value, 18446744073709551615n);
  const denoInspect = (globalThis as { Deno?: { inspect(v: unknown): string } }).Deno?.inspect;
  if (denoInspect) assert.equal(denoInspect(one), "[Deno.KvU64: 1n]");
  assert.equal(inspect(one), currentRuntime === "deno" ? "[Deno.KvU64: 1n]" : "[KvU64: 1n]");
});

test("a Kv comes from openKv only", () => {
  assert.throws(() => new Kv(), { name: "TypeError", message: /use openKv instead/ });
});

test("openKv refuses an empty filename and one starting with ':' (but ':memory:')", async () => {
  await assert.rejects(openKv(""), { name: "TypeError", message: "Filename cannot be empty" });
  await assert.rejects(openKv(":foo"), {
    name: "TypeError",
    message: "Filename cannot start with ':' unless prefixed with './'",
  });
  await assert.rejects(openKv("https://example.com/kv"), { name: "TypeError", message: /no KV Connect client/ });
  const kv = await openKv(":memory:");
  await kv.close();
});

test("two ':memory:' databases are separate", async () => {
  const [a, b] = await Promise.all([openKv(":memory:"), openKv(":memory:")]);
  await a.set(["k"], "a");
  assert.equal((await b.get(["k"])).value, null);
  await Promise.all([a.close(), b.close()]);
});

test("after close every call fails (BadResource in Deno, SiltError CLOSED elsewhere); close again is harmless", async () => {
  const kv = await openKv(":memory:");
  const pending = kv.atomic().set(["a"], 1);
  await kv.close();
  await kv.close();
  for (const call of [() => kv.get(["a"]), () => kv.getMany([["a"]]), () => kv.set(["a"], 1), () => kv.delete(["a"])]) {
    await assert.rejects(call(), isClosedError);
  }
  await assert.rejects(pending.commit(), isClosedError);
  await assert.rejects(kv.list({ prefix: [] }).next(), isClosedError);
  assert.throws(() => kv.watch([["a"]]), isClosedError);
  await assert.rejects(kv.listenQueue(() => {}), { message: "Queue already closed" });
});

test("`using` closes the handle at the end of the block", async () => {
  let outside: Kv;
  {
    using kv = await openKv(":memory:");
    outside = kv;
    assert.equal((await kv.get(["a"])).versionstamp, null);
  }
  await assert.rejects(outside.get(["a"]), isClosedError);
});
