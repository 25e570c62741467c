// siltdb stats: the figures of a store.

import type { ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { stdout } from "../io.ts";
import { formatStats, statsJson } from "../stats_view.ts";
import { openStore } from "../store.ts";

/**
 * `siltdb stats <dir>`: levels, memtables, amplification, cache, bloom, compactions, stalls.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await stats.run(parseArgs(["./data", "--json"], stats.args));
 * ```
 */
export const stats: Command = {
  name: "stats",
  summary: "show levels, memtables, amplification, cache, compactions",
  usage: "siltdb stats <dir> [--json]",
  help: `Opens the store read-only and prints a table per level (files, size,
entries, key range, bytes read and written by compactions), then the
memtable, write/read/space amplification, block cache and bloom filter
figures, the log, compaction counts and stall time. Counters such as cache
hits count since this open.

options:
  --json   the same figures as JSON (keys as "smallestKey" or "smallestKeyHex")

example:
  siltdb stats ./data`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const db = await openStore(args.positionals[0], { write: false });
    try {
      const s = db.stats();
      await stdout.write(args.flags.json ? `${JSON.stringify(statsJson(s), null, 2)}\n` : formatStats(s));
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};
