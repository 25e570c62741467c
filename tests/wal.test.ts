import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, scratch, view } from "../src/wasm/instance.ts";
import { KIND_DELETE, KIND_PUT } from "../src/format/internal_key.ts";
import { BATCH_HEADER_SIZE } from "../src/format/batch_format.ts";
import { LOG_HEADER_SIZE, logFileHeader, RECORD_HEADER_SIZE, RECORD_OVERHEAD } from "../src/format/log_format.ts";
import { TestMemtable as Memtable } from "./_core.ts";
import { MemoryStorage, type UnsyncedFate } from "../src/storage/memory_storage.ts";
import { LogWriter } from "../src/wal/log_writer.ts";
import { replayLog } from "../src/wal/log_reader.ts";
import { rejectsWith, rng, utf8 } from "./_harness.ts";

type Op = { kind: number; key: Uint8Array; value?: Uint8Array };

/** A sealed WAL record holding a batch of ops starting at sequence (built by the core, as the db does). */
function sealRecord(ops: Op[], sequence: number): Uint8Array {
  const entries: number[] = [];
  const u32 = (n: number) => entries.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
  for (const op of ops) {
    entries.push(op.kind);
    u32(op.key.length);
    entries.push(...op.key);
    if (op.kind === KIND_PUT) {
      u32(op.value!.length);
      entries.push(...op.value!);
    }
  }
  const payloadLen = BATCH_HEADER_SIZE + entries.length;
  const ptr = scratch(RECORD_OVERHEAD + payloadLen);
  bytes().set(entries, ptr + RECORD_HEADER_SIZE + BATCH_HEADER_SIZE);
  view().setUint32(ptr + RECORD_HEADER_SIZE + 8, ops.length, true);
  const mt = new Memtable();
  try {
    assert.equal(mt.commitRecord(ptr, payloadLen, sequence), ops.length);
    return bytes().slice(ptr, ptr + RECORD_OVERHEAD + payloadLen);
  } finally {
    mt.free();
  }
}

/** A log file image: header + records. Returns it and each record's offset. */
function logImage(records: Uint8Array[]): { image: Uint8Array; offsets: number[] } {
  const parts = [logFileHeader(), ...records];
  const image = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const offsets: number[] = [];
  let at = 0;
  for (const p of parts) {
    if (p !== parts[0]) offsets.push(at);
    image.set(p, at);
    at += p.length;
  }
  return { image, offsets };
}

async function fileWith(fs: MemoryStorage, path: string, data: Uint8Array) {
  fs.remove(path);
  const file = fs.open(path, { create: true });
  await file.append(data);
  return file;
}

function sampleRecords(n: number): Uint8Array[] {
  const records: Uint8Array[] = [];
  let seq = 1;
  for (let i = 0; i < n; i++) {
    const ops: Op[] = [];
    for (let j = 0; j <= i % 4; j++) {
      ops.push(
        j % 3 === 2
          ? { kind: KIND_DELETE, key: utf8(`key-${i}-${j}`) }
          : { kind: KIND_PUT, key: utf8(`key-${i}-${j}`), value: utf8("v".repeat(i * 13)) },
      );
    }
    records.push(sealRecord(ops, seq));
    seq += ops.length;
  }
  return records;
}

function replayAll(file: ReturnType<MemoryStorage["open"]>) {
  const payloads: Uint8Array[] = [];
  const offsets: number[] = [];
  const result = replayLog(file, "/db/000001.log", (payload, length, offset) => {
    payloads.push(bytes().slice(payload, payload + length));
    offsets.push(offset);
  });
  return { ...result, payloads, offsets };
}

test("records replay in order with their exact payloads and offsets", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(20);
  const { image, offsets } = logImage(records);
  const got = replayAll(await fileWith(fs, "/db/000001.log", image));
  assert.equal(got.records, 20);
  assert.equal(got.validEnd, image.length);
  assert.equal(got.tornBytes, 0);
  assert.deepEqual(got.offsets, offsets);
  got.payloads.forEach((p, i) => assert.deepEqual(p, records[i].subarray(RECORD_HEADER_SIZE, records[i].length - 1)));
});

test("a torn last record is cut at every possible length, never reported as corruption", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(4);
  const { image, offsets } = logImage(records);
  const lastStart = offsets[3];
  for (let cut = lastStart; cut < image.length; cut++) {
    const got = replayAll(await fileWith(fs, "/db/000001.log", image.subarray(0, cut)));
    assert.equal(got.records, 3, `cut at ${cut}`);
    assert.equal(got.validEnd, lastStart);
    assert.equal(got.tornBytes, cut - lastStart);
  }
});

test("zeros to the end of the file, from a record's start or a sector boundary inside it, are a torn tail", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(12);
  const { image, offsets } = logImage(records);
  const zeros = new Uint8Array(image.length + 4096);
  zeros.set(image);
  let got = replayAll(await fileWith(fs, "/db/000001.log", zeros));
  assert.equal(got.records, 12);
  assert.equal(got.validEnd, image.length);
  // The last record's sectors past a 512-byte boundary never reached the disk.
  const last = offsets[11];
  const boundary = Math.ceil((last + 1) / 512) * 512;
  assert.ok(boundary < image.length, "the last record crosses a sector boundary");
  const unwritten = image.slice();
  unwritten.fill(0, boundary);
  got = replayAll(await fileWith(fs, "/db/000001.log", unwritten));
  assert.equal(got.records, 11);
  assert.equal(got.validEnd, last);
});

test("regression (simulation): zeroed sectors right after zero bytes of the record are still a torn tail", async () => {
  // Found by the simulation: the last record's bytes just before the sector
  // boundary were zeros themselves, so the run of zeros to the end of the
  // file started before the boundary, and the store would not open.
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(12);
  const { image, offsets } = logImage(records);
  const last = offsets[11];
  const boundary = Math.ceil((last + RECORD_HEADER_SIZE + 1) / 512) * 512;
  assert.ok(boundary < image.length - 8);
  const unwritten = image.slice();
  unwritten.fill(0, boundary - 6); // six genuine zero bytes, then unwritten sectors
  const got = replayAll(await fileWith(fs, "/db/000001.log", unwritten));
  assert.equal(got.records, 11);
  assert.equal(got.validEnd, last);
  // A log whose sectors were all left unwritten is an empty torn log, whatever its length.
  const zeros = replayAll(await fileWith(fs, "/db/000001.log", new Uint8Array(image.length)));
  assert.equal(zeros.records, 0);
  assert.equal(zeros.validEnd, 0);
});

test("a process crash keeps files and names not yet synced; a machine crash does not", () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const file = fs.open("/db/000001.log", { create: true });
  file.appendSync(logFileHeader());
  fs.crash({ unsynced: "keep" });
  assert.ok(fs.exists("/db/000001.log"), "the OS keeps a new file's name");
  assert.equal(fs.readFile("/db/000001.log").length, LOG_HEADER_SIZE);
  fs.crash();
  assert.ok(!fs.exists("/db/000001.log"), "its directory entry was never synced");
});

test("regression: a damaged complete last record is CORRUPTION, not a torn tail (every bit of it)", async () => {
  // Format 1 took a flipped length bit in the last record for a record cut
  // short and dropped it without a word: a synced write could vanish.
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(5);
  const { image, offsets } = logImage(records);
  const last = offsets[4];
  for (let at = last; at < image.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = image.slice();
      damaged[at] ^= 1 << bit;
      const file = await fileWith(fs, "/db/000001.log", damaged);
      const err = await rejectsWith("CORRUPTION", () => replayAll(file));
      assert.equal(err.offset, last, `byte ${at} bit ${bit}`);
    }
  }
});

test("a record cut short at any byte over zeros written ahead is a torn tail (a short write into a preallocated log)", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const { image, offsets } = logImage(sampleRecords(8));
  const last = offsets[7];
  for (let cut = last + 1; cut < image.length; cut += 7) {
    const padded = new Uint8Array(image.length + 4096);
    padded.set(image.subarray(0, cut)); // the rest: the zeros the writer wrote ahead
    const got = replayAll(await fileWith(fs, "/db/000001.log", padded));
    assert.equal(got.records, 7, `cut at ${cut}`);
    assert.equal(got.validEnd, last);
    assert.equal(got.zeroTail, 0, "a torn record, not a zero tail");
  }
});

test("zeros inside the log followed by data are CORRUPTION", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const { image, offsets } = logImage(sampleRecords(12));
  const holed = image.slice();
  holed.fill(0, offsets[5], offsets[6]);
  const err = await rejectsWith("CORRUPTION", async () => replayAll(await fileWith(fs, "/db/000001.log", holed)));
  assert.equal(err.offset, offsets[5]);
});

test("damage followed by an intact record is CORRUPTION naming the file and offset", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const records = sampleRecords(6);
  const { image, offsets } = logImage(records);
  const cases = [[offsets[2] + 20, /record checksum/], [offsets[2] + 4, /header checksum/], [
    offsets[2] + 8,
    /header checksum/,
  ]] as const;
  for (const [at, what] of cases) {
    const damaged = image.slice();
    damaged[at] ^= 0x5a;
    const file = await fileWith(fs, "/db/000001.log", damaged);
    const err = await rejectsWith("CORRUPTION", () => replayAll(file), what);
    assert.equal(err.file, "/db/000001.log");
    assert.equal(err.offset, offsets[2]);
    assert.match(err.message, new RegExp(`offset ${offsets[2]}`));
  }
});

test("a file that is not a log, or of another version, is CORRUPTION", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const { image } = logImage(sampleRecords(2));
  const badMagic = image.slice();
  badMagic[0] = 0x41;
  let err = await rejectsWith(
    "CORRUPTION",
    async () => replayAll(await fileWith(fs, "/db/000001.log", badMagic)),
    /magic/,
  );
  assert.equal(err.offset, 0);
  const badVersion = image.slice();
  badVersion[8] = 9;
  err = await rejectsWith(
    "CORRUPTION",
    async () => replayAll(await fileWith(fs, "/db/000001.log", badVersion)),
    /version 9/,
  );
  assert.equal(err.offset, 8);
});

test("a short file holding a header prefix is an empty torn log", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  for (let n = 0; n < LOG_HEADER_SIZE; n++) {
    const got = replayAll(await fileWith(fs, "/db/000001.log", logFileHeader().subarray(0, n)));
    assert.equal(got.records, 0);
    assert.equal(got.validEnd, 0);
  }
});

test("concurrent sync writers share fsyncs (group commit) and all become durable", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const file = fs.open("/db/000001.log", { create: true });
  await file.append(logFileHeader());
  await file.sync();
  await fs.syncDir("/db");
  const writer = new LogWriter(file);
  const records = sampleRecords(64);
  await Promise.all(records.map((r) => {
    writer.write(r);
    return writer.sync();
  }));
  assert.ok(writer.syncCount <= 2, `64 concurrent sync writers used ${writer.syncCount} syncs`);
  fs.crash();
  const got = replayAll(fs.open("/db/000001.log"));
  assert.equal(got.records, 64);
});

test("written records are in the file at once (a process crash keeps them) but not durable until sync", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const file = fs.open("/db/000001.log", { create: true });
  await file.append(logFileHeader());
  await file.sync();
  await fs.syncDir("/db");
  const writer = new LogWriter(file);
  writer.write(sampleRecords(1)[0]);
  assert.ok(file.size() > LOG_HEADER_SIZE, "handed to the file");
  fs.crash({ unsynced: "keep" });
  assert.equal(replayAll(fs.open("/db/000001.log")).records, 1, "a process crash keeps it");
  fs.crash();
  assert.equal(replayAll(fs.open("/db/000001.log")).records, 0, "never synced: a machine crash loses it");
});

test("a failed write fails the writer for good", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const file = fs.open("/db/000001.log", { create: true });
  const writer = new LogWriter(file);
  fs.injectFault({ op: "append", code: "ENOSPC", partialBytes: 5 });
  assert.throws(() => writer.write(sampleRecords(1)[0]), /ENOSPC/);
  assert.equal(writer.failure?.code, "IO_ERROR");
  assert.throws(() => writer.write(new Uint8Array(10)), /ENOSPC/);
  await rejectsWith("IO_ERROR", () => writer.sync());
});

test("a log whose predecessor is not yet synced takes no records", async () => {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  let release!: () => void;
  const writer = LogWriter.create(fs, "/db/000002.log", () => new Promise<void>((ok) => release = ok));
  assert.equal(writer.ready, false);
  assert.throws(() => writer.write(sampleRecords(1)[0]), /before it was ready/);
  release();
  await writer.whenReady();
  writer.write(sampleRecords(1)[0]);
  await writer.sync();
  fs.crash();
  assert.equal(replayAll(fs.open("/db/000002.log")).records, 1);
});

// Preallocation (issue 21): a write-ahead log asked to sync writes zeros
// ahead of its records and its records over them.

/** A log created as the database creates them, taking every record (records[i] synced when sync(i)). */
async function preallocatedLog(fs: MemoryStorage, records: Uint8Array[], sync: (i: number) => boolean) {
  fs.mkdir("/db");
  const writer = LogWriter.create(fs, "/db/000001.log");
  await writer.whenReady();
  let synced = 0;
  for (let i = 0; i < records.length; i++) {
    writer.write(records[i]);
    if (sync(i)) {
      await writer.sync();
      synced = i + 1;
    }
  }
  return { writer, synced };
}

test("a log that syncs writes zeros ahead of its records: syncs change no size, the zeros are its clean end", async () => {
  const fs = new MemoryStorage();
  const records = sampleRecords(120); // about 90 KiB: past the first 64 KiB step
  const { writer } = await preallocatedLog(fs, records, () => true);
  assert.ok(writer.preallocated > 0, "zeros written ahead");
  const size = fs.open("/db/000001.log").size();
  assert.equal(size, LOG_HEADER_SIZE + writer.bytesWritten + writer.preallocated);
  assert.equal(size % 4096, 0, "preallocated to a 4 KiB boundary");
  const got = replayAll(fs.open("/db/000001.log"));
  assert.equal(got.records, records.length);
  assert.equal(got.validEnd, LOG_HEADER_SIZE + writer.bytesWritten);
  assert.equal(got.zeroTail, got.tornBytes, "the zeros past the last record are a zero tail, nothing torn");
  await writer.close();
  assert.equal(replayAll(fs.open("/db/000001.log")).records, records.length, "closing leaves the zeros: still clean");
});

test("a log that never syncs records writes no zeros (plain appends)", async () => {
  const fs = new MemoryStorage();
  const { writer } = await preallocatedLog(fs, sampleRecords(40), () => false);
  assert.equal(writer.preallocated, 0);
  assert.equal(fs.open("/db/000001.log").size(), LOG_HEADER_SIZE + writer.bytesWritten);
  await writer.close();
});

/** n small put records (a 16-byte key, a 100-byte value each), sequences 1..n. */
function putRecords(n: number): Uint8Array[] {
  const value = utf8("v".repeat(100));
  return Array.from(
    { length: n },
    (_, i) => sealRecord([{ kind: KIND_PUT, key: utf8(String(i).padStart(16, "0")), value }], i + 1),
  );
}

test("a log that synced once and then takes unsynced writes uses up its zeros and appends again", async () => {
  const fs = new MemoryStorage();
  const records = putRecords(3000); // ~420 KiB: several steps' worth
  const { writer } = await preallocatedLog(fs, records, (i) => i === 0);
  assert.equal(writer.preallocated, 0, "no zeros left ahead");
  assert.equal(
    fs.open("/db/000001.log").size(),
    LOG_HEADER_SIZE + writer.bytesWritten,
    "no zeros written past the first step",
  );
  const got = replayAll(fs.open("/db/000001.log"));
  assert.equal(got.records, records.length);
  assert.equal(got.zeroTail, 0);
  // Syncs that resume (one every 8 writes) bring the zeros back.
  for (let i = 0; i < 400; i++) {
    writer.write(records[i]);
    if (i % 8 === 7) await writer.sync();
  }
  assert.ok(writer.preallocated > 0, "zeros written ahead again");
  assert.equal(replayAll(fs.open("/db/000001.log")).records, records.length + 400);
  await writer.close();
});

test("a log keeps writing zeros ahead while syncs come at least once every 64 writes, and not when rarer", async () => {
  for (const [every, zeros] of [[1, true], [8, true], [48, true], [100, false], [1000, false]] as const) {
    const fs = new MemoryStorage();
    const records = putRecords(3000);
    const { writer, synced } = await preallocatedLog(fs, records, (i) => i % every === every - 1);
    const size = fs.open("/db/000001.log").size();
    const ahead = size - LOG_HEADER_SIZE - writer.bytesWritten;
    assert.equal(ahead, writer.preallocated, `sync every ${every}`);
    if (zeros) assert.ok(size > LOG_HEADER_SIZE + writer.bytesWritten, `sync every ${every}: zeros ahead`);
    else assert.equal(ahead, 0, `sync every ${every}: plain appends`);
    fs.crash({ unsynced: "drop" });
    const got = replayAll(fs.open("/db/000001.log"));
    assert.ok(got.records >= synced, `sync every ${every}: ${got.records} survived, ${synced} were synced`);
  }
});

/** Every fate of unsynced bytes in a crash. */
const FATES: UnsyncedFate[] = ["drop", "keep", "prefix", "zeros", "sectors"];

/**
 * Crashes fs (unsynced bytes meet `fate`) and checks the log /db/000001.log
 * that took `written`: every synced record survives, every record when the
 * process alone crashed ("keep"), and the survivors are the first records, intact.
 */
function crashAndCheck(
  fs: MemoryStorage,
  written: Uint8Array[],
  synced: number,
  fate: UnsyncedFate,
  random: () => number,
  label: string,
) {
  fs.crash({ unsynced: fate, random });
  const got = replayAll(fs.open("/db/000001.log"));
  assert.ok(got.records >= synced, `${label} (${fate}): ${got.records} records survived, ${synced} were synced`);
  if (fate === "keep") assert.equal(got.records, written.length, `${label}: a process crash keeps every record`);
  const expected = written.slice(0, got.records).map((r) => r.subarray(RECORD_HEADER_SIZE, r.length - 1));
  assert.deepEqual(got.payloads, expected, `${label} (${fate}): the survivors are the first records, intact`);
}

test("crashes of a preallocated log, with every fate of unsynced bytes, keep every synced record and a prefix of the rest", async () => {
  const records = sampleRecords(150);
  for (let seed = 1; seed <= 60; seed++) {
    const random = rng(seed);
    const fs = new MemoryStorage();
    const count = 20 + Math.floor(random() * 130);
    const { synced } = await preallocatedLog(fs, records.slice(0, count), () => random() < 0.3);
    crashAndCheck(fs, records.slice(0, count), synced, FATES[seed % FATES.length], random, `seed ${seed}`);
  }
});

test("crashes of a log whose syncs come and go (zeros, then appends, then zeros again), every fate: synced records and a prefix survive", async () => {
  const records = putRecords(4000);
  for (let seed = 1; seed <= 30; seed++) {
    const random = rng(1000 + seed);
    const fs = new MemoryStorage();
    fs.mkdir("/db");
    const writer = LogWriter.create(fs, "/db/000001.log");
    await writer.whenReady();
    // Syncs 1 in 4 for 500 writes, 1 in 1,000 until write 3,500, then 1 in 4 again: the zeros written
    // ahead are used up and not renewed (about write 3,100), then written again (about write 3,525).
    const count = 3600 + Math.floor(random() * 400);
    let synced = 0;
    const phases: string[] = [];
    for (let i = 0; i < count; i++) {
      writer.write(records[i]);
      const phase = writer.preallocated > 0 ? "zeros" : "append";
      if (phases[phases.length - 1] !== phase) phases.push(phase);
      if (random() < (i < 500 || i >= 3500 ? 0.25 : 0.001)) {
        await writer.sync();
        synced = i + 1;
      }
    }
    assert.deepEqual(phases.slice(-3), ["zeros", "append", "zeros"], `seed ${seed}: ${phases.join(", ")}`);
    const size = fs.open("/db/000001.log").size();
    assert.equal(size, LOG_HEADER_SIZE + writer.bytesWritten + writer.preallocated, `seed ${seed}: zeros only ahead`);
    crashAndCheck(fs, records.slice(0, count), synced, FATES[seed % FATES.length], random, `seed ${seed}`);
  }
});

test("ENOSPC while writing zeros ahead ends the preallocation: records still go in until the disk is full", async () => {
  const fs = new MemoryStorage();
  const records = sampleRecords(60);
  const { writer } = await preallocatedLog(fs, records.slice(0, 1), () => true);
  fs.capacity = fs.usedBytes + 20_000; // less than the first step of zeros
  let taken = 1;
  let failure: unknown;
  for (const r of records.slice(1)) {
    try {
      writer.write(r);
      await writer.sync();
      taken++;
    } catch (err) {
      failure = err;
      break;
    }
  }
  assert.ok(taken > 1, "records fit in the zeros written before the disk filled up");
  assert.match(String(failure), /ENOSPC/, "then the disk is full: the write fails");
  await rejectsWith("IO_ERROR", () => writer.sync());
  fs.crash();
  assert.equal(replayAll(fs.open("/db/000001.log")).records, taken, "every synced record, nothing else");
});

test("an I/O error while writing zeros ahead fails the writer as a failed write does", async () => {
  const fs = new MemoryStorage();
  const records = sampleRecords(3);
  const { writer } = await preallocatedLog(fs, records.slice(0, 1), () => true);
  fs.injectFault({ op: "append", code: "EIO", path: "/db/000001.log", partialBytes: 4096 });
  assert.throws(() => writer.write(records[1]), /EIO/);
  assert.ok(writer.failure, "failed for good");
  assert.throws(() => writer.write(records[2]), /EIO/);
  await rejectsWith("IO_ERROR", () => writer.sync(), /EIO/);
  fs.crash({ unsynced: "keep" });
  assert.equal(replayAll(fs.open("/db/000001.log")).records, 1);
});

test("syncs asked for in one synchronous stretch share one sync, also when syncs run inline", async () => {
  const fs = new MemoryStorage();
  const { writer } = await preallocatedLog(fs, sampleRecords(1), () => true);
  const before = writer.syncCount;
  const records = sampleRecords(16);
  await Promise.all(records.map((r) => {
    writer.write(r);
    return writer.sync();
  }));
  assert.equal(writer.syncCount - before, 1);
});
