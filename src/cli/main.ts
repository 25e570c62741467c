// The siltdb command: one entry point for Node (`siltdb`, `npx siltdb`),
// Deno (`deno run -A src/cli/main.ts`) and Bun (`bunx siltdb`).
//
//   siltdb                      help (touches nothing)
//   siltdb --help | -h          help
//   siltdb --version | -v       the version
//   siltdb help <command>       one command's help
//   siltdb <command> [args...]  runs it
//
// Exit codes: 0 success, 1 not found / problems found / failure, 2 bad usage.
// Failures print one line naming the file and what is wrong (set
// SILTDB_DEBUG=1 for the stack).

import process from "node:process";
import { VERSION } from "../package_version.ts";
import { parseArgs, UsageError } from "./args.ts";
import { BUCKET_COMMANDS } from "./bucket.ts";
import { type Command, EXIT_PROBLEM, EXIT_USAGE } from "./command.ts";
import { backup, backups, checkpoint, restore } from "./commands/backup.ts";
import { bench } from "./commands/bench.ts";
import { compact } from "./commands/compact.ts";
import { compactor } from "./commands/compactor.ts";
import { demo } from "./commands/demo.ts";
import { dumpManifest, dumpSst, dumpWal } from "./commands/dump.ts";
import { del, get, put } from "./commands/kv.ts";
import { kv } from "./commands/deno_kv.ts";
import { gc } from "./commands/gc.ts";
import { exportCommand, load } from "./commands/load_export.ts";
import { repair } from "./commands/repair.ts";
import { scan } from "./commands/scan.ts";
import { shell } from "./commands/shell.ts";
import { stats } from "./commands/stats.ts";
import { verify } from "./commands/verify.ts";
import { describeFailure } from "./failure.ts";
import { stderr, stdout } from "./io.ts";

const COMMANDS: Command[] = [
  get,
  put,
  del,
  scan,
  kv,
  stats,
  compact,
  verify,
  repair,
  checkpoint,
  backup,
  restore,
  backups,
  dumpWal,
  dumpSst,
  dumpManifest,
  load,
  exportCommand,
  compactor,
  gc,
  bench,
  shell,
  demo,
];

const SEE_HELP = "usage: siltdb <command> [arguments] (siltdb --help lists the commands)\n";

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `siltdb ${VERSION}: an embedded, persistent, ordered key-value store (LSM tree)

usage: siltdb <command> [arguments]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

  siltdb help <command>   more about one command
  siltdb --version        the version

A store is a directory, or s3://bucket/prefix (a store in an S3-compatible
bucket) for these commands:
  ${BUCKET_COMMANDS}
The bucket's endpoint and credentials come from AWS_ENDPOINT_URL_S3 (or
AWS_ENDPOINT_URL), AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN.

Keys and values are shown as text when they are printable UTF-8, else as 0x
and hex (--hex forces hex, and makes key and value arguments hex). Exit codes:
0 success, 1 not found or problems found, 2 bad usage.
`;
}

function commandHelp(c: Command): string {
  return `usage: ${c.usage}\n\n${c.summary}.\n\n${c.help.trimEnd()}\n`;
}

/**
 * Runs the command line argv (without the runtime and script); resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * const code = await main(["get", "./data", "user:1"]); // 0, or 1 when the key is absent
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    await stdout.write(overview());
    return 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    await stdout.write(`siltdb ${VERSION}\n`);
    return 0;
  }
  if (name === "help") {
    if (rest.length === 0) {
      await stdout.write(overview());
      return 0;
    }
    const c = COMMANDS.find((c) => c.name === rest[0]);
    if (c === undefined) return usageFailure(`unknown command ${JSON.stringify(rest[0])}`, SEE_HELP);
    await stdout.write(commandHelp(c));
    return 0;
  }
  const c = COMMANDS.find((c) => c.name === name);
  if (c === undefined) return usageFailure(`unknown command ${JSON.stringify(name)}`, SEE_HELP);
  if (rest.includes("--help") || rest.includes("-h")) {
    await stdout.write(commandHelp(c));
    return 0;
  }
  try {
    return await c.run(parseArgs(rest, c.args));
  } catch (err) {
    if (err instanceof UsageError) {
      return usageFailure(`${c.name}: ${err.message}`, `usage: ${c.usage}\n(siltdb help ${c.name} for more)\n`);
    }
    await stderr.write(`siltdb ${c.name}: ${describeFailure(err)}\n`);
    if (process.env.SILTDB_DEBUG && err instanceof Error && err.stack) await stderr.write(`${err.stack}\n`);
    return EXIT_PROBLEM;
  }
}

async function usageFailure(message: string, usage: string): Promise<number> {
  await stderr.write(`siltdb: ${message}\n${usage}`);
  return EXIT_USAGE;
}

if (import.meta.main ?? isEntry()) {
  process.exitCode = await main(process.argv.slice(2));
}

/** True when this module is the program (Node has no import.meta.main before v24.2). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  const here = new URL(import.meta.url).pathname;
  return here === script || here.endsWith("/cli.js") || here.endsWith("/cli/main.ts");
}
