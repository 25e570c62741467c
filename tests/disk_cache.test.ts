// The local disk cache of a store in a bucket (src/object_store/disk_cache.ts,
// options cacheDir and cacheSize): ranged GETs of tables answered from files
// under the cache directory, counted by the in-memory store's GET counter.
// A second read makes no GET; a cache reopened on the same directory makes
// none either (the table's tail included); a flipped byte, a truncated file,
// a deleted file or a file under the wrong name is a miss, fetched again and
// correct; the bound holds (least recently used pieces go, also at reopen);
// two caches share one directory; a deleted object loses its pieces; and a
// whole database reopened read-only reads every table from the cache, on
// the in-memory store and on radosgw (tests/_s3.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Db, open, type OpenOptions } from "../mod.ts";
import { DiskCache, type DiskCacheOptions } from "../src/object_store/disk_cache.ts";
import { MemoryObjectStore } from "../src/object_store/memory_object_store.ts";
import type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectStore,
  PutOptions,
  StoredObject,
} from "../src/object_store/object_store.ts";
import { S3ObjectStore } from "../src/object_store/s3_object_store.ts";
import type { Storage } from "../src/storage/storage.ts";
import { currentRuntime, rejectsWith, runtimeCommand, RUNTIMES, tempDir } from "./_harness.ts";
import { newBucket, testS3 } from "./_s3.ts";

const noWait = { sleep: () => Promise.resolve() };
const s3 = await testS3();
const skipS3 = typeof s3 === "string" ? s3 : false;
const TABLE = "sst/00000000000000000009.sst";

/** Bytes 0..n-1 of a recognisable pattern. */
function pattern(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

/** A bucket holding one table object, a cache directory, and a cache of the two. */
async function setup(options: Partial<DiskCacheOptions> = {}) {
  const bucket = new MemoryObjectStore({ retry: noWait });
  const data = pattern(100_000);
  await bucket.put(TABLE, data);
  const tmp = tempDir("siltdb-cache-");
  const cache = new DiskCache(bucket, { dir: tmp.dir, ...options });
  return { bucket, data, dir: tmp.dir, cleanup: tmp.cleanup, cache };
}

/** The piece files (not temp files) in the cache's store directory, with their sizes. */
function pieces(cache: DiskCache): Map<string, number> {
  return new Map(
    readdirSync(cache.dir).filter((n) => !n.endsWith(".tmp")).map((n) => [n, statSync(join(cache.dir, n)).size]),
  );
}

function pieceFile(cache: DiskCache, range: string): string {
  return join(cache.dir, `sst%2F00000000000000000009.sst@${range}`);
}

/** An ObjectStore in front of another one that records the keys it was asked to GET. */
class Spy implements ObjectStore {
  readonly location: string;
  readonly gets: string[] = [];
  constructor(readonly inner: ObjectStore) {
    this.location = inner.location;
  }
  get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    this.gets.push(key);
    return this.inner.get(key, range);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, data: Uint8Array, options?: PutOptions) {
    return this.inner.put(key, data, options);
  }
  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.inner.list(prefix, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  tableGets(): number {
    return this.gets.filter((k) => k.startsWith("sst/")).length;
  }
}

test("a second read of a block or of a table's tail makes no GET", async () => {
  const { bucket, data, cache, cleanup } = await setup();
  try {
    const block = await cache.get(TABLE, { offset: 4096, length: 4101 });
    const tail = await cache.get(TABLE, { suffix: 65536 });
    assert.equal(bucket.counters.gets, 2);
    assert.deepEqual(block?.data, data.subarray(4096, 8197));
    const again = await cache.get(TABLE, { offset: 4096, length: 4101 });
    const tailAgain = await cache.get(TABLE, { suffix: 65536 });
    assert.equal(bucket.counters.gets, 2, "answered from disk");
    assert.deepEqual(again?.data, data.subarray(4096, 8197));
    assert.deepEqual(tailAgain?.data, data.subarray(100_000 - 65536));
    assert.equal(tailAgain?.size, 100_000);
    assert.equal(tailAgain?.etag, tail?.etag);
    const stats = cache.stats();
    assert.equal(stats.hits, 2);
    assert.equal(stats.misses, 2);
    assert.equal(stats.bytesRead, 4101 + 65536);
    assert.equal(stats.pieces, 2);
    assert.equal(stats.bytes, [...pieces(cache).values()].reduce((a, b) => a + b, 0));
  } finally {
    cleanup();
  }
});

test("a cache reopened on the same directory answers from disk: no GET, the tail included", async () => {
  const { bucket, data, dir, cache, cleanup } = await setup();
  try {
    await cache.get(TABLE, { suffix: 65536 });
    await cache.get(TABLE, { offset: 0, length: 4101 });
    await cache.get(TABLE, { offset: 90_000, length: 5000 });
    const gets = bucket.counters.gets;
    const reopened = new DiskCache(bucket, { dir });
    assert.equal(reopened.stats().pieces, 3);
    const tail = await reopened.get(TABLE, { suffix: 65536 });
    const first = await reopened.get(TABLE, { offset: 0, length: 4101 });
    const last = await reopened.get(TABLE, { offset: 90_000, length: 5000 });
    assert.equal(bucket.counters.gets, gets, "no GET after the reopen");
    assert.deepEqual(tail?.data, data.subarray(100_000 - 65536));
    assert.equal(tail?.size, 100_000);
    assert.deepEqual(first?.data, data.subarray(0, 4101));
    assert.deepEqual(last?.data, data.subarray(90_000, 95_000));
    assert.equal(reopened.stats().hits, 3);
  } finally {
    cleanup();
  }
});

test("a flipped byte, a truncated file, a deleted file, a file under another name: fetched again, correct", async () => {
  const { bucket, data, cache, cleanup } = await setup();
  try {
    const range = { offset: 8192, length: 4101 };
    const want = data.subarray(8192, 8192 + 4101);
    await cache.get(TABLE, range);
    const file = pieceFile(cache, "8192+4101");
    const good = readFileSync(file);
    const damages: [string, () => void, boolean][] = [
      ["a flipped byte in the data", () => {
        const bad = new Uint8Array(good);
        bad[bad.length - 100] ^= 0x10;
        writeFileSync(file, bad);
      }, true],
      ["a flipped byte in the header", () => {
        const bad = new Uint8Array(good);
        bad[26] ^= 0x01; // the object's size
        writeFileSync(file, bad);
      }, true],
      ["a truncated file", () => truncateSync(file, good.length - 1), true],
      ["an empty file", () => truncateSync(file, 0), true],
      ["a deleted file", () => rmSync(file), false],
      ["another piece's file under this name", () => {
        writeFileSync(file, readFileSync(pieceFile(cache, "0+4101")));
      }, true],
    ];
    await cache.get(TABLE, { offset: 0, length: 4101 });
    for (const [what, damage, counted] of damages) {
      damage();
      const gets = bucket.counters.gets;
      const damaged = cache.stats().damaged;
      const got = await cache.get(TABLE, range);
      assert.deepEqual(got?.data, want, `${what}: the right bytes`);
      assert.equal(bucket.counters.gets, gets + 1, `${what}: fetched again`);
      assert.equal(cache.stats().damaged, damaged + (counted ? 1 : 0), `${what}: counted`);
      assert.deepEqual(readFileSync(file), good, `${what}: the piece is written again`);
      assert.deepEqual((await cache.get(TABLE, range))?.data, want);
      assert.equal(bucket.counters.gets, gets + 1, `${what}: then a hit`);
    }
  } finally {
    cleanup();
  }
});

test("a crash's leftovers: a temp file is never read, and is removed by a listing once a minute old", async () => {
  const { bucket, data, dir, cache, cleanup } = await setup();
  try {
    await cache.get(TABLE, { offset: 0, length: 4101 });
    const good = readFileSync(pieceFile(cache, "0+4101"));
    // A write that died between its temp file and the rename, and a half piece under its name (a torn write).
    const old = `${pieceFile(cache, "4101+4101")}.${(Date.now() - 61_000).toString(36)}-${"ab".repeat(16)}.tmp`;
    const stray = `${pieceFile(cache, "4101+4101")}.0123456789abcdef.tmp`;
    const young = `${pieceFile(cache, "4101+4101")}.${Date.now().toString(36)}-${"cd".repeat(16)}.tmp`;
    for (const tmp of [old, stray, young]) writeFileSync(tmp, good.subarray(0, 1000));
    writeFileSync(pieceFile(cache, "8202+4101"), good.subarray(0, 2000));
    const reopened = new DiskCache(bucket, { dir });
    assert.deepEqual(
      readdirSync(cache.dir).filter((n) => n.endsWith(".tmp")).map((n) => join(cache.dir, n)),
      [young],
      "temp files over a minute old removed; a younger one may be a write in flight",
    );
    const gets = bucket.counters.gets;
    assert.deepEqual((await reopened.get(TABLE, { offset: 4101, length: 4101 }))?.data, data.subarray(4101, 8202));
    assert.deepEqual((await reopened.get(TABLE, { offset: 8202, length: 4101 }))?.data, data.subarray(8202, 12303));
    assert.equal(bucket.counters.gets, gets + 2);
    assert.equal(reopened.stats().damaged, 1);
  } finally {
    cleanup();
  }
});

test("the bound holds: least recently used pieces go first, and a reopen with a smaller bound evicts", async () => {
  const piece = 32 + 31 + 1000; // header, description (31 bytes: the ETag "m1", no metadata), data
  const { bucket, dir, cache, cleanup } = await setup({ maxBytes: 5 * piece + 10 });
  try {
    const total = () => [...pieces(cache).values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 20; i++) {
      await cache.get(TABLE, { offset: 0, length: 1000 }); // kept warm
      await cache.get(TABLE, { offset: 1000 * (i + 1), length: 1000 });
      assert.ok(total() <= 5 * piece + 10, `on disk ${total()} bytes after ${i + 1} reads`);
      assert.equal(cache.stats().bytes, total());
    }
    assert.equal(pieces(cache).size, 5);
    assert.ok(cache.stats().evictions >= 15);
    const gets = bucket.counters.gets;
    await cache.get(TABLE, { offset: 0, length: 1000 });
    await cache.get(TABLE, { offset: 20_000, length: 1000 });
    assert.equal(bucket.counters.gets, gets, "the warm piece and the newest are still there");
    await cache.get(TABLE, { offset: 1000, length: 1000 });
    assert.equal(bucket.counters.gets, gets + 1, "an old one was evicted");

    // Pieces found at a reopen count at most their header, the longest description and their data until read.
    const smaller = new DiskCache(bucket, { dir, maxBytes: 2 * (32 + 128 + 1000) });
    assert.ok(total() <= 2 * piece, `on disk ${total()} bytes after a reopen with a smaller bound`);
    assert.equal(pieces(cache).size, 2);
    assert.ok(smaller.stats().bytes >= total());
    // A piece larger than the whole bound is never kept, and the GET is answered all the same.
    const big = await smaller.get(TABLE, { suffix: 65536 });
    assert.equal(big?.data.length, 65536);
    assert.equal(pieces(cache).size, 2);
  } finally {
    cleanup();
  }
});

test("deleting an object (the collector's obsolete tables) drops its pieces; other objects keep theirs", async () => {
  const { bucket, cache, cleanup } = await setup();
  try {
    const other = "sst/00000000000000000010.sst";
    await bucket.put(other, pattern(10_000, 2));
    await cache.get(TABLE, { suffix: 65536 });
    await cache.get(TABLE, { offset: 0, length: 4101 });
    await cache.get(other, { offset: 0, length: 4101 });
    assert.equal(pieces(cache).size, 3);
    await cache.delete(TABLE);
    assert.deepEqual([...pieces(cache).keys()], ["sst%2F00000000000000000010.sst@0+4101"]);
    assert.equal(cache.stats().pieces, 1);
    assert.equal(await cache.get(TABLE, { offset: 0, length: 4101 }), undefined, "the object is gone");
    assert.deepEqual(bucket.keys(), [other]);
    // A GET in flight when its object is deleted does not leave a piece behind.
    await bucket.put(TABLE, pattern(100_000));
    const slow = cache.get(TABLE, { offset: 0, length: 4101 });
    await cache.delete(TABLE);
    await slow;
    assert.deepEqual([...pieces(cache).keys()], ["sst%2F00000000000000000010.sst@0+4101"]);
  } finally {
    cleanup();
  }
});

test("only ranged GETs of tables are cached; concurrent misses of one piece make one GET", async () => {
  const { bucket, data, cache, cleanup } = await setup();
  try {
    await bucket.put("manifest/00000000000000000001", pattern(100));
    for (let i = 0; i < 2; i++) {
      await cache.get("manifest/00000000000000000001", { offset: 0, length: 10 });
      await cache.get(TABLE);
    }
    assert.equal(bucket.counters.gets, 4);
    assert.equal(pieces(cache).size, 0);
    const all = await Promise.all(Array.from({ length: 8 }, () => cache.get(TABLE, { offset: 500, length: 700 })));
    assert.equal(bucket.counters.gets, 5);
    for (const got of all) assert.deepEqual(got?.data, data.subarray(500, 1200));
    assert.equal(await cache.get("sst/00000000000000000077.sst", { suffix: 100 }), undefined);
    assert.equal(pieces(cache).size, 1);
  } finally {
    cleanup();
  }
});

test("two caches on one directory: each reads the other's pieces, eviction by one is a miss for the other", async () => {
  const { bucket, data, dir, cache: a, cleanup } = await setup();
  try {
    const piece = 32 + 31 + 1000;
    const b = new DiskCache(bucket, { dir, maxBytes: 3 * piece });
    // Both fill the same pieces at once: every file is whole.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => [a, b].map((c) => c.get(TABLE, { offset: i * 1000, length: 1000 }))).flat(),
    );
    // Whether b wrote any of those depends on which cache reached each piece first: b now writes five
    // pieces of its own, so it lists the directory and evicts down to its bound, a's pieces first.
    for (let i = 10; i < 15; i++) await b.get(TABLE, { offset: i * 1000, length: 1000 });
    const gets = bucket.counters.gets;
    // b evicted most of what both wrote; a finds the rest on disk and fetches the others again.
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(
        (await a.get(TABLE, { offset: i * 1000, length: 1000 }))?.data,
        data.subarray(i * 1000, i * 1000 + 1000),
      );
    }
    assert.equal(a.stats().damaged + b.stats().damaged, 0);
    assert.ok(bucket.counters.gets > gets, "evicted pieces are fetched again");
    // a's pieces, read by b without a GET.
    const before = bucket.counters.gets;
    const got = await b.get(TABLE, { offset: 9000, length: 1000 });
    assert.deepEqual(got?.data, data.subarray(9000, 10_000));
    assert.equal(bucket.counters.gets, before, "b reads the piece a wrote");

    // Two small caches writing on: the directory stays near the bound (each lists it again every bound/8 written).
    const tight = 8 * piece;
    const c = new DiskCache(bucket, { dir, maxBytes: tight });
    const d = new DiskCache(bucket, { dir, maxBytes: tight });
    for (let i = 0; i < 90; i++) {
      await (i % 2 === 0 ? c : d).get(TABLE, { offset: 10_000 + i * 1000, length: 1000 });
    }
    const onDisk = [...pieces(c).values()].reduce((x, y) => x + y, 0);
    assert.ok(onDisk <= tight + tight / 4 + piece, `${onDisk} bytes on disk, bound ${tight}`);
  } finally {
    cleanup();
  }
});

test("processes in two runtimes share one directory: every answer right, no piece ever seen torn", async () => {
  const { dir, cleanup } = tempDir("siltdb-cache-procs-");
  const child = new URL("./fixtures/disk_cache_child.ts", import.meta.url).pathname;
  const other = RUNTIMES[(RUNTIMES.indexOf(currentRuntime) + 1) % RUNTIMES.length];
  const run = (runtime: typeof RUNTIMES[number], seed: number) =>
    new Promise<string>((resolve, reject) => {
      const [cmd, argv] = runtimeCommand(runtime, child, [dir, String(seed), "1500"]);
      const proc = spawn(cmd, argv, { env: { ...process.env, NO_COLOR: "1" } });
      let out = "";
      let err = "";
      proc.stdout.on("data", (b) => out += b);
      proc.stderr.on("data", (b) => err += b);
      proc.on("error", reject);
      proc.on("close", (code) => code === 0 ? resolve(out) : reject(new Error(`${runtime} exited ${code}: ${err}`)));
    });
  try {
    const outs = await Promise.all([run(currentRuntime, 1), run(other, 2), run(currentRuntime, 3)]);
    for (const out of outs) {
      const r = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(r.wrong, 0, out);
      assert.equal(r.damaged, 0, `a piece was seen torn: ${out}`);
      assert.equal(r.writeFailures, 0, out);
      assert.equal(r.hits + r.misses, 1500);
    }
    const store = readdirSync(dir);
    assert.equal(store.length, 1);
    const left = readdirSync(join(dir, store[0])).filter((n) => !n.endsWith(".tmp"));
    assert.ok(left.length <= 40, `${left.length} pieces left (each bound is 20)`);
  } finally {
    cleanup();
  }
});

test("a cache needs a file system: UNSUPPORTED on OPFS storage", async () => {
  const opfs = { kind: "opfs" } as Storage;
  await rejectsWith(
    "UNSUPPORTED",
    () => new DiskCache(new MemoryObjectStore(), { dir: "/cache", fs: opfs }),
    /file system/,
  );
});

test("options: cacheDir only with a bucket, checked types and bounds", async () => {
  const { dir, cleanup } = tempDir("siltdb-cache-opt-");
  try {
    await rejectsWith("INVALID_ARGUMENT", () => open(join(dir, "db"), { cacheDir: join(dir, "c") }), /bucket/);
    const objectStore = new MemoryObjectStore();
    const bad: [OpenOptions, RegExp][] = [
      [{ cacheDir: "" }, /cacheDir/],
      [{ cacheDir: 7 as unknown as string }, /cacheDir/],
      [{ cacheSize: 1 << 30 }, /cacheSize needs cacheDir/],
      [{ cacheDir: join(dir, "c"), cacheSize: 1000 }, /cacheSize/],
      [{ cacheDir: join(dir, "c"), cacheSize: 2 ** 51 }, /cacheSize/],
    ];
    for (const [options, message] of bad) {
      await rejectsWith("INVALID_ARGUMENT", () => open("memory://opt/", { objectStore, ...options }), message);
    }
  } finally {
    cleanup();
  }
});

type Target = { url: string; inner: ObjectStore };

async function endToEnd(target: () => Promise<Target>) {
  const { url, inner } = await target();
  const { dir, cleanup } = tempDir("siltdb-cache-db-");
  const cacheDir = join(dir, "cache");
  const options = { keyEncoding: "utf8", valueEncoding: "utf8", gcMinAge: 0, cacheDir, blockCacheSize: 0 } as const;
  const key = (i: number) => `key${String(i).padStart(5, "0")}`;
  const value = (i: number) => `value ${i} ${"x".repeat(i % 50)}`;
  const readAll = async (db: Db<string, string>) => {
    for (let i = 0; i < 600; i += 7) assert.equal(await db.get(key(i)), value(i));
    assert.equal(await db.get("absent"), undefined);
    assert.equal((await db.scan().toArray()).length, 600);
  };
  try {
    const writer = new Spy(inner);
    let db = await open(url, { ...options, objectStore: writer, memtableSize: 4096 }) as Db<string, string>;
    for (let i = 0; i < 600; i++) await db.put(key(i), value(i));
    await db.flush();
    await db.compact();
    await readAll(db);
    await db.close();
    assert.ok(writer.tableGets() > 0);

    const reader = new Spy(inner);
    db = await open(url, { ...options, objectStore: reader, readOnly: true }) as Db<string, string>;
    await readAll(db);
    await readAll(db);
    await db.close();
    assert.equal(reader.tableGets(), 0, `GETs of tables after the reopen: ${reader.gets.join(", ")}`);
    assert.ok(reader.gets.length > 0, "the manifest and WAL objects still come from the bucket");
  } finally {
    cleanup();
  }
}

test("a database reopened read-only reads every table from the disk cache (in-memory store)", async () => {
  await endToEnd(() =>
    Promise.resolve({ url: "memory://cached/", inner: new MemoryObjectStore({ name: "cached", retry: noWait }) })
  );
});

test("a database reopened read-only reads every table from the disk cache (radosgw)", { skip: skipS3 }, async () => {
  await endToEnd(async () => {
    if (typeof s3 === "string") throw new Error(s3);
    const { url, options } = await newBucket(s3);
    return { url, inner: new S3ObjectStore(url, options) };
  });
});
