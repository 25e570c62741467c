// OpfsStorage (src/storage/opfs/) on the in-memory OPFS fake of
// tests/_opfs_fake.ts: the adapter's own behaviour, its crash safety (a
// crash at every step of a rename), and a database on it (writes, flush,
// compaction, reopen, crashes after sync writes, a randomized run against a
// Map model).

import { test } from "node:test";
import assert from "node:assert/strict";
import { open, SiltError } from "../mod.ts";
import { OpfsStorage } from "../src/storage/opfs/opfs_storage.ts";
import { SLOT_HEADER_SIZE, slotFileName } from "../src/storage/opfs/slot_header.ts";
import type { StorageFile } from "../src/storage/storage.ts";
import { FakeLockManager, OpfsFake } from "./_opfs_fake.ts";
import { rejectsWith, rng, TINY } from "./_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array) => dec.decode(b);
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SiltError, `expected a SiltError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** A storage on a fresh fake, without Web Locks unless asked. */
async function fresh(options: { spareSlots?: number } = {}): Promise<{ fake: OpfsFake; fs: OpfsStorage }> {
  const fake = new OpfsFake();
  const fs = await OpfsStorage.create(fake.root, { locks: null, ...options });
  return { fake, fs };
}

async function writeFile(fs: OpfsStorage, path: string, data: string): Promise<void> {
  const f = fs.open(path, { create: true });
  await f.append(bytes(data));
  await f.sync();
  f.close();
}

test("opfs: create, append, read, size, reopen", async () => {
  const { fake, fs } = await fresh({ spareSlots: 4 });
  assert.equal(fs.kind, "opfs");
  assert.equal(fs.slotCount, 4);
  assert.deepEqual(fake.names(), [1, 2, 3, 4].map(slotFileName));
  fs.mkdir("/db");
  const f = fs.open("/db/a.log", { create: true });
  assert.equal(f.size(), 0);
  f.appendSync(bytes("hello "));
  await f.append(bytes("world"));
  assert.equal(f.size(), 11);
  const into = new Uint8Array(5);
  assert.equal(f.read(6, into), 5);
  assert.equal(text(into), "world");
  assert.equal(f.read(9, into), 2);
  assert.equal(f.read(20, into), 0);
  await f.sync();
  f.close();
  f.close(); // idempotent
  throwsCode(() => f.size(), "IO_ERROR", /closed/);
  assert.equal(text(fs.readFile("db/./a.log")), "hello world");
  // the slot file: header, then the data at 4096
  const slot = [...fake.root.children.values()].map((h) => "file" in h ? h.file.bytes() : undefined)
    .find((b) => b !== undefined && b.length > SLOT_HEADER_SIZE)!;
  assert.equal(text(slot.subarray(0, 8)), "SILTOPFS");
  assert.equal(text(slot.subarray(SLOT_HEADER_SIZE)), "hello world");
  // reopen the pool
  await fs.close();
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 4 });
  assert.equal(text(again.readFile("/db/a.log")), "hello world");
  assert.ok(again.exists("/db"));
  assert.deepEqual(again.list("/db"), ["a.log"]);
  const g = again.open("/db/a.log", { write: true });
  g.appendSync(bytes("!"));
  assert.equal(g.size(), 12);
  g.close();
  await again.close();
});

test("opfs: errors are IO_ERRORs naming operation and path", async () => {
  const { fs } = await fresh({ spareSlots: 2 });
  fs.mkdir("/d");
  throwsCode(() => fs.open("/d/missing"), "IO_ERROR", /open \/d\/missing.*ENOENT/);
  throwsCode(() => fs.open("/nodir/x", { create: true }), "IO_ERROR", /\/nodir\/x.*ENOENT/);
  throwsCode(() => fs.readFile("/d/missing"), "IO_ERROR", /\/d\/missing/);
  throwsCode(() => fs.rename("/d/missing", "/d/y"), "IO_ERROR", /rename to \/d\/y: \/d\/missing/);
  throwsCode(() => fs.list("/nope"), "IO_ERROR", /list \/nope/);
  await writeFile(fs, "/d/x", "1");
  throwsCode(() => fs.open("/d/x", { create: true, exclusive: true }), "IO_ERROR", /EEXIST/);
  throwsCode(() => fs.open("/d", { create: true }), "IO_ERROR", /EISDIR/);
  throwsCode(() => fs.open("/d/" + "x".repeat(1100), { create: true }), "IO_ERROR", /ENAMETOOLONG/);
  const ro = fs.open("/d/x");
  throwsCode(() => ro.appendSync(bytes("z")), "IO_ERROR", /append to \/d\/x.*read-only/);
  await rejectsWith("IO_ERROR", () => ro.append(bytes("z")));
  ro.close();
  // open with create on an existing file opens it
  const f = fs.open("/d/x", { create: true });
  assert.equal(f.size(), 1);
  f.close();
  await fs.close();
  throwsCode(() => fs.open("/d/x"), "IO_ERROR", /closed/);
  throwsCode(() => f.appendSync(bytes("z")), "IO_ERROR", /closed/);
});

test("opfs: a second storage on the same directory fails while the first is open", async () => {
  const { fake, fs } = await fresh({ spareSlots: 2 });
  await rejectsWith("LOCKED", () => OpfsStorage.create(fake.root, { locks: null }), /open elsewhere/);
  // the failed attempt gave back whatever handles it had taken
  await fs.close();
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 2 });
  assert.equal(again.slotCount, 2);
  await again.close();
});

test("opfs: rename replaces atomically, remove frees, list/exists/mkdir", async () => {
  const { fake, fs } = await fresh({ spareSlots: 4 });
  fs.mkdir("/db/sub");
  assert.ok(fs.exists("/db") && fs.exists("/db/sub") && fs.exists("/"));
  assert.deepEqual(fs.list("/"), ["db"]);
  assert.deepEqual(fs.list("/db"), ["sub"]);
  await writeFile(fs, "/db/CURRENT", "old");
  await writeFile(fs, "/db/CURRENT.tmp", "new");
  assert.deepEqual(fs.list("/db"), ["CURRENT", "CURRENT.tmp", "sub"]);
  await fs.idle();
  const free = fs.freeSlots;
  fs.rename("/db/CURRENT.tmp", "/db/CURRENT");
  assert.equal(fs.freeSlots, free + 1); // the replaced file's slot
  assert.equal(text(fs.readFile("/db/CURRENT")), "new");
  assert.ok(!fs.exists("/db/CURRENT.tmp"));
  fs.rename("/db/CURRENT", "/db/sub/moved");
  assert.deepEqual(fs.list("/db/sub"), ["moved"]);
  fs.rename("/db/sub/moved", "/db/sub/moved"); // no-op
  assert.equal(text(fs.readFile("/db/sub/moved")), "new");
  fs.remove("/db/sub/moved");
  fs.remove("/db/sub/moved"); // no error when missing
  assert.ok(!fs.exists("/db/sub/moved"));
  assert.ok(fs.exists("/db/sub")); // mkdir'd directories stay
  throwsCode(() => fs.list("/db/sub/moved"), "IO_ERROR");
  // directories implied by files survive a reopen; empty mkdir'd ones are memory only
  fs.mkdir("/x/y");
  await writeFile(fs, "/x/y/z", "1");
  await fs.close();
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 4 });
  assert.ok(again.exists("/x/y") && again.exists("/x"));
  assert.deepEqual(again.list("/"), ["x"]);
  assert.ok(!again.exists("/db/sub/moved"));
  await again.close();
});

test("opfs: a removed file stays readable through open handles; its slot is reused after close", async () => {
  const { fs } = await fresh({ spareSlots: 1 });
  await writeFile(fs, "/t.sst", "table bytes");
  await fs.idle();
  const reader: StorageFile = fs.open("/t.sst");
  fs.remove("/t.sst");
  assert.ok(!fs.exists("/t.sst"));
  await writeFile(fs, "/other", "something else"); // takes a spare, not the removed slot
  const into = new Uint8Array(11);
  assert.equal(reader.read(0, into), 11);
  assert.equal(text(into), "table bytes");
  await fs.idle();
  const before = fs.freeSlots;
  reader.close();
  assert.equal(fs.freeSlots, before + 1);
  await fs.close();
});

test("opfs: the pool refills in the background; an exhausted pool is an IO_ERROR", async () => {
  const { fake, fs } = await fresh({ spareSlots: 2 });
  fs.mkdir("/p");
  assert.equal(fs.freeSlots, 2);
  fs.open("/p/1", { create: true }).close();
  fs.open("/p/2", { create: true }).close();
  assert.equal(fs.freeSlots, 0);
  throwsCode(() => fs.open("/p/3", { create: true }), "IO_ERROR", /slot pool is exhausted/);
  await fs.idle();
  assert.equal(fs.freeSlots, 2);
  assert.equal(fs.slotCount, 4);
  fs.open("/p/3", { create: true }).close();
  await fs.idle();
  assert.equal(fs.slotCount, 5);
  // a refill that fails is reported by the next exhaustion
  fake.failCreates = 100;
  fs.open("/p/4", { create: true }).close();
  fs.open("/p/5", { create: true }).close();
  await fs.idle();
  assert.ok(fs.refillError !== undefined);
  throwsCode(() => fs.open("/p/6", { create: true }), "IO_ERROR", /exhausted.*refilling failed.*QuotaExceeded|no room/);
  fake.failCreates = 0;
  await fs.refill();
  assert.equal(fs.refillError, undefined);
  assert.equal(fs.freeSlots, 2);
  fs.open("/p/6", { create: true }).close();
  assert.deepEqual(fs.list("/p"), ["1", "2", "3", "4", "5", "6"]);
  await fs.close();
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 2 });
  assert.deepEqual(again.list("/p"), ["1", "2", "3", "4", "5", "6"]);
  assert.equal(again.freeSlots, 2);
  await again.close();
});

test("opfs: lock: one writer, LOCKED for the second, in process and through Web Locks", async () => {
  const locks = new FakeLockManager();
  const a = new OpfsFake("a");
  const b = new OpfsFake("b");
  const fsA = await OpfsStorage.create(a.root, { locks, lockPrefix: "same:", spareSlots: 1 });
  const fsB = await OpfsStorage.create(b.root, { locks, lockPrefix: "same:", spareSlots: 1 });
  const held = await fsA.lock("/db/LOCK");
  assert.equal(held.valid, true);
  await rejectsWith("LOCKED", () => fsA.lock("/db/LOCK")); // in-process registry
  await rejectsWith("LOCKED", () => fsA.lock("/db/LOCK", { readOnly: true }));
  await rejectsWith("LOCKED", () => fsB.lock("/db/LOCK")); // the Web Lock (another tab)
  await rejectsWith("LOCKED", () => fsB.lock("/db/LOCK", { readOnly: true }));
  const other = await fsB.lock("/db2/LOCK");
  other.release();
  held.release();
  held.release();
  assert.equal(held.valid, false);
  await new Promise((resolve) => setTimeout(resolve, 0)); // Web Locks are given back asynchronously
  assert.deepEqual(locks.held, []);
  const ro1 = await fsB.lock("/db/LOCK", { readOnly: true });
  const ro2 = await fsA.lock("/db/LOCK", { readOnly: true });
  ro1.release();
  ro2.release();
  const again = await fsB.lock("/db/LOCK");
  assert.deepEqual(locks.held, ["same:/db/LOCK"]);
  await fsB.close(); // closing the storage gives its locks up
  assert.equal(again.valid, false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(locks.held, []);
  await fsA.close();
});

test("opfs: lock uses the runtime's navigator.locks when there is one", async (t) => {
  const nav = (globalThis as { navigator?: { locks?: unknown } }).navigator;
  if (!nav?.locks) {
    t.skip("no navigator.locks in this runtime");
    return;
  }
  const prefix = `siltdb-test-${Math.random()}:`;
  const fsA = await OpfsStorage.create(new OpfsFake("a").root, { lockPrefix: prefix, spareSlots: 1 });
  const fsB = await OpfsStorage.create(new OpfsFake("b").root, { lockPrefix: prefix, spareSlots: 1 });
  const held = await fsA.lock("/db/LOCK");
  await rejectsWith("LOCKED", () => fsB.lock("/db/LOCK"));
  held.release();
  // a lock given back can be taken again at once, by the next open in this worker
  const next = await fsB.lock("/db/LOCK");
  next.release();
  await fsA.close();
  await fsB.close();
});

test("opfs: a crash keeps flushed data and headers; unflushed appends may go", async () => {
  const { fake, fs } = await fresh({ spareSlots: 4 });
  fs.mkdir("/d");
  const f = fs.open("/d/log", { create: true });
  f.appendSync(bytes("synced;"));
  await f.sync();
  f.appendSync(bytes("not synced"));
  fs.open("/d/empty", { create: true }).close(); // creation is durable at once
  fake.crash();
  throwsCode(() => f.appendSync(bytes("x")), "IO_ERROR", /append to \/d\/log/);
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 4 });
  assert.equal(text(again.readFile("/d/log")), "synced;");
  assert.equal(again.readFile("/d/empty").length, 0);
  await again.close();
});

test("opfs: a crash at any step of a rename leaves the old file or the new one, never neither", async () => {
  const random = rng(12);
  let cases = 0;
  for (const replace of [false, true]) {
    for (const unflushed of ["drop", "keep", "prefix"] as const) {
      for (const torn of [false, true]) {
        for (let n = 0;; n++) {
          const fake = new OpfsFake();
          const fs = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 3 });
          fs.mkdir("/db");
          await writeFile(fs, "/db/CURRENT.tmp", "new manifest");
          if (replace) await writeFile(fs, "/db/CURRENT", "old manifest");
          await fs.idle();
          fake.crashAt(n, { unflushed, torn, random });
          let finished = false;
          try {
            fs.rename("/db/CURRENT.tmp", "/db/CURRENT");
            finished = true;
          } catch (err) {
            assert.ok(err instanceof SiltError && err.code === "IO_ERROR", String(err));
          }
          const crashed = !fake.crashPending;
          if (!crashed) fake.crash({ unflushed, random });
          const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 3 });
          const cur = again.exists("/db/CURRENT") ? text(again.readFile("/db/CURRENT")) : undefined;
          const tmp = again.exists("/db/CURRENT.tmp") ? text(again.readFile("/db/CURRENT.tmp")) : undefined;
          const label = `replace=${replace} unflushed=${unflushed} torn=${torn} n=${n}`;
          if (finished) {
            assert.equal(cur, "new manifest", label);
            assert.equal(tmp, undefined, label);
          } else if (tmp !== undefined) {
            // not renamed: both as before
            assert.equal(tmp, "new manifest", label);
            assert.equal(cur, replace ? "old manifest" : undefined, label);
          } else {
            assert.equal(cur, "new manifest", label);
          }
          // the pool is whole: every slot either free or holding one path
          assert.equal(again.list("/db").length, replace || !finished ? (tmp !== undefined && replace ? 2 : 1) : 1);
          await again.close();
          cases++;
          if (!crashed) break; // the rename finished before the n-th call: every step covered
        }
      }
    }
  }
  assert.ok(cases > 20, `${cases} cases`);
});

test("opfs: two slots claiming one path (a rename cut short): the newer wins, the older is freed", async () => {
  const { fake, fs } = await fresh({ spareSlots: 3 });
  await writeFile(fs, "/a", "old");
  await writeFile(fs, "/b", "new");
  await fs.idle();
  // rename = header write + flush (commit), then header write + flush (free the old): crash at the second write
  fake.crashAt(2);
  throwsCode(() => fs.rename("/b", "/a"), "IO_ERROR");
  const again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 3 });
  assert.equal(text(again.readFile("/a")), "new");
  assert.ok(!again.exists("/b"));
  assert.deepEqual(again.list("/"), ["a"]);
  await again.close();
  const third = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 3 });
  assert.deepEqual(third.list("/"), ["a"]);
  assert.equal(third.freeSlots, third.slotCount - 1);
  await third.close();
});

test("opfs: a randomized run of storage operations with crashes matches a model", async () => {
  const random = rng(2024);
  const fake = new OpfsFake();
  let fs = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 4 });
  fs.mkdir("/m");
  // model: path -> content and how much of it is flushed
  const model = new Map<string, { data: string; synced: number }>();
  const names = ["a", "b", "c", "d", "e"];
  const pick = () => "/m/" + names[Math.floor(random() * names.length)];
  for (let step = 0; step < 600; step++) {
    const r = random();
    const p = pick();
    if (r < 0.35) {
      const f = fs.open(p, { create: true });
      const chunk = String.fromCharCode(97 + Math.floor(random() * 26)).repeat(1 + Math.floor(random() * 20));
      f.appendSync(bytes(chunk));
      const m = model.get(p) ?? { data: "", synced: 0 };
      m.data += chunk;
      model.set(p, m);
      if (random() < 0.5) {
        await f.sync();
        m.synced = m.data.length;
      }
      f.close();
    } else if (r < 0.5) {
      const q = pick();
      const m = model.get(p);
      if (m !== undefined) {
        fs.rename(p, q);
        model.delete(p);
        model.set(q, m);
      }
    } else if (r < 0.6) {
      fs.remove(p);
      model.delete(p);
    } else if (r < 0.65) {
      const unflushed = random() < 0.5 ? "drop" : "prefix";
      fake.crash({ unflushed, random });
      fs = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 4 });
      fs.mkdir("/m");
      for (const [path, m] of model) {
        const got = text(fs.readFile(path));
        assert.ok(got.length >= m.synced && m.data.startsWith(got), `step ${step}: ${path} = ${got} vs ${m.data}`);
        m.data = got;
        m.synced = got.length;
      }
    } else if (r < 0.7) {
      await fs.idle();
    }
    if (r >= 0.6 && r < 0.65 || r < 0.3) {
      assert.deepEqual(fs.list("/m"), [...model.keys()].map((k) => k.slice(3)).sort(), `step ${step}`);
    }
    for (const [path, m] of model) assert.equal(text(fs.readFile(path)), m.data, `step ${step}: ${path}`);
  }
  await fs.close();
});

test("opfs: a damaged header copy falls back to the other; a slot with none is free", async () => {
  const { fake, fs } = await fresh({ spareSlots: 2 });
  await writeFile(fs, "/old", "data"); // header copy A: "/old"
  fs.rename("/old", "/new"); // header copy B: "/new", a higher generation
  await fs.close();
  const file = [...fake.root.children.values()].map((h) => "file" in h ? h.file : undefined)
    .find((f) => f !== undefined && f.bytes().length > SLOT_HEADER_SIZE)!;
  file.corrupt(2048 + 30); // a byte of copy B's path
  let again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 2 });
  assert.deepEqual(again.list("/"), ["old"]);
  assert.equal(text(again.readFile("/old")), "data");
  await again.close();
  file.corrupt(5); // copy A's magic too: the slot holds nothing
  again = await OpfsStorage.create(fake.root, { locks: null, spareSlots: 2 });
  assert.deepEqual(again.list("/"), []);
  assert.equal(again.freeSlots, again.slotCount);
  // and it is reused, from a clean start
  await writeFile(again, "/fresh", "x");
  assert.equal(text(again.readFile("/fresh")), "x");
  await again.close();
});

// ---------------------------------------------------------------------------
// A database on it

test("opfs db: writes, flush, compaction, reopen from a fresh pool", async () => {
  const fake = new OpfsFake();
  let fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
  let db = await open("/db", { fs, ...utf8, ...TINY });
  const expected = new Map<string, string>();
  for (let i = 0; i < 600; i++) {
    const k = `key${String(i % 400).padStart(4, "0")}`;
    const v = `value-${i}-${"x".repeat(i % 50)}`;
    await db.put(k, v);
    expected.set(k, v);
    if (i % 7 === 0) {
      await db.delete(`key${String((i * 13) % 400).padStart(4, "0")}`);
      expected.delete(`key${String((i * 13) % 400).padStart(4, "0")}`);
    }
  }
  await db.flush();
  await db.compact();
  const stats = db.stats();
  assert.ok(stats.levels.some((l, i) => i > 0 && l.files > 0), "compaction wrote tables below level 0");
  await rejectsWith("LOCKED", () => open("/db", { fs, ...utf8 }));
  await db.close();
  await fs.close();

  fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
  db = await open("/db", { fs, ...utf8, ...TINY });
  const got = new Map<string, string>();
  for await (const [k, v] of db.scan()) got.set(k as string, v as string);
  assert.deepEqual(got, expected);
  assert.equal(await db.get("key0001"), expected.get("key0001"));
  await db.close();
  await fs.close();
});

test("opfs db: a crash after sync writes keeps every one of them", async () => {
  const random = rng(7);
  for (const unflushed of ["drop", "prefix", "keep"] as const) {
    const fake = new OpfsFake();
    let fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
    const db = await open("/db", { fs, ...utf8, ...TINY });
    for (let i = 0; i < 300; i++) await db.put(`k${i}`, `v${i}`, { sync: i % 3 === 0 });
    await db.put("last", "synced", { sync: true });
    await db.put("after", "maybe");
    fake.crash({ unflushed, random });
    await db.close().catch(() => {}); // the "tab" is gone; its handles are dead
    await fs.close();
    fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
    const again = await open("/db", { fs, ...utf8, ...TINY });
    for (let i = 0; i < 300; i++) assert.equal(await again.get(`k${i}`), `v${i}`, `${unflushed} k${i}`);
    assert.equal(await again.get("last"), "synced");
    await again.put("more", "1", { sync: true });
    await again.close();
    await fs.close();
  }
});

test("opfs db: a randomized run with crashes matches a Map model", async () => {
  const random = rng(99);
  const fake = new OpfsFake();
  const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  // every operation ever done, and the length of the prefix known durable
  const log: Array<[string, string | undefined]> = [];
  let durable = 0;
  const stateAt = (n: number) => {
    const m = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const [k, v] = log[i];
      if (v === undefined) m.delete(k);
      else m.set(k, v);
    }
    return m;
  };
  for (let round = 0; round < 6; round++) {
    const fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
    const db = await open("/db", { fs, ...utf8, ...TINY });
    // recovered state: the state after some prefix of the log, at least the durable one
    const got = new Map<string, string>();
    for await (const [k, v] of db.scan()) got.set(k as string, v as string);
    let matched = -1;
    for (let n = log.length; n >= durable; n--) {
      const want = stateAt(n);
      if (want.size === got.size && [...want].every(([k, v]) => got.get(k) === v)) {
        matched = n;
        break;
      }
    }
    assert.ok(matched >= 0, `round ${round}: recovered state matches no prefix from ${durable} to ${log.length}`);
    log.length = matched;
    durable = matched;
    const steps = 150 + Math.floor(random() * 150);
    for (let s = 0; s < steps; s++) {
      const k = keys[Math.floor(random() * keys.length)];
      const r = random();
      const sync = random() < 0.2;
      if (r < 0.75) {
        const v = `${round}-${s}-${"y".repeat(Math.floor(random() * 40))}`;
        await db.put(k, v, { sync });
        log.push([k, v]);
      } else {
        await db.delete(k, { sync });
        log.push([k, undefined]);
      }
      if (sync) durable = log.length;
      if (random() < 0.01) {
        await db.flush();
        durable = log.length;
      }
    }
    const want = stateAt(log.length);
    for (const k of keys) assert.equal(await db.get(k), want.get(k), `round ${round} before crash: ${k}`);
    fake.crash({ unflushed: random() < 0.5 ? "drop" : "prefix", random });
    await db.close().catch(() => {});
  }
});

test("opfs db: a crash at any moment (mid flush, compaction or rename) opens with every acknowledged sync write", async () => {
  for (let seed = 1; seed <= 30; seed++) {
    const random = rng(seed * 31);
    const fake = new OpfsFake();
    let fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
    const db = await open("/db", { fs, ...utf8, ...TINY });
    const acked = new Map<string, string>(); // sync writes acknowledged, by key (last one)
    const log: Array<[string, string]> = [];
    fake.crashAt(Math.floor(random() * 1500), { unflushed: seed % 2 ? "prefix" : "drop", torn: true, random });
    try {
      for (let i = 0; i < 2000 && fake.crashPending; i++) {
        const k = `k${Math.floor(random() * 60)}`;
        const v = `v${i}-${"z".repeat(Math.floor(random() * 30))}`;
        const sync = random() < 0.3;
        log.push([k, v]);
        await db.put(k, v, { sync });
        if (sync) { for (const [lk, lv] of log) acked.set(lk, lv); }
        if (random() < 0.01) await db.compact();
      }
    } catch (err) {
      assert.ok(err instanceof SiltError, String(err));
    }
    if (fake.crashPending) fake.crash({ random });
    await db.close().catch(() => {});
    // The crashed tab's storage goes with it: its pool must not refill slots while the next one opens.
    await fs.close();
    fs = await OpfsStorage.create(fake.root, { locks: fake.locks });
    const again = await open("/db", { fs, ...utf8, ...TINY });
    // every key's value is its acknowledged one or one written after it
    for (const [k, v] of acked) {
      const got = await again.get(k);
      const writes = log.filter(([lk]) => lk === k).map(([, lv]) => lv);
      assert.ok(got !== undefined && writes.indexOf(got as string) >= writes.lastIndexOf(v), `seed ${seed}: ${k}`);
    }
    await again.put("after", "crash", { sync: true });
    await again.compact();
    assert.equal(await again.get("after"), "crash");
    await again.close();
    await fs.close();
  }
});
