// siltdb compactor: the compactor of a store in a bucket, in this process
// (src/remote_compactor.ts). It runs until SIGINT or SIGTERM (the job under
// way is committed or dropped first), or with --once until the policy is
// satisfied; one line per compaction, then the totals and the requests.

import process from "node:process";
import type { CompactionEvent } from "../../events.ts";
import { Compactor } from "../../remote_compactor.ts";
import { type ParsedArgs, UsageError } from "../args.ts";
import { bucketStore, formatRequests, requireBucket } from "../bucket.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatBytes, formatCount } from "../display.ts";
import { stderr, stdout } from "../io.ts";

function line(e: CompactionEvent): string {
  if (e.trivialMove) return `L${e.fromLevel} -> L${e.toLevel}: 1 table moved\n`;
  return `L${e.fromLevel} -> L${e.toLevel}: ${e.inputFiles} tables -> ${e.outputFiles}, ` +
    `${formatBytes(e.bytesRead)} read, ${formatBytes(e.bytesWritten)} written, ` +
    `${formatCount(e.entriesDropped)} entries dropped, ${(e.durationMs / 1000).toFixed(2)} s\n`;
}

/**
 * `siltdb compactor <s3://bucket/prefix> [--once] [--tiered] [--target-file-size N] [--poll-ms N]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await compactor.run(parseArgs(["s3://data/db1", "--once"], compactor.args));
 * ```
 */
export const compactor: Command = {
  name: "compactor",
  summary: "run the compactor of a store in a bucket",
  usage: "siltdb compactor <s3://bucket/prefix> [--once] [--tiered] [--target-file-size N] [--poll-ms N]",
  help: `Claims the compactor role of the store (a compactor running elsewhere is
fenced) and compacts it in this process, so that the writer — opened with
compaction: "remote" — only flushes. Prints one line per compaction. Runs
until SIGINT or SIGTERM (the job under way is finished first), or with
--once until there is nothing to compact; then prints the totals and the
requests made. Exits 1 if another compactor takes over (FENCED).

options:
  --once                 compact until the policy is satisfied, then exit
  --tiered               the tiered policy (default: leveled)
  --target-file-size N   bytes per table written (default 2 MiB)
  --poll-ms N            milliseconds between looks at the manifest when idle (default 1000)

example:
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:7480 siltdb compactor s3://data/app`,
  args: {
    flags: { once: "boolean", tiered: "boolean", "target-file-size": "number", "poll-ms": "number" },
    positionals: [1, 1],
  },
  async run(args: ParsedArgs): Promise<number> {
    const url = args.positionals[0];
    requireBucket(url, "compactor");
    const target = args.flags["target-file-size"] as number | undefined;
    const poll = args.flags["poll-ms"] as number | undefined;
    if (poll !== undefined && (!Number.isInteger(poll) || poll < 0)) throw new UsageError("--poll-ms must be >= 0");
    const store = bucketStore(url);
    const writes: Promise<unknown>[] = [];
    const c = await Compactor.open(url, {
      objectStore: store,
      compaction: args.flags.tiered === true ? "tiered" : "leveled",
      targetFileSize: target,
      pollInterval: poll,
      onCompaction: (e) => writes.push(stdout.write(line(e))),
      onRetry: (err) => writes.push(stderr.write(`retrying after: ${err.message}\n`)),
    });
    await stdout.write(`compactor of ${c.location} (epoch ${c.epoch})\n`);
    try {
      if (args.flags.once === true) {
        while (await c.compactOnce());
      } else {
        const stop = () => void c.stop();
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        try {
          await c.run();
        } finally {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        }
      }
    } finally {
      await c.stop();
      await Promise.all(writes);
      const s = c.stats;
      await stdout.write(
        `${formatCount(s.compactions)} compactions, ${formatCount(s.trivialMoves)} moves; ` +
          `${formatBytes(s.bytesRead)} read, ${formatBytes(s.bytesWritten)} written; ${(s.ms / 1000).toFixed(2)} s\n` +
          `requests: ${formatRequests(store.counters)}\n`,
      );
    }
    return EXIT_OK;
  },
};
