// Real processes killed (SIGKILL) while they write, in Node, Deno and Bun,
// each reopened by another runtime. Writers use a small memtable, so kills
// land during log rotation, flushes and compactions (in the worker), and
// while bursts of synchronous reads install compaction results themselves
// (catch-up: the manifest written on the reading thread). Every
// write a killed process saw resolve must be there, synced or not (a crash
// of the process loses nothing acknowledged); a deleted key stays deleted;
// a batch is all there or not at all; no value appears that was never
// written. SILTDB_KILLS=n runs n kills (default 6 per runtime's run).

import { test } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { currentRuntime, killAfterAcks, rng, RUNTIMES, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const KILLS = Number(env.SILTDB_KILLS) > 0 ? Number(env.SILTDB_KILLS) : 6;

interface Acks {
  puts: string[];
  dels: string[];
  batches: string[][];
}

/** Starts a writer, kills it after `after` acknowledgments, returns what it acknowledged. */
async function killAfter(runtime: (typeof RUNTIMES)[number], dir: string, round: number, after: number): Promise<Acks> {
  const acks: Acks = { puts: [], dels: [], batches: [] };
  await killAfterAcks(runtime, child, ["kill-writer", dir, String(round)], (line) => {
    const [, kind, ...rest] = line.split(" ");
    if (kind === "put") acks.puts.push(rest[0]);
    else if (kind === "del") acks.dels.push(rest[0]);
    else if (kind === "batch") acks.batches.push(rest);
    else return false;
    return true;
  }, after);
  return acks;
}

test(`SIGKILL of writers in every runtime, reopened in ${currentRuntime}: no acknowledged write lost (${KILLS} kills)`, async () => {
  const random = rng(Date.now() % 1e9);
  const { dir, cleanup } = tempDir();
  const verified = new Map<string, string>(); // what earlier rounds left, checked
  const checked = { puts: 0, dels: 0, batches: 0, byWriter: { node: 0, deno: 0, bun: 0 } };
  try {
    for (let round = 0; round < KILLS; round++) {
      const writer = RUNTIMES[(round + RUNTIMES.indexOf(currentRuntime) + 1) % RUNTIMES.length];
      const acks = await killAfter(writer, dir, round, 30 + Math.floor(random() * 800));
      const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      try {
        const where = `round ${round}, ${writer} writer killed after ${
          acks.puts.length + acks.dels.length + acks.batches.length
        } acks`;
        const deleted = new Set(acks.dels);
        for (const key of acks.puts) {
          // Keys numbered 3 (mod 7) are deleted 3 writes later; that delete may be in the log unacknowledged.
          if (deleted.has(key) || Number(key.slice(-6)) % 7 === 3) continue;
          assert.ok(db.getSync(key)?.startsWith(`v:${key}`), `${where}: acknowledged put ${key} is missing`);
        }
        for (const key of acks.dels) {
          assert.equal(db.getSync(key), undefined, `${where}: acknowledged delete of ${key} undone`);
        }
        for (const keys of acks.batches) {
          for (const key of keys) {
            assert.equal(db.getSync(key), `v:${key}`, `${where}: acknowledged batch ${keys[0]} is not whole`);
          }
        }
        const all = db.scanSync().toArray();
        const byBatch = new Map<string, number>();
        for (const [key, value] of all) {
          assert.ok(
            value.startsWith(`v:${key}`) && /^-*$/.test(value.slice(2 + key.length)),
            `${where}: ${key} holds ${value}, never written`,
          );
          const b = /^(.*)-b\d$/.exec(key);
          if (b) byBatch.set(b[1], (byBatch.get(b[1]) ?? 0) + 1);
        }
        for (const [batch, n] of byBatch) assert.equal(n, 3, `${where}: batch ${batch} is there in part (${n} of 3)`);
        for (const [key, value] of verified) {
          if (!key.startsWith(`r${round}-`)) {
            assert.equal(db.getSync(key), value, `${where}: ${key} of an earlier round changed`);
          }
        }
        verified.clear();
        for (const [key, value] of all) verified.set(key, value);
        checked.puts += acks.puts.length;
        checked.dels += acks.dels.length;
        checked.batches += acks.batches.length;
        checked.byWriter[writer]++;
      } finally {
        await db.close();
      }
    }
    console.log(
      `kills: ${KILLS} (writers ${
        JSON.stringify(checked.byWriter)
      }), reopened in ${currentRuntime}; acknowledged writes checked: ${checked.puts} puts, ${checked.dels} deletes, ${checked.batches} batches; lost: 0`,
    );
  } finally {
    cleanup();
  }
});
