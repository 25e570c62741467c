// The siltdb command, run as a subprocess of the runtime under test:
// help and exit codes, get/put/delete, scan, stats, compact, load/export,
// bench, shell (through stdin), the main job, and one-line errors.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { open } from "../mod.ts";
import { VERSION } from "../src/package_version.ts";
import { runCli } from "./_cli.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const work = mkdtempSync(join(os.tmpdir(), "siltdb-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(work, `db${dirs++}`);

/** No stack trace, one line on stderr. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe("siltdb command", () => {
  test("a bare siltdb prints help and touches nothing; --version and help <command> exit 0", async () => {
    const cwd = mkdtempSync(join(work, "bare-"));
    const bare = await runCli([], { cwd });
    assert.equal(bare.code, 0);
    assert.match(bare.stdout, /usage: siltdb <command>/);
    for (
      const name of [
        "get",
        "put",
        "delete",
        "scan",
        "stats",
        "compact",
        "verify",
        "repair",
        "dump-wal",
        "dump-sst",
        "dump-manifest",
        "load",
        "export",
        "compactor",
        "gc",
        "bench",
        "shell",
      ]
    ) {
      assert.match(bare.stdout, new RegExp(`\\n  ${name} `), `help lists ${name}`);
    }
    assert.deepEqual(readdirSync(cwd), []);
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `siltdb ${VERSION}\n`);
    assert.equal(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version, VERSION);
    const help = await runCli(["help", "scan"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: siltdb scan <store>/);
    assert.match(help.stdout, /example:/);
    assert.equal((await runCli(["scan", "--help"])).code, 0);
  });

  test("bad usage exits 2 with the usage text", async () => {
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const missing = await runCli(["get", freshDir()]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing arguments/);
    assert.match(missing.stderr, /usage: siltdb get <store> <key>/);
    const flag = await runCli(["scan", freshDir(), "--limit", "ten"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--limit needs a number/);
    assert.equal((await runCli(["scan", freshDir(), "--bogus"])).code, 2);
  });

  test("put, get, delete with text, hex and JSON; a missing key exits 1", async () => {
    const dir = freshDir();
    assert.equal((await runCli(["put", dir, "user:1", "alice"])).stdout, "OK\n");
    assert.equal((await runCli(["put", dir, "00ff", "0102", "--hex"])).code, 0);
    const got = await runCli(["get", dir, "user:1"]);
    assert.equal(got.code, 0);
    assert.equal(got.stdout, "alice\n");
    assert.equal((await runCli(["get", dir, "00ff", "--hex"])).stdout, "0x0102\n");
    const json = await runCli(["get", dir, "00ff", "--hex", "--json"]);
    assert.deepEqual(JSON.parse(json.stdout), { keyHex: "00ff", found: true, valueHex: "0102" });
    const absent = await runCli(["get", dir, "user:2"]);
    assert.equal(absent.code, 1);
    assert.equal(absent.stdout, "");
    assert.match(absent.stderr, /not found: user:2/);
    assert.equal((await runCli(["delete", dir, "user:1"])).code, 0);
    assert.equal((await runCli(["get", dir, "user:1"])).code, 1);
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", readOnly: true });
    assert.equal(await db.get("user:1"), undefined);
    await db.close();
  });

  test("scan: ranges, prefix, reverse, limit, keys only, JSON, binary shown as hex", async () => {
    const dir = freshDir();
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
    for (let i = 0; i < 20; i++) await db.put(`k${String(i).padStart(2, "0")}`, `v${i}`);
    await db.put("user:1", "a");
    await db.put("user:2", "b");
    await db.put("userx", "c");
    await db.close();
    const bin = await open(dir);
    await bin.put(new Uint8Array([0xff, 0x00]), new Uint8Array([0x80]));
    await bin.close();
    const prefix = await runCli(["scan", dir, "--prefix", "user:"]);
    assert.equal(prefix.code, 0);
    assert.equal(prefix.stdout, "user:1\ta\nuser:2\tb\n");
    const range = await runCli(["scan", dir, "--gte", "k05", "--lt", "k08", "--keys-only"]);
    assert.equal(range.stdout, "k05\nk06\nk07\n");
    const reverse = await runCli(["scan", dir, "--reverse", "--limit", "2", "--json"]);
    assert.deepEqual(reverse.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { keyHex: "ff00", valueHex: "80" },
      { key: "userx", value: "c" },
    ]);
    const gt = await runCli(["scan", dir, "--gt", "k18", "--lte", "user:1", "--keys-only"]);
    assert.equal(gt.stdout, "k19\nuser:1\n");
    assert.equal((await runCli(["scan", dir, "--prefix", "ff", "--hex"])).stdout, "0xff00\t0x80\n");
    assert.equal(
      (await runCli(["scan", dir, "--prefix", "user:", "--gt", "user:1", "--keys-only"])).stdout,
      "user:2\n",
    );
  });

  test("stats prints a table per level and --json has the figures; compact empties L0", async () => {
    const dir = freshDir();
    const db = await open(dir, { keyEncoding: "utf8", memtableSize: 64 * 1024 });
    for (let i = 0; i < 3000; i++) await db.put(`key${String(i).padStart(5, "0")}`, new Uint8Array(100));
    await db.flush();
    await db.close();
    const text = await runCli(["stats", dir]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^level\s+files\s+size\s+entries\s+smallest key\s+largest key/);
    assert.match(text.stdout, /amplification\s+write [\d.]+, read \d+ sorted runs, space [\d.]+/);
    assert.match(text.stdout, /block cache/);
    assert.match(text.stdout, /stalls/);
    const json = JSON.parse((await runCli(["stats", dir, "--json"])).stdout);
    assert.equal(json.sequence, 3000);
    assert.ok(Array.isArray(json.levels));
    assert.equal(json.levels.reduce((n: number, l: { entries: number }) => n + l.entries, 0), 3000);
    const compacted = await runCli(["compact", dir, "--start", "key00000", "--end", "key99999"]);
    assert.equal(compacted.code, 0, compacted.stderr);
    assert.match(compacted.stdout, /before: .*\nafter: {2}.*\ncompacted in/);
    const after = JSON.parse((await runCli(["stats", dir, "--json"])).stdout);
    assert.equal(after.levels[0].files, 0);
    assert.equal((await runCli(["compact", dir, "--start", "a"])).code, 2);
  });

  test("load JSON Lines, CSV and stdin; export round-trips; a malformed record names its line", async () => {
    const dir = freshDir();
    const lines = [];
    for (let i = 0; i < 3000; i++) lines.push(JSON.stringify({ key: `j${i}`, value: i % 2 ? `text ${i}` : { n: i } }));
    lines.push(JSON.stringify({ keyHex: "00ff", valueHex: "fe" }));
    writeFileSync(join(work, "in.jsonl"), lines.join("\n") + "\n");
    writeFileSync(join(work, "in.csv"), 'key,value\nc1,"a, quoted ""value"""\n"c2\nnewline",plain\n');
    const loaded = await runCli(["load", dir, join(work, "in.jsonl"), "--observe-memory"]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(
      loaded.stdout,
      /load: 3,001 records \(100%\), [\d,]+ records\/s, [\d.]+ s, rss [\d.]+ [KMG]iB, wasm [\d.]+ [KMG]iB, memtables .*, cache /,
    );
    assert.equal((await runCli(["load", dir, join(work, "in.csv")])).code, 0);
    assert.equal((await runCli(["load", dir, "-", "--format", "csv"], { input: "s1,from stdin\n" })).code, 0);
    assert.equal((await runCli(["get", dir, "j2"])).stdout, '{"n":2}\n');
    assert.equal((await runCli(["get", dir, "c1"])).stdout, 'a, quoted "value"\n');
    assert.equal(
      (await runCli(["get", dir, "c2\nnewline", "--json"])).stdout,
      '{"key":"c2\\nnewline","found":true,"value":"plain"}\n',
    );
    assert.equal((await runCli(["get", dir, "s1"])).stdout, "from stdin\n");

    const exported = await runCli(["export", dir]);
    assert.equal(exported.code, 0);
    assert.equal(exported.stdout.trim().split("\n").length, 3004);
    assert.match(exported.stderr, /export: 3,004 records/);
    const copy = freshDir();
    assert.equal((await runCli(["load", copy, "-"], { input: exported.stdout })).code, 0);
    assert.equal((await runCli(["export", copy])).stdout, exported.stdout);
    const csv = await runCli(["export", dir, "--format", "csv", "--prefix", "c"]);
    assert.equal(csv.stdout, 'key,value\nc1,"a, quoted ""value"""\n"c2\nnewline",plain\n');
    const notText = await runCli(["export", dir, "--format", "csv"]);
    assert.equal(notText.code, 1);
    assert.match(notText.stderr, /not UTF-8 text: export it as CSV with --hex/);
    const hexCsv = await runCli(["export", dir, "--format", "csv", "--hex", "--limit", "1"]);
    assert.equal(hexCsv.stdout, "key,value\n00ff,fe\n");

    const bad = await runCli(["load", freshDir(), "-"], { input: '{"key":"a","value":"1"}\n{"key":"b"\n' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /stdin: line 2: not JSON/);
    assert.equal((await runCli(["load", dir, join(work, "nope.jsonl")])).code, 1);
    assert.equal((await runCli(["load", dir, join(work, "in.txt")])).code, 2);
  });

  test("bench runs every workload and prints the table", async () => {
    const r = await runCli(["bench", "--keys", "3000"]);
    assert.equal(r.code, 0, r.stderr);
    for (
      const w of [
        "fillrandom",
        "fillbatch",
        "overwrite",
        "readrandom",
        "readsync",
        "readmissing",
        "readseq",
        "readreverse",
        "seekrandom",
        "deleterandom",
      ]
    ) {
      assert.match(r.stdout, new RegExp(`\\n${w}\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d.]+\\n`), w);
    }
    const dir = freshDir();
    await (await open(dir)).close();
    const taken = await runCli(["bench", dir, "--keys", "10"]);
    assert.equal(taken.code, 1);
    assertOneLine(taken.stderr, /siltdb bench: .*already/i);
  });

  test("shell: commands from a pipe, snapshots, readable errors", async () => {
    const dir = freshDir();
    const input = [
      "put greeting hello world",
      'put "a key" "two  spaces"',
      "get greeting",
      "get 'a key'",
      "snapshot",
      "put greeting changed",
      "get greeting --snapshot 1",
      "get greeting",
      "scan --limit 1",
      "delete greeting",
      "get greeting",
      "frob",
      "release 1",
      "flush",
      "stats",
      "exit",
      "put never run",
    ].join("\n");
    const r = await runCli(["shell", dir], { input });
    assert.equal(r.code, 1); // "frob" failed
    const out = r.stdout.split("\n");
    assert.deepEqual(out.slice(0, 8), [
      "OK",
      "OK",
      "hello world",
      "two  spaces",
      "snapshot 1 at sequence 2",
      "OK",
      "hello world",
      "changed",
    ]);
    assert.equal(out[8], "a key\ttwo  spaces");
    assert.match(r.stdout, /\(not found\)\nerror: unknown command "frob" \(type help\)\nOK\nOK\nlevel/);
    const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8", readOnly: true });
    assert.equal(await db.get("never"), undefined);
    assert.equal(await db.get("a key"), "two  spaces");
    await db.close();
    assert.equal((await runCli(["shell", dir], { input: "get 'a key'\n" })).code, 0);
  });

  test("demo loads keys with progress, reads and scans, prints stats and files", async () => {
    const dir = freshDir();
    const r = await runCli(["demo", dir, "--keys", "20000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /load: 20,000\/20,000 keys \(100%\), [\d,]+ keys\/s, [\d.]+ s, rss /);
    assert.match(r.stdout, /read back 10,000 random keys: all correct/);
    assert.match(r.stdout, /scanned 1,000 keys from user:0010000 to user:0010999/);
    assert.match(r.stdout, /\nlevel\s+files/);
    assert.match(r.stdout, /files in .*:\nkind\s+files\s+size/);
    assert.match(r.stdout, /siltdb shell/);
  });

  test("errors are one line naming the file: missing directory, corrupt file, locked store", async () => {
    const missing = join(work, "no-such-store");
    const r = await runCli(["get", missing, "a"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /^siltdb get: NOT_FOUND: no siltdb store at .*no-such-store$/);
    assert.equal(existsSync(missing), false);
    const damaged = freshDir();
    await (await open(damaged)).close();
    writeFileSync(join(damaged, "CURRENT"), "garbage\n");
    const corrupt = await runCli(["get", damaged, "a"]);
    assert.equal(corrupt.code, 1);
    assertOneLine(corrupt.stderr, /^siltdb get: CORRUPTION: .*CURRENT at offset 0: /);
    const dir = freshDir();
    const db = await open(dir);
    try {
      const locked = await runCli(["scan", dir]);
      assert.equal(locked.code, 1);
      assertOneLine(locked.stderr, /^siltdb scan: LOCKED: /);
      const lockedPut = await runCli(["put", dir, "a", "b"]);
      assert.equal(lockedPut.code, 1);
      assertOneLine(lockedPut.stderr, /^siltdb put: LOCKED: /);
    } finally {
      await db.close();
    }
  });

  test("the built dist/cli.js runs under Node", {
    skip: !existsSync(join(root, "dist", "cli.js")) || "Deno" in globalThis || "Bun" in globalThis,
  }, () => {
    const r = spawnSync(process.execPath, [join(root, "dist", "cli.js"), "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `siltdb ${VERSION}\n`);
  });
});
