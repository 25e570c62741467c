// siltdb gc: one sweep of the collector of a store in a bucket
// (src/bucket_gc.ts): deletes what nothing has needed for the grace period.

import { collectGarbage } from "../../bucket_gc.ts";
import { type ParsedArgs, UsageError } from "../args.ts";
import { bucketStore, formatRequests, requireBucket } from "../bucket.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatCount } from "../display.ts";
import { stdout } from "../io.ts";

/**
 * `siltdb gc <s3://bucket/prefix> [--min-age SECONDS]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await gc.run(parseArgs(["s3://data/db1", "--min-age", "600"], gc.args));
 * ```
 */
export const gc: Command = {
  name: "gc",
  summary: "delete the objects of a store in a bucket that nothing needs",
  usage: "siltdb gc <s3://bucket/prefix> [--min-age SECONDS]",
  help: `Deletes the objects nothing has needed for the grace period: tables no
manifest of that period lists (and no writer or compactor may still
commit), WAL objects whose writes are all in tables, and retired manifests.
Safe while a writer, readers and a compactor run. The writer collects by
itself too; this is for stores whose writer is gone, or to see what waits.

options:
  --min-age SECONDS   the grace period (default 300: 5 minutes)

example:
  siltdb gc s3://data/app --min-age 600`,
  args: { flags: { "min-age": "number" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const url = args.positionals[0];
    requireBucket(url, "gc");
    const minAge = args.flags["min-age"] as number | undefined;
    if (minAge !== undefined && !(minAge >= 0)) throw new UsageError("--min-age must be >= 0 (seconds)");
    const store = bucketStore(url);
    const report = await collectGarbage(url, {
      objectStore: store,
      gcMinAge: minAge === undefined ? undefined : Math.round(minAge * 1000),
    });
    const d = report.deleted;
    await stdout.write(
      `deleted ${formatCount(d.tables)} tables, ${formatCount(d.wal)} WAL objects, ${
        formatCount(d.manifests)
      } manifests; ` +
        `${formatCount(report.waiting)} objects wait for the grace period\nrequests: ${
          formatRequests(store.counters)
        }\n`,
    );
    return EXIT_OK;
  },
};
