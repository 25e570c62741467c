// The values of bench/compression_bench.ts: JSON documents and random
// bytes, 200 to 2,000 bytes each, generated from fixed seeds.

import { uniform } from "./_shared.ts";

const POOL = 4096;

const FIRST = [
  "ada",
  "alan",
  "grace",
  "edsger",
  "barbara",
  "donald",
  "frances",
  "john",
  "margaret",
  "ken",
  "dennis",
  "linus",
];
const LAST = ["lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "allen", "backus", "hamilton", "thompson"];
const WORDS = [
  "blue",
  "red",
  "green",
  "black",
  "white",
  "cotton",
  "wool",
  "linen",
  "shirt",
  "jacket",
  "scarf",
  "socks",
  "boots",
  "lamp",
  "chair",
  "table",
  "mug",
  "kettle",
  "pan",
  "knife",
  "notebook",
  "pencil",
  "backpack",
  "bottle",
  "large",
  "small",
  "classic",
  "organic",
  "recycled",
  "premium",
  "set",
  "pack",
];
const STATUS = ["pending", "paid", "shipped", "delivered", "returned", "cancelled"];
const TAGS = ["gift", "express", "fragile", "bulk", "discount", "priority", "international", "repeat-customer"];
const PRICES = [4.99, 9.99, 12.5, 19.99, 24.95, 29.99, 49, 79.9, 99.99, 149];

/**
 * An order as a web shop's API returns it, of about `size` bytes: field
 * names, words of a small vocabulary, ids, counts, prices and dates.
 */
export function jsonValue(size: number, random: () => number): Uint8Array {
  const pick = <T>(a: readonly T[]) => a[Math.floor(random() * a.length)];
  const first = pick(FIRST);
  const last = pick(LAST);
  const day = 1 + Math.floor(random() * 28);
  const o = {
    id: 100000 + Math.floor(random() * 900000),
    type: "order",
    status: pick(STATUS),
    createdAt: `2024-${String(1 + Math.floor(random() * 12)).padStart(2, "0")}-${String(day).padStart(2, "0")}T${
      String(Math.floor(random() * 24)).padStart(2, "0")
    }:${String(Math.floor(random() * 60)).padStart(2, "0")}:00Z`,
    customer: { id: Math.floor(random() * 50000), name: `${first} ${last}`, email: `${first}.${last}@example.com` },
    items: [] as unknown[],
    tags: [pick(TAGS), pick(TAGS)],
  };
  let text = JSON.stringify(o);
  while (text.length < size) {
    o.items.push({
      sku: `SKU-${String(Math.floor(random() * 2000)).padStart(5, "0")}`,
      name: `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`,
      qty: 1 + Math.floor(random() * 4),
      price: pick(PRICES),
    });
    text = JSON.stringify(o);
  }
  return new TextEncoder().encode(text.slice(0, size));
}

/** The pool of 4,096 values of a kind ("json" or "random"), 200 to 2,000 bytes each, the same every run. */
export function values(kind: string): Uint8Array[] {
  const random = uniform(kind === "json" ? 7 : 11);
  return Array.from({ length: POOL }, () => {
    const size = 200 + Math.floor(random() * 1801);
    return kind === "json"
      ? jsonValue(size, random)
      : Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
  });
}
