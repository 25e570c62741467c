// siltdb load / export: bulk import from JSON Lines or CSV, and export to them.

import { createReadStream, statSync } from "node:fs";
import process from "node:process";
import { SiltError } from "../../errors.ts";
import type { WriteBatch } from "../../write/write_batch.ts";
import { intFlag, type ParsedArgs, UsageError } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { formatCount } from "../display.ts";
import { linesOf, stderr, stdout } from "../io.ts";
import { memoryLine } from "../memory.ts";
import { Progress } from "../progress.ts";
import { CsvReader, csvRecord, formatRecord, parseJsonl, RecordError, type RecordFormat } from "../records.ts";
import { BUCKET_HELP, formatRequests } from "../bucket.ts";
import { entryChunks, openLocation } from "../store.ts";
import { RANGE_FLAGS, rangeOf } from "./scan.ts";

function formatOf(args: ParsedArgs, file: string | undefined): RecordFormat {
  const given = args.flags.format;
  if (given !== undefined) {
    if (given !== "jsonl" && given !== "csv") {
      throw new UsageError(`--format must be jsonl or csv, got ${JSON.stringify(given)}`);
    }
    return given;
  }
  if (file === undefined || file === "-") return "jsonl";
  if (/\.csv$/i.test(file)) return "csv";
  if (/\.(jsonl|ndjson|json)$/i.test(file)) return "jsonl";
  throw new UsageError(`cannot tell the format of ${file} from its name: give --format jsonl or --format csv`);
}

/** Chunks of the input, counting the bytes read (for the ETA). */
async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/**
 * `siltdb load <store> <file|->`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await load.run(parseArgs(["./data", "users.jsonl", "--batch", "1000"], load.args));
 * ```
 */
export const load: Command = {
  name: "load",
  summary: "bulk-load records from JSON Lines or CSV, with progress",
  usage: "siltdb load <store> <file.jsonl|file.csv|-> [--format jsonl|csv] [--hex] [--batch N] [--observe-memory]",
  help: `Writes every record of the file (or standard input, "-") into the store,
in atomic batches, creating the store if needed; shows a progress bar with
the count, rate and ETA (plain lines when not on a terminal or with CI set).
The last batch is synced before it reports success.

In a bucket, load opens the store as its writer: a writer running elsewhere
is fenced (its next write fails with FENCED). Up to 16 batches are in flight
at once (they share WAL objects); at the end it prints the requests made.

${BUCKET_HELP}

formats (by the file's extension, or --format):
  jsonl   one object per line: {"key": "...", "value": ...}; "keyHex" /
          "valueHex" for bytes given in hex; a value that is not a string is
          stored as its JSON text (what "siltdb export" writes loads back as is)
  csv     key,value per line (RFC 4180 quoting); a first line "key,value" is
          a header; with --hex both fields are hex

options:
  --batch N          records per atomic batch (default 1000)
  --observe-memory   also show the process RSS, WASM memory, memtables and cache

A malformed record stops the load with its line number (exit 1); the records
before it stay loaded.

example:
  siltdb load ./data users.jsonl --observe-memory
  siltdb load s3://my-bucket/db1 users.jsonl`,
  args: {
    flags: { format: "string", hex: "boolean", batch: "number", "observe-memory": "boolean" },
    positionals: [2, 2],
  },
  async run(args: ParsedArgs): Promise<number> {
    const [location, file] = args.positionals;
    const format = formatOf(args, file);
    const hex = args.flags.hex === true;
    if (hex && format === "jsonl") throw new UsageError("--hex is for CSV (JSON Lines use keyHex/valueHex fields)");
    const batchSize = intFlag(args, "batch", 1000, 1);
    let totalBytes: number | undefined;
    let source: AsyncIterable<Uint8Array>;
    if (file === "-") {
      source = process.stdin as AsyncIterable<Uint8Array>;
    } else {
      try {
        totalBytes = statSync(file).size;
      } catch (err) {
        throw new SiltError("NOT_FOUND", `cannot read ${file}: ${(err as Error).message}`, { file });
      }
      source = createReadStream(file) as AsyncIterable<Uint8Array>;
    }
    const { db, bucket } = await openLocation(location, { write: true, create: true, bucket: true });
    let loaded = 0;
    let bytesRead = 0;
    const observe = args.flags["observe-memory"] === true;
    const progress = new Progress(stdout, "load", {
      unit: "records",
      extra: observe ? () => memoryLine(db.stats()) : undefined,
    });
    // On disk a batch is written before the next is read; in a bucket, where a write waits for a PUT,
    // several are in flight (the writer groups them into WAL objects).
    const window = bucket ? 16 : 1;
    const inFlight: Promise<void>[] = [];
    const submit = async (batch: WriteBatch, records: number): Promise<void> => {
      const written = batch.write().then(() => void (loaded += records));
      written.catch(() => {}); // awaited below, in order
      inFlight.push(written);
      if (inFlight.length >= window) await inFlight.shift();
    };
    const settle = async () => {
      while (inFlight.length > 0) await inFlight.shift();
    };
    try {
      let batch = db.batch();
      let inBatch = 0;
      let line = 0;
      const csv = format === "csv" ? new CsvReader() : undefined;
      for await (const text of linesOf(counted(source, (n) => bytesRead += n))) {
        line++;
        let record: [Uint8Array, Uint8Array] | undefined;
        if (csv) {
          const fields = csv.push(text, line);
          if (fields === undefined || (fields.length === 1 && fields[0] === "")) continue;
          if (
            csv.startLine === 1 && fields.length === 2 && fields[0].toLowerCase() === "key" &&
            fields[1].toLowerCase() === "value"
          ) continue;
          record = csvRecord(fields, hex, csv.startLine);
        } else {
          record = parseJsonl(text, line);
          if (record === undefined) continue;
        }
        batch.put(record[0], record[1]);
        if (++inBatch === batchSize) {
          await submit(batch, inBatch);
          inBatch = 0;
          batch = db.batch();
          progress.update(loaded, totalBytes ? bytesRead / totalBytes : undefined);
        }
      }
      if (csv?.pending) throw new RecordError(`line ${csv.startLine}: a quoted field is not closed`);
      await settle();
      await batch.write({ sync: true });
      loaded += inBatch;
      await progress.finish(loaded);
      if (observe) await stdout.write(`memory at the end: ${memoryLine(db.stats())}\n`);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      await settle();
      await stderr.write(
        `siltdb load: ${file === "-" ? "stdin" : file}: ${err.message}; ${
          formatCount(loaded)
        } records before it were loaded\n`,
      );
      return EXIT_PROBLEM;
    } finally {
      await Promise.allSettled(inFlight);
      await db.close();
    }
    if (bucket) await stdout.write(`requests: ${formatRequests(bucket.counters)}\n`);
    return EXIT_OK;
  },
};

/**
 * `siltdb export <store>`: every entry (of a range) to standard output.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await exportCommand.run(parseArgs(["./data", "--prefix", "user:", "--format", "csv"], exportCommand.args));
 * ```
 */
export const exportCommand: Command = {
  name: "export",
  summary: "write the entries of a store (or a range) as JSON Lines or CSV",
  usage:
    "siltdb export <store> [--format jsonl|csv] [--prefix P] [--gte/--gt/--lte/--lt K] [--reverse] [--limit N] [--hex]",
  help: `Writes every entry in key order to standard output, as JSON Lines
(default; "keyHex"/"valueHex" for bytes that are not UTF-8 text, so any store
round-trips through "siltdb load") or CSV (text only, or everything in hex
with --hex). Progress goes to standard error. Opens the store read-only.

${BUCKET_HELP}

options:
  --format jsonl|csv                     output format (default jsonl)
  --prefix, --gte/--gt/--lte/--lt K      only this range (as for scan)
  --reverse, --limit N                   order and count
  --hex                                  range keys are hex; CSV fields are hex; JSON uses keyHex/valueHex

example:
  siltdb export ./data > backup.jsonl
  siltdb export s3://my-bucket/db1 --prefix user: > users.jsonl`,
  args: { flags: { ...RANGE_FLAGS, format: "string" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const format = formatOf(args, undefined);
    const hex = args.flags.hex === true;
    const options = rangeOf(args);
    const opened = await openLocation(args.positionals[0], { write: false, bucket: true });
    const { db } = opened;
    try {
      const s = db.stats();
      const estimate = s.levels.reduce((n, l) => n + l.entries, 0) + s.memtable.entries + s.immutable.count;
      const progress = new Progress(stderr, "export", { unit: "records" });
      let count = 0;
      let chunk = format === "csv" ? "key,value\n" : "";
      try {
        for await (const entries of entryChunks(opened, options)) {
          for (const [key, value] of entries) {
            chunk += formatRecord(format, key, value, hex);
            count++;
          }
          await stdout.write(chunk);
          chunk = "";
          progress.update(count, estimate > 0 ? Math.min(0.99, count / estimate) : undefined);
        }
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        await stdout.write(chunk);
        await stderr.write(`siltdb export: ${err.message} (${formatCount(count)} records written before it)\n`);
        return EXIT_PROBLEM;
      }
      await stdout.write(chunk);
      await progress.finish(count);
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};
