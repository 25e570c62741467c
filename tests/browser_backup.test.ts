// siltdb/browser's checkpoint, backups and waitForCompactions through the
// worker RPC (client.ts <-> worker_server.ts in one process, over the OPFS
// fake of tests/_opfs_fake.ts): copies go to other OPFS directories.

import { test } from "node:test";
import assert from "node:assert/strict";
import { BrowserDb } from "../src/browser/client.ts";
import { serve } from "../src/browser/worker_server.ts";
import type { PortLike } from "../src/browser/protocol.ts";
import { OpfsFake } from "./_opfs_fake.ts";
import { rejectsWith } from "./_harness.ts";

const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

async function connect(fake: OpfsFake, name: string): Promise<BrowserDb<string, string>> {
  const channel = new MessageChannel();
  serve(channel.port2 as unknown as PortLike, { root: () => Promise.resolve(fake.root), locks: fake.locks });
  const db = new BrowserDb<string, string>(name, channel.port1 as unknown as PortLike, () => {});
  await db.connect(utf8);
  return db;
}

test("browser rpc: checkpoint into a new database, backups into a backup directory, restore, waitForCompactions", async () => {
  const fake = new OpfsFake();
  const db = await connect(fake, "notes");
  for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(3, "0")}`, `v${i}`);
  await db.flush();
  await db.waitForCompactions();
  assert.equal((await db.stats()).compaction.pending, false);

  const cp = await db.checkpoint("notes-copy");
  assert.equal(cp.sequence, 300);
  assert.equal(cp.linked, 0, "OPFS has no hard links: tables are copied");
  const b1 = await db.backup("nightly");
  assert.equal(b1.id, 1);
  await db.put("later", "x");
  const b2 = await db.backup("nightly");
  assert.equal(b2.tablesCopied, 0);
  assert.deepEqual((await db.listBackups("nightly")).map((b) => b.id), [1, 2]);
  const restored = await db.restoreBackup("nightly", 1, "notes-restored");
  assert.equal(restored.sequence, 300);
  await rejectsWith("INVALID_ARGUMENT", () => db.checkpoint("notes-copy"), /not empty/);
  await rejectsWith("NOT_FOUND", () => db.restoreBackup("nightly", 5, "other"), /no backup 5/);
  assert.deepEqual(await db.purgeOldBackups("nightly", 1), [1]);
  assert.deepEqual((await db.listBackups("nightly")).map((b) => b.id), [2]);
  await db.close();

  for (const name of ["notes-copy", "notes-restored"]) {
    const copy = await connect(fake, name);
    assert.equal((await copy.keys().toArray()).length, 300, name);
    assert.equal(await copy.get("later"), undefined);
    await copy.close();
  }
});
