// Read-ahead of tables read in order (src/table/read_ahead.ts): whatever the
// order of reads over many files at once (more windows than the budget holds,
// so windows are dropped and their buffers reused), every read returns the
// file's bytes; reads in order cost far fewer calls than reads.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { readAheadFile } from "../src/table/read_ahead.ts";

const RUNS = Number(process.env.SILTDB_FC_RUNS ?? 60);

function fileOf(size: number, seed: number) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  const file = {
    bytes,
    calls: 0,
    read(position: number, into: Uint8Array): number {
      file.calls++;
      const src = bytes.subarray(Math.min(position, size), Math.min(position + into.length, size));
      into.set(src);
      return src.length;
    },
  };
  return file;
}

test("reads through windows return the file's bytes, in order or not, over more files than the budget holds", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          file: fc.nat(99),
          jump: fc.boolean(),
          at: fc.nat(3_000_000),
          length: fc.integer({ min: 1, max: 70_000 }),
          count: fc.integer({ min: 1, max: 40 }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      (steps) => {
        const files = Array.from({ length: 100 }, (_, i) => fileOf(100_000 + i * 29_000, i));
        const readers = files.map((f) => readAheadFile(f.read, f.bytes.length));
        const next = files.map(() => 0);
        for (const step of steps) {
          const f = files[step.file];
          if (step.jump) next[step.file] = step.at % (f.bytes.length + 10);
          for (let i = 0; i < step.count; i++) {
            const at = next[step.file];
            const into = new Uint8Array(step.length);
            const n = readers[step.file].read(at, into);
            const want = f.bytes.subarray(Math.min(at, f.bytes.length), Math.min(at + step.length, f.bytes.length));
            assert.equal(n, want.length, `file ${step.file} at ${at}: bytes read`);
            assert.deepEqual(into.subarray(0, n), want, `file ${step.file} at ${at}`);
            next[step.file] = at + step.length;
          }
        }
        for (const r of readers) r.close();
      },
    ),
    { numRuns: RUNS },
  );
});

test("a file read block after block costs one call per window, a jump reads its block alone", () => {
  const f = fileOf(4 << 20, 1);
  const reader = readAheadFile(f.read, f.bytes.length);
  const block = new Uint8Array(4101);
  for (let at = 0; at + block.length <= f.bytes.length; at += block.length) reader.read(at, block);
  const blocks = Math.floor(f.bytes.length / block.length);
  assert.ok(f.calls < blocks / 40, `${f.calls} calls for ${blocks} blocks`);
  f.calls = 0;
  for (const at of [3_000_000, 17, 2_000_000, 900_000]) reader.read(at, block);
  assert.equal(f.calls, 4, "point reads: one call each");
  reader.close();
});

test("a read that fails while filling a window leaves no window to read the old bytes from", () => {
  const f = fileOf(1 << 20, 3);
  let fail = false;
  const reader = readAheadFile((position, into) => {
    if (fail) {
      into.fill(0xee, 0, Math.min(into.length, 100)); // a partial read, then the error
      throw new Error("EIO");
    }
    return f.read(position, into);
  }, f.bytes.length);
  const block = new Uint8Array(4000);
  for (let at = 0; at <= 32_000; at += 4000) reader.read(at, block); // a 32 KiB window from 4,000 on
  fail = true;
  // In order past the window: the next window is read into the same buffer, and fails.
  assert.throws(() => reader.read(36_000, block), /EIO/);
  fail = false;
  const again = new Uint8Array(4000);
  reader.read(4000, again); // inside the old window: from the file, not from the spoiled buffer
  assert.deepEqual(again, f.bytes.subarray(4000, 8000));
  reader.close();
});
