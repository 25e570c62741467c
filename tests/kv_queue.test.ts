// siltdb/kv's queue: enqueue and listenQueue as Deno KV has them. Every
// storable value travels; each message reaches one handler; a delay holds a
// message back without holding back the others; a handler that throws gets
// the message again on its backoff schedule, then the message goes to its
// keysIfUndelivered keys; messages live in the store, so a message not yet
// handled (delayed, or whose handler had not finished at close) is
// delivered after a reopen, and a handled one is not; handles of one
// directory share one queue; listenQueue resolves at close.

import { test } from "node:test";
import assert from "node:assert/strict";
import { KvU64, openKv } from "../kv.ts";
import { collect, deferred, eventually, sleep, withDir, withKv } from "./_kv.ts";

const quiet = <T>(fn: () => Promise<T>): Promise<T> => {
  const error = console.error;
  console.error = () => {}; // the handler failures these tests cause on purpose
  return fn().finally(() => (console.error = error));
};

test("messages of every storable value reach the handler", async () => {
  const values: unknown[] = [
    "test",
    42,
    42n,
    true,
    null,
    undefined,
    new Date(0),
    new Uint8Array([1, 2]),
    new ArrayBuffer(3),
    [1, [2]],
    {
      a: { b: 1 },
    },
    new KvU64(5n),
    new Map([[1, 2]]),
  ];
  const kv = await openKv(":memory:");
  const got: unknown[] = [];
  let all = deferred();
  const listening = kv.listenQueue((msg) => {
    got.push(msg);
    if (got.length === values.length) all.resolve();
  });
  for (const value of values) {
    const res = await kv.enqueue(value);
    assert.ok(res.ok && /^[0-9a-f]{20}$/.test(res.versionstamp));
  }
  await all.promise;
  assert.deepStrictEqual(got, values);
  all = deferred();
  await kv.close();
  await listening;
});

test("each message reaches exactly one of several handlers", async () => {
  const kv = await openKv(":memory:");
  const seen: string[] = [];
  const listeners = Array.from({ length: 4 }, () => kv.listenQueue((msg) => void seen.push(msg as string)));
  for (let i = 0; i < 20; i++) await kv.enqueue(`m${i}`);
  await eventually(() => seen.length === 20);
  await sleep(50);
  assert.deepEqual([...seen].sort(), Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
  await kv.close();
  await Promise.all(listeners);
});

test("a delayed message comes after its delay and holds back no other message", async () => {
  const kv = await openKv(":memory:");
  const order: { msg: unknown; at: number }[] = [];
  const listening = kv.listenQueue((msg) => void order.push({ msg, at: Date.now() }));
  const start = Date.now();
  await kv.enqueue("later", { delay: 300 });
  await kv.atomic().enqueue("later too", { delay: 300 }).commit();
  await kv.enqueue("now");
  await eventually(() => order.length === 3);
  assert.equal(order[0].msg, "now");
  assert.deepEqual(order.slice(1).map((o) => o.msg).sort(), ["later", "later too"]);
  for (const o of order.slice(1)) assert.ok(o.at - start >= 300, `delivered after ${o.at - start} ms`);
  await kv.close();
  await listening;
});

test("a failing handler gets the message again on its backoff schedule, then keysIfUndelivered get it", async () => {
  await quiet(async () => {
    const kv = await openKv(":memory:");
    const tries: number[] = [];
    const listening = kv.listenQueue(() => {
      tries.push(Date.now());
      throw new Error("dequeue error");
    });
    await kv.enqueue({ job: 1 }, { backoffSchedule: [50, 100], keysIfUndelivered: [["failed", "a"], ["failed", "b"]] });
    await eventually(async () => (await collect(kv.list({ prefix: ["failed"] }))).length === 2);
    assert.equal(tries.length, 3, "one try, then one per interval");
    assert.ok(tries[1] - tries[0] >= 50 && tries[2] - tries[1] >= 100, `tries at ${tries.map((t) => t - tries[0])}`);
    assert.deepEqual((await collect(kv.list({ prefix: ["failed"] }))).map((e) => [e.key, e.value]), [
      [["failed", "a"], { job: 1 }],
      [["failed", "b"], { job: 1 }],
    ]);
    await sleep(150);
    assert.equal(tries.length, 3, "the message is gone once undelivered");
    await kv.close();
    await listening;
  });
});

test("a handler's writes stay when it throws; the message comes again (the exactly-once pattern)", async () => {
  await quiet(async () => {
    await withKv(async (kv) => {
      const done = deferred<string>();
      const listening = kv.listenQueue(async (msg) => {
        const { nonce } = msg as { nonce: string };
        const entry = await kv.get(["nonces", nonce]);
        if (entry.versionstamp === null) return done.resolve("second delivery");
        await kv.atomic().check(entry).delete(["nonces", nonce]).set(["result"], nonce).commit();
        throw new Error("injected");
      });
      await kv.atomic().set(["nonces", "n1"], true).enqueue({ nonce: "n1" }, { backoffSchedule: [10] }).commit();
      assert.equal(await done.promise, "second delivery");
      assert.equal((await kv.get(["result"])).value, "n1");
      kv.close();
      await listening;
    });
  });
});

test("an enqueue in a commit whose check fails enqueues nothing", async () => {
  await withKv(async (kv) => {
    let count = 0;
    const listening = kv.listenQueue(() => void count++);
    await kv.set(["k"], 1);
    const res = await kv.atomic().check({ key: ["k"], versionstamp: null }).enqueue("never").commit();
    assert.equal(res.ok, false);
    await kv.enqueue("once");
    await eventually(() => count === 1);
    await sleep(30);
    assert.equal(count, 1);
    kv.close();
    await listening;
  });
});

test("messages live in the store: delayed and unfinished ones come after a reopen, handled ones do not", async () => {
  await withDir(async (path) => {
    let kv = await openKv(path);
    const first: unknown[] = [];
    let listening = kv.listenQueue(async (msg) => {
      first.push(msg);
      if (msg === "stuck") await new Promise(() => {}); // never settles
    });
    await kv.enqueue("handled");
    await kv.enqueue("stuck");
    await kv.enqueue("delayed", { delay: 200 });
    await eventually(() => first.length === 2);
    await kv.close();
    await listening; // resolves although a handler never settled
    kv = await openKv(path);
    const second: unknown[] = [];
    listening = kv.listenQueue((msg) => void second.push(msg));
    await eventually(() => second.length === 2);
    assert.deepEqual(second, ["stuck", "delayed"]);
    await sleep(50);
    assert.equal(second.length, 2);
    await kv.close();
    await listening;
  });
});

test("handles of one directory share its queue: one enqueues, another's handler gets it", async () => {
  await withDir(async (path) => {
    const [a, b] = await Promise.all([openKv(path), openKv(path)]);
    const got = deferred<unknown>();
    const listening = a.listenQueue((msg) => got.resolve(msg));
    await b.enqueue("across handles");
    assert.equal(await got.promise, "across handles");
    await a.close();
    await listening;
    await b.close();
  });
});

test("listenQueue resolves at close, even with no message; after close it rejects", async () => {
  const kv = await openKv(":memory:");
  const listening = kv.listenQueue(() => {});
  kv.close();
  await listening;
  await assert.rejects(kv.listenQueue(() => {}), { message: "Queue already closed" });
});

test("enqueue checks delay, backoffSchedule and keysIfUndelivered at once", async () => {
  await withKv(async (kv) => {
    await kv.enqueue("ok", { delay: 30 * 24 * 60 * 60 * 1000 });
    const cases: [object, string | RegExp][] = [
      [{ delay: -100 }, "Delay must be >= 0: received -100"],
      [{ delay: NaN }, "Delay cannot be NaN"],
      [{ delay: 30 * 24 * 60 * 60 * 1000 + 1 }, "Delay cannot be greater than 30 days: received 2592000001"],
      [{ backoffSchedule: [1, 1, 1, 1, 1, 1] }, "Invalid backoffSchedule, max 5 intervals allowed"],
      [{ backoffSchedule: [3600001] }, "Invalid backoffSchedule, interval at index 0 is invalid"],
      [{ backoffSchedule: [1, NaN] }, "Invalid backoffSchedule, interval at index 1 is invalid"],
      [{ keysIfUndelivered: [[null]] }, /keysIfUndelivered key part 0 is invalid/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(kv.enqueue("m", options), { name: "TypeError", message });
    }
    await assert.rejects(kv.enqueue(() => {}), { name: "DataCloneError" });
  });
});
