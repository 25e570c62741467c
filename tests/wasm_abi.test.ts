// The boundary between TypeScript and the WebAssembly core: the generated
// ABI file (src/wasm/_core_abi.ts) must describe the module it was built
// from, and every on-disk constant TypeScript keeps in src/format/ must
// equal the core's (both sides write and read the same bytes). A stale
// build or a constant changed on one side only fails here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as generated from "../src/wasm/_core_abi.ts";
import { Memtable } from "../src/wasm/memtable.ts";
import { BATCH_HEADER_SIZE, encodeEntry, entryBound, setBatchCount } from "../src/format/batch_format.ts";
import { KIND_DELETE, KIND_PUT } from "../src/format/internal_key.ts";
import { RECORD_END_MARK, RECORD_HEADER_SIZE, RECORD_OVERHEAD, RECORD_TYPE_BATCH } from "../src/format/log_format.ts";
import {
  BLOCK_TRAILER_SIZE,
  BLOCK_TYPE_LZ4,
  BLOCK_TYPE_RAW,
  FOOTER_SIZE,
  PROPERTIES_VERSION,
  TABLE_MAGIC,
  TABLE_VERSION,
} from "../src/format/table_format.ts";
import { copyIn, core, freeBuffer } from "../src/wasm/instance.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const exports = core as unknown as Record<string, unknown>;
const globals = Object.keys(exports).filter((name) => exports[name] instanceof WebAssembly.Global);

test("the generated ABI file holds every constant the core exports, with the core's value", () => {
  assert.ok(globals.length >= 40, `the core exports its constants (${globals.length} found)`);
  const constants = generated as unknown as Record<string, unknown>;
  for (const name of globals) {
    assert.equal(constants[name], (exports[name] as WebAssembly.Global).value, `${name} in src/wasm/_core_abi.ts`);
  }
  for (const name of Object.keys(constants)) assert.ok(globals.includes(name), `${name} is still exported by the core`);
});

test("the generated CoreExports type names every function the core exports, and no other", () => {
  const text = readFileSync(join(root, "src", "wasm", "_core_abi.ts"), "utf8");
  const declared = [...text.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]).sort();
  const functions = Object.keys(exports).filter((name) => typeof exports[name] === "function").sort();
  assert.deepEqual(declared, functions);
});

test("log records and write batches: TypeScript's constants are the core's", () => {
  assert.equal(RECORD_HEADER_SIZE, generated.LOG_RECORD_HEADER_SIZE);
  assert.equal(RECORD_OVERHEAD, generated.LOG_RECORD_OVERHEAD);
  assert.equal(RECORD_END_MARK, generated.LOG_RECORD_END_MARK);
  assert.equal(RECORD_TYPE_BATCH, generated.LOG_RECORD_TYPE_BATCH);
  assert.equal(BATCH_HEADER_SIZE, generated.BATCH_HEADER_SIZE);
  assert.equal(KIND_PUT, generated.ENTRY_KIND_PUT);
  assert.equal(KIND_DELETE, generated.ENTRY_KIND_DELETE);
});

test("tables: TypeScript's constants are the core's", () => {
  assert.equal(FOOTER_SIZE, generated.TABLE_FOOTER_SIZE);
  assert.equal(TABLE_VERSION, generated.TABLE_VERSION);
  assert.equal(BLOCK_TRAILER_SIZE, generated.TABLE_BLOCK_TRAILER_SIZE);
  assert.equal(PROPERTIES_VERSION, generated.TABLE_PROPERTIES_VERSION);
  assert.equal(BLOCK_TYPE_RAW, generated.TABLE_BLOCK_RAW);
  assert.equal(BLOCK_TYPE_LZ4, generated.TABLE_BLOCK_LZ4);
  const magic = new DataView(TABLE_MAGIC.buffer, TABLE_MAGIC.byteOffset, 8);
  assert.equal(magic.getUint32(0, true), generated.TABLE_MAGIC_LOW);
  assert.equal(magic.getUint32(4, true), generated.TABLE_MAGIC_HIGH);
});

test("a batch TypeScript encodes is the batch the core applies: kinds, keys, values, sequences", () => {
  const ops: [number, string | Uint8Array, string | Uint8Array][] = [
    [KIND_PUT, "a", "1"],
    [KIND_DELETE, "b", ""],
    [KIND_PUT, new Uint8Array([0, 255, 7]), new Uint8Array(300).fill(9)],
    [KIND_PUT, "é€𝄞", ""],
  ];
  const room = ops.reduce((n, [kind, k, v]) => n + entryBound(kind, k.length * 3, v.length * 3), BATCH_HEADER_SIZE);
  const buf = new Uint8Array(room);
  const dv = new DataView(buf.buffer);
  let end = BATCH_HEADER_SIZE;
  for (const [kind, key, value] of ops) end = encodeEntry(buf, dv, end, kind, key, value);
  setBatchCount(dv, 0, ops.length);
  dv.setUint32(0, 41, true); // sequence 41 (the core stamps it at commit)
  const payload = copyIn(buf.subarray(0, end));
  const mt = new Memtable();
  try {
    assert.equal(mt.applyBatch(payload, end), ops.length);
    const got = [...mt.entries()].sort((a, b) => a.sequence - b.sequence);
    const enc = (d: string | Uint8Array) => typeof d === "string" ? new TextEncoder().encode(d) : d;
    assert.deepEqual(
      got.map((e) => [e.sequence, e.kind, [...e.key], [...e.value]]),
      ops.map(([kind, k, v], i) => [41 + i, kind, [...enc(k)], kind === KIND_PUT ? [...enc(v)] : []]),
    );
    // One byte short: the core refuses the batch instead of reading past it.
    assert.equal(mt.applyBatch(payload, end - 1), -1);
  } finally {
    mt.free();
    freeBuffer(payload);
  }
});
