// XXH64, the table checksum: the published reference values, and every
// length up to 300 bytes against a straightforward BigInt implementation of
// the specification (covers the 32-byte stripes and every tail path).

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, core } from "../src/wasm/instance.ts";

function coreXxh64(data: Uint8Array): bigint {
  const ptr = core.bufferAlloc(Math.max(1, data.length));
  try {
    bytes().set(data, ptr);
    return (BigInt(core.xxh64High(ptr, data.length) >>> 0) << 32n) | BigInt(core.checksum32(ptr, data.length) >>> 0);
  } finally {
    core.bufferFree(ptr);
  }
}

const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n,
  P2 = 0xc2b2ae3d27d4eb4fn,
  P3 = 0x165667b19e3779f9n,
  P4 = 0x85ebca77c2b2ae63n,
  P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
const mul = (a: bigint, b: bigint) => (a * b) & M;
const add = (a: bigint, b: bigint) => (a + b) & M;
const round = (acc: bigint, lane: bigint) => mul(rotl(add(acc, mul(lane, P2)), 31n), P1);
const le = (d: Uint8Array, at: number, n: number) => {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(d[at + i]);
  return v;
};

/** XXH64 (seed 0) as the specification describes it. */
function referenceXxh64(d: Uint8Array): bigint {
  let p = 0;
  let h: bigint;
  if (d.length >= 32) {
    const v = [add(P1, P2), P2, 0n, (M + 1n - P1) & M];
    while (p + 32 <= d.length) {
      for (let i = 0; i < 4; i++) v[i] = round(v[i], le(d, p + i * 8, 8));
      p += 32;
    }
    h = add(add(rotl(v[0], 1n), rotl(v[1], 7n)), add(rotl(v[2], 12n), rotl(v[3], 18n)));
    for (const x of v) h = add(mul(h ^ round(0n, x), P1), P4);
  } else {
    h = P5;
  }
  h = add(h, BigInt(d.length));
  for (; p + 8 <= d.length; p += 8) h = add(mul(rotl(h ^ round(0n, le(d, p, 8)), 27n), P1), P4);
  if (p + 4 <= d.length) {
    h = add(mul(rotl(h ^ mul(le(d, p, 4), P1), 23n), P2), P3);
    p += 4;
  }
  for (; p < d.length; p++) h = mul(rotl(h ^ mul(BigInt(d[p]), P5), 11n), P1);
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  return h ^ (h >> 32n);
}

test("xxh64 gives the published reference values", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(coreXxh64(text("")), 0xef46db3751d8e999n);
  assert.equal(coreXxh64(text("a")), 0xd24ec4f1a98c6e5bn);
  assert.equal(coreXxh64(text("abc")), 0x44bc2cf5ad770999n);
  assert.equal(coreXxh64(text("Nobody inspects the spammish repetition")), 0xfbcea83c8a378bf1n);
});

test("xxh64 matches the specification at every length up to 300 bytes", () => {
  let seed = 7;
  const data = Uint8Array.from({ length: 300 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  for (let n = 0; n <= 300; n++) {
    assert.equal(coreXxh64(data.subarray(0, n)), referenceXxh64(data.subarray(0, n)), `length ${n}`);
  }
});

test("one flipped bit anywhere in a 4 KiB block changes its 32-bit table checksum", () => {
  const block = Uint8Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff);
  const ptr = core.bufferAlloc(block.length);
  try {
    bytes().set(block, ptr);
    const clean = core.checksum32(ptr, block.length);
    for (let at = 0; at < block.length; at += 7) {
      const bit = 1 << (at % 8);
      bytes()[ptr + at] ^= bit;
      assert.notEqual(core.checksum32(ptr, block.length), clean, `bit ${at % 8} of byte ${at}`);
      bytes()[ptr + at] ^= bit;
    }
  } finally {
    core.bufferFree(ptr);
  }
});
