// The siltdb command on a store in a bucket (s3://bucket/prefix, against the
// real radosgw of tests/_s3.ts), run as a subprocess of the runtime under
// test with the endpoint and keys in the AWS_* environment variables: load,
// then get / scan / export round-trip what was loaded; stats shows the
// manifest and the request counters and never the secret; dump-manifest;
// verify clean, then with a flipped byte in a table object (the object and
// the offset of the damaged block, exit 1) and a missing table object; a
// missing bucket and bad credentials (never echoed); memory:// refused.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { open, S3ObjectStore, verifyBucket } from "../mod.ts";
import { listAll } from "../src/object_store/object_store.ts";
import { readSst } from "../src/cli/commands/dump_sst.ts";
import { runCli } from "./_cli.ts";
import { newBucket, testS3 } from "./_s3.ts";

const s3 = await testS3();
const skip = typeof s3 === "string" ? s3 : false;
const work = mkdtempSync(join(os.tmpdir(), "siltdb-cli-bucket-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The environment of the command: the S3 server and its keys, as the AWS tools take them. */
function awsEnv(): Record<string, string> {
  if (typeof s3 === "string") throw new Error(s3);
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

const cli = (args: string[], input?: string) => runCli(args, { env: awsEnv(), input });

/** Records as `siltdb export` writes them, in key order: text keys, then binary ones (0xff…). */
function records(): string {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const value = i % 3 === 0 ? `värde ${i} ✓ ${"x".repeat(40)}` : `value ${i}, "quoted" ${"y".repeat(50)}`;
    lines.push(JSON.stringify({ key: `k${String(i).padStart(4, "0")}`, value }));
  }
  for (let i = 0; i < 6; i++) lines.push(`{"keyHex":"ff0${i}","valueHex":"00ff0${i}"}`);
  return `${lines.join("\n")}\n`;
}

/** The keys of the table objects in the bucket. */
async function tableObjects(store: S3ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of listAll(store, "sst/")) keys.push(o.key);
  return keys;
}

test("siltdb on s3://: load, get, scan, export, stats, dump-manifest, verify", { skip }, async () => {
  if (typeof s3 === "string") return;
  const { url, options } = await newBucket(s3, "cli/db");
  const bucket = url.slice("s3://".length, url.indexOf("/", "s3://".length));
  const input = records();
  const file = join(work, "records.jsonl");
  writeFileSync(file, input);

  // load: a writer on the bucket; several batches in flight; plain progress lines (CI is set).
  const load = await cli(["load", url, file, "--batch", "50"]);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /^load: 306 records/m);
  assert.match(load.stdout, /^requests: \d+ GET, \d+ HEAD, [1-9]\d* PUT, \d+ LIST/m);
  assert.ok(!`${load.stdout}${load.stderr}`.includes("\r") && !load.stdout.includes("\x1b["), "no redrawn lines");

  // get, scan and export read it back (read-only: the writer epoch stays).
  const [got, missing, scanned, exported] = await Promise.all([
    cli(["get", url, "k0003"]),
    cli(["get", url, "nope"]),
    cli(["scan", url, "--prefix", "k01", "--limit", "3", "--keys-only"]),
    cli(["export", url]),
  ]);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, `värde 3 ✓ ${"x".repeat(40)}\n`);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found: nope/);
  assert.equal(scanned.code, 0, scanned.stderr);
  assert.equal(scanned.stdout, "k0100\nk0101\nk0102\n");
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stdout, input);
  assert.match(exported.stderr, /^export: 306 records/m);

  // A writer in this process flushes the loaded records into a table (several data blocks).
  const db = await open(url, { objectStore: options, gcMinAge: 3_600_000 });
  await db.flush();
  await db.put(new TextEncoder().encode("after-flush"), new TextEncoder().encode("1"));
  await db.close();

  const [stats, dump, clean] = await Promise.all([
    cli(["stats", url]),
    cli(["dump-manifest", url]),
    cli(["verify", url, "--json"]),
  ]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, new RegExp(`^bucket +s3://${bucket}/cli/db/$`, "m"));
  assert.match(stats.stdout, /^manifest +\d+: writer epoch 2, compactor epoch 0, WAL from \d+, .*; tables L0 1$/m);
  const requests =
    /^requests +(\d+) GET, (\d+) HEAD, (\d+) PUT, (\d+) LIST, (\d+) DELETE; .* read, .* written; (\d+) retr(?:y|ies); [\d.]+ s waiting$/m
      .exec(stats.stdout);
  assert.ok(requests, stats.stdout);
  assert.ok(Number(requests[1]) > 0 && Number(requests[4]) > 0, requests[0]);
  assert.equal(Number(requests[3]), 0, "a reader puts nothing");
  assert.ok(!stats.stdout.includes(s3.secretAccessKey) && !stats.stderr.includes(s3.secretAccessKey));

  assert.equal(dump.code, 0, dump.stderr);
  assert.match(dump.stdout, /^manifest \d+ of s3:\/\/.*: manifest\/\d{20}, .* \(the newest; \d+ kept: 1\.\.\d+\)$/m);
  assert.match(dump.stdout, /writer epoch 2 {3}compactor epoch 0/);
  assert.match(dump.stdout, /^edit since manifest \d+/m);
  assert.match(dump.stdout, /^L0: 1 file, /m);

  assert.equal(clean.code, 0, clean.stderr);
  const report = JSON.parse(clean.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.location, `s3://${bucket}/cli/db/`);
  assert.equal(report.checked.tables, 1);
  assert.ok(report.checked.walObjects >= 1);
  assert.equal(report.checked.entries, 307);
  assert.ok(report.orphans.some((o: { why: string }) => /older manifest/.test(o.why)));
  const table: string = report.objects.find((o: { kind: string }) => o.kind === "table").name;

  // A flipped byte in the table's second data block: the object and the block's offset, exit 1.
  const store = new S3ObjectStore(url, options);
  const data = (await store.get(table))!.data.slice();
  const copy = join(work, "000001.sst");
  writeFileSync(copy, data);
  const blocks = readSst(copy, { entries: 0 }).blocks;
  assert.ok(blocks.length >= 2, `${blocks.length} data blocks`);
  const offset = blocks[1].handle.offset;
  data[offset + 3] ^= 0x10;
  await store.put(table, data);
  const bad = await cli(["verify", url]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stdout, new RegExp(`^${table}:${offset}: block checksum mismatch$`, "m"));
  assert.match(bad.stdout, /^1 problem:$/m);

  // A missing table object is a problem naming it.
  await store.delete(table);
  const gone = await verifyBucket(url, { objectStore: options });
  assert.equal(gone.ok, false);
  assert.deepEqual(gone.problems.map((p) => [p.file, p.offset]), [[table, 0]]);
  assert.match(gone.problems[0].what, /the table object is missing/);
});

test("siltdb on s3://: a missing bucket, bad credentials and memory:// fail in one line", { skip }, async () => {
  const bucket = `siltdb-missing-${Date.now().toString(36)}`;
  const wrongSecret = `wrong-secret-${Math.random().toString(36).slice(2)}`;
  const [missing, denied, noKeys, memory] = await Promise.all([
    cli(["get", `s3://${bucket}/db`, "k"]),
    runCli(["stats", `s3://${bucket}/db`], { env: { ...awsEnv(), AWS_SECRET_ACCESS_KEY: wrongSecret } }),
    runCli(["scan", `s3://${bucket}/db`], { env: { ...awsEnv(), AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" } }),
    cli(["scan", "memory://x/"]),
  ]);
  for (const r of [missing, denied, noKeys]) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!r.stderr.includes(awsEnv().AWS_SECRET_ACCESS_KEY) && !r.stderr.includes(wrongSecret), r.stderr);
  }
  assert.match(missing.stderr, new RegExp(`^siltdb get: NOT_FOUND: bucket ${bucket} does not exist`));
  assert.match(denied.stderr, /^siltdb stats: \w+: .*(denied|signature|credentials)/i);
  assert.match(noKeys.stderr, /^siltdb scan: INVALID_ARGUMENT: .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  assert.equal(memory.code, 2);
  assert.match(memory.stderr, /memory:\/\/ store lives inside the process/);
});

test(
  "siltdb compactor --once compacts a remote writer's L0, the data intact; siltdb gc collects the inputs",
  { skip },
  async () => {
    if (typeof s3 === "string") return;
    const { url, options } = await newBucket(s3, "cli/remote");
    const writer = await open(url, {
      objectStore: options,
      keyEncoding: "utf8",
      valueEncoding: "utf8",
      compaction: "remote",
      gcMinAge: 0, // the store's grace period: siltdb gc --min-age 0 may then delete at once
      memtableSize: 4096,
    });
    for (let i = 0; i < 400; i++) await writer.put(`k${String(i % 150).padStart(4, "0")}`, `v${i}-${"z".repeat(40)}`);
    await writer.flush();
    assert.ok(writer.stats().levels[0].files >= 4, "the writer left its L0 to the compactor");
    const store = new S3ObjectStore(url, options);
    const inputs = await tableObjects(store);
    const ran = await cli(["compactor", url, "--once", "--poll-ms", "10"]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /^compactor of s3:\/\/.*\(epoch 1\)$/m);
    assert.match(ran.stdout, /^L0 -> L1: \d+ tables -> \d+, .* written, .* entries dropped, [\d.]+ s$/m);
    assert.match(ran.stdout, /^requests: \d+ GET, .* PUT/m);
    await writer.refresh();
    assert.equal(writer.stats().levels[0].files, 0);
    assert.equal(await writer.get("k0007"), `v307-${"z".repeat(40)}`);
    assert.equal(await writer.count(), 150);
    const gc = await cli(["gc", url, "--min-age", "0"]);
    assert.equal(gc.code, 0, gc.stderr);
    assert.match(gc.stdout, /^deleted \d+ tables, \d+ WAL objects, \d+ manifests; \d+ objects wait/m);
    // The compaction's inputs are gone (siltdb gc took them, or the writer's own collector, whose grace
    // period is 0 too, took some first); only the tables of the manifest remain.
    const remaining = await tableObjects(store);
    assert.deepEqual(remaining.filter((k) => inputs.includes(k)), [], gc.stdout);
    assert.equal(remaining.length, writer.stats().levels.reduce((n, l) => n + l.files, 0), gc.stdout);
    assert.equal(await writer.count(), 150);
    await writer.close();
    const usage = await cli(["gc", join(work, "not-a-bucket")]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /gc works on a store in a bucket/);
  },
);
