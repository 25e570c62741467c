// Table files: round trips through the core's table builder and the reader,
// restart-point seeks, bloom filter false positives, and damaged files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { allocBuffer, bytes, core, freeBuffer, scratch, writeData } from "../src/wasm/instance.ts";
import { copyOut } from "../src/wasm/values.ts";
import { Lookup, resultValue, resultValueLength } from "../src/wasm/abi.ts";
import { ReadState } from "../src/wasm/read_state.ts";
import { BlockProvider } from "../src/table/block_provider.ts";
import { KIND_DELETE, KIND_PUT } from "../src/format/internal_key.ts";
import { TestMemtable as Memtable } from "./_core.ts";
import { MemoryStorage } from "../src/storage/memory_storage.ts";
import { writeLevel0Table } from "../src/background/flush.ts";
import type { TableOptions } from "../src/table/table_writer.ts";
import { PointReader } from "../src/read/get.ts";
import { TableCache } from "../src/table/table_cache.ts";
import { tableFiles } from "../src/table/table_files.ts";
import { TableReader } from "../src/table/table_reader.ts";
import { BLOCK_TRAILER_SIZE, BLOCK_TYPE_LZ4 } from "../src/format/table_format.ts";
import { blockEntries, indexEntries, loadBlock } from "../src/wasm/blocks.ts";
import { tableChecksum } from "../src/wasm/checksum.ts";
import type { FileMeta } from "../src/version/version_edit.ts";
import type { Storage } from "../src/storage/storage.ts";
import { rejectsWith, rng, text } from "./_harness.ts";

/** Point lookups in one table file through the core's whole-lookup path, with a block cache of cacheSize bytes. */
class Probe {
  readonly readState: ReadState;
  readonly tables: TableCache;
  readonly reader: PointReader;
  readonly #empty = new Memtable();
  constructor(fs: Storage, meta: FileMeta, cacheSize: number) {
    this.readState = new ReadState(cacheSize);
    this.tables = new TableCache(tableFiles({ fs, dir: "/db" }), 10, this.readState);
    this.reader = new PointReader(this.readState, new BlockProvider(this.tables, this.readState.cache));
    this.reader.update({ mt: this.#empty, firstLog: 0, refs: 0, retired: false }, [], [[meta]]);
  }
  /** bytes, null (deleted) or undefined (absent). */
  get(key: string | Uint8Array, sequence: number): Uint8Array | null | undefined {
    const ptr = scratch(key.length * 3 + 8);
    const status = this.reader.lookup(ptr, writeData(ptr, key), sequence);
    return status === Lookup.Found
      ? copyOut(resultValue(), resultValueLength())
      : status === Lookup.Deleted
      ? null
      : undefined;
  }
  get cache() {
    return this.readState.cache;
  }
  close(): void {
    this.tables.close();
    this.readState.free();
    this.#empty.free();
  }
}

async function buildTable(mt: Memtable, options: Partial<TableOptions> = {}) {
  const fs = new MemoryStorage();
  fs.mkdir("/db");
  const meta = await writeLevel0Table({ fs, dir: "/db" }, 7, mt, {
    blockSize: 4096,
    bloomBitsPerKey: 10,
    compression: "lz4",
    ...options,
  });
  return { fs, meta, table: TableReader.open(fs, "/db/000007.sst", 7) };
}

test("a table returns what its memtable held: many versions, tombstones, empty and big values", async () => {
  const random = rng(11);
  const mt = new Memtable();
  const model = new Map<string, [number, string | null][]>();
  let sequence = 0;
  for (let i = 0; i < 3000; i++) {
    const key = `k${Math.floor(random() * 800)}`;
    const r = random();
    const value = r < 0.1
      ? null
      : r < 0.15
      ? ""
      : r < 0.17
      ? "B".repeat(10_000 + Math.floor(random() * 5000))
      : `v${i}`;
    sequence++;
    mt.add(key, sequence, value === null ? KIND_DELETE : KIND_PUT, value ?? "");
    model.set(key, [...(model.get(key) ?? []), [sequence, value]]);
  }
  const { fs, meta, table } = await buildTable(mt);
  const probe = new Probe(fs, meta, 1 << 20);
  try {
    assert.equal(meta.entries, 3000);
    assert.equal(table.properties.entries, 3000);
    assert.equal(meta.smallestSequence, 1);
    assert.equal(meta.largestSequence, 3000);
    assert.ok(table.properties.dataBlocks > 10, `${table.properties.dataBlocks} data blocks`);
    for (let i = 0; i < 3000; i++) {
      const key = `k${Math.floor(random() * 850)}`;
      const at = Math.floor(random() * (sequence + 1));
      const visible = (model.get(key) ?? []).filter(([s]) => s <= at).at(-1);
      const got = probe.get(key, at);
      if (visible === undefined) assert.equal(got, undefined, `${key} @${at}`);
      else if (visible[1] === null) assert.equal(got, null, `${key} @${at}`);
      else assert.equal(text(got ?? undefined), visible[1], `${key} @${at}`);
    }
  } finally {
    table.close();
    probe.close();
    mt.free();
  }
});

test("seeks land right around restart points (every 16 entries) and block boundaries", async () => {
  const mt = new Memtable();
  const keys = Array.from({ length: 1000 }, (_, i) => `key-${String(i * 2).padStart(5, "0")}`);
  keys.forEach((k, i) => mt.add(k, i + 1, KIND_PUT, `value-${i}`.padEnd(60, ".")));
  const { fs, meta, table } = await buildTable(mt, { blockSize: 1024, bloomBitsPerKey: 0 });
  const probe = new Probe(fs, meta, 0); // no caching: every read loads its block
  try {
    for (let i = 0; i < 1000; i++) {
      assert.equal(text(probe.get(keys[i], 10_000) ?? undefined), `value-${i}`.padEnd(60, "."), keys[i]);
      // Odd numbers fall between stored keys.
      assert.equal(probe.get(`key-${String(i * 2 + 1).padStart(5, "0")}`, 10_000), undefined);
    }
    assert.equal(probe.get("a", 10_000), undefined, "before the first key");
    assert.equal(probe.get("z", 10_000), undefined, "after the last key");
    assert.ok(probe.cache.stats().blocks <= 1, "a cache of 0 bytes keeps at most the block just read");
  } finally {
    table.close();
    probe.close();
    mt.free();
  }
});

test("bloom filter false positives at 10 bits per key stay within 2x of theory", async () => {
  const mt = new Memtable();
  const n = 20_000;
  for (let i = 0; i < n; i++) mt.add(`present-${i}`, i + 1, KIND_PUT, "v");
  const { fs, meta, table } = await buildTable(mt, { blockSize: 4096, bloomBitsPerKey: 10 });
  const probe = new Probe(fs, meta, 8 << 20);
  try {
    for (let i = 0; i < n; i += 7) assert.notEqual(probe.get(`present-${i}`, n), undefined);
    assert.equal(probe.readState.bloomStats().useful, 0, "no false negatives");
    const before = probe.readState.bloomStats();
    const probes = 50_000;
    for (let i = 0; i < probes; i++) assert.equal(probe.get(`present-0${i}`, n), undefined); // inside the key range, never stored
    const after = probe.readState.bloomStats();
    assert.equal(after.checked - before.checked, probes);
    const rate = 1 - (after.useful - before.useful) / probes;
    const k = Math.round(10 * 0.69);
    const theory = (1 - Math.exp(-k / 10)) ** k;
    assert.ok(
      rate <= 2 * theory,
      `false positive rate ${(rate * 100).toFixed(2)}% vs theory ${(theory * 100).toFixed(2)}%`,
    );
    assert.ok(rate > 0, "a bloom filter has some false positives");
  } finally {
    table.close();
    probe.close();
    mt.free();
  }
});

test("damaged table bytes are CORRUPTION naming the file and offset, never a wrong answer", async () => {
  const mt = new Memtable();
  for (let i = 0; i < 500; i++) mt.add(`key-${String(i).padStart(4, "0")}`, i + 1, KIND_PUT, `value-${i}`);
  const { fs, meta, table } = await buildTable(mt, { blockSize: 512, bloomBitsPerKey: 10 });
  table.close();
  const image = fs.readFile("/db/000007.sst");
  const random = rng(5);
  let reported = 0;
  for (let round = 0; round < 60; round++) {
    const at = Math.floor(random() * image.length);
    const damaged = image.slice();
    damaged[at] ^= 1 << Math.floor(random() * 8);
    fs.remove("/db/000008.sst");
    const file = fs.open("/db/000008.sst", { create: true });
    await file.append(damaged);
    const probe = new Probe(fs, { ...meta, number: 8 }, 1 << 20);
    try {
      for (let i = 0; i < 500; i++) {
        const got = probe.get(`key-${String(i).padStart(4, "0")}`, 1000);
        assert.equal(text(got ?? undefined), `value-${i}`, `flip at ${at}: a wrong answer instead of CORRUPTION`);
      }
    } catch (err) {
      const e = await rejectsWith("CORRUPTION", () => {
        throw err;
      });
      assert.equal(e.file, "/db/000008.sst");
      assert.equal(typeof e.offset, "number");
      reported++;
    } finally {
      probe.close();
    }
  }
  assert.ok(reported > 40, `${reported} of 60 damaged tables reported`);
  assert.equal(meta.number, 7);
  mt.free();
});

test("a table written by the builder ends with the footer magic and reads back its key range", async () => {
  const mt = new Memtable();
  mt.add("b", 2, KIND_PUT, "x");
  mt.add("a", 1, KIND_DELETE);
  mt.add("c", 3, KIND_PUT, "y");
  const { fs, meta, table } = await buildTable(mt);
  try {
    const image = fs.readFile("/db/000007.sst");
    assert.equal(new TextDecoder().decode(image.subarray(image.length - 8)), "SILTSST\n");
    assert.equal(meta.size, image.length);
    assert.equal(text(meta.smallest.subarray(0, 1)), "a");
    assert.equal(text(meta.largest.subarray(0, 1)), "c");
    assert.equal(table.properties.deletions, 1);
    assert.equal(core.blockEntryCount(table.index.ptr, table.index.size), table.properties.dataBlocks);
    assert.ok(bytes().length > 0);
    assert.equal(fs.list("/db").filter((n) => n.endsWith(".tmp")).length, 0, "no temp file left");
  } finally {
    table.close();
    mt.free();
  }
});

test("a table of an older format version (1: CRC-32C, 2: no compressed blocks) is CORRUPTION naming the version", async () => {
  for (const version of [1, 2]) {
    const mt = new Memtable();
    mt.add("a", 1, KIND_PUT, "x");
    const { fs, table } = await buildTable(mt);
    table.close();
    mt.free();
    const image = fs.readFile("/db/000007.sst");
    new DataView(image.buffer, image.byteOffset).setUint32(image.length - 64 + 48, version, true);
    fs.remove("/db/000007.sst");
    await fs.open("/db/000007.sst", { create: true }).append(image);
    const err = await rejectsWith("CORRUPTION", () => TableReader.open(fs, "/db/000007.sst", 7));
    assert.match(
      err.message,
      new RegExp(`unsupported table format version ${version} \\(this siltdb reads version 3\\)`),
    );
    assert.equal(err.file, "/db/000007.sst");
  }
});

test("compression lz4: data blocks that shrink by an eighth are compressed, the others stored as is; both read back", async () => {
  const mt = new Memtable();
  const r = rng(3);
  const noise = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const values = new Map<string, Uint8Array>();
  for (let i = 0; i < 400; i++) {
    const key = `key-${String(i).padStart(4, "0")}`;
    // Keys below 200: repetitive text; from 200 on: random bytes (incompressible blocks).
    const value = i < 200
      ? new TextEncoder().encode(`{"name":"user ${i % 9}","status":"active"}`.repeat(3))
      : noise(100);
    values.set(key, value);
    mt.add(key, i + 1, KIND_PUT, value);
  }
  for (const compression of ["lz4", "none"] as const) {
    const { table } = await buildTable(mt, { blockSize: 1024, compression });
    try {
      const codecs = { lz4: 0, none: 0 };
      for (const { handle } of indexEntries(table.index.ptr, table.index.size)!) {
        const block = table.readBlock(handle!);
        try {
          const codec = block.codec ?? "none";
          codecs[codec]++;
          if (codec === "lz4") assert.ok(block.stored! <= block.size - block.size / 8, "saves an eighth or more");
          else assert.equal(block.size, handle!.size, "stored as is");
          for (const e of blockEntries(block.ptr, block.size)!) {
            assert.deepEqual(e.value, values.get(new TextDecoder().decode(e.key.subarray(0, e.key.length - 8))));
          }
        } finally {
          freeBuffer(block.ptr);
        }
      }
      if (compression === "none") assert.deepEqual(codecs.lz4, 0);
      else assert.ok(codecs.lz4 > 3 && codecs.none > 3, JSON.stringify(codecs));
    } finally {
      table.close();
    }
  }
  mt.free();
});

test("a compressed block whose checksum holds but whose LZ4 stream is malformed is refused, not a trap", async () => {
  const mt = new Memtable();
  for (let i = 0; i < 200; i++) mt.add(`key-${String(i).padStart(4, "0")}`, i + 1, KIND_PUT, "abc".repeat(30));
  const { fs, table } = await buildTable(mt, { blockSize: 1024 });
  const handle = indexEntries(table.index.ptr, table.index.size)![0].handle!;
  table.close();
  mt.free();
  const image = fs.readFile("/db/000007.sst");
  assert.equal(image[handle.offset + handle.size], BLOCK_TYPE_LZ4);
  const original = image.slice(handle.offset, handle.offset + handle.size);
  /** The block with a trailer whose checksum holds, through the core's check and decompression. */
  const load = (block: Uint8Array) => {
    const stored = new Uint8Array(block.length + BLOCK_TRAILER_SIZE);
    stored.set(block);
    stored[block.length] = BLOCK_TYPE_LZ4;
    new DataView(stored.buffer).setUint32(block.length + 1, tableChecksum(stored.subarray(0, block.length + 1)), true);
    const ptr = allocBuffer(stored.length);
    bytes().set(stored, ptr);
    const loaded = loadBlock(ptr, block.length);
    freeBuffer(typeof loaded === "string" ? ptr : loaded.ptr);
    return loaded;
  };
  const intact = load(original);
  assert.ok(typeof intact !== "string" && intact.codec === "lz4" && intact.size > handle.size);
  const damages: [string, Uint8Array][] = [
    ["a length one more than the stream gives", Uint8Array.from(original, (b, i) => (i === 0 ? b + 1 : b))],
    ["a length one less", Uint8Array.from(original, (b, i) => (i === 0 ? b - 1 : b))],
    ["a length of two billion", Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x07, ...original.subarray(2)])],
    [
      "a length of 321 MiB (no block is that large)",
      Uint8Array.from([0x80, 0x80, 0xc0, 0xa0, 0x01, ...original.subarray(2)]),
    ],
    ["a length past 32 bits", Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...original.subarray(2)])],
    ["no stream", Uint8Array.from([0x80, 0x08])],
    ["nothing at all", new Uint8Array(0)],
    ["the stream cut short", original.subarray(0, original.length - 1)],
    ["an offset past the start", Uint8Array.from([0x10, 0x14, 0x41, 0xff, 0x00, 0x10, 0x41])],
  ];
  for (const [what, block] of damages) {
    assert.match(String(load(block)), /compressed block is malformed/, what);
  }
});
