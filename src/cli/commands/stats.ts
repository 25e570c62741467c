// siltdb stats: the figures of a store (in a bucket, with its manifest and
// the requests made to the bucket).

import { SiltError } from "../../errors.ts";
import { latestManifest } from "../../object_store/bucket_manifest.ts";
import type { ParsedArgs } from "../args.ts";
import { BUCKET_HELP } from "../bucket.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { stdout } from "../io.ts";
import { type BucketView, formatStats, statsJson } from "../stats_view.ts";
import { openLocation } from "../store.ts";

/**
 * `siltdb stats <store>`: levels, memtables, amplification, cache, bloom, compactions, stalls.
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
  usage: "siltdb stats <store> [--json]",
  help: `Opens the store read-only and prints a table per level (files, size,
entries, key range, bytes read and written by compactions), then the
memtable, write/read/space amplification, block cache and bloom filter
figures, the log, compaction counts and stall time. Counters such as cache
hits count since this open.

For a store in a bucket, instead of the log: the newest manifest (its
number, the writer and compactor epochs, the first WAL object not yet in
tables, the last sequence, the tables per level) and the requests this
command made to the bucket (GET, HEAD, PUT, LIST, DELETE, bytes read and
written, retries, time spent waiting on the store).

${BUCKET_HELP}

options:
  --json   the same figures as JSON (keys as "smallestKey" or "smallestKeyHex";
           a bucket adds "bucket": { location, manifest, requests })

example:
  siltdb stats ./data
  siltdb stats s3://my-bucket/db1`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const { db, bucket } = await openLocation(args.positionals[0], { write: false, bucket: true });
    try {
      const s = db.stats();
      let view: BucketView | undefined;
      if (bucket) {
        const manifest = await latestManifest(bucket);
        if (manifest === undefined) {
          throw new SiltError("NOT_FOUND", `${bucket.location} holds no database (no manifest)`, {
            file: bucket.location,
          });
        }
        view = { location: bucket.location, manifest, requests: bucket.counters };
      }
      await stdout.write(args.flags.json ? `${JSON.stringify(statsJson(s, view), null, 2)}\n` : formatStats(s, view));
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};
