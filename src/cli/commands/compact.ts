// siltdb compact: a manual compaction of the whole store or of a key range.

import { type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatBytes } from "../display.ts";
import { stdout } from "../io.ts";
import { bytesArg, openStore, type Store } from "../store.ts";

function shape(db: Store): string {
  const s = db.stats();
  const used = s.levels.filter((l) => l.files > 0);
  const bytes = used.reduce((n, l) => n + l.bytes, 0);
  return `${used.map((l) => `L${l.level}: ${l.files}`).join(", ") || "no tables"} (${formatBytes(bytes)})`;
}

/**
 * `siltdb compact <dir> [--start K --end K] [--wait]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await compact.run(parseArgs(["./data", "--start", "a", "--end", "m"], compact.args));
 * ```
 */
export const compact: Command = {
  name: "compact",
  summary: "compact the whole store, or a key range",
  usage: "siltdb compact <dir> [--start K --end K] [--hex] [--wait]",
  help: `Flushes the memtable and compacts every level (or only the tables that
overlap [--start, --end]), dropping overwritten and deleted entries; prints
the levels before and after and the time taken.

options:
  --start K, --end K   compact only this key range (both needed)
  --hex                K is given in hex
  --wait               then wait until no flush or compaction is pending
                       (db.waitForCompactions()): the levels shown are settled

example:
  siltdb compact ./data --start user: --end user;`,
  args: { flags: { start: "string", end: "string", hex: "boolean", wait: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const { start, end } = args.flags as { start?: string; end?: string };
    if ((start === undefined) !== (end === undefined)) throw new UsageError("--start and --end go together");
    const hex = args.flags.hex === true;
    const range = start !== undefined ? [bytesArg(start, hex, "--start"), bytesArg(end!, hex, "--end")] : undefined;
    const db = await openStore(args.positionals[0], { write: true, command: "compact" });
    try {
      const before = shape(db);
      const started = performance.now();
      if (range) {
        await db.flush();
        await db.compactRange(range[0], range[1]);
      } else {
        await db.compact();
      }
      if (args.flags.wait === true) await db.waitForCompactions();
      const ms = performance.now() - started;
      await stdout.write(`before: ${before}\nafter:  ${shape(db)}\ncompacted in ${(ms / 1000).toFixed(2)} s\n`);
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};
