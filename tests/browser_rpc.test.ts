// siltdb/browser's main-thread API without a browser: the client
// (src/browser/client.ts) and the worker side (src/browser/worker_server.ts)
// in one process, joined by a MessageChannel, over OpfsStorage on the OPFS
// fake of tests/_opfs_fake.ts with its fake Web Locks. Covers every call,
// scans in chunks (read-ahead, early break, abort), snapshots, errors that
// cross as SiltError with their codes (INVALID_ARGUMENT, LOCKED, CLOSED,
// RELEASED, ABORTED), close, and the worker-side open (the engine's Db).

import { test } from "node:test";
import assert from "node:assert/strict";
import { SiltError } from "../src/errors.ts";
import type { Db } from "../src/db.ts";
import { BrowserDb } from "../src/browser/client.ts";
import { serve } from "../src/browser/worker_server.ts";
import { openInWorker } from "../src/browser/in_worker.ts";
import { type PortLike, SCAN_CHUNK } from "../src/browser/protocol.ts";
import type { AsyncDb } from "../src/browser/types.ts";
import { OpfsFake } from "./_opfs_fake.ts";
import { rejectsWith } from "./_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

// Compile-time: the engine's Db offers the async API of siltdb/browser.
const _dbIsAsyncDb = (db: Db<string, string>): AsyncDb<string, string> => db;
void _dbIsAsyncDb;

/** A port that records the operations the client sends. */
function recording(port: PortLike): { port: PortLike; ops: string[] } {
  const ops: string[] = [];
  return {
    ops,
    port: {
      postMessage(message: unknown, transfer?: unknown[]) {
        ops.push((message as { op: string }).op);
        port.postMessage(message, transfer);
      },
      addEventListener: (type, listener) => port.addEventListener(type, listener),
      removeEventListener: (type, listener) => port.removeEventListener(type, listener),
      start: () => port.start?.(),
      close: () => port.close(),
    },
  };
}

interface Connected<K, V> {
  db: BrowserDb<K, V>;
  ops: string[];
  closed: () => boolean;
}

/** A client connected to a worker side in this process, over `fake`. */
async function connect<K = Uint8Array, V = Uint8Array>(
  fake: OpfsFake,
  name: string,
  options?: unknown,
): Promise<Connected<K, V>> {
  const channel = new MessageChannel();
  serve(channel.port2 as unknown as PortLike, { root: () => Promise.resolve(fake.root), locks: fake.locks });
  const { port, ops } = recording(channel.port1 as unknown as PortLike);
  let closed = false;
  const db = new BrowserDb<K, V>(name, port, () => closed = true);
  await db.connect(options);
  return { db, ops, closed: () => closed };
}

const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const key = (i: number) => `k${String(i).padStart(5, "0")}`;

test("browser rpc: put, get, getMany, has, delete, batches (range deletes too), count, clear, deleteRange (utf8)", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "basic", utf8);
  assert.equal(db.status, "open");
  await db.put("a", "1");
  await db.put("b", "2", { sync: true });
  assert.equal(await db.get("a"), "1");
  assert.equal(await db.get("zzz"), undefined);
  assert.deepEqual(await db.getMany(["a", "x", "b"]), ["1", undefined, "2"]);
  assert.equal(await db.has("b"), true);
  await db.delete("a");
  assert.equal(await db.has("a"), false);
  await db.batch([{ type: "put", key: "c", value: "3" }, { type: "del", key: "b" }]);
  const batch = db.batch().put("d", "4").put("e", "5").delete("c");
  assert.equal(batch.length, 3);
  await batch.write({ sync: true });
  await rejectsWith("CLOSED", () => batch.write());
  assert.deepEqual(await db.keys().toArray(), ["d", "e"]);
  assert.equal(await db.count(), 2);
  await db.batch().put("f", "6").put("g", "7").put("h", "8").write();
  await db.deleteRange("f", "h");
  assert.deepEqual(await db.keys().toArray(), ["d", "e", "h"]);
  await db.clear({ gte: "e" });
  assert.deepEqual(await db.scan().toArray(), [["d", "4"]]);
  assert.deepEqual(await db.values().toArray(), ["4"]);
  await db.batch().put("p", "1").put("q", "2").deleteRange("p", "q").write();
  await db.batch([{ type: "deleteRange", start: "a", end: "e" }, { type: "put", key: "r", value: "3" }]);
  assert.deepEqual(await db.keys().toArray(), ["q", "r"], "range deletes in batches, one record each");
  await rejectsWith("INVALID_ARGUMENT", () => db.batch().deleteRange("z", "a").write(), /start must not be after end/);
  await db.close();
});

test("browser rpc: binary values come back as Uint8Array, json as values", async () => {
  const fake = new OpfsFake();
  const bin = await connect(fake, "bin");
  const value = new Uint8Array([1, 2, 3, 250]);
  await bin.db.put(enc.encode("key"), value);
  await bin.db.put("text", "hello"); // a string stored as UTF-8
  const got = await bin.db.get("key");
  assert.ok(got instanceof Uint8Array);
  assert.deepEqual([...got!], [1, 2, 3, 250]);
  assert.deepEqual([...value], [1, 2, 3, 250], "the caller's buffer is not transferred away");
  assert.equal(dec.decode((await bin.db.get("text"))!), "hello");
  const many = await bin.db.getMany(["key", "nope", "text"]);
  assert.deepEqual(many.map((v) => v && dec.decode(v)), [dec.decode(value), undefined, "hello"]);
  const entries = await bin.db.scan().toArray();
  assert.deepEqual(entries.map(([k, v]) => [dec.decode(k), [...v]]), [["key", [1, 2, 3, 250]], [
    "text",
    [...enc.encode("hello")],
  ]]);
  await bin.db.close();

  const json = await connect<string, unknown>(fake, "json", { keyEncoding: "utf8", valueEncoding: "json" });
  await json.db.put("u:1", { name: "alice", tags: ["a", "b"], n: 1 });
  assert.deepEqual(await json.db.get("u:1"), { name: "alice", tags: ["a", "b"], n: 1 });
  assert.deepEqual(await json.db.scan().toArray(), [["u:1", { name: "alice", tags: ["a", "b"], n: 1 }]]);
  await json.db.close();
});

test("browser rpc: scans travel in chunks, read ahead, close on break", async () => {
  const fake = new OpfsFake();
  const { db, ops } = await connect<string, string>(fake, "scan", utf8);
  const n = 3 * SCAN_CHUNK + 17;
  const batch = db.batch();
  for (let i = 0; i < n; i++) batch.put(key(i), `v${i}`);
  await batch.write();

  ops.length = 0;
  let i = 0;
  for await (const [k, v] of db.scan()) {
    assert.equal(k, key(i));
    assert.equal(v, `v${i}`);
    i++;
  }
  assert.equal(i, n);
  assert.deepEqual(ops, ["scan", "next", "next", "next"], "one message per chunk of SCAN_CHUNK entries");

  assert.deepEqual(await db.keys({ reverse: true, limit: 3 }).toArray(), [key(n - 1), key(n - 2), key(n - 3)]);
  assert.equal((await db.values({ gte: key(10), lt: key(20) }).toArray()).length, 10);

  ops.length = 0;
  let seen = 0;
  for await (const [k] of db.scan({ gte: key(100) })) {
    if (++seen === 5) {
      assert.equal(k, key(104));
      break;
    }
  }
  assert.ok(ops.includes("scanClose"), `break closes the scan in the worker (sent: ${ops.join(", ")})`);

  // A scan the worker already finished needs no close.
  ops.length = 0;
  for await (const _ of db.keys({ limit: 2 })) break;
  assert.deepEqual(ops, ["scan"]);

  // Writes after a scan starts are not seen by it (its view is taken at scan()).
  const scan = db.keys({ gte: "zz" });
  await db.put("zz1", "late");
  assert.deepEqual(await scan.toArray(), []);
  await db.close();
});

test("browser rpc: an aborted scan fails with ABORTED", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "abort", utf8);
  const batch = db.batch();
  for (let i = 0; i < 2 * SCAN_CHUNK; i++) batch.put(key(i), "v");
  await batch.write();
  const already = new AbortController();
  already.abort(new Error("stop"));
  await rejectsWith("ABORTED", () => db.scan({ signal: already.signal }));
  const controller = new AbortController();
  const scan = db.keys({ signal: controller.signal });
  assert.equal((await scan.next()).value, key(0));
  controller.abort();
  await rejectsWith("ABORTED", () => scan.next());
  assert.equal(await db.count(), 2 * SCAN_CHUNK, "the database goes on");
  await db.close();
});

test("browser rpc: snapshots see the database as of their creation", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "snap", utf8);
  await db.batch().put("a", "1").put("b", "2").write();
  const snap = db.snapshot();
  await db.put("a", "changed");
  await db.delete("b");
  await db.put("c", "3");
  assert.equal(await snap.get("a"), "1");
  assert.deepEqual(await snap.getMany(["a", "b", "c"]), ["1", "2", undefined]);
  assert.equal(await snap.has("b"), true);
  assert.equal(await snap.count(), 2);
  assert.deepEqual(await snap.scan().toArray(), [["a", "1"], ["b", "2"]]);
  assert.deepEqual(await snap.keys({ reverse: true }).toArray(), ["b", "a"]);
  assert.deepEqual(await snap.values().toArray(), ["1", "2"]);
  assert.deepEqual(await db.scan().toArray(), [["a", "changed"], ["c", "3"]]);
  snap.release();
  await rejectsWith("RELEASED", () => snap.get("a"));
  assert.throws(() => snap.scan(), (err: unknown) => err instanceof SiltError && err.code === "RELEASED");
  await db.close();
});

test("browser rpc: errors cross as SiltError with the engine's code and message", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "errors", utf8);
  const err = await rejectsWith("INVALID_ARGUMENT", () => db.put(42 as unknown as string, "v"), /key/);
  assert.equal(err.name, "SiltError");
  await rejectsWith("INVALID_ARGUMENT", () => db.get(undefined as unknown as string));
  await rejectsWith("INVALID_ARGUMENT", () => db.batch([{ type: "nope" } as never]));
  await rejectsWith("INVALID_ARGUMENT", () => db.batch().put("a", 1 as unknown as string).write());
  await rejectsWith("INVALID_ARGUMENT", () => db.keys({ limit: -5 }).toArray(), /limit/);
  await rejectsWith("INVALID_ARGUMENT", () => db.count({ bogus: 1 } as never));
  // An argument that cannot be posted at all.
  await rejectsWith("INVALID_ARGUMENT", () => db.put("k", (() => {}) as unknown as string), /cannot be sent/);
  assert.equal(await db.count(), 0, "no bad input reached the store");
  await db.put("ok", "fine");
  assert.equal(await db.get("ok"), "fine");
  await db.close();
});

test("browser rpc: one open per database name (LOCKED), free again after close", async () => {
  const fake = new OpfsFake();
  const first = await connect<string, string>(fake, "shared", utf8);
  await first.db.put("k", "v", { sync: true });
  const channel = new MessageChannel();
  serve(channel.port2 as unknown as PortLike, { root: () => Promise.resolve(fake.root), locks: fake.locks });
  let ended = false;
  const second = new BrowserDb("shared", channel.port1 as unknown as PortLike, () => ended = true);
  await rejectsWith("LOCKED", () => second.connect(utf8), /another tab or worker has the database shared open/);
  assert.ok(ended, "a failed open ends the connection (and, in a browser, the worker)");
  assert.equal(second.status, "closed");
  // Another name is another database.
  const other = await connect(fake, "other");
  await other.db.close();

  await first.db.close();
  assert.ok(first.closed(), "close ends the connection");
  assert.deepEqual(fake.locks.held, [], "the Web Lock is given back");
  const again = await connect<string, string>(fake, "shared", utf8);
  assert.equal(await again.db.get("k"), "v", "the data is still there");
  await again.db.close();
});

test("browser rpc: open options are checked", async () => {
  const fake = new OpfsFake();
  for (
    const [name, options, pattern] of [
      ["x", { wait: "yes" }, /wait/],
      ["x", { fs: {} }, /fs option/],
      ["a/b", {}, /OPFS directory/],
      ["", {}, /non-empty/],
      ["x", { memtableSize: -1 }, /memtableSize/],
    ] as const
  ) {
    const channel = new MessageChannel();
    serve(channel.port2 as unknown as PortLike, { root: () => Promise.resolve(fake.root), locks: fake.locks });
    const db = new BrowserDb(name, channel.port1 as unknown as PortLike);
    await rejectsWith("INVALID_ARGUMENT", () => db.connect(options), pattern);
  }
  assert.deepEqual(fake.locks.held, [], "no lock is left held by a failed open");
});

test("browser rpc: flush, compact, stats, metrics, close twice, calls after close", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "maint", { ...utf8, memtableSize: 4096 });
  for (let round = 0; round < 3; round++) {
    const batch = db.batch();
    for (let i = 0; i < 200; i++) batch.put(key(i), `round ${round} value ${i}`);
    await batch.write();
    await db.flush();
  }
  await db.compact();
  await db.compactRange("k", "l");
  const stats = await db.stats();
  assert.ok(Array.isArray(stats.levels));
  assert.match(await db.metrics(), /siltdb/);
  assert.ok(await db.approximateSize() >= 0);
  assert.equal(await db.get(key(7)), "round 2 value 7");
  await db.close();
  assert.equal(db.status, "closed");
  await rejectsWith("CLOSED", () => db.close());
  await rejectsWith("CLOSED", () => db.get("a"));
  assert.throws(() => db.scan(), (err: unknown) => err instanceof SiltError && err.code === "CLOSED");
  assert.throws(() => db.batch(), (err: unknown) => err instanceof SiltError && err.code === "CLOSED");
});

test("browser rpc: in a worker, open gives the engine's Db (sync reads) and close gives the lock back", async () => {
  const fake = new OpfsFake();
  const env = { root: () => Promise.resolve(fake.root), locks: fake.locks };
  const db = await openInWorker("direct", utf8, env) as Db<string, string>;
  await db.put("a", "1", { sync: true });
  assert.equal(db.getSync("a"), "1");
  assert.deepEqual([...db.scanSync()], [["a", "1"]]);
  assert.deepEqual(fake.locks.held, ["siltdb:direct"]);
  await rejectsWith("LOCKED", () => openInWorker("direct", utf8, env), /another tab or worker/);
  await db.close();
  assert.deepEqual(fake.locks.held, []);
  await rejectsWith("CLOSED", () => db.close());
  const again = await openInWorker("direct", utf8, env) as Db<string, string>;
  assert.equal(again.getSync("a"), "1");
  await again.close();
  assert.ok(fake.names().includes("siltdb-direct"), "the OPFS directory is siltdb-<name>");
});

test("browser rpc: getEntry, conditional batches and the change feed cross to the worker", async () => {
  const fake = new OpfsFake();
  const { db } = await connect<string, string>(fake, "versions", utf8);
  const since = 1;
  const feed = db.changes({ since });
  assert.deepEqual(await db.batch().check("a", null).put("a", "1").write(), { ok: true, sequence: 1 });
  assert.deepEqual(await db.batch().check("a", null).put("a", "2").write(), { ok: false });
  const entry = await db.getEntry("a");
  assert.deepEqual(entry, { value: "1", version: 1 });
  const snap = db.snapshot();
  await db.batch().check("a", entry.version!).put("a", "3").delete("b").write();
  assert.deepEqual(await snap.getEntry("a"), { value: "1", version: 1 });
  snap.release();
  const got = [];
  for await (const c of feed) {
    got.push([c.sequence, c.type, c.key, c.value]);
    if (got.length === 3) break;
  }
  assert.deepEqual(got, [[1, "put", "a", "1"], [2, "put", "a", "3"], [3, "del", "b", undefined]]);
  const controller = new AbortController();
  const waiting = db.changes({ signal: controller.signal })[Symbol.asyncIterator]().next();
  setTimeout(() => controller.abort(), 10);
  await assert.rejects(waiting, (err: unknown) => err instanceof SiltError && err.code === "ABORTED");
  await db.close();
});
