// siltdb verify: checks every file of a store, read-only (src/tools/verify.ts),
// or every object a store in a bucket needs (src/tools/verify_bucket.ts).

import { verify as verifyStore, type VerifyReport } from "../../tools/verify.ts";
import { type BucketVerifyReport, verifyBucket } from "../../tools/verify_bucket.ts";
import type { ParsedArgs } from "../args.ts";
import { BUCKET_HELP, bucketStore, formatRequests, isBucketUrl } from "../bucket.ts";
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

const MAX_ORPHANS_SHOWN = 20;

/**
 * The report on a store in a bucket as text: what was checked, the objects
 * nothing refers to (information), then one `object:offset: what` line per problem.
 *
 * @example
 * ```ts
 * import { verifyBucket } from "../../tools/verify_bucket.ts";
 * import { stdout } from "../io.ts";
 * await stdout.write(formatBucketVerify(await verifyBucket("s3://my-bucket/db1")));
 * ```
 */
export function formatBucketVerify(r: BucketVerifyReport): string {
  const c = r.checked;
  const rows = r.objects.map((o) => [
    o.name,
    o.kind,
    formatBytes(o.bytes),
    o.blocks === undefined ? "" : formatCount(o.blocks),
    o.records === undefined ? "" : formatCount(o.records),
    o.entries === undefined ? "" : formatCount(o.entries),
    o.problems === 0 ? "ok" : `${o.problems} problem${o.problems === 1 ? "" : "s"}`,
  ]);
  let out = `verified ${r.location}: ${formatCount(c.objects)} objects (manifest ${r.manifest ?? "unreadable"}, ` +
    `${c.tables} tables, ${c.walObjects} WAL objects${r.walStart === undefined ? "" : ` from ${r.walStart}`}), ` +
    `${formatCount(c.blocks)} blocks, ${formatCount(c.records)} records, ${formatCount(c.entries)} entries, ${
      formatBytes(c.bytes)
    }\n`;
  if (rows.length > 0) {
    out += `\n${formatTable(["object", "kind", "size", "blocks", "records", "entries", "status"], rows)}`;
  }
  if (r.orphans.length > 0) {
    const bytes = r.orphans.reduce((n, o) => n + o.bytes, 0);
    out += `\nnote: ${r.orphans.length} object${r.orphans.length === 1 ? "" : "s"} (${
      formatBytes(bytes)
    }) nothing refers to (not problems: the collector deletes them after gcMinAge):\n`;
    for (const o of r.orphans.slice(0, MAX_ORPHANS_SHOWN)) out += `  ${o.name}  ${formatBytes(o.bytes)}  ${o.why}\n`;
    if (r.orphans.length > MAX_ORPHANS_SHOWN) {
      out += `  ... and ${r.orphans.length - MAX_ORPHANS_SHOWN} more (--json lists them all)\n`;
    }
  }
  if (r.ok) return `${out}\nno problems found\n`;
  out += `\n${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}:\n`;
  for (const p of r.problems) out += `${p.file}:${p.offset}: ${p.what}\n`;
  return out;
}

/**
 * `siltdb verify <store>`: every table block, log record and manifest edit checked (a bucket: the objects the newest manifest needs).
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
  usage: "siltdb verify <store> [--json]",
  help: `Checks every file of the store without writing to it: each table
(footer, properties, index, filter, and every data block read from storage
with its checksum, every entry decoded, keys in order), each log (every
record's checksums and write batch; a torn tail, what a crash leaves, is
noted but is not a problem), the manifest (every edit decodes), CURRENT,
and that every table the manifest lists exists with the listed size.

Prints what was checked, then each problem as "file:offset: what". Exits 1
if there is any problem, 0 if the store is clean. Refuses (LOCKED) while a
writer has the store open.

A store in a bucket is checked without stopping its writer or readers: the
newest manifest (it decodes; its table numbers are unique), every table
object it lists (present, of the listed size, then as above; one GET each),
and the WAL objects from its WAL start on (no gap in their numbers, every
record and batch, an object cut short). Problems are "object:offset: what",
the object named relative to the store. Objects nothing refers to (older
manifests, tables no manifest lists, WAL objects already in tables) are
listed as information, not problems. Then the requests it made.

${BUCKET_HELP}

options:
  --json   the report as JSON: { dir, ok, files, checked, tornTails, problems };
           for a bucket { location, ok, manifest, walStart, objects, checked,
           orphans, problems }

example:
  siltdb verify ./data
  siltdb verify s3://my-bucket/db1`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const location = args.positionals[0];
    if (isBucketUrl(location)) {
      const store = bucketStore(location);
      const report = await verifyBucket(location, { objectStore: store });
      await stdout.write(
        args.flags.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : `${formatBucketVerify(report)}\nrequests: ${formatRequests(store.counters)}\n`,
      );
      return report.ok ? EXIT_OK : EXIT_PROBLEM;
    }
    const report = await verifyStore(location);
    await stdout.write(args.flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerify(report));
    return report.ok ? EXIT_OK : EXIT_PROBLEM;
  },
};
