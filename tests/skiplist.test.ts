import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, core, scratch, writeData } from "../src/wasm/instance.ts";
import { KIND_DELETE, KIND_PUT } from "../src/format/internal_key.ts";
import { nodeEntry, TestMemtable as Memtable } from "./_core.ts";
import { compareBytes, rng, text, utf8 } from "./_harness.ts";

/** Internal-key order: user key ascending, sequence descending. */
function internalOrder(a: { key: Uint8Array; sequence: number }, b: { key: Uint8Array; sequence: number }): number {
  return compareBytes(a.key, b.key) || b.sequence - a.sequence;
}

function seek(mt: Memtable, key: string | Uint8Array, sequence: number): number {
  const ptr = scratch(64 + key.length * 3);
  const len = writeData(ptr, key);
  return core.mtSeekTo(mt.ptr, ptr, len, sequence, 0xff);
}

test("lookup returns the value, a tombstone, or absence", () => {
  const mt = new Memtable();
  try {
    mt.add("a", 1, KIND_PUT, "1");
    mt.add("b", 2, KIND_PUT, "2");
    mt.add("b", 3, KIND_DELETE);
    assert.equal(text(mt.lookup("a", 10) ?? undefined), "1");
    assert.equal(mt.lookup("b", 10), null);
    assert.equal(text(mt.lookup("b", 2) ?? undefined), "2");
    assert.equal(mt.lookup("c", 10), undefined);
    assert.equal(mt.lookup("a", 0), undefined, "a sequence before the write sees nothing");
    assert.equal(mt.count, 3);
  } finally {
    mt.free();
  }
});

test("many versions of one key: each sequence sees its own version", () => {
  const mt = new Memtable();
  try {
    for (let s = 1; s <= 500; s++) mt.add("k", s, s % 7 === 0 ? KIND_DELETE : KIND_PUT, `v${s}`);
    for (let s = 1; s <= 500; s++) {
      const got = mt.lookup("k", s);
      if (s % 7 === 0) assert.equal(got, null, `seq ${s}`);
      else assert.equal(text(got ?? undefined), `v${s}`, `seq ${s}`);
    }
    const seqs = [...mt.entries()].map((e) => e.sequence);
    assert.deepEqual(seqs, Array.from({ length: 500 }, (_, i) => 500 - i), "newest version first");
  } finally {
    mt.free();
  }
});

test("keys that share 8-byte prefixes, are prefixes of each other, or hold zero bytes sort bytewise", () => {
  const mt = new Memtable();
  try {
    const keys = [
      new Uint8Array(0),
      utf8("a"),
      utf8("a\0"),
      utf8("a\0\0"),
      utf8("abcdefgh"),
      utf8("abcdefgh\0"),
      utf8("abcdefghi"),
      utf8("abcdefgha"),
      utf8("abcdefgi"),
      new Uint8Array([0xff]),
      new Uint8Array([0xff, 0]),
      new Uint8Array([0x80]),
      new Uint8Array([0x7f, 0xff]),
      utf8("abcdefghabcdefgh"),
      utf8("abcdefghabcdefgi"),
    ];
    keys.forEach((k, i) => mt.add(k, i + 1, KIND_PUT, `v${i}`));
    const got = [...mt.entries()].map((e) => Array.from(e.key));
    const want = [...keys].sort(compareBytes).map((k) => Array.from(k));
    assert.deepEqual(got, want);
  } finally {
    mt.free();
  }
});

test("random inserts iterate in internal-key order, forward and backward", () => {
  const random = rng(42);
  const mt = new Memtable();
  try {
    const model: { key: Uint8Array; sequence: number; value: string }[] = [];
    for (let s = 1; s <= 3000; s++) {
      const len = Math.floor(random() * 20);
      const key = Uint8Array.from({ length: len }, () => Math.floor(random() * 4) * 60);
      model.push({ key, sequence: s, value: `v${s}` });
      mt.add(key, s, KIND_PUT, `v${s}`);
    }
    model.sort(internalOrder);
    const forward = [...mt.entries()];
    assert.equal(forward.length, model.length);
    forward.forEach((e, i) => {
      assert.deepEqual(e.key, model[i].key);
      assert.equal(e.sequence, model[i].sequence);
      assert.equal(text(e.value), model[i].value);
    });
    const backward = [];
    for (let node = core.mtLast(mt.ptr); node !== 0; node = core.mtPrev(mt.ptr, node)) backward.push(nodeEntry(node));
    assert.deepEqual(backward.map((e) => e.sequence), model.map((e) => e.sequence).reverse());
  } finally {
    mt.free();
  }
});

test("seek lands on the first entry at or after the internal key", () => {
  const mt = new Memtable();
  try {
    mt.add("b", 5, KIND_PUT, "b5");
    mt.add("b", 3, KIND_PUT, "b3");
    mt.add("d", 4, KIND_PUT, "d4");
    const at = (node: number) => node === 0 ? "end" : `${text(nodeEntry(node).key)}${nodeEntry(node).sequence}`;
    assert.equal(at(seek(mt, "a", 100)), "b5");
    assert.equal(at(seek(mt, "b", 100)), "b5");
    assert.equal(at(seek(mt, "b", 4)), "b3", "as of sequence 4, b5 is skipped");
    assert.equal(at(seek(mt, "b", 2)), "d4");
    assert.equal(at(seek(mt, "c", 1)), "d4");
    assert.equal(at(seek(mt, "e", 100)), "end");
    assert.equal(core.mtFirst(mt.ptr) !== 0, true);
    assert.equal(at(core.mtLast(mt.ptr)), "d4");
    assert.equal(core.mtPrev(mt.ptr, core.mtFirst(mt.ptr)), 0);
  } finally {
    mt.free();
  }
});

test("an empty memtable has no first or last entry", () => {
  const mt = new Memtable();
  try {
    assert.equal(core.mtFirst(mt.ptr), 0);
    assert.equal(core.mtLast(mt.ptr), 0);
    assert.equal(mt.lookup("x", 1), undefined);
  } finally {
    mt.free();
  }
});

test("big values and empty values are stored whole; memory usage grows with data", () => {
  const mt = new Memtable();
  try {
    const before = mt.memoryUsage;
    const big = Uint8Array.from({ length: 3 << 20 }, (_, i) => i & 0xff);
    mt.add("big", 1, KIND_PUT, big);
    mt.add("empty", 2, KIND_PUT, new Uint8Array(0));
    for (let i = 0; i < 1000; i++) mt.add(`k${i}`, 10 + i, KIND_PUT, "x".repeat(100));
    assert.deepEqual(mt.lookup("big", 5), big);
    assert.deepEqual(mt.lookup("empty", 5), new Uint8Array(0));
    assert.ok(mt.memoryUsage >= before + big.length + 100_000, `memory usage ${mt.memoryUsage}`);
    assert.ok(mt.bytesUsed >= big.length + 100_000);
    assert.ok(bytes().length >= mt.memoryUsage);
  } finally {
    mt.free();
  }
});

test("several memtables live at once and freeing one leaves the others intact", () => {
  const tables = Array.from({ length: 5 }, () => new Memtable());
  try {
    tables.forEach((mt, t) => {
      for (let i = 0; i < 2000; i++) mt.add(`k${i}`, i + 1, KIND_PUT, `t${t}-${i}`);
    });
    tables[2].free();
    const fresh = new Memtable();
    for (let i = 0; i < 2000; i++) fresh.add(`k${i}`, i + 1, KIND_PUT, `fresh-${i}`);
    tables[2] = fresh;
    tables.forEach((mt, t) => {
      for (const i of [0, 999, 1999]) {
        assert.equal(text(mt.lookup(`k${i}`, 10_000) ?? undefined), t === 2 ? `fresh-${i}` : `t${t}-${i}`);
      }
    });
  } finally {
    for (const mt of tables) mt.free();
  }
});

test("point lookups agree with a model for many keys and versions as the hash index grows", () => {
  const random = rng(7);
  const mt = new Memtable();
  try {
    // history[key] = [sequence, value | null][] in insertion (= sequence) order
    const history = new Map<string, [number, string | null][]>();
    let sequence = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = `key-${Math.floor(random() * 6000)}`;
      const del = random() < 0.2;
      sequence++;
      mt.add(key, sequence, del ? KIND_DELETE : KIND_PUT, del ? "" : `v${sequence}`);
      const versions = history.get(key) ?? [];
      versions.push([sequence, del ? null : `v${sequence}`]);
      history.set(key, versions);
    }
    assert.ok(mt.memoryUsage > 6000 * 8, "the index grew past its first capacity");
    for (let probe = 0; probe < 5000; probe++) {
      const key = `key-${Math.floor(random() * 6500)}`;
      const at = Math.floor(random() * (sequence + 1));
      const visible = (history.get(key) ?? []).filter(([s]) => s <= at).at(-1);
      const got = mt.lookup(key, at);
      if (visible === undefined) assert.equal(got, undefined, `${key} @${at}`);
      else if (visible[1] === null) assert.equal(got, null, `${key} @${at}`);
      else assert.equal(text(got ?? undefined), visible[1], `${key} @${at}`);
    }
  } finally {
    mt.free();
  }
});

test("versions inserted out of sequence order still resolve to the newest", () => {
  const mt = new Memtable();
  try {
    mt.add("k", 5, KIND_PUT, "five");
    mt.add("k", 9, KIND_PUT, "nine");
    mt.add("k", 7, KIND_DELETE);
    mt.add("k", 2, KIND_PUT, "two");
    assert.equal(text(mt.lookup("k", 100) ?? undefined), "nine");
    assert.equal(mt.lookup("k", 8), null);
    assert.equal(text(mt.lookup("k", 6) ?? undefined), "five");
    assert.equal(text(mt.lookup("k", 4) ?? undefined), "two");
    assert.equal(mt.lookup("k", 1), undefined);
  } finally {
    mt.free();
  }
});
