// The siltdb command. `siltdb demo [dir]` (what `npm start` runs) writes a
// few thousand records, reads them back, reopens the store and prints a
// summary. More commands arrive with the CLI issue.

import process from "node:process";
import { open } from "../../mod.ts";

async function demo(dir: string): Promise<void> {
  const started = performance.now();
  const n = 10_000;
  let db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  const before = db.stats().sequence;
  for (let i = 0; i < n; i++) await db.put(`demo:${String(i).padStart(6, "0")}`, `value ${i} written at ${before}`);
  await db.batch().put("demo:meta", JSON.stringify({ n, at: new Date().toISOString() })).write({ sync: true });
  let readBack = 0;
  for (let i = 0; i < n; i++) if (db.getSync(`demo:${String(i).padStart(6, "0")}`) !== undefined) readBack++;
  await db.close();

  db = await open(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
  let scanned = 0;
  for await (const [key] of db.scan({ gte: "demo:", lt: "demo;" })) if (key !== "demo:meta") scanned++;
  const stats = db.stats();
  await db.close();
  const ms = performance.now() - started;
  console.log(`siltdb demo in ${dir}`);
  console.log(`  wrote ${n} records (+1 synced batch), read back ${readBack}`);
  console.log(`  reopened: ${scanned} demo records scanned, sequence ${stats.sequence}, ${stats.memtable.entries} memtable entries`);
  console.log(`  done in ${ms.toFixed(0)} ms`);
}

const [command = "demo", arg] = process.argv.slice(2);
if (command === "demo") {
  await demo(arg ?? "./siltdb-data");
} else {
  console.error(`usage: siltdb demo [dir]`);
  process.exit(2);
}
