// siltdb verify: checks every file of a store, read-only (src/tools/verify.ts).

import { verify as verifyStore, type VerifyReport } from "../../tools/verify.ts";
import type { ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { formatBytes, formatCount, formatTable } from "../display.ts";
import { stdout } from "../io.ts";

/**
 * The report as text: what was checked, torn tails, then one `file:offset: what` line per problem.
 *
 * @example
 * ```ts
 * import { verify as verifyStore } from "../../tools/verify.ts";
 * import { stdout } from "../io.ts";
 * await stdout.write(formatVerify(await verifyStore("./data")));
 * ```
 */
export function formatVerify(r: VerifyReport): string {
  const c = r.checked;
  const rows = r.files.map((f) => [
    f.name,
    f.kind,
    formatBytes(f.bytes),
    f.blocks === undefined ? "" : formatCount(f.blocks),
    f.records === undefined ? "" : formatCount(f.records),
    f.entries === undefined ? "" : formatCount(f.entries),
    f.problems === 0 ? "ok" : `${f.problems} problem${f.problems === 1 ? "" : "s"}`,
  ]);
  let out =
    `verified ${r.dir}: ${
      formatCount(c.files)
    } files (${c.tables} tables, ${c.logs} logs, ${c.manifests} manifests), ` +
    `${formatCount(c.blocks)} blocks, ${formatCount(c.records)} records, ${formatCount(c.entries)} entries, ${
      formatBytes(c.bytes)
    }\n`;
  if (rows.length > 0) {
    out += `\n${formatTable(["file", "kind", "size", "blocks", "records", "entries", "status"], rows)}\n`;
  }
  for (const t of r.tornTails) {
    out +=
      `note: ${t.file}:${t.offset}: torn tail of ${t.bytes} bytes (a crash cut the last write; recovery stops there)\n`;
  }
  if (r.ok) return `${out}\nno problems found\n`;
  out += `\n${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}:\n`;
  for (const p of r.problems) out += `${p.file}:${p.offset}: ${p.what}\n`;
  return `${out}\nrun \`siltdb repair ${r.dir}\` to rebuild the store from what is intact\n`;
}

/**
 * `siltdb verify <dir>`: every table block, log record and manifest edit checked.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await verify.run(parseArgs(["./data"], verify.args)); // EXIT_PROBLEM when problems are found
 * ```
 */
export const verify: Command = {
  name: "verify",
  summary: "check every file of a store (read-only)",
  usage: "siltdb verify <dir> [--json]",
  help: `Checks every file of the store without writing to it: each table
(footer, properties, index, filter, and every data block read from storage
with its checksum, every entry decoded, keys in order), each log (every
record's checksums and write batch; a torn tail, what a crash leaves, is
noted but is not a problem), the manifest (every edit decodes), CURRENT,
and that every table the manifest lists exists with the listed size.

Prints what was checked, then each problem as "file:offset: what". Exits 1
if there is any problem, 0 if the store is clean. Refuses (LOCKED) while a
writer has the store open.

options:
  --json   the report as JSON: { dir, ok, files, checked, tornTails, problems }

example:
  siltdb verify ./data`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const report = await verifyStore(args.positionals[0]);
    await stdout.write(args.flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerify(report));
    return report.ok ? EXIT_OK : EXIT_PROBLEM;
  },
};
