// Events (flush, compaction, stall; listener failures; unknown names),
// metrics() in the Prometheus text format, and the stats it is made of.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type DbEvent, MemoryStorage, open } from "../mod.ts";
import type { CompactionEvent, FlushEvent, StallEvent } from "../src/events.ts";
import { formatLabels, formatValue } from "../src/metrics.ts";
import { rejectsWith, utf8 } from "./_harness.ts";

const key = (i: number) => `key-${String(i).padStart(6, "0")}`;
const STALL_REASONS = ["memtable", "l0-stop", "l0-slowdown"];

test("a flush event reports the table db.flush() installed, as stats() counts it", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), keyEncoding: "utf8", valueEncoding: "utf8" });
  const events: FlushEvent[] = [];
  db.on("flush", (e) => {
    const bytes: number = e.bytes; // typed payload, no cast
    assert.equal(typeof bytes, "number");
    // @ts-expect-error a flush event is not an error
    void e.message;
    events.push(e);
  });
  for (let i = 0; i < 500; i++) await db.put(key(i), `value-${i}`);
  await db.delete(key(7));
  assert.equal(events.length, 0, "nothing flushed yet");
  await db.flush();
  const stats = db.stats();
  assert.equal(events.length, 1);
  assert.equal(stats.flushes, 1);
  const [e] = events;
  assert.equal(e.level, 0);
  assert.equal(e.entries, 501, "500 puts and a tombstone");
  assert.equal(e.entries, stats.levels[0].entries);
  assert.equal(e.bytes, stats.levels[0].bytes);
  assert.equal(e.bytes, stats.compaction.io[0].written);
  assert.ok(Number.isInteger(e.file) && e.file > 0, `file ${e.file}`);
  assert.ok(e.durationMs >= 0 && Number.isFinite(e.durationMs));
  await db.flush(); // nothing to flush: no event
  assert.equal(events.length, 1);
  await db.close();
});

test("compaction events report what db.compact() installed", async () => {
  const db = await open("/db", {
    fs: new MemoryStorage(),
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    memtableSize: 64 * 1024,
  });
  const events: CompactionEvent[] = [];
  let flushes = 0;
  db.on("compaction", (e) => events.push(e));
  db.on("flush", () => flushes++);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 1500; i++) await db.put(key(i), `round-${round}-${"x".repeat(60)}`);
  }
  await db.compact();
  const stats = db.stats();
  assert.ok(flushes >= 3, `${flushes} flushes`);
  assert.equal(flushes, stats.flushes);
  assert.ok(events.length >= 1);
  assert.equal(events.length, stats.compaction.count + stats.compaction.trivialMoves);
  assert.equal(events.reduce((n, e) => n + e.entriesDropped, 0), stats.compaction.entriesDropped);
  assert.ok(stats.compaction.entriesDropped >= 3000, "overwritten versions were dropped");
  for (const e of events) {
    assert.ok(e.fromLevel <= e.toLevel && e.toLevel >= 1, `L${e.fromLevel} -> L${e.toLevel}`);
    assert.ok(e.inputFiles >= 1 && e.durationMs >= 0);
    if (e.trivialMove) assert.deepEqual([e.outputFiles, e.bytesRead, e.bytesWritten], [1, 0, 0]);
    else assert.ok(e.bytesRead > 0 && e.bytesWritten > 0 && e.outputFiles >= 1);
  }
  const last = events[events.length - 1];
  assert.equal(last.trivialMove, false);
  const level = stats.levels[last.toLevel];
  assert.equal(stats.sortedRuns, 1, "compact() left one sorted run");
  assert.equal(last.outputFiles, level.files);
  assert.equal(last.bytesWritten, level.bytes);
  assert.equal(level.entries, 1500);
  assert.deepEqual(level.smallestKey, utf8(key(0)));
  assert.deepEqual(level.largestKey, utf8(key(1499)));
  const read = events.filter((e) => !e.trivialMove).reduce((n, e) => n + e.bytesRead, 0);
  assert.equal(read, stats.compaction.io.reduce((n, x) => n + x.read, 0));
  await db.close();
});

test("stall events report writes that waited for a full memtable", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), memtableSize: 1024, compactionMode: "inline" });
  const events: StallEvent[] = [];
  db.on("stall", (e) => events.push(e));
  const value = new Uint8Array(200);
  // Groups of concurrent writes, each filling a memtable while two wait to be flushed.
  for (let round = 0; round < 80; round++) {
    await Promise.all(Array.from({ length: 5 }, (_, i) => db.put(key(round * 5 + i), value)));
  }
  assert.ok(events.length >= 1, "some writes waited");
  for (const e of events) {
    assert.ok(STALL_REASONS.includes(e.reason), e.reason);
    assert.ok(e.durationMs >= 0 && Number.isFinite(e.durationMs));
  }
  assert.ok(events.some((e) => e.reason === "memtable"), `reasons: ${[...new Set(events.map((e) => e.reason))]}`);
  const stallMs = events.reduce((n, e) => n + e.durationMs, 0);
  assert.ok(Math.abs(stallMs - db.stats().stallMs) < 1e-6, `${stallMs} ms in events, ${db.stats().stallMs} in stats`);
  for (let i = 0; i < 400; i++) assert.deepEqual(db.getSync(key(i)), value);
  await db.close();
});

test("stall events report writes stopped and slowed by level 0", async () => {
  const db = await open("/db", {
    fs: new MemoryStorage(),
    memtableSize: 1024,
    l0CompactionTrigger: 2,
    l0SlowdownTrigger: 2,
    l0StopTrigger: 3,
  });
  const events: StallEvent[] = [];
  db.on("stall", (e) => events.push(e));
  const value = new Uint8Array(100);
  for (let i = 0; i < 600; i++) await db.put(key(i), value);
  await Promise.all(Array.from({ length: 300 }, (_, i) => db.put(key(i), value)));
  for (let round = 0; round < 60; round++) {
    await Promise.all(Array.from({ length: 5 }, (_, i) => db.put(key(round * 5 + i), value)));
  }
  const stats = db.stats();
  assert.ok(events.every((e) => STALL_REASONS.includes(e.reason)));
  const reasons = new Set(events.map((e) => e.reason));
  assert.ok(reasons.has("l0-slowdown") && stats.slowdowns > 0, `reasons: ${[...reasons]}`);
  assert.ok(reasons.has("l0-stop"), `reasons: ${[...reasons]}`);
  assert.equal(events.filter((e) => e.reason === "l0-slowdown").length, stats.slowdowns, "one event per slowed write");
  const stallMs = events.reduce((n, e) => n + e.durationMs, 0);
  assert.ok(Math.abs(stallMs - stats.stallMs) < 1e-6, `${stallMs} ms in events, ${stats.stallMs} in stats`);
  await db.close();
});

test("a listener that throws does not break the database; off() stops a listener", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), valueEncoding: "utf8", memtableSize: 1024 });
  let heard = 0;
  let removed = 0;
  const bad = () => {
    throw new Error("listener failure");
  };
  const gone = () => removed++;
  db.on("flush", bad).on("compaction", bad).on("stall", bad).on("error", bad).on("warning", bad);
  db.on("flush", () => heard++);
  db.on("flush", gone).off("flush", gone);
  await Promise.all(Array.from({ length: 300 }, (_, i) => db.put(key(i), "v".repeat(100))));
  await db.flush();
  await db.compact();
  assert.ok(heard >= 1, "the other listener still heard the flushes");
  assert.equal(heard, db.stats().flushes);
  assert.equal(removed, 0);
  assert.equal(db.stats().backgroundError, undefined);
  await db.put("after", "ok");
  assert.equal(await db.get("after"), "ok");
  assert.equal(db.getSync(key(299)), "v".repeat(100));
  await db.close();
});

test("an unknown event name is rejected, naming the known ones", async () => {
  const db = await open("/db", { fs: new MemoryStorage() });
  for (const name of ["nope", "Flush", ""]) {
    await rejectsWith(
      "INVALID_ARGUMENT",
      () => db.on(name as DbEvent, () => {}),
      /error, warning, flush, compaction, stall/,
    );
    await rejectsWith("INVALID_ARGUMENT", () => db.off(name as DbEvent, () => {}), /unknown event/);
  }
  await rejectsWith(
    "INVALID_ARGUMENT",
    () => db.on(Symbol("x") as unknown as DbEvent, () => {}),
    /unknown event a symbol/,
  );
  await db.close();
});

test("stats() gives each level's user key range, and read amplification", async () => {
  const db = await open("/db", { fs: new MemoryStorage(), keyEncoding: "utf8", valueEncoding: "utf8" });
  assert.ok(
    db.stats().levels.every((l) => l.smallestKey === undefined && l.largestKey === undefined),
    "empty levels have no range",
  );
  for (const k of ["m", "c", "x"]) await db.put(k, "1");
  await db.flush();
  for (const k of ["a", "n"]) await db.put(k, "2");
  await db.flush();
  let stats = db.stats();
  assert.equal(stats.levels[0].files, 2);
  assert.deepEqual(stats.levels[0].smallestKey, utf8("a"), "the range covers every L0 file");
  assert.deepEqual(stats.levels[0].largestKey, utf8("x"));
  assert.equal(stats.readAmplification, 2);
  assert.equal(stats.readAmplification, stats.sortedRuns);
  stats.levels[0].smallestKey![0] = 0; // a copy: changing it changes nothing
  assert.deepEqual(db.stats().levels[0].smallestKey, utf8("a"));
  await db.compact();
  stats = db.stats();
  const full = stats.levels.filter((l) => l.files > 0);
  assert.equal(full.length, 1);
  assert.deepEqual([full[0].smallestKey, full[0].largestKey], [utf8("a"), utf8("x")]);
  assert.equal(stats.levels[0].smallestKey, undefined);
  assert.equal(stats.readAmplification, 1);
  await db.close();
});

/** A parsed sample line. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format 0.0.4, asserting its rules as it goes. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  assert.ok(text.endsWith("\n"), "ends with a line feed");
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const nameRe = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const sampleRe = new RegExp(`^(${nameRe})(?:\\{(.*)\\})? (\\S+)$`);
  const labelRe = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      const [, name, doc] = line.match(new RegExp(`^# HELP (${nameRe}) (.+)$`)) ?? [];
      assert.ok(name && doc, `HELP line: ${line}`);
      assert.ok(!help.has(name), `one HELP for ${name}`);
      assert.ok(!samples.some((s) => s.name === name), `HELP for ${name} before its samples`);
      help.set(name, doc);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, name, type] = line.match(new RegExp(`^# TYPE (${nameRe}) (counter|gauge|histogram|summary|untyped)$`)) ??
        [];
      assert.ok(name && type, `TYPE line: ${line}`);
      assert.ok(!types.has(name), `one TYPE for ${name}`);
      assert.ok(!samples.some((s) => s.name === name), `TYPE for ${name} before its samples`);
      types.set(name, type);
      continue;
    }
    assert.ok(!line.startsWith("#") && line.trim() !== "", `unexpected line: ${JSON.stringify(line)}`);
    const m = line.match(sampleRe);
    assert.ok(m, `sample line: ${line}`);
    const [, name, labelText = "", valueText] = m;
    assert.match(valueText, /^(NaN|[+-]Inf|[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)$/, `value of ${line}`);
    const labels: Record<string, string> = {};
    for (let rest = labelText; rest.length > 0;) {
      const l = rest.match(labelRe);
      assert.ok(l, `labels of ${line}`);
      labels[l[1]] = l[2];
      rest = rest.slice(l[0].length);
    }
    samples.push({
      name,
      labels,
      value: valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText),
    });
  }
  for (const s of samples) {
    assert.ok(s.name.startsWith("siltdb_"), s.name);
    assert.ok(help.has(s.name) && types.has(s.name), `${s.name} has HELP and TYPE`);
  }
  for (const [name, type] of types) {
    assert.ok(help.has(name), `${name} has HELP`);
    assert.equal(
      type === "counter",
      name.endsWith("_total"),
      `${name} is a ${type}: counters, and only they, end in _total`,
    );
    assert.ok(samples.some((s) => s.name === name), `${name} has samples`);
  }
  return { samples, types };
}

test("metrics() is Prometheus text whose values are those of stats()", async () => {
  const db = await open("/db", {
    fs: new MemoryStorage(),
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    memtableSize: 8 * 1024,
  });
  for (let i = 0; i < 2000; i++) await db.put(key(i % 700), `v${i}`);
  for (let i = 0; i < 50; i++) await db.delete(key(i));
  await db.flush();
  await db.compact();
  for (let i = 0; i < 100; i++) await db.put(key(i), "again");
  await db.flush();
  for (let i = 0; i < 700; i += 3) db.getSync(key(i));
  db.getSync("missing");
  const snap = db.snapshot();

  const text = db.metrics();
  const stats = db.stats();
  const { samples } = parseExposition(text);
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = samples.filter((s) =>
      s.name === `siltdb_${name}` && JSON.stringify(s.labels) === JSON.stringify(labels)
    );
    assert.equal(found.length, 1, `one sample siltdb_${name}${JSON.stringify(labels)}`);
    return found[0].value;
  };

  for (const l of stats.levels) {
    const level = { level: String(l.level) };
    assert.equal(value("level_files", level), l.files);
    assert.equal(value("level_bytes", level), l.bytes);
    assert.equal(value("level_entries", level), l.entries);
  }
  for (const io of stats.compaction.io) {
    assert.equal(value("level_read_bytes_total", { level: String(io.level) }), io.read);
    assert.equal(value("level_written_bytes_total", { level: String(io.level) }), io.written);
  }
  assert.match(text, /^siltdb_level_files\{level="0"\} \d+$/m);
  assert.equal(value("sequence"), stats.sequence);
  assert.equal(value("memtable_entries"), stats.memtable.entries);
  assert.equal(value("memtable_bytes"), stats.memtable.bytes);
  assert.equal(value("memtable_memory_bytes"), stats.memtable.memoryUsage);
  assert.equal(value("immutable_memtables"), stats.immutable.count);
  assert.equal(value("immutable_memtable_bytes"), stats.immutable.bytes);
  assert.equal(value("flushes_total"), stats.flushes);
  assert.ok(stats.flushes >= 2);
  assert.equal(value("block_cache_hits_total"), stats.blockCache.hits);
  assert.equal(value("block_cache_misses_total"), stats.blockCache.misses);
  assert.equal(value("block_cache_hit_ratio"), stats.blockCache.hitRate);
  assert.equal(value("block_cache_bytes"), stats.blockCache.bytes);
  assert.equal(value("block_cache_capacity_bytes"), stats.blockCache.capacity);
  assert.equal(value("bloom_useful_total"), stats.bloom.useful);
  assert.equal(value("bloom_checked_total"), stats.bloom.checked);
  assert.equal(value("wal_written_bytes_total"), stats.wal.bytesWritten);
  assert.equal(value("wal_syncs_total"), stats.wal.syncs);
  assert.equal(value("stall_seconds_total"), stats.stallMs / 1000);
  assert.equal(value("slowdowns_total"), stats.slowdowns);
  assert.equal(value("compactions_total"), stats.compaction.count);
  assert.ok(stats.compaction.count >= 1);
  assert.equal(value("compaction_seconds_total"), stats.compaction.ms / 1000);
  assert.equal(value("compaction_trivial_moves_total"), stats.compaction.trivialMoves);
  assert.equal(value("compaction_dropped_entries_total"), stats.compaction.entriesDropped);
  assert.equal(value("compaction_info", { policy: stats.compaction.policy, mode: stats.compaction.mode }), 1);
  assert.equal(value("write_amplification"), stats.writeAmplification);
  assert.equal(value("space_amplification"), stats.spaceAmplification);
  assert.equal(value("read_amplification"), stats.readAmplification);
  assert.equal(value("sorted_runs"), stats.sortedRuns);
  assert.equal(value("snapshots"), 1);
  assert.equal(value("scans"), stats.scans);
  assert.equal(value("core_memory_bytes"), stats.coreMemory);
  assert.equal(value("background_error"), 0);
  snap.release();
  await db.close();
  await rejectsWith("CLOSED", () => db.metrics());
});

test("metrics() reports a background error as 1", async () => {
  const fs = new MemoryStorage();
  const db = await open("/db", { fs, memtableSize: 2048, compactionMode: "inline" });
  let errors = 0;
  db.on("error", () => errors++);
  await db.put("a", "1");
  assert.match(db.metrics(), /^siltdb_background_error 0$/m);
  fs.capacity = fs.usedBytes + 3000;
  for (let i = 0; i < 2000 && db.stats().backgroundError === undefined; i++) {
    await db.put(key(i), "v".repeat(60)).catch(() => {});
  }
  assert.notEqual(db.stats().backgroundError, undefined);
  assert.equal(errors, 1);
  assert.match(db.metrics(), /^siltdb_background_error 1$/m);
  fs.capacity = Infinity;
  await db.close().catch(() => {});
});

test("label values and sample values are written as the format requires", () => {
  assert.equal(formatLabels(undefined), "");
  assert.equal(formatLabels({}), "");
  assert.equal(formatLabels({ level: "0" }), '{level="0"}');
  assert.equal(formatLabels({ a: 'x"y\\z\nw', b: "2" }), '{a="x\\"y\\\\z\\nw",b="2"}');
  assert.deepEqual([1, 0.5, NaN, Infinity, -Infinity, 1e21].map(formatValue), [
    "1",
    "0.5",
    "NaN",
    "+Inf",
    "-Inf",
    "1e+21",
  ]);
});
