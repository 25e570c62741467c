// Where the siltdb command writes: stdout with back-pressure (an export of
// millions of records must not pile up in memory), stderr for messages and
// progress, and whether either is a terminal (progress bars) or not (plain
// periodic lines, also whenever CI is set).

import process from "node:process";

/** A stream the command writes to. */
export interface Output {
  /** Writes text; resolves when the stream can take more. */
  write(text: string): Promise<void>;
  /** True when this is a terminal and CI is not set: progress may redraw a line. */
  readonly interactive: boolean;
}

function isTerminal(stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && !process.env.CI;
}

function outputOf(stream: NodeJS.WriteStream): Output {
  let broken = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    // A closed pipe (`siltdb scan db | head`) ends the output quietly.
    if (err.code === "EPIPE") broken = true;
    else throw err;
  });
  return {
    interactive: isTerminal(stream),
    write(text: string): Promise<void> {
      if (broken || text.length === 0) return Promise.resolve();
      if (stream.write(text)) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          stream.off("drain", done);
          stream.off("error", done);
          resolve();
        };
        stream.on("drain", done);
        stream.on("error", done);
      });
    },
  };
}

/**
 * The command's standard output and error.
 *
 * @example
 * ```ts
 * await stdout.write("hello\n");
 * ```
 */
export const stdout: Output = outputOf(process.stdout);
/**
 * Standard error (messages, and progress of commands whose stdout carries data).
 *
 * @example
 * ```ts
 * import { showBytes } from "./display.ts";
 * declare const key: Uint8Array, hex: boolean;
 * await stderr.write(`not found: ${showBytes(key, hex)}\n`);
 * ```
 */
export const stderr: Output = outputOf(process.stderr);

/**
 * Splits a stream of chunks into lines (\n or \r\n), decoding UTF-8 across chunk boundaries.
 *
 * @example
 * ```ts
 * for await (const line of linesOf(process.stdin as AsyncIterable<Uint8Array>)) {
 *   await stdout.write(`${line}\n`);
 * }
 * ```
 */
export async function* linesOf(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of chunks) {
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      yield rest.slice(0, nl > 0 && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}
