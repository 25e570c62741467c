// The inspection commands dump-wal, dump-sst and dump-manifest, run as a
// subprocess of the runtime under test, on a store this file writes: human
// output, --json shapes, exit codes (0, 1 for damage, 2 for bad usage) and
// one-line errors.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { open } from "../mod.ts";
import { runCli } from "./_cli.ts";

const work = mkdtempSync(join(os.tmpdir(), "siltdb-cli-dump-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** No stack trace, one line on stderr. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

/**
 * A store with: a compacted L1 table of 60 keys (one binary; user:005
 * deleted and compacted away), an L0 table of a put and a tombstone, and a
 * log of 3 batches (4 entries: a delete and a binary key among them).
 */
async function makeStore(): Promise<{ dir: string; log: string; l1: string; l0: string }> {
  const dir = join(work, "db");
  const db = await open(dir, { blockSize: 256, bloomBitsPerKey: 10, compression: "lz4" });
  for (let i = 0; i < 60; i++) await db.put(`user:${String(i).padStart(3, "0")}`, `value-${i}`);
  await db.put(new Uint8Array([0, 255, 1]), new Uint8Array([1, 2, 3]));
  await db.delete("user:005");
  await db.compact();
  await db.put("late", "x");
  await db.delete("user:007");
  await db.flush();
  await db.put("wal:1", "one");
  await db.batch([{ type: "put", key: "wal:2", value: "two" }, { type: "del", key: "user:001" }]);
  await db.put(new Uint8Array([0xff, 0x00]), "bin");
  await db.close();
  const names = readdirSync(dir);
  const tables = names.filter((n) => n.endsWith(".sst")).map((n) => join(dir, n)).sort((a, b) =>
    statSync(a).size - statSync(b).size
  );
  const logs = names.filter((n) => n.endsWith(".log"));
  assert.equal(tables.length, 2, names.join(" "));
  assert.equal(logs.length, 1, names.join(" "));
  return { dir, log: join(dir, logs[0]), l0: tables[0], l1: tables[1] };
}

/** A copy of file with fn applied to its bytes. */
function damagedCopy(file: string, name: string, fn: (b: Uint8Array) => Uint8Array): string {
  const path = name.startsWith("/") ? name : join(work, name);
  writeFileSync(path, fn(new Uint8Array(readFileSync(file))));
  return path;
}

const store = makeStore();

// deno-lint-ignore no-explicit-any
type Json = any;

describe("siltdb dump commands", () => {
  test("dump-wal shows every record and entry, and a clean tail", async () => {
    const { log } = await store;
    const human = await runCli(["dump-wal", log]);
    assert.equal(human.code, 0, human.stderr);
    for (const text of ["wal:1", "wal:2", "delete  user:001", "0xff00", "records: 3", "entries: 4", "tail: clean"]) {
      assert.ok(human.stdout.includes(text), `${text} in:\n${human.stdout}`);
    }
    const json = await runCli(["dump-wal", log, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc: Json = JSON.parse(json.stdout);
    assert.equal(doc.file, log);
    assert.equal(doc.formatVersion, 2);
    assert.deepEqual(doc.summary.tail, { state: "clean" });
    assert.equal(doc.summary.records, 3);
    assert.equal(doc.summary.entries, 4);
    assert.equal(doc.summary.bytes, statSync(log).size);
    assert.deepEqual(doc.records.map((r: Json) => r.count), [1, 2, 1]);
    assert.equal(doc.records[0].offset, 16);
    assert.equal(doc.records[1].sequence, doc.records[0].sequence + 1);
    assert.deepEqual(doc.records[1].entries, [
      { sequence: doc.records[1].sequence, kind: "put", key: "wal:2", valueSize: 3 },
      { sequence: doc.records[1].sequence + 1, kind: "delete", key: "user:001" },
    ]);
    assert.deepEqual(doc.records[2].entries[0], {
      sequence: doc.records[2].sequence,
      kind: "put",
      keyHex: "ff00",
      valueSize: 3,
    });
  });

  test("dump-wal reports a corrupt record with its offset (exit 1), a torn tail as recovery does (exit 0)", async () => {
    const { log } = await store;
    const clean: Json = JSON.parse((await runCli(["dump-wal", log, "--json"])).stdout);
    const at = clean.records[1].offset;
    const flipped = damagedCopy(log, "flipped.log", (b) => {
      b[at + 13 + 2] ^= 0x04; // a payload byte of the second record
      return b;
    });
    const bad = await runCli(["dump-wal", flipped, "--json"]);
    assert.equal(bad.code, 1, bad.stderr);
    const doc: Json = JSON.parse(bad.stdout);
    assert.equal(doc.summary.records, 1);
    assert.equal(doc.summary.tail.state, "corrupt");
    assert.equal(doc.summary.tail.offset, at);
    assert.match(doc.summary.tail.error, /checksum mismatch/);

    const torn = damagedCopy(log, "torn.log", (b) => b.subarray(0, b.length - 5));
    const cut = await runCli(["dump-wal", torn, "--hex"]);
    assert.equal(cut.code, 0, cut.stderr);
    assert.match(cut.stdout, new RegExp(`tail: torn tail truncated at offset ${clean.records[2].offset}`));
    assert.ok(cut.stdout.includes("0x77616c3a31"), "--hex shows wal:1 as hex");
    assert.ok(!cut.stdout.includes(" wal:1"));
  });

  test("dump-sst shows footer, properties, filter and blocks; --entries lists tombstones", async () => {
    const { l0, l1 } = await store;
    const json = await runCli(["dump-sst", l1, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc: Json = JSON.parse(json.stdout);
    assert.equal(doc.size, statSync(l1).size);
    assert.equal(doc.footer.formatVersion, 3);
    assert.equal(doc.footer.magic, "SILTSST\n");
    assert.ok(doc.footer.index.size > 0);
    assert.equal(doc.properties.entries, 60);
    assert.equal(doc.properties.deletions, 0);
    assert.deepEqual(doc.properties.smallest, { keyHex: "00ff01", sequence: 61, kind: "put" });
    assert.equal(doc.properties.largest.key, "user:059");
    assert.ok(doc.blocks.length > 1, "blockSize 256 makes several data blocks");
    assert.equal(doc.blocks.length, doc.properties.dataBlocks);
    assert.equal(doc.blocks.reduce((n: number, b: Json) => n + b.entries, 0), 60);
    // compression "lz4": each block compressed when that saves an eighth, else stored as is
    for (const b of doc.blocks) {
      assert.ok(b.codec === "lz4" ? b.rawSize - b.rawSize / 8 >= b.size : b.codec === "none" && b.rawSize === b.size);
    }
    assert.ok(doc.compression.lz4Blocks > 0, JSON.stringify(doc.compression));
    assert.equal(doc.compression.lz4Blocks + doc.compression.rawBlocks, doc.blocks.length);
    assert.equal(doc.compression.storedBytes, doc.blocks.reduce((n: number, b: Json) => n + b.size, 0));
    assert.equal(doc.compression.rawBytes, doc.blocks.reduce((n: number, b: Json) => n + b.rawSize, 0));
    assert.deepEqual(doc.blocks.at(-1).lastKey, doc.properties.largest);
    assert.equal(doc.filter.userKeys, 60);
    assert.equal(doc.filter.bits, (doc.filter.bytes - 1) * 8);
    assert.equal(doc.entries, null);
    assert.deepEqual(doc.problems, []);

    const human = await runCli(["dump-sst", l0, "--entries"]);
    assert.equal(human.code, 0, human.stderr);
    for (
      const text of [
        "format version    3",
        "entries             2 (1 deletion)",
        "late @",
        "user:007 @",
        "delete",
        "all blocks intact",
      ]
    ) {
      assert.ok(human.stdout.includes(text), `${text} in:\n${human.stdout}`);
    }
    const limited: Json = JSON.parse((await runCli(["dump-sst", l1, "--json", "--limit", "3"])).stdout);
    assert.deepEqual(limited.entries.map((e: Json) => e.key ?? e.keyHex), ["00ff01", "user:000", "user:001"]);
    assert.deepEqual(Object.keys(limited.entries[1]).sort(), ["block", "key", "kind", "sequence", "valueSize"]);
  });

  test("dump-sst reports a flipped byte in a data block with file and offset (exit 1)", async () => {
    const { l1 } = await store;
    const clean: Json = JSON.parse((await runCli(["dump-sst", l1, "--json"])).stdout);
    const block = clean.blocks[1];
    const flipped = damagedCopy(l1, "flipped.sst", (b) => {
      b[block.offset + 10] ^= 0x01;
      return b;
    });
    const bad = await runCli(["dump-sst", flipped]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.ok(bad.stdout.includes(`${flipped} at offset ${block.offset}: block checksum mismatch`), bad.stdout);
  });

  test("dump-manifest shows CURRENT, every edit and the levels", async () => {
    const { dir } = await store;
    const json = await runCli(["dump-manifest", dir, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc: Json = JSON.parse(json.stdout);
    assert.match(doc.current, /^MANIFEST-\d{6}$/);
    assert.equal(doc.manifest, join(dir, doc.current));
    assert.deepEqual(doc.tail, { state: "clean" });
    assert.equal(doc.problem, null);
    assert.equal(doc.edits[0].offset, 16);
    assert.ok(doc.edits.length >= 3, `${doc.edits.length} edits`);
    assert.ok(doc.edits.some((e: Json) => e.deleted.length > 0), "the compaction removed files");
    const l1Added = doc.edits.flatMap((e: Json) => e.added).filter((a: Json) => a.level === 1);
    assert.equal(l1Added.length, 1);
    assert.deepEqual(l1Added[0].smallest, { keyHex: "00ff01", sequence: 61, kind: "put" });
    const levels = doc.state.levels;
    assert.equal(levels.length, 7);
    assert.equal(levels[0].files.length, 1);
    assert.deepEqual(levels[0].files[0].smallest, {
      key: "late",
      sequence: levels[0].files[0].smallestSequence,
      kind: "put",
    });
    assert.deepEqual(levels[0].files[0].largest.kind, "delete");
    assert.equal(levels[1].files.length, 1);
    assert.equal(levels[1].files[0].entries, 60);
    assert.equal(levels[1].bytes, levels[1].files[0].size);
    assert.equal(doc.state.lastSequence, levels[0].files[0].largestSequence);

    const human = await runCli(["dump-manifest", dir]);
    assert.equal(human.code, 0, human.stderr);
    for (const text of [`CURRENT: ${doc.current}`, "edit @16", "+ L1 #", "- L0 #", "tail: clean", "L1: 1 file"]) {
      assert.ok(human.stdout.includes(text), `${text} in:\n${human.stdout}`);
    }

    // A flipped byte in the last edit: the edits before it, then the damage (exit 1).
    const copy = mkdtempSync(join(work, "manifest-"));
    writeFileSync(join(copy, "CURRENT"), readFileSync(join(dir, "CURRENT")));
    const last = doc.edits.at(-1).offset;
    damagedCopy(join(dir, doc.current), join(copy, doc.current), (b) => {
      b[last + 20] ^= 0x01;
      return b;
    });
    const bad = await runCli(["dump-manifest", copy]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.ok(
      bad.stdout.includes(`edits: ${doc.edits.length - 1}   tail: corrupt record at offset ${last}`),
      bad.stdout,
    );
  });

  test("missing files, wrong kinds of file and bad usage: one line, exit 1 or 2", async () => {
    const { dir, log } = await store;
    const missing = await runCli(["dump-sst", join(dir, "999999.sst")]);
    assert.equal(missing.code, 1);
    assertOneLine(missing.stderr, /999999\.sst: no such file/);
    const wrongKind = await runCli(["dump-sst", log]);
    assert.equal(wrongKind.code, 1);
    assertOneLine(
      wrongKind.stderr,
      new RegExp(`${log.replaceAll(".", "\\.")} at offset \\d+: not a siltdb table \\(bad magic\\)`),
    );
    const noDb = await runCli(["dump-manifest", work]);
    assert.equal(noDb.code, 1);
    assertOneLine(noDb.stderr, /holds no database \(no CURRENT file\)/);
    const usage = await runCli(["dump-wal", log, "--limit", "3"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option --limit/);
  });
});
