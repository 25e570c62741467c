// siltdb shell: an interactive shell on one store (or commands from a pipe).

import process from "node:process";
import { createInterface } from "node:readline";
import type { Snapshot } from "../../read/snapshot.ts";
import { parseArgs, type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { showBytes } from "../display.ts";
import { linesOf, stdout } from "../io.ts";
import { describeFailure } from "../failure.ts";
import { formatStats } from "../stats_view.ts";
import { bytesArg, openStore, type Store } from "../store.ts";
import { RANGE_FLAGS, rangeOf } from "./scan.ts";

const SHELL_HELP = `commands (keys and values are text; quote them to keep spaces; --hex for hex):
  put <key> <value...>             set a key (the rest of the line is the value)
  get <key> [--snapshot N]         print a value
  delete <key>                     remove a key
  scan [--prefix P] [--gte/--gt/--lte/--lt K] [--reverse] [--limit N] [--keys-only] [--snapshot N]
                                   print entries (at most 100 unless --limit)
  stats                            levels, memtables, cache, compactions
  flush                            write the memtable to a table
  compact                          compact everything
  snapshot                         take a snapshot (reads with --snapshot N see it)
  release <N>                      release snapshot N
  snapshots                        list the snapshots
  history                          the commands of this session
  help                             this text
  exit | quit                      leave (also Ctrl-D)
`;

/**
 * Splits a shell line into words: whitespace separates, "double" or 'single'
 * quotes keep spaces, a backslash escapes the next character.
 *
 * @example
 * ```ts
 * words('put "a key" hello world'); // ["put", "a key", "hello", "world"]
 * ```
 */
export function words(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unclosed ${quote} quote`);
  if (inWord) out.push(word);
  return out;
}

/** One shell session on an open store. */
class Session {
  readonly #db: Store;
  readonly #snapshots = new Map<number, Snapshot<Uint8Array, Uint8Array>>();
  #nextSnapshot = 1;
  readonly history: string[] = [];

  constructor(db: Store) {
    this.#db = db;
  }

  /** Runs one line; returns its output, or "exit". Throws on a failed command. */
  async run(line: string): Promise<string | "exit"> {
    const [name, ...rest] = words(line.trim());
    if (name === undefined) return "";
    this.history.push(line.trim());
    const db = this.#db;
    switch (name.toLowerCase()) {
      case "exit":
      case "quit":
        return "exit";
      case "help":
      case "?":
        return SHELL_HELP;
      case "history":
        return this.history.map((h, i) => `${String(i + 1).padStart(4)}  ${h}\n`).join("");
      case "put": {
        const a = parseArgs(rest, { flags: { hex: "boolean", sync: "boolean" }, positionals: [2, Infinity] });
        const hex = a.flags.hex === true;
        const [key, ...value] = a.positionals;
        await db.put(bytesArg(key, hex, "key"), bytesArg(value.join(" "), hex, "value"), {
          sync: a.flags.sync === true,
        });
        return "OK\n";
      }
      case "get": {
        const a = parseArgs(rest, { flags: { hex: "boolean", snapshot: "number" }, positionals: [1, 1] });
        const hex = a.flags.hex === true;
        const key = bytesArg(a.positionals[0], hex, "key");
        const value = await this.#reader(a).get(key);
        return value === undefined ? "(not found)\n" : `${showBytes(value, hex)}\n`;
      }
      case "del":
      case "delete": {
        const a = parseArgs(rest, { flags: { hex: "boolean" }, positionals: [1, 1] });
        await db.delete(bytesArg(a.positionals[0], a.flags.hex === true, "key"));
        return "OK\n";
      }
      case "scan": {
        const a = parseArgs(rest, {
          flags: { ...RANGE_FLAGS, "keys-only": "boolean", snapshot: "number" },
          positionals: [0, 0],
        });
        const hex = a.flags.hex === true;
        const options = rangeOf(a);
        const limit = options.limit ?? 100;
        let out = "";
        let count = 0;
        for (const [key, value] of this.#reader(a).scanSync({ ...options, limit: limit + 1 })) {
          if (count++ === limit) {
            out += `... more (use --limit N)\n`;
            break;
          }
          out += a.flags["keys-only"]
            ? `${showBytes(key, hex)}\n`
            : `${showBytes(key, hex)}\t${showBytes(value, hex)}\n`;
        }
        return out || "(no entries)\n";
      }
      case "stats":
        parseArgs(rest, { positionals: [0, 0] });
        return formatStats(db.stats());
      case "flush":
        parseArgs(rest, { positionals: [0, 0] });
        await db.flush();
        return "OK\n";
      case "compact":
        parseArgs(rest, { positionals: [0, 0] });
        await db.compact();
        return "OK\n";
      case "snapshot": {
        parseArgs(rest, { positionals: [0, 0] });
        const id = this.#nextSnapshot++;
        const snap = db.snapshot();
        this.#snapshots.set(id, snap);
        return `snapshot ${id} at sequence ${snap.sequence}\n`;
      }
      case "release": {
        const a = parseArgs(rest, { positionals: [1, 1] });
        const id = Number(a.positionals[0]);
        const snap = this.#snapshots.get(id);
        if (snap === undefined) throw new UsageError(`no snapshot ${a.positionals[0]} (see "snapshots")`);
        snap.release();
        this.#snapshots.delete(id);
        return "OK\n";
      }
      case "snapshots":
        parseArgs(rest, { positionals: [0, 0] });
        return [...this.#snapshots].map(([id, s]) => `${id}  sequence ${s.sequence}\n`).join("") || "(none)\n";
      default:
        throw new UsageError(`unknown command ${JSON.stringify(name)} (type help)`);
    }
  }

  #reader(a: ParsedArgs): Store | Snapshot<Uint8Array, Uint8Array> {
    const id = a.flags.snapshot;
    if (id === undefined) return this.#db;
    const snap = this.#snapshots.get(id as number);
    if (snap === undefined) throw new UsageError(`no snapshot ${id} (see "snapshots")`);
    return snap;
  }

  close(): void {
    for (const snap of this.#snapshots.values()) snap.release();
    this.#snapshots.clear();
  }
}

/**
 * `siltdb shell <dir>`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await shell.run(parseArgs(["./data"], shell.args)); // reads commands from standard input
 * ```
 */
export const shell: Command = {
  name: "shell",
  summary: "an interactive shell on a store (also reads commands from a pipe)",
  usage: "siltdb shell <dir>",
  help: `Opens the store (creating it if needed) and reads commands: put, get,
delete, scan, stats, flush, compact, snapshot, release, snapshots, history,
help, exit. On a terminal it shows a prompt and keeps a history (arrow keys);
from a pipe it runs each line and exits 1 at the end if any command failed.
A failed command prints "error: ..." and the shell goes on.

example:
  siltdb shell ./data
  printf 'put a 1\\nget a\\n' | siltdb shell ./data`,
  args: { positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const db = await openStore(args.positionals[0], { write: true, create: true, command: "shell" });
    const session = new Session(db);
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
    let failed = false;
    const runLine = async (line: string): Promise<boolean> => {
      try {
        const out = await session.run(line);
        if (out === "exit") return false;
        await stdout.write(out);
      } catch (err) {
        failed = true;
        await stdout.write(`error: ${err instanceof UsageError ? err.message : describeFailure(err)}\n`);
      }
      return true;
    };
    try {
      if (interactive) {
        await stdout.write(`siltdb shell on ${args.positionals[0]} (type help, exit or Ctrl-D to leave)\n`);
        const rl = createInterface({
          input: process.stdin,
          output: process.stdout,
          prompt: "siltdb> ",
          historySize: 1000,
        });
        rl.prompt();
        for await (const line of rl) {
          if (!(await runLine(line))) break;
          rl.prompt();
        }
        rl.close();
      } else {
        for await (const line of linesOf(process.stdin as AsyncIterable<Uint8Array>)) {
          if (!(await runLine(line))) break;
        }
      }
    } finally {
      session.close();
      await db.close();
    }
    return failed && !interactive ? EXIT_PROBLEM : EXIT_OK;
  },
};
