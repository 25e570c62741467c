// siltdb get / put / delete: one key at a time.

import type { ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { jsonField, showBytes } from "../display.ts";
import { stderr, stdout } from "../io.ts";
import { BUCKET_HELP } from "../bucket.ts";
import { bytesArg, openLocation, openStore } from "../store.ts";

/**
 * `siltdb get <store> <key>`: prints the value, or exits 1 if the key is absent.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await get.run(parseArgs(["./data", "user:1"], get.args)); // EXIT_PROBLEM when absent
 * ```
 */
export const get: Command = {
  name: "get",
  summary: "print the value of a key",
  usage: "siltdb get <store> <key> [--hex] [--json]",
  help: `Prints the value stored under <key>, or says "not found" on stderr and
exits 1. Opens the store read-only (a directory: fails with LOCKED while a
writer has it; a bucket: reads the newest manifest and the WAL objects after
it, alongside a writer elsewhere).

${BUCKET_HELP}

options:
  --hex    the key is given in hex, and the value is printed in hex
  --json   print {"key", "value"} (or "valueHex" for bytes that are not text)

example:
  siltdb get ./data user:1
  siltdb get s3://my-bucket/db1 user:1`,
  args: { flags: { hex: "boolean", json: "boolean" }, positionals: [2, 2] },
  async run(args: ParsedArgs): Promise<number> {
    const [location, keyText] = args.positionals;
    const hex = args.flags.hex === true;
    const key = bytesArg(keyText, hex, "key");
    const { db } = await openLocation(location, { write: false, bucket: true });
    try {
      const value = await db.get(key);
      if (args.flags.json) {
        const doc = {
          ...jsonField("key", key, hex),
          found: value !== undefined,
          ...(value ? jsonField("value", value, hex) : {}),
        };
        await stdout.write(`${JSON.stringify(doc)}\n`);
      } else if (value !== undefined) {
        await stdout.write(`${showBytes(value, hex)}\n`);
      }
      if (value === undefined) {
        if (!args.flags.json) await stderr.write(`not found: ${showBytes(key, hex)}\n`);
        return EXIT_PROBLEM;
      }
      return EXIT_OK;
    } finally {
      await db.close();
    }
  },
};

/**
 * `siltdb put <dir> <key> <value>`: writes one key (synced).
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await put.run(parseArgs(["./data", "user:1", "alice"], put.args));
 * ```
 */
export const put: Command = {
  name: "put",
  summary: "set a key to a value (creates the store if needed)",
  usage: "siltdb put <dir> <key> <value> [--hex] [--no-sync]",
  help: `Writes <value> under <key> and waits until it is durable (synced), then
prints OK. Creates the store if <dir> holds none.

options:
  --hex      key and value are given in hex
  --no-sync  do not wait for the disk (still safe if this process crashes)

example:
  siltdb put ./data user:1 '{"name":"alice"}'`,
  args: { flags: { hex: "boolean", "no-sync": "boolean" }, positionals: [3, 3] },
  async run(args: ParsedArgs): Promise<number> {
    const [dir, keyText, valueText] = args.positionals;
    const hex = args.flags.hex === true;
    const key = bytesArg(keyText, hex, "key");
    const value = bytesArg(valueText, hex, "value");
    const db = await openStore(dir, { write: true, create: true, command: "put" });
    try {
      await db.put(key, value, { sync: args.flags["no-sync"] !== true });
    } finally {
      await db.close();
    }
    await stdout.write("OK\n");
    return EXIT_OK;
  },
};

/**
 * `siltdb delete <dir> <key>`: removes one key (synced).
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await del.run(parseArgs(["./data", "user:1"], del.args));
 * ```
 */
export const del: Command = {
  name: "delete",
  summary: "remove a key",
  usage: "siltdb delete <dir> <key> [--hex] [--no-sync]",
  help: `Removes <key> (no error if it is absent) and waits until that is durable,
then prints OK.

options:
  --hex      the key is given in hex
  --no-sync  do not wait for the disk

example:
  siltdb delete ./data user:1`,
  args: { flags: { hex: "boolean", "no-sync": "boolean" }, positionals: [2, 2] },
  async run(args: ParsedArgs): Promise<number> {
    const [dir, keyText] = args.positionals;
    const key = bytesArg(keyText, args.flags.hex === true, "key");
    const db = await openStore(dir, { write: true, command: "delete" });
    try {
      await db.delete(key, { sync: args.flags["no-sync"] !== true });
    } finally {
      await db.close();
    }
    await stdout.write("OK\n");
    return EXIT_OK;
  },
};
