// Command-line arguments: positionals and --flags, checked against what a
// command declares. Anything unexpected is a UsageError (exit code 2 with the
// command's usage), never a guess.

/** How a flag is read: a switch, or a flag that takes the next argument. */
export type FlagKind = "boolean" | "string" | "number";

/** What a command accepts. */
export interface ArgSpec {
  /** Flags by name, without the leading dashes. */
  flags?: Record<string, FlagKind>;
  /** Fewest and most positional arguments. */
  positionals: [min: number, max: number];
}

/** Parsed arguments. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | number | boolean | undefined>;
}

/**
 * Wrong arguments: main prints the message and the command's usage, and exits 2.
 *
 * @example
 * ```ts
 * declare const given: string; // the --format the user passed
 * throw new UsageError(`--format must be jsonl or csv, got ${JSON.stringify(given)}`);
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses argv against spec. `--name value` and `--name=value` both work;
 * `--` ends the flags (so a key may start with a dash).
 *
 * @example
 * ```ts
 * const { positionals, flags } = parseArgs(["./data", "--limit", "10"], { flags: { limit: "number" }, positionals: [1, 1] });
 * // positionals: ["./data"], flags.limit: 10
 * ```
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const kinds = spec.flags ?? {};
  const positionals: string[] = [];
  const flags: ParsedArgs["flags"] = {};
  let flagsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (flagsDone || !arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      flagsDone = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = kinds[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`--${name} needs a value`);
    if (kind === "number") {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) {
        throw new UsageError(`--${name} needs a number, got ${JSON.stringify(value)}`);
      }
      flags[name] = n;
    } else {
      flags[name] = value;
    }
  }
  const [min, max] = spec.positionals;
  if (positionals.length < min) {
    throw new UsageError(`missing arguments: expected at least ${min}, got ${positionals.length}`);
  }
  if (positionals.length > max) {
    throw new UsageError(`too many arguments: expected at most ${max}, got ${positionals.length}`);
  }
  return { positionals, flags };
}

/**
 * A whole-number flag with a minimum, or its default.
 *
 * @example
 * ```ts
 * declare const args: ParsedArgs;
 * const limit = intFlag(args, "limit", Infinity, 0); // Infinity without --limit
 * ```
 */
export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const value = args.flags[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new UsageError(`--${name} needs a whole number of at least ${min}, got ${value}`);
  }
  return value;
}
