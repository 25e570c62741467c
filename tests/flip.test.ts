// One damaged byte in any file of a store (a write-ahead log, a table with
// LZ4-compressed and stored-as-is blocks, the manifest, CURRENT) is
// reported as CORRUPTION, or is harmless: no read ever
// returns a wrong answer, nothing hangs, and a writable open of a damaged
// store deletes nothing. Every region of every file is swept: the first and
// last bytes of each file (headers, footers, end marks) and evenly spaced
// bytes between; SILTDB_FLIP_ALL=1 sweeps every byte.

import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorage, open, SiltError } from "../mod.ts";
import { VersionSet } from "../src/version/version_set.ts";
import { TableReader } from "../src/table/table_reader.ts";
import { replaceFile, rng } from "./_harness.ts";
import { blockCodecs } from "./_tables.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const ALL = env.SILTDB_FLIP_ALL === "1";
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;
const tiny = { memtableSize: 2048, blockSize: 256, targetFileSize: 4096, levelBaseBytes: 8192 } as const;

/** A store with tables in L0 and L1 (one with a range-tombstone block), a manifest with many edits, and synced writes only in the log. */
async function build(): Promise<{ fs: MemoryStorage; expected: Map<string, string> }> {
  const fs = new MemoryStorage();
  const expected = new Map<string, string>();
  const db = await open("/db", { fs, ...utf8, ...tiny, compression: "lz4", compactionMode: "inline" });
  const put = async (k: string, v: string, sync = false) => {
    await db.put(k, v, { sync });
    expected.set(k, v);
  };
  // Values that compress (runs of é) and values that do not (a few bytes each, incompressible blocks).
  for (let i = 0; i < 300; i++) await put(`key${String(i % 200).padStart(4, "0")}`, `value ${i} ${"é".repeat(i % 17)}`);
  const random = rng(20);
  const noise = () => Array.from({ length: 120 }, () => String.fromCharCode(33 + Math.floor(random() * 90))).join("");
  for (let i = 0; i < 12; i++) await put(`rnd${i}`, noise());
  await db.compact();
  for (let i = 0; i < 120; i++) await put(`key${String((i * 7) % 250).padStart(4, "0")}`, `second ${i}`);
  for (let i = 0; i < 30; i += 3) {
    await db.delete(`key${String(i).padStart(4, "0")}`);
    expected.delete(`key${String(i).padStart(4, "0")}`);
  }
  // A range tombstone: the next table holds a range-tombstone block.
  await db.deleteRange("key0100", "key0120");
  for (const k of [...expected.keys()]) if (k >= "key0100" && k < "key0120") expected.delete(k);
  await db.flush();
  for (let i = 0; i < 25; i++) await put(`log${i}`, `only in the log ${i}`, i === 24);
  fs.crash(); // the last writes are in the log alone
  return { fs, expected };
}

/** Offsets to damage in a file of this size: its edges, and evenly spaced bytes between. */
function offsets(size: number): number[] {
  if (ALL || size <= 160) return Array.from({ length: size }, (_, i) => i);
  const set = new Set<number>();
  for (let i = 0; i < 64; i++) set.add(i);
  for (let i = size - 96; i < size; i++) set.add(i);
  for (let i = 0; i < 160; i++) set.add(Math.floor((i * size) / 160));
  return [...set].sort((a, b) => a - b);
}

const isCorruption = (err: unknown) => err instanceof SiltError && err.code === "CORRUPTION";

test("one damaged byte anywhere in any file is CORRUPTION or harmless, never a wrong answer", async () => {
  const { fs, expected } = await build();
  const files = fs.list("/db").filter((n) => n !== "LOCK");
  const kinds = new Set(files.map((n) => n.replace(/\d+/g, "N")));
  // A compaction may have been writing a table when the crash came: its
  // temp file is a leftover the next open removes (damaged or not).
  kinds.delete("N.sst.tmp");
  assert.deepEqual([...kinds].sort(), ["CURRENT", "MANIFEST-N", "N.log", "N.sst"]);
  const withRanges = files.filter((n) => n.endsWith(".sst")).filter((n) => {
    const t = TableReader.open(fs, `/db/${n}`, Number(n.slice(0, -4)));
    t.close();
    return t.properties.rangeTombstones.size > 0;
  });
  assert.ok(withRanges.length > 0, "a table with a range-tombstone block is swept");
  const blocks = blockCodecs(fs);
  assert.ok(blocks.lz4 > 10 && blocks.none > 0, `tables hold compressed and raw blocks: ${JSON.stringify(blocks)}`);
  const keys = [...expected.keys(), "key0000", "key0003", "absent", "zzz"];
  let cases = 0;
  let detected = 0;
  for (const name of files) {
    const path = `/db/${name}`;
    const original = fs.readFile(path);
    for (const at of offsets(original.length)) {
      for (const mask of [0xff, 0x01]) {
        const damaged = original.slice();
        damaged[at] ^= mask;
        await replaceFile(fs, path, damaged);
        cases++;
        const where = `${name} byte ${at} ^ 0x${mask.toString(16)}`;
        let db;
        try {
          db = await open("/db", { fs, ...utf8, readOnly: true });
        } catch (err) {
          assert.ok(isCorruption(err), `${where}: open failed with ${err}`);
          detected++;
          continue;
        }
        try {
          let saw = false;
          for (const key of keys) {
            try {
              assert.equal(db.getSync(key), expected.get(key), `${where}: get(${key}) is a wrong answer`);
            } catch (err) {
              if (!isCorruption(err)) throw err;
              saw = true;
            }
          }
          try {
            assert.deepEqual(new Map(db.scanSync().toArray()), expected, `${where}: a scan gave a wrong answer`);
          } catch (err) {
            if (!isCorruption(err)) throw err;
            saw = true;
          }
          if (saw) detected++;
        } finally {
          await db.close();
        }
      }
    }
    await replaceFile(fs, path, original);
  }
  assert.ok(detected > cases / 2, `most damage is detected (${detected} of ${cases})`);
  console.log(
    `flip: ${cases} damaged bytes in ${files.length} files (${
      [...kinds].join(", ")
    }; data blocks: ${blocks.lz4} lz4, ${blocks.none} as is): ${detected} reported as CORRUPTION, ${
      cases - detected
    } harmless, 0 wrong answers`,
  );
});

test("a writable open of a store with a damaged manifest or log deletes nothing", async () => {
  const { fs } = await build();
  const before = fs.list("/db").filter((n) => n !== "LOCK").sort();
  const versions = VersionSet.recover("/db", fs);
  const liveLogs = before.filter((n) =>
    n.endsWith(".log") && Number.parseInt(n, 10) >= versions.logNumber && fs.readFile(`/db/${n}`).length > 40
  );
  await versions.close();
  assert.ok(liveLogs.length > 0, "a log holds the last writes");
  for (const name of before.filter((n) => n.startsWith("MANIFEST-") || liveLogs.includes(n))) {
    const path = `/db/${name}`;
    const original = fs.readFile(path);
    for (const at of [20, Math.floor(original.length / 2), original.length - 2]) {
      const damaged = original.slice();
      damaged[at] ^= 0x40;
      await replaceFile(fs, path, damaged);
      await assert.rejects(open("/db", { fs, ...utf8 }), (err) => isCorruption(err), `${name} byte ${at}`);
      assert.deepEqual(fs.list("/db").filter((n) => n !== "LOCK").sort(), before, `${name} byte ${at}: files changed`);
    }
    await replaceFile(fs, path, original);
  }
});
