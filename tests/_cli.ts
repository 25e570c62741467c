// Runs the siltdb command as a subprocess of the runtime running the tests:
// Node (through tsx, on the source), Deno (`deno run -A`) or Bun.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "src", "cli", "main.ts");
const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

/** What a run of the command gave. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command line that runs the CLI source in this runtime. */
export function cliCommand(): [string, string[]] {
  if (runtime === "deno") return [process.execPath, ["run", "-A", "--quiet", main]];
  if (runtime === "bun") return [process.execPath, [main]];
  // tsx by path: the command may run in a directory where "tsx" does not resolve.
  return [process.execPath, [
    "--import",
    pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href,
    main,
  ]];
}

/**
 * Runs `siltdb args...` with optional standard input; resolves with the exit code and output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["get", dir, "a"]);
 * ```
 */
export function runCli(
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const [cmd, pre] = cliCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, CI: "true", NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => out += d);
    child.stderr.setEncoding("utf8").on("data", (d: string) => err += d);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout: out, stderr: err }));
    child.stdin.end(options.input ?? "");
  });
}
