// siltdb dump-wal: every record of a write-ahead log (NNNNNN.log), as
// LevelDB's `ldb dump_wal`. Framing and recovery rules are the project's
// own reader's (src/wal/log_reader.ts); batches are decoded by the core's
// batch parser (the one recovery uses) into a scratch memtable. Layouts:
// docs/format.md#write-ahead-log-nnnnnnlog.

import { view } from "../../wasm/instance.ts";
import { corruption, SiltError } from "../../errors.ts";
import { batchHeader } from "../../format/batch_format.ts";
import { KIND_RANGE_DELETE } from "../../format/internal_key.ts";
import { LOG_VERSION, RECORD_OVERHEAD, RECORD_TYPE_BATCH } from "../../format/log_format.ts";
import { Memtable } from "../../wasm/memtable.ts";
import { defaultStorage } from "../../storage/default_storage.ts";
import { parseFileName } from "../../version/file_names.ts";
import type { ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { formatBytes, formatCount, jsonField, showBytes } from "../display.ts";
import { stdout } from "../io.ts";
import { describeTail, kindName, type LogTail, replayForDump, requirePath, writeJson } from "./_dump_common.ts";
import { requireDirectory } from "../bucket.ts";

/** One entry of a write batch. */
interface WalEntry {
  sequence: number;
  kind: number;
  /** A range delete: its start. */
  key: Uint8Array;
  valueSize: number;
  /** A range delete: its end (null: no end). */
  end?: Uint8Array | null;
}

/** One intact record (a write batch). */
interface WalRecord {
  offset: number;
  /** Payload bytes. */
  length: number;
  sequence: number;
  entries: WalEntry[];
}

/** The records of a log and how it ends. */
interface WalDump {
  file: string;
  size: number;
  records: WalRecord[];
  tail: LogTail;
}

/**
 * Reads every intact record of the log at path; damage ends the records and
 * is in `tail` (torn or corrupt). Throws for a missing file or one that is
 * not a siltdb log.
 *
 * @example
 * ```ts
 * const dump = readWal("./data/000004.log");
 * console.log(dump.records.length, dump.tail.state);
 * ```
 */
export function readWal(path: string): WalDump {
  const fs = defaultStorage();
  requirePath(fs, path, "file");
  if (parseFileName(path.slice(path.lastIndexOf("/") + 1))?.kind === "manifest") {
    throw new SiltError("INVALID_ARGUMENT", `${path} is a manifest: siltdb dump-manifest <dir> shows it`, {
      file: path,
    });
  }
  const file = fs.open(path);
  const records: WalRecord[] = [];
  let last = 0; // the last sequence of the previous batch: sequences must increase (as recovery checks)
  try {
    const { size, tail } = replayForDump(file, path, (payload, length, offset) => {
      const record = decodeBatch(payload, length, offset, path, last);
      last = record.sequence + record.entries.length - 1;
      records.push(record);
    }, RECORD_TYPE_BATCH);
    return { file: path, size, records, tail };
  } finally {
    file.close();
  }
}

/** Decodes the batch payload at payload (linear memory) with the core's batch parser. */
function decodeBatch(payload: number, length: number, offset: number, path: string, last: number): WalRecord {
  const header = batchHeader(view(), payload, length, last);
  if (typeof header === "string") throw corruption(path, offset, header);
  const { sequence } = header;
  const mt = new Memtable();
  try {
    if (mt.applyBatch(payload, length) < 0) throw corruption(path, offset, "malformed write batch");
    const entries: WalEntry[] = [...mt.entries()]
      .map((e) => ({ sequence: e.sequence, kind: e.kind, key: e.key, valueSize: e.value.length }));
    for (const t of mt.rangeTombstones()) {
      entries.push({ sequence: t.sequence, kind: KIND_RANGE_DELETE, key: t.start, valueSize: 0, end: t.end ?? null });
    }
    entries.sort((a, b) => a.sequence - b.sequence);
    return { offset, length, sequence, entries };
  } finally {
    mt.free();
  }
}

/** The dump as a person reads it. */
function humanWal(dump: WalDump, hex: boolean): string {
  const lines = [
    `${dump.file}: write-ahead log, format ${LOG_VERSION}, ${formatBytes(dump.size)} (${formatCount(dump.size)} bytes)`,
    "",
  ];
  const seqWidth = String(dump.records.at(-1)?.entries.at(-1)?.sequence ?? 0).length;
  for (const r of dump.records) {
    const n = r.entries.length;
    const seqs = n > 1 ? `${r.sequence}..${r.sequence + n - 1}` : `${r.sequence}`;
    lines.push(
      `@${r.offset}  batch  sequence ${seqs}  ${n} ${n === 1 ? "entry" : "entries"}  ${
        formatCount(r.length + RECORD_OVERHEAD)
      } bytes`,
    );
    for (const e of r.entries) {
      const value = e.kind === 1 || e.kind === 3
        ? `  (value ${formatBytes(e.valueSize)})`
        : e.end !== undefined
        ? `  to ${e.end === null ? "the end" : showBytes(e.end, hex)} (exclusive)`
        : "";
      lines.push(
        `  ${String(e.sequence).padStart(seqWidth)}  ${kindName(e.kind).padEnd(6)}  ${showBytes(e.key, hex)}${value}`,
      );
    }
  }
  const entries = dump.records.reduce((n, r) => n + r.entries.length, 0);
  if (dump.records.length > 0) lines.push("");
  lines.push(
    `records: ${formatCount(dump.records.length)}   entries: ${formatCount(entries)}   bytes: ${
      formatCount(dump.size)
    }`,
  );
  lines.push(`tail: ${describeTail(dump.tail)}`);
  return `${lines.join("\n")}\n`;
}

/** The dump as JSON (shape documented in the command's help). */
function jsonWal(dump: WalDump, hex: boolean): unknown {
  return {
    file: dump.file,
    formatVersion: LOG_VERSION,
    records: dump.records.map((r) => ({
      offset: r.offset,
      type: "batch",
      length: r.length,
      sequence: r.sequence,
      count: r.entries.length,
      entries: r.entries.map((e) => ({
        sequence: e.sequence,
        kind: kindName(e.kind),
        ...jsonField("key", e.key, hex),
        ...(e.kind === 1 ? { valueSize: e.valueSize } : {}),
        ...(e.end === null ? { end: null } : e.end !== undefined ? jsonField("end", e.end, hex) : {}),
      })),
    })),
    summary: {
      records: dump.records.length,
      entries: dump.records.reduce((n, r) => n + r.entries.length, 0),
      bytes: dump.size,
      tail: dump.tail,
    },
  };
}

/**
 * `siltdb dump-wal <file> [--json] [--hex]`: every record of a log file.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await dumpWal.run(parseArgs(["./data/000004.log", "--json"], dumpWal.args));
 * ```
 */
export const dumpWal: Command = {
  name: "dump-wal",
  summary: "show every record of a write-ahead log file (NNNNNN.log)",
  usage: "siltdb dump-wal <file> [--json] [--hex]",
  help: `Shows each record of the log: its file offset, type, first sequence,
number of entries and size, then each entry (sequence, put/delete, key and
value size), then a summary: records, entries, bytes, and how the log ends:
  clean          every byte belongs to an intact record
  torn tail      a crash cut the last record short (recovery ignores it; exit 0)
  corrupt record a checksum or structure check failed at that offset (exit 1)
The file is only read. Layout: docs/format.md (Write-ahead log).

options:
  --json   one JSON document:
           { file, formatVersion, records: [{ offset, type, length, sequence, count,
             entries: [{ sequence, kind, key | keyHex, valueSize (puts) }] }],
             summary: { records, entries, bytes,
                        tail: { state: "clean" } | { state: "torn", offset, bytes }
                            | { state: "corrupt", offset, error } } }
  --hex    show every key as hex

example:
  siltdb dump-wal ./data/000004.log
  siltdb dump-wal ./data/000004.log --json | jq '.summary'`,
  args: { flags: { json: "boolean", hex: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const hex = args.flags.hex === true;
    requireDirectory(args.positionals[0], "dump-wal", "a local file");
    const dump = readWal(args.positionals[0]);
    if (args.flags.json === true) await writeJson(jsonWal(dump, hex));
    else await stdout.write(humanWal(dump, hex));
    return dump.tail.state === "corrupt" ? EXIT_PROBLEM : EXIT_OK;
  },
};
