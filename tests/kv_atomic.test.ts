// siltdb/kv's atomic operations: checks (all or nothing), mutations in call
// order, sum/min/max on KvU64 (and their errors), Deno KV's limits, the
// synchronous and asynchronous errors of the builder, versionstamped keys,
// serializable commits from many handles at once, the inspect form; and a
// model check: random operations with current and stale checks against a
// Map model, with versionstamps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import fc from "fast-check";
import { AtomicOperation, type Kv, KvU64, openKv } from "../kv.ts";
import { currentRuntime, fcRuns } from "./_harness.ts";
import { collect, withDir, withKv } from "./_kv.ts";

test("a commit with checks applies only when every check holds; null means absent", async () => {
  await withKv(async (kv) => {
    assert.ok(kv.atomic() instanceof AtomicOperation);
    const first = await kv.atomic().check({ key: ["t"], versionstamp: null }).set(["t"], "1").commit();
    assert.ok(first.ok);
    assert.deepEqual(await kv.atomic().check({ key: ["t"], versionstamp: null }).set(["t"], "x").commit(), {
      ok: false,
    });
    const current = await kv.get(["t"]);
    const second = await kv.atomic().check(current).set(["t"], "2").commit();
    assert.ok(second.ok && second.versionstamp > first.versionstamp);
    const stale = await kv.atomic().check(current).check({ key: ["u"], versionstamp: null }).set(["t"], "3").set(
      ["u"],
      1,
    )
      .commit();
    assert.deepEqual(stale, { ok: false });
    assert.deepEqual(await kv.getMany([["t"], ["u"]]), [
      { key: ["t"], value: "2", versionstamp: second.versionstamp },
      { key: ["u"], value: null, versionstamp: null },
    ]);
  });
});

test("an operation with checks only, or nothing at all, still commits with a new versionstamp", async () => {
  await withKv(async (kv) => {
    const a = await kv.atomic().commit();
    const b = await kv.atomic().check({ key: ["x"], versionstamp: null }).commit();
    assert.ok(a.ok && b.ok && b.versionstamp > a.versionstamp);
  });
});

test("mutations apply in call order", async () => {
  await withKv(async (kv) => {
    await kv.set(["a"], "1");
    await kv.atomic().set(["a"], "2").delete(["a"]).commit();
    assert.equal((await kv.get(["a"])).value, null);
    await kv.atomic().delete(["a"]).set(["a"], "2").commit();
    assert.equal((await kv.get(["a"])).value, "2");
    await kv.atomic().set(["n"], new KvU64(1n)).sum(["n"], 2n).max(["n"], 10n).min(["n"], 7n).commit();
    assert.deepEqual((await kv.get(["n"])).value, new KvU64(7n));
  });
});

test("sum wraps at 2^64; min and max keep the smaller and larger; each sets an absent key to its operand", async () => {
  await withKv(async (kv) => {
    await kv.atomic().sum(["s"], 5n).min(["lo"], 5n).max(["hi"], 5n).commit();
    assert.deepEqual(
      (await kv.getMany([["s"], ["lo"], ["hi"]])).map((e) => e.value),
      [5n, 5n, 5n].map((n) => new KvU64(n)),
    );
    await kv.set(["s"], new KvU64(0xffffffffffffffffn));
    await kv.atomic().mutate({ type: "sum", key: ["s"], value: new KvU64(10n) }).commit();
    assert.deepEqual((await kv.get(["s"])).value, new KvU64(9n));
    await kv.atomic().min(["lo"], 9n).max(["hi"], 1n).commit();
    assert.deepEqual((await kv.getMany([["lo"], ["hi"]])).map((e) => e.value), [new KvU64(5n), new KvU64(5n)]);
    await kv.atomic().min(["lo"], 1n).max(["hi"], 9n).commit();
    assert.deepEqual((await kv.getMany([["lo"], ["hi"]])).map((e) => e.value), [new KvU64(1n), new KvU64(9n)]);
  });
});

test("sum of numbers (or of bigints) stored as values adds them", async () => {
  await withKv(async (kv) => {
    await kv.set(["n"], 1.5);
    await kv.atomic().mutate({ type: "sum", key: ["n"], value: 2 as unknown as KvU64 }).commit();
    assert.equal((await kv.get(["n"])).value, 3.5);
    await kv.set(["b"], 1n);
    await kv.atomic().mutate({ type: "sum", key: ["b"], value: 2n as unknown as KvU64 }).commit();
    assert.equal((await kv.get(["b"])).value, 3n);
  });
});

test("sum, min and max on another type fail the commit with Deno KV's TypeErrors; nothing is written", async () => {
  await withKv(async (kv) => {
    await kv.set(["num"], 1);
    await kv.set(["u64"], new KvU64(1n));
    for (const op of ["sum", "min", "max"] as const) {
      await assert.rejects(
        kv.atomic().set(["other"], 1).mutate({ type: op, key: ["num"], value: new KvU64(1n) }).commit(),
        {
          name: "TypeError",
          message: `Failed to perform '${op}' mutation on a non-U64 value in the database`,
        },
      );
    }
    await assert.rejects(kv.atomic().mutate({ type: "sum", key: ["u64"], value: 1 as unknown as KvU64 }).commit(), {
      name: "TypeError",
      message: "Cannot sum KvU64 with Number",
    });
    for (const op of ["min", "max"] as const) {
      await assert.rejects(kv.atomic().mutate({ type: op, key: ["u64"], value: 1 as unknown as KvU64 }).commit(), {
        name: "TypeError",
        message: `Failed to perform '${op}' mutation on a non-U64 operand`,
      });
    }
    assert.equal((await kv.get(["other"])).value, null);
    assert.throws(() => kv.atomic().sum(["x"], -1n), RangeError);
  });
});

test("bad mutations, checks and options throw at once; limits and versionstamps are checked at commit", async () => {
  await withKv(async (kv) => {
    const op = kv.atomic();
    assert.throws(() => op.mutate({ key: ["a"], type: "set" } as never), {
      message: "Invalid mutation 'set' without value",
    });
    assert.throws(() => op.mutate({ key: ["a"], type: "delete", value: "1" } as never), {
      message: "Invalid mutation 'delete' with value",
    });
    assert.throws(() => op.mutate({ key: ["a"], type: "foobar" } as never), {
      name: "TypeError",
      message: /Invalid mutation type/,
    });
    assert.throws(() => op.mutate({ key: "a", type: "set", value: 1 } as never), TypeError);
    assert.throws(() => op.check({ key: "a", versionstamp: null } as never), TypeError);
    for (const expireIn of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => kv.atomic().set(["a"], 1, { expireIn }), {
        name: "TypeError",
        message: /expireIn must be a non-negative integer/,
      });
      assert.throws(() => kv.atomic().mutate({ type: "set", key: ["a"], value: 1, expireIn }), TypeError);
    }
    const far = kv.atomic().set(["a"], 1, { expireIn: Number.MAX_SAFE_INTEGER });
    await assert.rejects(far.commit(), { name: "TypeError", message: /expireIn is too large/ });
    for (const versionstamp of ["", "xx".repeat(10), "aa".repeat(11), 5]) {
      await assert.rejects(kv.atomic().check({ key: ["a"], versionstamp } as never).commit(), /invalid versionstamp/);
    }
    assert.equal((await kv.atomic().check({ key: ["a"], versionstamp: "00000000000000FF0000" }).commit()).ok, false);
    assert.throws(() => kv.atomic().enqueue("m", { delay: -1 }), { message: "Delay must be >= 0: received -1" });
    assert.throws(() => kv.atomic().enqueue("m", { backoffSchedule: [1, 1, 1, 1, 1, 1] }), {
      message: "Invalid backoffSchedule, max 5 intervals allowed",
    });
    assert.equal((await kv.get(["a"])).value, null);
  });
});

test("Deno KV's limits on checks, mutations and sizes, with its messages", async () => {
  await withKv(async (kv) => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => ["a", i]);
    const checks = (n: number) => keys(n).map((key) => ({ key, versionstamp: null }));
    const sets = (n: number) => keys(n).map((key) => ({ key, type: "set" as const, value: 1 }));
    assert.ok((await kv.atomic().check(...checks(100)).mutate(...sets(1000)).commit()).ok);
    await assert.rejects(kv.atomic().check(...checks(101)).commit(), {
      name: "TypeError",
      message: "Too many checks (max 100)",
    });
    await assert.rejects(kv.atomic().mutate(...sets(1000)).enqueue("m").commit(), {
      name: "TypeError",
      message: "Too many mutations (max 1000)",
    });
    const big = kv.atomic();
    for (const key of keys(1000)) big.set(key, "x".repeat(3000));
    await assert.rejects(big.commit(), {
      name: "TypeError",
      message: "Total mutation size too large (max 819200 bytes)",
    });
    const longKeys = kv.atomic();
    for (let i = 0; i < 80; i++) longKeys.set(["k".repeat(1100)], "v");
    await assert.rejects(longKeys.commit(), {
      name: "TypeError",
      message: "Total key size too large (max 81920 bytes)",
    });
    await assert.rejects(kv.enqueue(new Uint8Array(65537)), { message: "enqueue payload too large (max 65536 bytes)" });
  });
});

test("a set key ending in commitVersionstamp() gets the commit's versionstamp as its last part", async () => {
  await withKv(async (kv) => {
    const first = await kv.set(["log", kv.commitVersionstamp()], "a");
    const second = await kv.atomic().set(["log", kv.commitVersionstamp()], "b").set(["other"], 1).commit();
    assert.ok(first.ok && second.ok);
    assert.deepEqual(await collect(kv.list({ prefix: ["log"] })), [
      { key: ["log", first.versionstamp], value: "a", versionstamp: first.versionstamp },
      { key: ["log", second.versionstamp], value: "b", versionstamp: second.versionstamp },
    ]);
    await assert.rejects(
      kv.set(["log", kv.commitVersionstamp(), "x"], 1),
      /expected string, number, bigint, ArrayBufferView, boolean/,
    );
    await assert.rejects(async () => await kv.atomic().delete(["log", kv.commitVersionstamp()]).commit(), TypeError);
  });
});

test("an AtomicOperation is not a promise: awaiting it throws", async () => {
  await withKv(async (kv) => {
    await assert.rejects(
      async () => await (kv.atomic() as unknown as Promise<void>),
      /did you forget to call 'commit\(\)'/,
    );
  });
});

test("inspect shows each operation as the call that added it (checks, mutations, enqueues)", async () => {
  await withKv((kv) => {
    assert.equal(inspect(kv.atomic()), "AtomicOperation (empty)");
    const op = kv.atomic()
      .check({ key: ["users", "alice"], versionstamp: "v1" })
      .set(["users", "alice"], { name: "Alice" })
      .set(["temp"], "t", { expireIn: 60000 })
      .sum(["visits"], 1n)
      .delete(["cache"])
      .enqueue({ type: "x" }, { delay: 5, keysIfUndelivered: [["failed"]], backoffSchedule: [1, 2] });
    const denoInspect = (globalThis as { Deno?: { inspect(v: unknown): string } }).Deno?.inspect;
    const u64 = currentRuntime === "deno" ? "[Deno.KvU64: 1n]" : "[KvU64: 1n]";
    const expected = (show: (v: unknown) => string) =>
      [
        "AtomicOperation",
        `  check({ key: ${show(["users", "alice"])}, versionstamp: "v1" })`,
        `  set(${show(["users", "alice"])}, ${show({ name: "Alice" })})`,
        `  set(${show(["temp"])}, ${show("t")}, { expireIn: 60000 })`,
        `  sum(${show(["visits"])}, ${u64})`,
        `  delete(${show(["cache"])})`,
        `  enqueue(${show({ type: "x" })}, { delay: 5, keysIfUndelivered: ${show([["failed"]])}, backoffSchedule: ${
          show([1, 2])
        } })`,
      ].join("\n");
    assert.equal(inspect(op), expected(inspect));
    if (denoInspect) assert.equal(denoInspect(op), expected(denoInspect).replace(u64, "[Deno.KvU64: 1n]"));
  });
});

test("commits from many handles of one directory are serializable: concurrent sums add up exactly", async () => {
  await withDir(async (path) => {
    const handles = await Promise.all(Array.from({ length: 20 }, () => openKv(path)));
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all(handles.map((kv) => kv.atomic().sum(["counter"], 1n).commit()));
      }
      // Read-check-write increments: each retries until its check holds.
      await Promise.all(handles.map(async (kv) => {
        for (;;) {
          const entry = await kv.get<number>(["plain"]);
          const res = await kv.atomic().check(entry).set(["plain"], (entry.value ?? 0) + 1).commit();
          if (res.ok) return;
        }
      }));
      assert.equal((await handles[0].get<KvU64>(["counter"])).value!.value, 100n);
      assert.equal((await handles[7].get(["plain"])).value, 20);
    } finally {
      await Promise.all(handles.map((kv) => kv.close()));
    }
  });
});

type Op =
  | { op: "set"; key: number; value: number; check: "none" | "current" | "stale" | "absent" }
  | { op: "delete"; key: number }
  | { op: "sum"; key: number; n: bigint };

test("random atomic operations with current, stale and absence checks match a Map model", async () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant("set" as const),
      key: fc.integer({ min: 0, max: 5 }),
      value: fc.integer(),
      check: fc.constantFrom("none" as const, "current" as const, "stale" as const, "absent" as const),
    }),
    fc.record({ op: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 5 }) }),
    fc.record({
      op: fc.constant("sum" as const),
      key: fc.integer({ min: 6, max: 7 }),
      n: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 25 }), async (commits) => {
      const kv: Kv = await openKv(":memory:");
      try {
        const model = new Map<number, { value: unknown; versionstamp: string }>();
        const seen = new Map<number, string>(); // some versionstamp each key had once
        let last = "";
        for (const ops of commits) {
          const atomic = kv.atomic();
          let fails = false;
          const next = new Map(model);
          for (const o of ops) {
            if (o.op === "set") {
              const current = model.get(o.key)?.versionstamp ?? null;
              if (o.check === "current") atomic.check({ key: [o.key], versionstamp: current });
              if (o.check === "absent") {
                atomic.check({ key: [o.key], versionstamp: null });
                fails ||= current !== null;
              }
              if (o.check === "stale" && seen.has(o.key)) {
                atomic.check({ key: [o.key], versionstamp: seen.get(o.key)! });
                fails ||= seen.get(o.key) !== current;
              }
              atomic.set([o.key], o.value);
              next.set(o.key, { value: o.value, versionstamp: "" });
            } else if (o.op === "delete") {
              atomic.delete([o.key]);
              next.delete(o.key);
            } else {
              atomic.sum([o.key], o.n);
              const before = (next.get(o.key)?.value as KvU64 | undefined)?.value ?? 0n;
              next.set(o.key, { value: new KvU64(BigInt.asUintN(64, before + o.n)), versionstamp: "" });
            }
          }
          const res = await atomic.commit();
          assert.equal(res.ok, !fails);
          if (!res.ok) continue;
          assert.ok(res.versionstamp > last);
          last = res.versionstamp;
          for (const o of ops) if (next.has(o.key)) next.get(o.key)!.versionstamp = res.versionstamp;
          for (const [k, v] of next) if (model.get(k) !== v) seen.set(k, v.versionstamp);
          model.clear();
          for (const [k, v] of next) model.set(k, v);
        }
        const stored = await collect(kv.list<unknown>({ prefix: [] }));
        assert.deepEqual(
          stored.map((e) => [e.key[0], e.value, e.versionstamp]),
          [...model].sort(([a], [b]) => a - b).map(([k, v]) => [k, v.value, v.versionstamp]),
        );
      } finally {
        await kv.close();
      }
    }),
    { numRuns: fcRuns(100) },
  );
});
