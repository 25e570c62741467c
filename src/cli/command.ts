// What one subcommand of `siltdb` declares, and the exit codes they share.

import type { ArgSpec, ParsedArgs } from "./args.ts";

/**
 * Success.
 *
 * @example
 * ```ts
 * return report.ok ? EXIT_OK : EXIT_PROBLEM; // verify's run(); main returns EXIT_USAGE for a UsageError
 * ```
 */
export const EXIT_OK = 0;
/** Not found, or problems found (verify), or the command failed. */
export const EXIT_PROBLEM = 1;
/** Bad usage (with the usage text). */
export const EXIT_USAGE = 2;

/**
 * One subcommand: its help texts, its arguments and what it does.
 *
 * @example
 * ```ts
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
