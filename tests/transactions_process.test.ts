// Transactions in real processes killed (SIGKILL) mid-stream, in Node, Deno
// and Bun, each reopened by another runtime: transfers between accounts
// (concurrent transactions, both isolation levels, some synced) must leave
// the total whole, every acknowledged transfer's marker present, and a
// counter bumped by conditional batches equal to the number of values it
// wrote (each bump and its key in one batch), at least the last one
// acknowledged. SILTDB_KILLS=n runs n kills (default 3).

import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { currentRuntime, killAfterAcks, rng, RUNTIMES, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const KILLS = Number(env.SILTDB_KILLS) > 0 ? Number(env.SILTDB_KILLS) : 3;

/** Starts a transaction writer, kills it after `after` commits; what it acknowledged. */
async function killAfter(runtime: (typeof RUNTIMES)[number], dir: string, round: number, after: number) {
  const acks = { markers: [] as string[], counter: 0 };
  await killAfterAcks(runtime, child, ["tx-writer", dir, String(round)], (line) => {
    const [kind, what] = line.split(" ");
    if (kind === "T") acks.markers.push(what);
    else if (kind === "C") acks.counter = Math.max(acks.counter, Number(what));
    else return false;
    return true;
  }, after);
  return acks;
}

test(`SIGKILL of transaction writers in every runtime, reopened in ${currentRuntime}: totals whole, nothing acknowledged lost (${KILLS} kills)`, async () => {
  const random = rng(Date.now() % 1e9);
  const { dir, cleanup } = tempDir();
  let markers = 0;
  try {
    for (let round = 0; round < KILLS; round++) {
      const writer = RUNTIMES[(round + RUNTIMES.indexOf(currentRuntime) + 1) % RUNTIMES.length];
      const acks = await killAfter(writer, dir, round, 50 + Math.floor(random() * 600));
      const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "json" });
      try {
        const where = `round ${round}, ${writer} writer killed after ${acks.markers.length} transfers`;
        let total = 0;
        for (let i = 0; i < 8; i++) total += db.getSync(`acct:${i}`) as number;
        assert.equal(total, 8000, `${where}: the accounts' total`);
        for (const m of acks.markers) assert.notEqual(db.getSync(m), undefined, `${where}: transfer ${m} lost`);
        const counter = (db.getSync("counter") as number | undefined) ?? 0;
        assert.ok(counter >= acks.counter, `${where}: counter ${counter} below the acknowledged ${acks.counter}`);
        assert.equal(await db.count({ prefix: "c:" }), counter, `${where}: a counter key for each value`);
        markers += acks.markers.length;
      } finally {
        await db.close();
      }
    }
    console.log(
      `transaction writers killed: ${KILLS}, reopened in ${currentRuntime}; acknowledged transfers checked: ${markers}`,
    );
  } finally {
    cleanup();
  }
});
