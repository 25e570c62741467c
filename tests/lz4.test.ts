// The core's LZ4 block codec (core/lz4.ts), through the core: round trips
// of every kind of input, streams a plain reading of the LZ4 block format
// (written here, independently) decodes to the same bytes, and malformed
// streams refused without a write outside the output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { lz4Compress, lz4Decompress } from "./_core.ts";
import { rng } from "./_harness.ts";

/**
 * LZ4's block format read plainly (a second, independent reader), checking
 * the rules LZ4 sets for the streams it writes: the last sequence holds
 * literals only, the last 5 bytes are literals, no match starts in the last
 * 12 bytes.
 */
function referenceDecode(stream: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  const length = (n: number) => {
    if (n !== 15) return n;
    for (;;) {
      const b = stream[i++];
      assert.ok(b !== undefined, "length runs past the stream");
      n += b;
      if (b !== 255) return n;
    }
  };
  let lastMatchStart = -1;
  let lastMatchEnd = 0;
  for (;;) {
    const token = stream[i++];
    assert.ok(token !== undefined, "stream ends without a last sequence");
    const literals = length(token >> 4);
    for (let k = 0; k < literals; k++) out.push(stream[i++]);
    assert.ok(i <= stream.length, "literals run past the stream");
    if (i === stream.length) break;
    const offset = stream[i] | (stream[i + 1] << 8);
    i += 2;
    assert.ok(offset > 0 && offset <= out.length, `offset ${offset} at output ${out.length}`);
    const match = length(token & 15) + 4;
    lastMatchStart = out.length;
    for (let k = 0; k < match; k++) out.push(out[out.length - offset]);
    lastMatchEnd = out.length;
  }
  if (lastMatchStart >= 0) {
    assert.ok(lastMatchEnd <= out.length - 5, "the last 5 bytes are literals");
    assert.ok(lastMatchStart < out.length - 11, "no match starts in the last 12 bytes");
  }
  return new Uint8Array(out);
}

const encoder = new TextEncoder();

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** JSON-like text: field names, words of a small vocabulary, numbers. */
function jsonLike(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const words = ["alpha", "beta", "gamma", "delta", "status", "active", "user", "order", "shipped", "pending"];
  let s = "";
  while (s.length < n) {
    s += JSON.stringify({
      id: Math.floor(r() * 1e6),
      name: `${words[Math.floor(r() * words.length)]} ${words[Math.floor(r() * words.length)]}`,
      tags: [words[Math.floor(r() * words.length)], words[Math.floor(r() * words.length)]],
      score: Math.round(r() * 10000) / 100,
    });
  }
  return encoder.encode(s.slice(0, n));
}

function roundTrip(data: Uint8Array, what: string): Uint8Array {
  const stream = lz4Compress(data);
  assert.ok(stream !== undefined, `${what}: fits in the bound`);
  assert.deepEqual(referenceDecode(stream), data, `${what}: the reference reader decodes it`);
  assert.deepEqual(lz4Decompress(stream, data.length), data, `${what}: the core decodes it`);
  return stream;
}

test("lz4 round trips: empty, 1 byte, the edges of the match rules, every small length", () => {
  assert.deepEqual([...roundTrip(new Uint8Array(0), "empty")], [0]); // one token: no literals
  assert.deepEqual([...roundTrip(new Uint8Array([7]), "one byte")], [0x10, 7]);
  for (let n = 0; n <= 80; n++) {
    roundTrip(new Uint8Array(n).fill(0x41), `${n} equal bytes`);
    roundTrip(randomBytes(n, n), `${n} random bytes`);
    roundTrip(encoder.encode("abcdefgh".repeat(10).slice(0, n)), `${n} bytes of a period-8 text`);
  }
});

test("lz4 round trips: random, repetitive, JSON-like, long and overlapping matches", () => {
  const cases: [string, Uint8Array][] = [
    ["64 KiB random", randomBytes(65536, 1)],
    ["300 KiB random", randomBytes(300_000, 2)],
    ["1 MiB of one byte (lengths of many 255 bytes)", new Uint8Array(1 << 20).fill(9)],
    ["4 KiB JSON-like", jsonLike(4096, 3)],
    ["200 KiB JSON-like (offsets up to 65,535)", jsonLike(200_000, 4)],
    [
      "a 70 KiB random block repeated (matches farther than 65,535 bytes are not taken)",
      (() => {
        const a = randomBytes(70_000, 5);
        const b = new Uint8Array(140_000);
        b.set(a);
        b.set(a, 70_000);
        return b;
      })(),
    ],
  ];
  for (let period = 1; period <= 9; period++) {
    const pattern = randomBytes(period, 100 + period);
    cases.push([
      `period ${period} (overlapping matches)`,
      Uint8Array.from({ length: 5000 }, (_, i) => pattern[i % period]),
    ]);
  }
  // Random text with runs of every length, literals of every length, and near-misses.
  const r = rng(6);
  const mixed: number[] = [];
  while (mixed.length < 100_000) {
    const kind = r();
    if (kind < 0.4) { for (let k = Math.floor(r() * 300); k > 0; k--) mixed.push(Math.floor(r() * 256)); }
    else if (kind < 0.8 && mixed.length > 0) {
      const from = mixed.length - 1 - Math.floor(r() * Math.min(mixed.length, 70_000));
      for (let k = Math.floor(r() * 600) + 1; k > 0; k--) mixed.push(mixed[from + (k % (mixed.length - from))]);
    } else mixed.push(...new Array(Math.floor(r() * 1000)).fill(Math.floor(r() * 256)));
  }
  cases.push(["mixed runs and literals", new Uint8Array(mixed)]);
  for (const [what, data] of cases) {
    const stream = roundTrip(data, what);
    if (what.includes("one byte") || what.includes("period")) {
      assert.ok(stream.length < data.length / 50, `${what}: ${stream.length} bytes`);
    }
    if (what.includes("JSON")) {
      assert.ok(stream.length < data.length / 2, `${what}: ${stream.length} of ${data.length}`);
    }
  }
});

test("lz4 round trips: thousands of short inputs over two letters (matches that end at every place)", () => {
  const r = rng(11);
  for (let i = 0; i < 3000; i++) {
    const n = 13 + Math.floor(r() * 300);
    const data = Uint8Array.from({ length: n }, () => (r() < 0.8 ? 0x78 : 0x79));
    roundTrip(data, `input ${i}: ${new TextDecoder().decode(data)}`);
  }
});

test("lz4 compression gives up (0) when the stream would not fit in the room given", () => {
  const random = randomBytes(4096, 7);
  assert.equal(lz4Compress(random, 4096 - 512), undefined, "random bytes do not shrink by an eighth");
  const json = jsonLike(4096, 8);
  const whole = lz4Compress(json)!;
  assert.deepEqual(lz4Compress(json, whole.length), whole, "exactly the room it needs");
  assert.equal(lz4Compress(json, whole.length - 1), undefined, "one byte less");
  for (let cap = 0; cap < 40; cap++) assert.equal(lz4Compress(json, cap), undefined);
  // Incompressible inputs of every size never write past their room.
  for (let n = 1; n < 300; n += 7) assert.equal(lz4Compress(randomBytes(n, n), n - (n >> 3) - 1), undefined);
});

test("lz4 decompression refuses malformed streams, never writing outside its output", () => {
  const data = jsonLike(3000, 9);
  const stream = lz4Compress(data)!;
  // Every proper prefix of a stream is refused (it ends inside a sequence, or too early).
  for (let n = 0; n < stream.length; n++) {
    assert.equal(lz4Decompress(stream.subarray(0, n), data.length), undefined, `prefix of ${n} bytes`);
  }
  // The wrong output length is refused, shorter or longer.
  assert.equal(lz4Decompress(stream, data.length - 1), undefined);
  assert.equal(lz4Decompress(stream, data.length + 1), undefined);
  assert.equal(lz4Decompress(new Uint8Array([0]), 1), undefined, "an empty stream for one byte");
  const cases: [string, number[], number][] = [
    ["offset 0", [0x14, 1, 0, 0], 9],
    ["offset before the output's start", [0x14, 1, 2, 0, 0x00], 9],
    ["a match past the output's end", [0x1f, 1, 1, 0, 200, 0x00], 10],
    ["literals past the stream's end", [0x50, 1, 2, 3], 5],
    ["literals past the output's end", [0x30, 1, 2, 3], 2],
    ["a stream ending after a match", [0x14, 1, 1, 0], 9],
    ["a stream ending inside an offset", [0x14, 1, 1], 9],
    ["a literal length running off the stream", [0xf0, 255, 255], 600],
    ["a match length running off the stream", [0x1f, 1, 1, 0, 255], 600],
    ["a literal length of billions", [0xf0, ...new Array(40).fill(255), 0], 1000],
    // The decoder's common path (a match length of one extra byte, input and output to spare):
    // a 119-byte match where 52 bytes are left, then bytes enough for that path to be taken.
    ["a long match past the output's end", [0x8f, 1, 2, 3, 4, 5, 6, 7, 8, 8, 0, 100, ...new Array(24).fill(0)], 60],
  ];
  for (const [what, bytes, rawLength] of cases) {
    assert.equal(lz4Decompress(new Uint8Array(bytes), rawLength), undefined, what);
  }
  // Damaged streams: refused, or some output of the right length; never a write outside it.
  const r = rng(10);
  for (let i = 0; i < 2000; i++) {
    const damaged = stream.slice();
    damaged[Math.floor(r() * damaged.length)] ^= 1 << Math.floor(r() * 8);
    const out = lz4Decompress(damaged, data.length);
    if (out !== undefined) assert.equal(out.length, data.length);
  }
  for (let i = 0; i < 2000; i++) {
    lz4Decompress(randomBytes(1 + Math.floor(r() * 64), i), Math.floor(r() * 300));
  }
});
