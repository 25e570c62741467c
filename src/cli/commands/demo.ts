// siltdb demo: the main job (`npm start`). Loads a million keys with a
// progress bar, reads a sample back, scans a range, prints the stats table
// and where the files went, and says how to open the shell.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseFileName } from "../../version/file_names.ts";
import { intFlag, type ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatBytes, formatCount, formatTable } from "../display.ts";
import { stdout } from "../io.ts";
import { memoryLine } from "../memory.ts";
import { Progress } from "../progress.ts";
import { formatStats } from "../stats_view.ts";
import { openStore } from "../store.ts";
import { shuffled } from "../workload.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function userKey(i: number): string {
  return `user:${String(i).padStart(7, "0")}`;
}

function userValue(i: number, run: number): string {
  return JSON.stringify({ id: i, name: `user ${i}`, score: (i * 7919) % 1000, run });
}

/** The files of the store by kind: count and bytes. */
function filesOf(dir: string): string[][] {
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (const name of readdirSync(dir)) {
    const kind = parseFileName(name)?.kind ?? "other";
    const k = kinds.get(kind) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += statSync(join(dir, name)).size;
    kinds.set(kind, k);
  }
  return [...kinds].sort().map(([kind, k]) => [kind, formatCount(k.count), formatBytes(k.bytes)]);
}

/**
 * `siltdb demo [dir] [--keys N]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await demo.run(parseArgs(["./siltdb-data", "--keys", "10000"], demo.args));
 * ```
 */
export const demo: Command = {
  name: "demo",
  summary: "the main job: load a million keys with progress, read, scan, show stats",
  usage: "siltdb demo [dir] [--keys N]",
  help: `What "npm start" runs. Loads --keys keys (default 1,000,000; "user:0000042"
-> a small JSON value) in random order in atomic batches of 1,000 into <dir>
(default ./siltdb-data) with a progress bar and the memory in use, reads a
random sample back and checks it, scans a range, prints the stats table and
the files on disk, and says how to open the shell. Running it again
overwrites the same keys (the values record which run wrote them).

example:
  siltdb demo ./siltdb-data --keys 200000`,
  args: { flags: { keys: "number" }, positionals: [0, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const dir = args.positionals[0] ?? "./siltdb-data";
    const n = intFlag(args, "keys", 1_000_000, 1);
    const db = await openStore(dir, { write: true, create: true, command: "demo" });
    try {
      const run = db.stats().sequence;
      await stdout.write(`siltdb demo: ${formatCount(n)} keys into ${dir}\n`);
      const order = shuffled(n, 1);
      const progress = new Progress(stdout, "load", { unit: "keys", total: n, extra: () => memoryLine(db.stats()) });
      for (let i = 0; i < n; i += 1000) {
        const batch = db.batch();
        for (let j = i; j < Math.min(n, i + 1000); j++) batch.put(userKey(order[j]), userValue(order[j], run));
        await batch.write(i + 1000 >= n ? { sync: true } : undefined);
        progress.update(Math.min(n, i + 1000));
      }
      await progress.finish(n);

      const sample = Math.min(n, 10_000);
      const picks = shuffled(n, 2).subarray(0, sample);
      let started = performance.now();
      for (const i of picks) {
        const value = db.getSync(encoder.encode(userKey(i)));
        if (value === undefined || decoder.decode(value) !== userValue(i, run)) {
          throw new Error(`demo: ${userKey(i)} did not read back what was written`);
        }
      }
      let us = ((performance.now() - started) * 1000) / sample;
      await stdout.write(
        `read back ${formatCount(sample)} random keys: all correct, ${us.toFixed(2)} µs each (getSync)\n`,
      );

      const from = Math.floor(n / 2);
      started = performance.now();
      let scanned = 0;
      let last = "";
      for (const [key] of db.scanSync({ gte: encoder.encode(userKey(from)), limit: 1000 })) {
        scanned++;
        last = decoder.decode(key);
      }
      us = (performance.now() - started) * 1000;
      await stdout.write(
        `scanned ${formatCount(scanned)} keys from ${userKey(from)} to ${last} in ${(us / 1000).toFixed(2)} ms\n`,
      );

      await db.flush();
      await stdout.write(`\n${formatStats(db.stats())}memory now   ${memoryLine(db.stats())}\n`);
    } finally {
      await db.close();
    }
    await stdout.write(`\nfiles in ${dir}:\n${formatTable(["kind", "files", "size"], filesOf(dir))}`);
    await stdout.write(`
look inside:
  npx siltdb shell ${dir}                       (Node; "bunx siltdb shell", or "deno run -A src/cli/main.ts shell" from the repository)
  npx siltdb scan ${dir} --prefix user:00001 --limit 5
  npx siltdb stats ${dir}
`);
    return EXIT_OK;
  },
};
