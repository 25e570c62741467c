// verify() and repair() (src/tools/), as library functions and as the
// `siltdb verify` / `siltdb repair` commands: a clean store verifies clean;
// a flipped byte in a table block, a log record or the manifest is found at
// its file and offset; repair keeps every key whose table block or log
// record is intact, with its newest intact value, and the store it leaves
// opens and verifies clean.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open, repair, verify } from "../mod.ts";
import { compareBytes, rejectsWith, tempDir, text } from "./_harness.ts";
import { runCli } from "./_cli.ts";

const OPTIONS = { memtableSize: 64 * 1024 };
const key = (prefix: string, i: number) => `${prefix}${String(i).padStart(4, "0")}`;

/** A store with 300 keys in tables (flushed) and 60 writes in the log (20 overwrites, 40 new keys), one record each. */
async function makeStore(dir: string): Promise<{ inTable: Map<string, string>; inLog: Map<string, string> }> {
  const inTable = new Map<string, string>();
  const inLog = new Map<string, string>();
  const db = await open(dir, OPTIONS);
  for (let i = 0; i < 300; i++) {
    const k = key("k", i);
    inTable.set(k, `table-${i}-${"x".repeat(80)}`);
    await db.put(k, inTable.get(k)!);
  }
  await db.flush();
  for (let i = 0; i < 20; i++) {
    const k = key("k", i * 5);
    inLog.set(k, `log-${i}`);
    await db.put(k, inLog.get(k)!);
  }
  for (let i = 0; i < 40; i++) {
    const k = key("n", i);
    inLog.set(k, `log-new-${i}`);
    await db.put(k, inLog.get(k)!);
  }
  await db.close();
  return { inTable, inLog };
}

const files = (dir: string, suffix: string) => readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();

function flip(path: string, offset: number): void {
  const b = readFileSync(path);
  b[offset] ^= 0x40;
  writeFileSync(path, b);
}

/** Offsets of the records of a log file, with the first key of each batch. */
function logRecords(path: string): { offset: number; key: string }[] {
  const b = readFileSync(path);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { offset: number; key: string }[] = [];
  for (let at = 16; at + 13 <= b.length;) {
    const length = dv.getUint32(at + 4, true);
    if (length === 0 && dv.getUint32(at, true) === 0) break;
    const payload = at + 13;
    const keyLength = dv.getUint32(payload + 13, true);
    out.push({ offset: at, key: new TextDecoder().decode(b.subarray(payload + 17, payload + 17 + keyLength)) });
    at += 14 + length;
  }
  return out;
}

/** The log holding the writes after the flush (the one with records for n-keys). */
function dataLog(dir: string): string {
  const log = files(dir, ".log").find((n) => logRecords(`${dir}/${n}`).some((r) => r.key.startsWith("n")));
  assert.ok(log, "a log holds the writes after the flush");
  return log;
}

/** Opens the store and checks every key against what should have survived. */
async function checkStore(dir: string, expected: Map<string, string | undefined>): Promise<void> {
  const db = await open(dir, OPTIONS);
  try {
    for (const [k, v] of expected) assert.equal(text(await db.get(k)), v, `key ${k}`);
  } finally {
    await db.close();
  }
}

test("verify() finds a clean store clean and counts what it checked", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeStore(dir);
    const r = await verify(dir);
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
    assert.ok(r.checked.tables >= 1 && r.checked.logs >= 1 && r.checked.manifests === 1);
    assert.ok(r.checked.blocks >= 5, `blocks ${r.checked.blocks}`);
    assert.equal(r.checked.entries, 300 + 60);
    assert.ok(r.files.some((f) => f.kind === "current"));
  } finally {
    cleanup();
  }
});

test("verify() reports a flipped byte in a table block, a log record and the manifest at its file and offset", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeStore(dir);
    const table = files(dir, ".sst")[0];
    flip(`${dir}/${table}`, 20); // inside data block 0, at offset 0
    const log = dataLog(dir);
    const record = logRecords(`${dir}/${log}`)[10];
    flip(`${dir}/${log}`, record.offset + 20); // in the payload
    const manifest = files(dir, "").find((n) => n.startsWith("MANIFEST-"))!;
    flip(`${dir}/${manifest}`, 16 + 13 + 2); // in the payload of the first edit, at offset 16
    const before = readdirSync(dir).map((n) => [n, readFileSync(`${dir}/${n}`)] as const);
    const r = await verify(dir);
    assert.equal(r.ok, false);
    const at = (file: string) => r.problems.filter((p) => p.file === file).map((p) => p.offset);
    assert.deepEqual(at(table), [0]);
    assert.deepEqual(at(log), [record.offset]);
    assert.deepEqual(at(manifest), [16]);
    assert.match(r.problems.find((p) => p.file === table)!.what, /checksum/);
    // Read-only: not a byte changed.
    for (const [n, bytes] of before) assert.deepEqual(readFileSync(`${dir}/${n}`), bytes, n);
    assert.deepEqual(readdirSync(dir).sort(), before.map(([n]) => n).sort());
  } finally {
    cleanup();
  }
});

test("verify() notes a torn log tail without calling it a problem", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeStore(dir);
    const log = dataLog(dir);
    const b = readFileSync(`${dir}/${log}`);
    writeFileSync(`${dir}/${log}`, b.subarray(0, b.length - 5)); // the last record cut short
    const r = await verify(dir);
    assert.deepEqual(r.problems, []);
    assert.equal(r.tornTails.length, 1);
    assert.equal(r.tornTails[0].file, log);
  } finally {
    cleanup();
  }
});

test("repair() of a damaged table block keeps every other key, with its newest intact value", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { inTable, inLog } = await makeStore(dir);
    const table = files(dir, ".sst")[0];
    flip(`${dir}/${table}`, 20);
    const r = await repair(dir);
    assert.equal(r.lossless, false);
    assert.equal(r.lost.blocks.length, 1);
    const block = r.lost.blocks[0];
    assert.equal(block.file, table);
    assert.equal(block.offset, 0);
    assert.equal(block.after, undefined);
    const upTo = text(block.upTo)!;
    const lostKeys = [...inTable.keys()].filter((k) => k <= upTo && !inLog.has(k));
    assert.ok(lostKeys.length > 0);
    assert.equal(r.lost.entries, [...inTable.keys()].filter((k) => k <= upTo).length);
    assert.ok(r.tables.some((t) => t.origin === "salvaged" && t.from.includes(table)));
    assert.ok(r.copied.includes(table) && r.copied.includes("CURRENT"));
    assert.deepEqual(readdirSync(r.lostDir).sort(), [...r.copied].sort());
    const expected = new Map<string, string | undefined>();
    for (const [k, v] of inTable) expected.set(k, inLog.get(k) ?? (lostKeys.includes(k) ? undefined : v));
    for (const [k, v] of inLog) expected.set(k, v);
    await checkStore(dir, expected);
    assert.deepEqual((await verify(dir)).problems, []);
  } finally {
    cleanup();
  }
});

test("repair() skips a corrupt record in the middle of a log and keeps the older intact value of its key", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { inTable, inLog } = await makeStore(dir);
    const log = dataLog(dir);
    const records = logRecords(`${dir}/${log}`);
    const victim = records.find((r) => r.key === key("k", 25))!; // an overwrite: the table holds the older value
    const newKey = records.find((r) => r.key === key("n", 7))!; // a new key: only in the log
    flip(`${dir}/${log}`, victim.offset + 20);
    flip(`${dir}/${log}`, newKey.offset + 2); // the header: found again at the next intact record
    const r = await repair(dir);
    assert.deepEqual(r.lost.records.map((x) => [x.file, x.offset]), [[log, victim.offset], [log, newKey.offset]]);
    assert.equal(r.lost.blocks.length, 0);
    assert.ok(r.tables.some((t) => t.origin === "log" && t.from.includes(log)));
    const expected = new Map<string, string | undefined>();
    for (const [k, v] of inTable) expected.set(k, v);
    for (const [k, v] of inLog) expected.set(k, v);
    expected.set(key("k", 25), inTable.get(key("k", 25)));
    expected.set(key("n", 7), undefined);
    await checkStore(dir, expected);
    assert.deepEqual((await verify(dir)).problems, []);
  } finally {
    cleanup();
  }
});

for (const damage of ["deleted CURRENT", "garbled CURRENT", "deleted MANIFEST", "garbled MANIFEST"] as const) {
  test(`repair() rebuilds a store with a ${damage} and loses nothing`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { inTable, inLog } = await makeStore(dir);
      // A second flush and compaction, so that the store has tables of interleaved ages.
      const db = await open(dir, OPTIONS);
      await db.put(key("k", 1), "after-reopen");
      inLog.set(key("k", 1), "after-reopen");
      await db.flush();
      await db.compact();
      await db.put(key("k", 2), "in-the-last-log");
      inLog.set(key("k", 2), "in-the-last-log");
      await db.close();
      const manifest = files(dir, "").find((n) => n.startsWith("MANIFEST-"))!;
      if (damage === "deleted CURRENT") rmSync(`${dir}/CURRENT`);
      if (damage === "garbled CURRENT") writeFileSync(`${dir}/CURRENT`, "MANIFEST-\u0000\n");
      if (damage === "deleted MANIFEST") rmSync(`${dir}/${manifest}`);
      if (damage === "garbled MANIFEST") flip(`${dir}/${manifest}`, 16 + 13 + 2);
      await rejectsWith("CORRUPTION", () => open(dir, OPTIONS));
      const r = await repair(dir);
      assert.equal(r.lost.entries, 0);
      assert.equal(r.lost.blocks.length + r.lost.records.length + r.lost.tables.length, 0);
      assert.ok(r.problems.length > 0);
      const expected = new Map<string, string | undefined>([...inTable, ...inLog]);
      await checkStore(dir, expected);
      assert.deepEqual((await verify(dir)).problems, []);
    } finally {
      cleanup();
    }
  });
}

test("repair() of a clean store loses nothing, and its tables cover every key", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { inTable, inLog } = await makeStore(dir);
    const r = await repair(dir);
    assert.equal(r.lossless, true);
    assert.deepEqual(r.problems, []);
    assert.equal(r.entries, 300 + 60);
    const keys = r.tables.flatMap((t) => [t.smallest, t.largest]).sort(compareBytes);
    assert.equal(text(keys[0]), key("k", 0));
    assert.equal(text(keys[keys.length - 1]), key("n", 39));
    await checkStore(dir, new Map([...inTable, ...inLog]));
    assert.deepEqual((await verify(dir)).problems, []);
  } finally {
    cleanup();
  }
});

test("verify() and repair() refuse with LOCKED while a writer has the store open", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeStore(dir);
    const db = await open(dir, OPTIONS);
    try {
      await rejectsWith("LOCKED", () => verify(dir));
      await rejectsWith("LOCKED", () => repair(dir));
    } finally {
      await db.close();
    }
    assert.equal((await verify(dir)).ok, true);
  } finally {
    cleanup();
  }
});

test("siltdb verify and siltdb repair: exit codes, problem lines and --json", async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeStore(dir);
    const clean = await runCli(["verify", dir]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /no problems found/);
    const table = files(dir, ".sst")[0];
    flip(`${dir}/${table}`, 20);
    const bad = await runCli(["verify", dir]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.ok(bad.stdout.includes(`${table}:0: `), bad.stdout);
    const json = await runCli(["verify", dir, "--json"]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p: { file: string; offset: number }) => [p.file, p.offset]), [[table, 0]]);
    const repaired = await runCli(["repair", dir, "--json"]);
    assert.equal(repaired.code, 0, repaired.stderr);
    const rr = JSON.parse(repaired.stdout);
    assert.equal(rr.lossless, false);
    assert.equal(rr.lost.blocks[0].file, table);
    assert.equal(typeof rr.lost.blocks[0].upTo, "string");
    assert.equal((await runCli(["verify", dir])).code, 0);
    const again = await runCli(["repair", dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing was lost/);
    assert.match(again.stdout, /copies of the \d+ replaced or dropped files: .*lost/);
    const usage = await runCli(["verify"]);
    assert.equal(usage.code, 2);
  } finally {
    cleanup();
  }
});

test("repair() merges level-0 tables whose sequence ranges interleave, so the newest version wins", async () => {
  // Table 5 holds k@10 and z@30, table 6 holds k@20: ordered by largest
  // sequence alone, table 5 would come first and k would read its older value.
  const { defaultStorage } = await import("../src/storage/default_storage.ts");
  const { writeEntries } = await import("../src/tools/_write_tables.ts");
  const { internalKey, KIND_PUT } = await import("../src/format/internal_key.ts");
  const { dir, cleanup } = tempDir("repair-interleave-");
  const fs = defaultStorage();
  const enc = (s: string) => new TextEncoder().encode(s);
  const entry = (k: string, seq: number, v: string) => ({ key: internalKey(enc(k), seq, KIND_PUT), value: enc(v) });
  const o = { blockSize: 4096, bloomBitsPerKey: 10, compression: "lz4" } as const;
  await writeEntries(fs, dir, 5, [entry("k", 10, "old"), entry("z", 30, "z30")], o);
  await writeEntries(fs, dir, 6, [entry("k", 20, "new")], o);
  const report = await repair(dir);
  assert.ok(report.tables.some((t) => t.origin === "merged"), JSON.stringify(report.tables));
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  assert.equal(await db.get("k"), "new");
  assert.equal(await db.get("z"), "z30");
  await db.put("a", "after repair");
  await db.close();
  assert.equal((await verify(dir)).ok, true);
  cleanup();
});

test("repair() that fails or is cut short by a crash at any storage step leaves a store a second repair() restores", async () => {
  // The order of repair's steps (new tables, copies in lost/, the new
  // manifest and CURRENT, then removals) is what makes this hold: whatever
  // step dies, nothing intact is removed before the new manifest is in place.
  const { MemoryStorage } = await import("../mod.ts");
  const model = new Map<string, string>();
  for (let i = 0; i < 400; i++) model.set(key("k", i % 300), `v${i}-${"x".repeat(60)}`);
  /** A store with tables and a log, whose CURRENT is gone (the damage repair is run for). */
  const damagedStore = async () => {
    const fs = new MemoryStorage();
    const db = await open("/db", { fs, ...OPTIONS, keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < 400; i++) {
      await db.put(key("k", i % 300), `v${i}-${"x".repeat(60)}`, { sync: i === 399 });
      if (i === 250) await db.flush();
    }
    await db.close();
    fs.remove("/db/CURRENT");
    return fs;
  };
  let cases = 0;
  for (const op of ["open", "append", "sync", "rename", "remove", "syncDir"] as const) {
    for (let after = 0; after < 12; after++) {
      const fs = await damagedStore();
      fs.injectFault({ op, after });
      const failed = await repair("/db", { fs }).then(() => false, () => true);
      fs.clearFaults();
      fs.crash();
      if (!failed && after > 0) continue; // the fault came after repair's last such step: covered by after - 1
      cases++;
      await repair("/db", { fs });
      const reopened = await open("/db", { fs, ...OPTIONS, keyEncoding: "utf8", valueEncoding: "utf8" });
      for (const [k, v] of model) assert.equal(await reopened.get(k), v, `${op} fault after ${after}: ${k}`);
      await reopened.close();
    }
  }
  assert.ok(cases >= 12, `only ${cases} cases reached a storage step of repair`);
});
