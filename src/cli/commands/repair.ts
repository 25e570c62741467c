// siltdb repair: rebuilds a store's manifest from its intact tables and logs
// (src/tools/repair.ts).

import { repair as repairStore, type RepairReport } from "../../tools/repair.ts";
import type { ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatCount, formatTable, jsonField, showBytes } from "../display.ts";
import { stdout } from "../io.ts";
import { requireDirectory } from "../bucket.ts";

const show = (k: Uint8Array | undefined) => (k === undefined ? "(start)" : showBytes(k, false));

/**
 * The report as text: kept tables, losses with file and offset, where the copies went.
 *
 * @example
 * ```ts
 * import { repair as repairStore } from "../../tools/repair.ts";
 * import { stdout } from "../io.ts";
 * await stdout.write(formatRepair(await repairStore("./data")));
 * ```
 */
export function formatRepair(r: RepairReport): string {
  let out = `repaired ${r.dir}: ${r.manifest} lists ${r.tables.length} tables, ${
    formatCount(r.entries)
  } entries, last sequence ${r.lastSequence}\n`;
  if (r.tables.length > 0) {
    out += `\nkept:\n${
      formatTable(
        ["table", "level", "entries", "smallest", "largest", "origin", "from"],
        r.tables.map((
          t,
        ) => [
          t.file,
          String(t.level),
          formatCount(t.entries),
          show(t.smallest),
          show(t.largest),
          t.origin,
          t.from.join(" "),
        ]),
      )
    }\n`;
  }
  const l = r.lost;
  if (r.lossless) out += "\nnothing was lost\n";
  else {
    out += `\nLOST: ${formatCount(l.entries)} entries counted${
      l.uncounted ? " (and some that could not be counted)" : ""
    }\n`;
    for (const b of l.blocks) {
      out += `${b.file}:${b.offset}: block of ${b.size} bytes lost (${b.what}): keys after ${show(b.after)} up to ${
        show(b.upTo)
      }\n`;
    }
    for (const rec of l.records) out += `${rec.file}:${rec.offset}: record skipped (${rec.what}), ${rec.bytes} bytes\n`;
    for (const t of l.tables) {
      const range = t.smallest && t.largest ? `, keys ${show(t.smallest)} .. ${show(t.largest)}` : "";
      out += `${t.file}:0: table dropped (${t.what})${
        t.entries === undefined ? "" : `, ${formatCount(t.entries)} entries`
      }${range}\n`;
    }
  }
  if (r.dropped.length > 0) out += `\nleft out (obsolete; their data is in the kept tables): ${r.dropped.join(" ")}\n`;
  out += `\ncopies of the ${r.copied.length} replaced or dropped files: ${r.lostDir}\n`;
  return out;
}

/**
 * The report as JSON-ready data (keys as text, or hex when not UTF-8).
 *
 * @example
 * ```ts
 * import { repair as repairStore } from "../../tools/repair.ts";
 * import { stdout } from "../io.ts";
 * await stdout.write(`${JSON.stringify(repairJson(await repairStore("./data")), null, 2)}\n`);
 * ```
 */
export function repairJson(r: RepairReport): unknown {
  const k = (name: string, b: Uint8Array | undefined) => (b === undefined ? {} : jsonField(name, b, false));
  return {
    ...r,
    tables: r.tables.map(({ smallest, largest, ...t }) => ({
      ...t,
      ...k("smallest", smallest),
      ...k("largest", largest),
    })),
    lost: {
      ...r.lost,
      blocks: r.lost.blocks.map(({ after, upTo, ...b }) => ({ ...b, ...k("after", after), ...k("upTo", upTo) })),
      tables: r.lost.tables.map(({ smallest, largest, ...t }) => ({
        ...t,
        ...k("smallest", smallest),
        ...k("largest", largest),
      })),
    },
  };
}

/**
 * `siltdb repair <dir>`: LevelDB's RepairDB for siltdb.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await repair.run(parseArgs(["./data", "--json"], repair.args));
 * ```
 */
export const repair: Command = {
  name: "repair",
  summary: "rebuild a damaged store from its intact tables and logs",
  usage: "siltdb repair <dir> [--json]",
  help: `Rebuilds the store's manifest from what is intact, as LevelDB's RepairDB:
intact tables are kept, the intact blocks of a damaged table are salvaged
into a new table, each log's intact records become a table (damaged records
are skipped), and a new MANIFEST and CURRENT are written atomically. Copies
of every file it replaces or drops go to <dir>/lost/<timestamp>/.

Prints what was kept (tables, entries, key ranges), what was lost (blocks
and records with file:offset, and their key ranges) and where the copies
went. Exits 0 when the store was repaired, even if data was lost (the
output says LOST), 1 if it could not be repaired. Takes the writer lock:
refuses (LOCKED) while the store is open elsewhere.

options:
  --json   the report as JSON (keys as text, or as "...Hex" when not UTF-8)

example:
  siltdb repair ./data && siltdb verify ./data`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    requireDirectory(args.positionals[0], "repair");
    const report = await repairStore(args.positionals[0]);
    await stdout.write(args.flags.json ? `${JSON.stringify(repairJson(report), null, 2)}\n` : formatRepair(report));
    return EXIT_OK;
  },
};
