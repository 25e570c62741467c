// db.backup(), listBackups(), restoreBackup(), purgeOldBackups().

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Db,
  listBackups,
  MemoryStorage,
  open,
  purgeOldBackups,
  restoreBackup,
  SiltError,
  verify,
} from "../mod.ts";
import { rejectsWith, tempDir, TINY } from "./_harness.ts";
import { faultyStorage } from "./_faulty_storage.ts";

const textDb = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

async function contents(db: Db<string, string>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.scan()) out.push([k, v]);
  return out;
}

async function contentsAt(fs: MemoryStorage, dir: string): Promise<[string, string][]> {
  const db = await open(dir, { fs, ...textDb, readOnly: true });
  try {
    return await contents(db);
  } finally {
    await db.close();
  }
}

test("backups restore every key and value of their moment; incremental backups copy only new tables", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`);
  await db.flush();
  await db.waitForCompactions();
  const first = await db.backup("/bk", { fs });
  const tables1 = db.stats().levels.reduce((n, l) => n + l.files, 0);
  assert.equal(first.id, 1);
  assert.equal(first.tablesCopied, tables1);
  assert.equal(fs.list("/bk/shared").length, tables1);
  const state1 = await contents(db);

  const second = await db.backup("/bk", { fs }); // nothing changed: every table is there already
  assert.equal(second.tablesCopied, 0);
  assert.equal(second.tablesShared, tables1);
  assert.equal(fs.list("/bk/shared").length, tables1);

  for (let i = 0; i < 20; i++) await db.put(`new${i}`, "x");
  await db.flush();
  await db.waitForCompactions();
  const tables3 = db.stats().levels.reduce((n, l) => n + l.files, 0);
  const third = await db.backup("/bk", { fs });
  assert.ok(third.tablesCopied >= 1, "the new table is copied");
  assert.equal(third.tablesCopied + third.tablesShared, tables3);
  assert.ok(third.tablesShared > 0, "tables the earlier backups hold are not copied again");
  assert.equal(fs.list("/bk/shared").length, tables1 + third.tablesCopied);
  await db.put("unflushed", "in the log only");
  const fourth = await db.backup("/bk", { fs });
  assert.equal(fourth.tablesCopied, 0);
  const state4 = await contents(db);
  await db.close();

  const list = await listBackups("/bk", { fs });
  assert.deepEqual(list.map((b) => b.id), [1, 2, 3, 4]);
  assert.ok(list.every((b, i) => i === 0 || b.sequence >= list[i - 1].sequence));
  assert.equal(list[0].sequence, first.sequence);

  const r1 = await restoreBackup("/bk", 1, "/r1", { fs });
  assert.equal(r1.sequence, first.sequence);
  assert.deepEqual(await contentsAt(fs, "/r1"), state1);
  await restoreBackup("/bk", undefined, "/r4", { fs }); // the latest
  assert.deepEqual(await contentsAt(fs, "/r4"), state4);
  const reopened = await open("/r4", { fs, ...textDb });
  assert.equal(await reopened.get("unflushed"), "in the log only");
  assert.equal(reopened.sequence, fourth.sequence);
  await reopened.close();
});

test("a restored store on disk passes verify() and holds the same contents", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = await open(`${dir}/db`, { ...TINY, ...textDb });
    for (let i = 0; i < 500; i++) await db.put(`key${i}`, `value${i}`.repeat(3));
    await db.delete("key7");
    const expected = await contents(db);
    await db.backup(`${dir}/bk`);
    await db.close();
    await restoreBackup(`${dir}/bk`, undefined, `${dir}/restored`);
    const report = await verify(`${dir}/restored`);
    assert.ok(report.ok, JSON.stringify(report.problems));
    const copy = await open(`${dir}/restored`, { readOnly: true, ...textDb });
    assert.deepEqual(await contents(copy), expected);
    await copy.close();
  } finally {
    cleanup();
  }
});

test("purgeOldBackups keeps the newest and deletes the files only old ones listed", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  const states: [string, string][][] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 80; i++) await db.put(`k${i}`, `r${round}-${i}`);
    await db.flush();
    await db.waitForCompactions();
    await db.backup("/bk", { fs });
    states.push(await contents(db));
  }
  await db.close();
  const before = fs.list("/bk/shared").length;
  assert.deepEqual(await purgeOldBackups("/bk", 2, { fs }), [1, 2]);
  assert.deepEqual((await listBackups("/bk", { fs })).map((b) => b.id), [3, 4]);
  assert.ok(fs.list("/bk/shared").length < before, "tables only old backups listed are gone");
  assert.ok(fs.list("/bk/private").every((n) => n.startsWith("0000000003-") || n.startsWith("0000000004-")));
  await restoreBackup("/bk", 3, "/r3", { fs });
  assert.deepEqual(await contentsAt(fs, "/r3"), states[2]);
  await restoreBackup("/bk", 4, "/r4", { fs });
  assert.deepEqual(await contentsAt(fs, "/r4"), states[3]);
  assert.deepEqual(await purgeOldBackups("/bk", 0, { fs }), [3, 4]);
  assert.deepEqual(fs.list("/bk/shared"), []);
  assert.deepEqual(fs.list("/bk/private"), []);
  await rejectsWith("INVALID_ARGUMENT", () => purgeOldBackups("/bk", -1, { fs }), /keep/);
});

test("bad input: a backup directory that is a file, an unknown id, a target that is not empty, a corrupted file", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  for (let i = 0; i < 100; i++) await db.put(`k${i}`, `v${i}`);
  fs.open("/afile", { create: true }).close();
  await rejectsWith("INVALID_ARGUMENT", () => db.backup("/afile", { fs }), /\/afile exists and is not a directory/);
  await db.backup("/bk", { fs });
  await db.close();
  await rejectsWith("INVALID_ARGUMENT", () => listBackups("/afile", { fs }), /not a directory/);
  await rejectsWith("INVALID_ARGUMENT", () => listBackups("/missing", { fs }), /does not exist/);
  await rejectsWith("NOT_FOUND", () => restoreBackup("/bk", 9, "/r", { fs }), /no backup 9/);
  assert.equal(fs.exists("/r"), false);
  await rejectsWith("INVALID_ARGUMENT", () => restoreBackup("/bk", 0, "/r", { fs }), /positive integer/);
  fs.mkdir("/busy");
  fs.open("/busy/x", { create: true }).close();
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => restoreBackup("/bk", 1, "/busy", { fs }),
    /\/busy exists and is not empty/,
  );
  assert.deepEqual(fs.list("/busy"), ["x"]);

  // A flipped byte in a shared table: CORRUPTION naming it, nothing written.
  const table = `/bk/shared/${fs.list("/bk/shared")[0]}`;
  const image = fs.readFile(table);
  image[image.length >> 1] ^= 0x40;
  fs.remove(table);
  const f = fs.open(table, { create: true });
  f.appendSync(image);
  f.close();
  const err = await rejectsWith("CORRUPTION", () => restoreBackup("/bk", 1, "/r", { fs }));
  assert.ok(err.message.includes(table), err.message);
  assert.equal(fs.exists("/r"), false);

  // A damaged metadata file: CORRUPTION naming it.
  const meta = "/bk/meta/0000000001";
  const m = fs.readFile(meta);
  m[10] ^= 1;
  fs.remove(meta);
  const g = fs.open(meta, { create: true });
  g.appendSync(m);
  g.close();
  const e2 = await rejectsWith("CORRUPTION", () => listBackups("/bk", { fs }));
  assert.ok(e2.message.includes(meta), e2.message);
});

test("a fault or crash at any storage call of a backup leaves no listed partial backup; the source keeps its data", async () => {
  for (const crash of [false, true]) {
    for (let at = 0;; at++) {
      const mem = new MemoryStorage();
      const fs = faultyStorage(mem);
      const db = await open("/db", { fs, ...TINY, ...textDb });
      for (let i = 0; i < 40; i++) await db.put(`k${i}`, `v${i}`, { sync: true });
      await db.backup("/bk", { fs }); // backup 1, whole
      await db.put("extra", "1", { sync: true });
      const expected = await contents(db);
      fs.failAt(at, crash ? () => mem.crash() : undefined);
      let failed: unknown;
      await db.backup("/bk", { fs }).catch((err) => failed = err);
      const fired = fs.calls > at;
      fs.failAt(Infinity);
      if (failed !== undefined) assert.ok(failed instanceof SiltError, `call ${at}: ${failed}`);
      if (!crash || !fired) await db.close().catch(() => {});
      assert.deepEqual(await contentsAt(mem, "/db"), expected, `call ${at}: the source`);
      const ids = (await listBackups("/bk", { fs: mem })).map((b) => b.id);
      assert.ok(failed === undefined ? ids.length === 2 : ids.length >= 1, `call ${at}: ${ids}`);
      for (const id of ids) {
        await restoreBackup("/bk", id, `/r${id}`, { fs: mem });
        const got = await contentsAt(mem, `/r${id}`);
        assert.deepEqual(
          got,
          id === 1 ? expected.filter(([k]) => k !== "extra") : expected,
          `call ${at}: backup ${id}`,
        );
      }
      await purgeOldBackups("/bk", 1, { fs: mem }); // leftovers of the failed one go too
      assert.ok(at < 2000);
      if (!fired) {
        assert.ok(at > 20, `a backup takes more than ${at} storage calls`);
        break;
      }
    }
  }
});

test("a fault or crash at any storage call of a restore: the target is whole or refused on open", async () => {
  const mem0 = new MemoryStorage();
  const db = await open("/db", { fs: mem0, ...TINY, ...textDb });
  for (let i = 0; i < 60; i++) await db.put(`k${i}`, `v${i}`);
  const expected = await contents(db);
  await db.backup("/bk", { fs: mem0 });
  await db.close();
  for (const crash of [false, true]) {
    for (let at = 0;; at++) {
      const mem = new MemoryStorage();
      for (const dir of ["/bk/shared", "/bk/private", "/bk/meta"]) {
        mem.mkdir(dir);
        for (const name of mem0.list(dir)) {
          const f = mem.open(`${dir}/${name}`, { create: true });
          f.appendSync(mem0.readFile(`${dir}/${name}`));
          await f.sync();
          f.close();
        }
        await mem.syncDir(dir);
      }
      const fs = faultyStorage(mem);
      fs.failAt(at, crash ? () => mem.crash() : undefined);
      let failed: unknown;
      await restoreBackup("/bk", undefined, "/r", { fs }).catch((err) => failed = err);
      const fired = fs.calls > at;
      fs.failAt(Infinity);
      if (failed !== undefined) assert.ok(failed instanceof SiltError, `call ${at}: ${failed}`);
      try {
        assert.deepEqual(
          await contentsAt(mem, "/r"),
          expected,
          `call ${at}: the restored store opened, so it is whole`,
        );
      } catch (err) {
        assert.ok(failed !== undefined, `call ${at}: a completed restore must open (${err})`);
        assert.ok(err instanceof SiltError && ["CORRUPTION", "NOT_FOUND"].includes(err.code), `call ${at}: ${err}`);
      }
      assert.ok(at < 2000);
      if (!fired) {
        assert.ok(failed === undefined && at > 10, `a restore takes more than ${at} storage calls`);
        break;
      }
    }
  }
});

test("regression (checkpoint sim): two backups into one directory at once take two ids and both restore", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, ...TINY, ...textDb });
  for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`);
  const [a, b] = await Promise.all([db.backup("/bk", { fs }), db.backup("/bk", { fs })]);
  assert.notEqual(a.id, b.id);
  const expected = await contents(db);
  await db.close();
  for (const id of [a.id, b.id]) {
    await restoreBackup("/bk", id, `/r${id}`, { fs });
    assert.deepEqual(await contentsAt(fs, `/r${id}`), expected);
  }
});

test("purgeOldBackups and listBackups on an empty backup directory", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/empty");
  assert.deepEqual(await listBackups("/empty", { fs }), []);
  assert.deepEqual(await purgeOldBackups("/empty", 1, { fs }), []);
  await rejectsWith("NOT_FOUND", () => restoreBackup("/empty", undefined, "/r", { fs }), /holds no backup/);
});
