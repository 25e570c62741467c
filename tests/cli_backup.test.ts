// siltdb checkpoint | backup | restore | backups, and compact --wait, run as subprocesses.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { open } from "../mod.ts";
import { runCli } from "./_cli.ts";

const work = mkdtempSync(join(os.tmpdir(), "siltdb-cli-backup-"));
after(() => rmSync(work, { recursive: true, force: true }));

async function fill(dir: string, n: number, round: string): Promise<void> {
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", memtableSize: 8 << 10 });
  for (let i = 0; i < n; i++) await db.put(`key${String(i).padStart(4, "0")}`, `${round}-${i}`);
  await db.close();
}

async function entries(dir: string): Promise<number> {
  const db = await open(dir, { readOnly: true, keyEncoding: "utf8", valueEncoding: "utf8" });
  try {
    return (await db.keys().toArray()).length;
  } finally {
    await db.close();
  }
}

test("siltdb checkpoint, backup, backups and restore", async () => {
  const dir = join(work, "db");
  await fill(dir, 500, "a");
  const cp = await runCli(["checkpoint", dir, join(work, "cp")]);
  assert.equal(cp.code, 0, cp.stderr);
  assert.match(cp.stdout, /checkpoint .* at sequence 500: \d+ tables linked, 0 copied/);
  assert.equal(await entries(join(work, "cp")), 500);

  const bk = join(work, "backups");
  const b1 = await runCli(["backup", dir, bk]);
  assert.equal(b1.code, 0, b1.stderr);
  assert.match(b1.stdout, /^backup 1 at sequence 500: \d+ tables copied, 0 already there/);
  await fill(dir, 600, "b");
  const b2 = await runCli(["backup", dir, bk]);
  assert.match(b2.stdout, /^backup 2 at sequence 1100: /);

  const list = await runCli(["backups", bk]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /id +sequence +time +bytes/);
  assert.match(list.stdout, /\n +1 +500 /);
  const json = JSON.parse((await runCli(["backups", bk, "--json"])).stdout);
  assert.deepEqual(json.map((b: { id: number; sequence: number }) => [b.id, b.sequence]), [[1, 500], [2, 1100]]);

  const r1 = await runCli(["restore", bk, join(work, "r1"), "--id", "1"]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /restored backup 1 \(sequence 500\)/);
  assert.equal(await entries(join(work, "r1")), 500);
  const latest = await runCli(["restore", bk, join(work, "r2")]);
  assert.match(latest.stdout, /restored backup 2/);
  assert.equal(await entries(join(work, "r2")), 600);
});

test("siltdb checkpoint/restore refuse bad targets and ids with one line, exit 1 or 2", async () => {
  const dir = join(work, "db2");
  await fill(dir, 10, "a");
  const busy = join(work, "busy");
  await fill(busy, 1, "x");
  const refused = await runCli(["checkpoint", dir, busy]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /exists and is not empty/);
  const bk = join(work, "bk2");
  assert.equal((await runCli(["backup", dir, bk])).code, 0);
  const unknown = await runCli(["restore", bk, join(work, "nope"), "--id", "7"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no backup 7/);
  assert.equal((await runCli(["restore", bk, join(work, "nope"), "--id", "0"])).code, 2);
  assert.equal((await runCli(["checkpoint", dir])).code, 2);
  writeFileSync(join(work, "afile"), "x");
  const file = await runCli(["backups", join(work, "afile")]);
  assert.equal(file.code, 1);
  assert.match(file.stderr, /not a directory/);
});

test("siltdb help lists checkpoint, backup, restore and backups; each has its help", async () => {
  const help = await runCli(["--help"]);
  for (const name of ["checkpoint", "backup", "restore", "backups"]) {
    assert.match(help.stdout, new RegExp(`\\n  ${name} `), `help lists ${name}`);
    const one = await runCli(["help", name]);
    assert.equal(one.code, 0);
    assert.match(one.stdout, new RegExp(`siltdb ${name} <`));
  }
});

test("siltdb compact --wait", async () => {
  const dir = join(work, "db3");
  await fill(dir, 300, "a");
  const r = await runCli(["compact", dir, "--wait"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /after: {2}L\d: 1 /);
});
