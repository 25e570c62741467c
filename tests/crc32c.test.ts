import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, core, scratch } from "../src/wasm/instance.ts";
import { utf8 } from "./_harness.ts";

function crc(data: Uint8Array): number {
  const ptr = scratch(data.length);
  bytes().set(data, ptr);
  return core.crc32c(ptr, data.length) >>> 0;
}

test("crc32c matches the standard check value for '123456789'", () => {
  assert.equal(crc(utf8("123456789")), 0xe3069283);
});

test("crc32c matches the RFC 3720 (iSCSI) test vectors", () => {
  assert.equal(crc(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test("crc32c of nothing is 0 and differs for one flipped bit at any length", () => {
  assert.equal(crc(new Uint8Array(0)), 0);
  for (const n of [1, 7, 8, 9, 63, 64, 65, 1000]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
    const before = crc(data);
    data[n >> 1] ^= 0x10;
    assert.notEqual(crc(data), before, `length ${n}`);
  }
});

test("crc32c of a split buffer equals the bytewise reference", () => {
  // Reference: bit-at-a-time CRC-32C.
  const reference = (data: Uint8Array): number => {
    let c = 0xffffffff;
    for (const b of data) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  for (const n of [0, 1, 3, 8, 15, 16, 17, 100, 4099]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 7919 + 13) & 0xff);
    assert.equal(crc(data), reference(data), `length ${n}`);
  }
});

test("masking is invertible and changes the value", () => {
  for (const v of [0, 1, 0xe3069283, 0xffffffff, 0x12345678]) {
    const masked = core.crcMask(v) >>> 0;
    assert.notEqual(masked, v);
    assert.equal(core.crcUnmask(masked) >>> 0, v);
  }
});
