// The ObjectStore contract, on the in-memory store and on a real S3 server
// (Ceph radosgw, tests/_s3.ts): reads (whole, ranges, suffixes), metadata,
// create-only and compare-and-swap puts (one winner among 16 racing
// creators), listings with paging, deletes; and the bad days: a missing
// bucket, wrong credentials (never echoed), retried failures, a conditional
// put whose answer was lost (resolved by reading the object back), a store
// without conditional writes (UNSUPPORTED).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listAll, type ObjectStore, PUT_ID_METADATA } from "../src/object_store/object_store.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import { S3ObjectStore } from "../src/object_store/s3_object_store.ts";
import { newBucket, testS3 } from "./_s3.ts";
import { rejectsWith, utf8 } from "./_harness.ts";

const noWait = { sleep: () => Promise.resolve() };
const s3 = await testS3();
const skipS3 = typeof s3 === "string" ? s3 : false;

async function s3Store(): Promise<ObjectStore> {
  if (typeof s3 === "string") throw new Error(s3);
  const { url, options } = await newBucket(s3);
  return new S3ObjectStore(url, options);
}

function contract(kind: string, make: () => Promise<ObjectStore>, skip: string | false) {
  test(`${kind}: put, get (whole, range, suffix), head with metadata, delete`, { skip }, async () => {
    const store = await make();
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const put = await store.put("a/one", data, { metadata: { writer: "w7" } });
    assert.ok(put.written);
    const whole = await store.get("a/one");
    assert.deepEqual(whole?.data, data);
    assert.equal(whole?.size, 300);
    assert.equal(whole?.etag, put.written ? put.etag : "");
    const range = await store.get("a/one", { offset: 100, length: 20 });
    assert.deepEqual(range?.data, data.subarray(100, 120));
    assert.equal(range?.size, 300, "a range still tells the object's whole size");
    assert.deepEqual((await store.get("a/one", { suffix: 64 }))?.data, data.subarray(236));
    const head = await store.head("a/one");
    assert.equal(head?.size, 300);
    assert.equal(head?.metadata.writer, "w7");
    assert.equal(await store.get("a/none"), undefined);
    assert.equal(await store.head("a/none"), undefined);
    await store.delete("a/one");
    await store.delete("a/one"); // absent: no error
    assert.equal(await store.get("a/one"), undefined);
  });

  test(`${kind}: create-only puts: one of 16 racing creators wins, the object is the winner's`, { skip }, async () => {
    const store = await make();
    assert.ok((await store.put("m/1", utf8("first"), { ifNoneMatch: "*" })).written);
    assert.equal((await store.put("m/1", utf8("second"), { ifNoneMatch: "*" })).written, false);
    assert.deepEqual((await store.get("m/1"))?.data, utf8("first"));
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, (_, i) => store.put("m/2", utf8(`racer ${i}`), { ifNoneMatch: "*" })),
    );
    const winners = outcomes.map((o, i) => o.written ? i : -1).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one winner: ${winners}`);
    assert.deepEqual((await store.get("m/2"))?.data, utf8(`racer ${winners[0]}`));
    assert.ok((await store.head("m/2"))?.metadata[PUT_ID_METADATA], "a conditional put carries its id");
  });

  test(`${kind}: compare-and-swap puts succeed on the current ETag only`, { skip }, async () => {
    const store = await make();
    const first = await store.put("c", utf8("v1"));
    assert.ok(first.written);
    const second = await store.put("c", utf8("v2"), { ifMatch: first.etag });
    assert.ok(second.written, "the current ETag: written");
    assert.equal((await store.put("c", utf8("v3"), { ifMatch: first.etag })).written, false, "a stale ETag: refused");
    assert.deepEqual((await store.get("c"))?.data, utf8("v2"));
  });

  test(`${kind}: listings are in key order, by prefix, a page at a time`, { skip }, async () => {
    const store = await make();
    const keys = Array.from({ length: 25 }, (_, i) => `w/${String(i).padStart(4, "0")}`);
    for (const k of [...keys].reverse()) await store.put(k, utf8(k));
    await store.put("x/other", utf8("x"));
    const first = await store.list("w/", { limit: 10 });
    assert.deepEqual(first.objects.map((o) => o.key), keys.slice(0, 10));
    assert.equal(first.next, keys[9]);
    const second = await store.list("w/", { after: first.next, limit: 10 });
    assert.deepEqual(second.objects.map((o) => o.key), keys.slice(10, 20));
    const all: string[] = [];
    for await (const o of listAll(store, "w/")) all.push(o.key);
    assert.deepEqual(all, keys);
    assert.equal((await store.list("w/0003")).objects[0].size, 6);
    assert.deepEqual((await store.list("nothing/")).objects, []);
  });
}

contract("memory", () => Promise.resolve(new MemoryObjectStore()), false);
contract("s3 (Ceph radosgw)", s3Store, skipS3);

test("s3: a missing bucket is NOT_FOUND naming it; wrong credentials are IO_ERROR without the secret", {
  skip: skipS3,
}, async () => {
  if (typeof s3 === "string") return;
  const { options } = await newBucket(s3);
  const missing = new S3ObjectStore("s3://siltdb-no-such-bucket/x", options);
  await rejectsWith("NOT_FOUND", () => missing.get("k"), /siltdb-no-such-bucket/);
  const secret = "this-secret-must-not-appear";
  const { url } = await newBucket(s3);
  const wrong = new S3ObjectStore(url, { ...options, secretAccessKey: secret, retry: noWait });
  const err = await rejectsWith("IO_ERROR", () => wrong.put("k", utf8("v")), /access denied/);
  assert.ok(!err.message.includes(secret));
});

test("memory: 503s and 500s are retried; once the tries run out, IO_ERROR names the request", async () => {
  const store = new MemoryObjectStore({ retry: { ...noWait, attempts: 4 } });
  store.injectFault({ op: "put", kind: "503", times: 3 });
  assert.ok((await store.put("k", utf8("v"))).written);
  assert.equal(store.counters.retries, 3);
  store.injectFault({ op: "get", kind: "500", times: 4 });
  await rejectsWith("IO_ERROR", () => store.get("k"), /GET k failed after 4 tries/);
});

test("memory: a conditional put whose answer is lost is resolved by its id, never guessed", async () => {
  const store = new MemoryObjectStore({ retry: noWait });
  store.injectFault({ op: "put", key: /^m\/1$/, kind: "lost" });
  assert.ok((await store.put("m/1", utf8("mine"), { ifNoneMatch: "*" })).written, "landed: ours");
  await store.put("m/2", utf8("theirs"), { ifNoneMatch: "*" });
  store.injectFault({ op: "put", key: /^m\/2$/, kind: "lost" });
  assert.equal((await store.put("m/2", utf8("mine"), { ifNoneMatch: "*" })).written, false, "someone else's: lost");
  const v1 = await store.put("c", utf8("v1"));
  store.injectFault({ op: "put", key: /^c$/, kind: "lost" });
  const cas = await store.put("c", utf8("v2"), { ifMatch: v1.written ? v1.etag : "" });
  assert.ok(cas.written, "a lost compare-and-swap that landed");
  assert.deepEqual((await store.get("c"))?.data, utf8("v2"));
  store.injectFault({ op: "put", key: /^c$/, kind: "503" });
  assert.equal((await store.put("c", utf8("v3"), { ifMatch: v1.written ? v1.etag : "" })).written, false);
});

/** A tiny S3 stand-in on loopback answering each request with `answer`. */
async function fakeS3(answer: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(req, res, n++));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const store = new S3ObjectStore("s3://bucket/p", {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: "AK",
    secretAccessKey: "SK",
    retry: noWait,
  });
  return { store, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test("s3 protocol: a store answering 501 to conditional puts is UNSUPPORTED, naming what is missing", async () => {
  const { store, close } = await fakeS3((_req, res) => {
    res.writeHead(501, { "content-type": "application/xml" });
    res.end("<Error><Code>NotImplemented</Code></Error>");
  });
  try {
    await rejectsWith("UNSUPPORTED", () => store.put("m/1", utf8("x"), { ifNoneMatch: "*" }), /conditional writes/);
  } finally {
    await close();
  }
});

test("s3 protocol: 503 SlowDown is retried; a dropped connection on a create-only put is resolved by HEAD", async () => {
  let stored: { id: string } | undefined;
  const { store, close } = await fakeS3((req, res, n) => {
    if (n === 0) {
      res.writeHead(503, { "content-type": "application/xml" });
      res.end("<Error><Code>SlowDown</Code></Error>");
      return;
    }
    if (req.method === "PUT") {
      // The write lands, then the connection drops before the answer.
      stored = { id: String(req.headers[`x-amz-meta-${PUT_ID_METADATA}`]) };
      req.socket.destroy();
      return;
    }
    if (req.method === "HEAD" && stored) {
      res.writeHead(200, { etag: '"e1"', "content-length": "1", [`x-amz-meta-${PUT_ID_METADATA}`]: stored.id });
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  try {
    const out = await store.put("m/1", utf8("x"), { ifNoneMatch: "*" });
    assert.deepEqual(out, { written: true, etag: '"e1"' });
    assert.ok(store.counters.retries >= 1);
  } finally {
    await close();
  }
});
