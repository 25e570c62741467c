// siltdb scan: a range of entries, in order or reversed.

import { intFlag, type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { jsonField, showBytes } from "../display.ts";
import { stdout } from "../io.ts";
import { BUCKET_HELP } from "../bucket.ts";
import { bytesArg, entryChunks, openLocation } from "../store.ts";
import type { ScanOptions } from "../../read/scan_options.ts";

/**
 * Range flags shared by scan and export.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const args = parseArgs(["./data", "--gte", "a", "--lt", "b"], { flags: { ...RANGE_FLAGS, json: "boolean" }, positionals: [1, 1] });
 * ```
 */
export const RANGE_FLAGS = {
  prefix: "string",
  gte: "string",
  gt: "string",
  lte: "string",
  lt: "string",
  reverse: "boolean",
  limit: "number",
  hex: "boolean",
} as const;

/**
 * Scan options from --prefix / --gte / --gt / --lte / --lt / --reverse / --limit.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const options = rangeOf(parseArgs(["d", "--prefix", "user:"], { flags: RANGE_FLAGS, positionals: [1, 1] }));
 * ```
 */
export function rangeOf(args: ParsedArgs): ScanOptions<Uint8Array> {
  const hex = args.flags.hex === true;
  const f = args.flags as Record<string, string | undefined>;
  if (f.gte !== undefined && f.gt !== undefined) throw new UsageError("give --gte or --gt, not both");
  if (f.lte !== undefined && f.lt !== undefined) throw new UsageError("give --lte or --lt, not both");
  const options: ScanOptions<Uint8Array> = {};
  if (f.prefix !== undefined) options.prefix = bytesArg(f.prefix, hex, "--prefix");
  for (const name of ["gte", "gt", "lte", "lt"] as const) {
    if (f[name] !== undefined) options[name] = bytesArg(f[name]!, hex, `--${name}`);
  }
  if (args.flags.reverse === true) options.reverse = true;
  const limit = intFlag(args, "limit", Infinity, 0);
  if (limit !== Infinity) options.limit = limit;
  return options;
}

/**
 * `siltdb scan <store> [range]`: prints entries, a line each.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await scan.run(parseArgs(["./data", "--prefix", "user:", "--limit", "10"], scan.args));
 * ```
 */
export const scan: Command = {
  name: "scan",
  summary: "print the entries of a key range",
  usage:
    "siltdb scan <store> [--prefix P] [--gte/--gt/--lte/--lt K] [--reverse] [--limit N] [--keys-only] [--json] [--hex]",
  help: `Prints the entries in key order (or reversed), one per line: the key, a
tab, the value. Keys and values are shown as text when they are printable
UTF-8, else as 0x and hex. Opens the store read-only.

${BUCKET_HELP}

options:
  --prefix P         only keys that start with P (with a range: both apply)
  --gte/--gt K       keys from K (inclusive / exclusive)
  --lte/--lt K       keys up to K (inclusive / exclusive)
  --reverse          largest key first
  --limit N          at most N entries
  --keys-only        print only the keys
  --json             one JSON object per line: {"key", "value"} ("keyHex"/"valueHex" for bytes)
  --hex              range keys are given in hex, and everything is printed in hex

example:
  siltdb scan ./data --prefix user: --limit 10
  siltdb scan s3://my-bucket/db1 --keys-only --limit 100`,
  args: { flags: { ...RANGE_FLAGS, "keys-only": "boolean", json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const options = rangeOf(args);
    const hex = args.flags.hex === true;
    const keysOnly = args.flags["keys-only"] === true;
    const json = args.flags.json === true;
    const opened = await openLocation(args.positionals[0], { write: false, bucket: true });
    try {
      for await (const entries of entryChunks(opened, options)) {
        let chunk = "";
        for (const [key, value] of entries) {
          if (json) {
            chunk += `${
              JSON.stringify(
                keysOnly
                  ? jsonField("key", key, hex)
                  : { ...jsonField("key", key, hex), ...jsonField("value", value, hex) },
              )
            }\n`;
          } else {
            chunk += keysOnly ? `${showBytes(key, hex)}\n` : `${showBytes(key, hex)}\t${showBytes(value, hex)}\n`;
          }
        }
        await stdout.write(chunk);
      }
    } finally {
      await opened.db.close();
    }
    return EXIT_OK;
  },
};
