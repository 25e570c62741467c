// siltdb bench: a quick db_bench pass over siltdb alone, with live progress
// and a final table. (The side-by-side comparison with other stores is
// bench/db_bench.ts in the repository: `npm run bench`.)

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { open } from "../../open.ts";
import { intFlag, type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatCount, formatTable } from "../display.ts";
import { stdout } from "../io.ts";
import { requireDirectory } from "../bucket.ts";
import { Progress } from "../progress.ts";
import { keyAt, shuffled } from "../workload.ts";

interface Row {
  name: string;
  ops: number;
  seconds: number;
}

/**
 * `siltdb bench [<dir>] [--keys N] [--value-size B]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await bench.run(parseArgs(["--keys", "100000", "--value-size", "100"], bench.args));
 * ```
 */
export const bench: Command = {
  name: "bench",
  summary: "a quick db_bench pass with live progress and a table",
  usage: "siltdb bench [<dir>] [--keys N] [--value-size B] [--json]",
  help: `Runs db_bench workloads against a new store (16-byte keys, 100-byte
values by default): fillrandom (awaited puts), fillbatch (batches of 1,000),
overwrite, readrandom (awaited get), readsync (getSync), readmissing, readseq
and readreverse (full scans), seekrandom (seek + next 10), deleterandom. Shows
progress as it goes and a table of operations per second at the end.

<dir> must not hold a store (the benchmark writes into it and leaves it); by
default a temporary directory is used and removed.

options:
  --keys N         keys (default 100,000)
  --value-size B   bytes per value (default 100)
  --json           print the results as JSON after the table

example:
  siltdb bench --keys 200000`,
  args: { flags: { keys: "number", "value-size": "number", json: "boolean" }, positionals: [0, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const n = intFlag(args, "keys", 100_000, 1);
    const valueSize = intFlag(args, "value-size", 100, 0);
    if (valueSize > 1 << 20) throw new UsageError("--value-size is at most 1 MiB here");
    if (args.positionals[0] !== undefined) requireDirectory(args.positionals[0], "bench");
    const temp = args.positionals[0] === undefined;
    const dir = args.positionals[0] ?? mkdtempSync(join(os.tmpdir(), "siltdb-bench-"));
    const db = await open(dir, { errorIfExists: true, keyEncoding: "utf8" });
    const rows: Row[] = [];
    const values = Array.from(
      { length: 64 },
      (_, v) => Uint8Array.from({ length: valueSize }, (_, j) => (v * 31 + j * 7) & 0xff),
    );
    const order = shuffled(n, 42);
    const other = shuffled(n, 7);
    const keys = Array.from(order, (i) => keyAt(i));

    async function step(
      name: string,
      ops: number,
      body: (tick: (done: number) => void) => Promise<void> | void,
    ): Promise<void> {
      const progress = new Progress(stdout, name.padEnd(12), { unit: "ops", total: ops });
      const started = performance.now();
      await body((done) => progress.update(done));
      const seconds = (performance.now() - started) / 1000;
      await progress.finish(ops);
      rows.push({ name, ops, seconds });
    }

    try {
      await stdout.write(`siltdb bench: ${formatCount(n)} keys, ${valueSize}-byte values, in ${dir}\n`);
      await step("fillrandom", n, async (tick) => {
        for (let i = 0; i < n; i++) {
          await db.put(keys[i], values[i & 63]);
          if ((i & 1023) === 0) tick(i);
        }
      });
      await step("fillbatch", n, async (tick) => {
        for (let i = 0; i < n; i += 1000) {
          const batch = db.batch();
          for (let j = i; j < Math.min(n, i + 1000); j++) batch.put(keyAt(other[j]), values[j & 63]);
          await batch.write();
          tick(i);
        }
      });
      await step("overwrite", n, async (tick) => {
        for (let i = 0; i < n; i++) {
          await db.put(keyAt(other[i]), values[(i + 5) & 63]);
          if ((i & 1023) === 0) tick(i);
        }
      });
      const check = (v: Uint8Array | undefined, key: string) => {
        if (v === undefined) throw new Error(`bench: ${key} was written but is not found`);
      };
      await step("readrandom", n, async (tick) => {
        for (let i = 0; i < n; i++) {
          check(await db.get(keyAt(other[i])), keyAt(other[i]));
          if ((i & 1023) === 0) tick(i);
        }
      });
      await step("readsync", n, (tick) => {
        for (let i = 0; i < n; i++) {
          check(db.getSync(keys[i]), keys[i]);
          if ((i & 1023) === 0) tick(i);
        }
      });
      await step("readmissing", n, async (tick) => {
        for (let i = 0; i < n; i++) {
          if ((await db.get(`${keys[i]}x`)) !== undefined) throw new Error("bench: found a key never written");
          if ((i & 1023) === 0) tick(i);
        }
      });
      for (const reverse of [false, true]) {
        await step(reverse ? "readreverse" : "readseq", n, (tick) => {
          let count = 0;
          for (const _ of db.scanSync({ reverse })) if ((++count & 4095) === 0) tick(count);
          if (count !== n) throw new Error(`bench: a full scan gave ${count} entries, expected ${n}`);
        });
      }
      const seeks = Math.max(1, Math.floor(n / 10));
      await step("seekrandom", seeks, (tick) => {
        for (let i = 0; i < seeks; i++) {
          for (const _ of db.scanSync({ gte: keys[i], limit: 10 }));
          if ((i & 255) === 0) tick(i);
        }
      });
      await step("deleterandom", seeks, async (tick) => {
        for (let i = 0; i < seeks; i++) {
          await db.delete(keys[i]);
          if ((i & 1023) === 0) tick(i);
        }
      });
      await stdout.write(`\n${
        formatTable(
          ["workload", "ops", "ops/s", "µs/op"],
          rows.map((r) => [
            r.name,
            formatCount(r.ops),
            formatCount(r.ops / r.seconds),
            ((r.seconds * 1e6) / r.ops).toFixed(2),
          ]),
        )
      }`);
      if (args.flags.json) {
        await stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, opsPerSec: r.ops / r.seconds })), null, 2)}\n`);
      }
    } finally {
      await db.close();
      if (temp) rmSync(dir, { recursive: true, force: true });
    }
    return EXIT_OK;
  },
};
