// What one subcommand of `siltdb` declares, and the exit codes they share.

import type { ArgSpec, ParsedArgs } from "./args.ts";

/**
 * Success.
 *
 * @example
 * ```ts
 * import type { VerifyReport } from "../tools/verify.ts";
 * declare const report: VerifyReport;
 * const code = report.ok ? EXIT_OK : EXIT_PROBLEM; // verify's run(); main returns EXIT_USAGE for a UsageError
 * ```
 */
export const EXIT_OK = 0;
/**
 * Not found, or problems found (verify), or the command failed.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import { get } from "./commands/kv.ts";
 * const code = await get.run(parseArgs(["./data", "user:1"], get.args)); // EXIT_PROBLEM when the key is absent
 * ```
 */
export const EXIT_PROBLEM = 1;
/**
 * Bad usage (with the usage text).
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["get"]); // EXIT_USAGE: get needs a directory and a key (the usage goes to stderr)
 * ```
 */
export const EXIT_USAGE = 2;

/**
 * One subcommand: its help texts, its arguments and what it does.
 *
 * @example
 * ```ts
 * import { stdout } from "./io.ts";
 * export const hello: Command = {
 *   name: "hello", summary: "say hello", usage: "siltdb hello <name>",
 *   help: "Prints a greeting.", args: { positionals: [1, 1] },
 *   async run({ positionals }) { await stdout.write(`hello ${positionals[0]}\n`); return EXIT_OK; },
 * };
 * ```
 */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line(s), e.g. "siltdb get <dir> <key> [--hex] [--json]". */
  usage: string;
  /** What it does, its options, and an example (for `siltdb help <command>`). */
  help: string;
  args: ArgSpec;
  /** Runs the command; resolves with the exit code. Throws UsageError or SiltError on failure. */
  run(args: ParsedArgs): Promise<number>;
}
