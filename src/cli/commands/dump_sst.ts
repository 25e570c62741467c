// siltdb dump-sst: the structure of a table file (NNNNNN.sst), as RocksDB's
// `sst_dump --show_properties`: footer, properties, filter, index and
// per-block figures (codec, stored and decompressed sizes), and optionally
// every entry. The table is opened and
// checked by the project's reader (src/table/table_reader.ts: footer magic,
// version and checksum, properties, index and filter blocks), and every data
// block is read through it, so each checksum is verified. Layout:
// docs/format.md#table-file-nnnnnnsst.

import { corruption, SiltError } from "../../errors.ts";
import { sequenceOf, userKeyOf } from "../../format/internal_key.ts";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  type Compression,
  TABLE_VERSION,
  type TableProperties,
  type TableRangeTombstone,
} from "../../format/table_format.ts";
import { defaultStorage } from "../../storage/default_storage.ts";
import { blockEntries, indexEntries } from "../../wasm/blocks.ts";
import { bytes, freeBuffer } from "../../wasm/instance.ts";
import { TableReader } from "../../table/table_reader.ts";
import { parseFileName } from "../../version/file_names.ts";
import { intFlag, type ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { formatBytes, formatCount, formatTable, jsonField, showBytes } from "../display.ts";
import { stdout } from "../io.ts";
import { internalKeyJson, kindName, requirePath, showInternalKey, withoutPlace, writeJson } from "./_dump_common.ts";
import { requireDirectory } from "../bucket.ts";

/** A data block as the index names it, with what reading it found. */
interface DataBlock {
  handle: BlockHandle;
  lastKey: Uint8Array;
  /** Entries (undefined when the block could not be read). */
  entries?: number;
  /** How it is stored and its decompressed size (undefined when it could not be read). */
  codec?: Compression;
  rawSize?: number;
}

/** One entry of a data block (with --entries). */
interface TableEntry {
  block: number;
  key: Uint8Array;
  valueSize: number;
}

/** The filter block's figures. */
interface FilterFigures {
  bytes: number;
  bits: number;
  blocks: number;
  probes: number;
  /** Filter bits per distinct user key of the table. */
  bitsPerKey: number;
}

/** What dump-sst found in a table. */
interface SstDump {
  file: string;
  size: number;
  footer: { filter: BlockHandle; index: BlockHandle; properties: BlockHandle };
  properties: TableProperties;
  filter: FilterFigures | undefined;
  blocks: DataBlock[];
  /** Distinct user keys (the filter's keys), counted over the blocks read. */
  userKeys: number;
  entries: TableEntry[] | undefined;
  /** The range tombstones (the range-tombstone block). */
  rangeTombstones: TableRangeTombstone[];
  /** Damage found past the footer, index and properties: offset and what. */
  problems: { offset: number; error: string }[];
}

/**
 * Reads and checks the table at path. Throws (CORRUPTION, file and offset)
 * when the footer, properties, index or filter are damaged or the file is
 * not a table; damaged data blocks are listed in `problems`.
 *
 * @example
 * ```ts
 * const dump = readSst("./data/000007.sst", { entries: 0 });
 * console.log(dump.properties.entries, dump.problems.length);
 * ```
 */
export function readSst(path: string, options: { entries: number }): SstDump {
  const fs = defaultStorage();
  requirePath(fs, path, "file");
  const table = TableReader.open(fs, path, parseFileName(path.slice(path.lastIndexOf("/") + 1))?.number ?? 0);
  try {
    const footer = table.footer;
    const index = indexEntries(table.index.ptr, table.index.size);
    if (index === undefined || index.some((e) => e.lastKey.length < 8 || e.handle === undefined)) {
      throw corruption(path, footer.index.offset, "malformed index block");
    }
    const blocks = index.map((e): DataBlock => ({ handle: e.handle!, lastKey: e.lastKey }));
    const dump: SstDump = {
      file: path,
      size: table.size,
      footer,
      properties: table.properties,
      filter: undefined,
      blocks,
      userKeys: 0,
      entries: options.entries > 0 ? [] : undefined,
      rangeTombstones: table.rangeTombstones,
      problems: [],
    };
    readDataBlocks(table, dump, options.entries);
    dump.filter = footer.filter.size > 0 ? filterFigures(table, footer.filter, dump.userKeys) : undefined;
    return dump;
  } finally {
    table.close();
  }
}

/** Reads every data block (checksum verified), counting entries and user keys; collects entries up to limit. */
function readDataBlocks(table: TableReader, dump: SstDump, limit: number): void {
  let previousUserKey: Uint8Array | undefined;
  dump.blocks.forEach((block, i) => {
    let entries: ReturnType<typeof blockEntries>;
    try {
      const loaded = table.readBlock(block.handle);
      entries = blockEntries(loaded.ptr, loaded.size);
      freeBuffer(loaded.ptr);
      block.codec = loaded.codec ?? "none";
      block.rawSize = loaded.size;
    } catch (err) {
      if (!(err instanceof SiltError) || err.code !== "CORRUPTION") throw err;
      dump.problems.push({ offset: block.handle.offset, error: withoutPlace(err) });
      previousUserKey = undefined;
      return;
    }
    if (entries === undefined || entries.some((e) => e.key.length < 8)) {
      dump.problems.push({ offset: block.handle.offset, error: "malformed data block" });
      return;
    }
    block.entries = entries.length;
    for (const e of entries) {
      const user = userKeyOf(e.key);
      if (previousUserKey === undefined || !sameBytes(user, previousUserKey)) dump.userKeys++;
      previousUserKey = user;
      if (dump.entries !== undefined && dump.entries.length < limit) {
        dump.entries.push({ block: i, key: e.key, valueSize: e.value.length });
      }
    }
  });
  const p = dump.properties;
  const at = dump.footer.index.offset;
  if (dump.blocks.length !== p.dataBlocks) {
    dump.problems.push({
      offset: at,
      error: `the index lists ${dump.blocks.length} data blocks, the properties ${p.dataBlocks}`,
    });
  }
  const counted = dump.blocks.reduce((n, b) => n + (b.entries ?? 0), 0);
  if (dump.problems.length === 0 && counted !== p.entries) {
    dump.problems.push({
      offset: at,
      error: `the data blocks hold ${counted} entries, the properties say ${p.entries}`,
    });
  }
}

/** The data blocks' codecs and sizes, over the blocks read: stored (without trailers) against decompressed. */
function compressionFigures(
  d: SstDump,
): { lz4Blocks: number; rawBlocks: number; storedBytes: number; rawBytes: number } {
  const read = d.blocks.filter((b) => b.rawSize !== undefined);
  return {
    lz4Blocks: read.filter((b) => b.codec === "lz4").length,
    rawBlocks: read.filter((b) => b.codec === "none").length,
    storedBytes: read.reduce((n, b) => n + b.handle.size, 0),
    rawBytes: read.reduce((n, b) => n + b.rawSize!, 0),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The filter block's figures (docs/format.md#filter-block): 64-byte blocks, then the probe count. */
function filterFigures(table: TableReader, handle: BlockHandle, userKeys: number): FilterFigures {
  const block = table.readBlock(handle);
  const probes = bytes()[block.ptr + block.size - 1];
  freeBuffer(block.ptr);
  const bits = (handle.size - 1) * 8;
  return {
    bytes: handle.size,
    bits,
    blocks: Math.floor((handle.size - 1) / 64),
    probes,
    bitsPerKey: userKeys > 0 ? bits / userKeys : 0,
  };
}

const handleText = (h: BlockHandle) => `offset ${h.offset}, size ${h.size}`;

/** The dump as a person reads it. */
function humanSst(d: SstDump, hex: boolean): string {
  const p = d.properties;
  const pairs = (rows: [string, string][]) => {
    const w = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  };
  const lines = [`${d.file}: table, ${formatBytes(d.size)} (${formatCount(d.size)} bytes)`, "", "footer"];
  lines.push(...pairs([
    ["format version", String(TABLE_VERSION)],
    ["magic", "SILTSST\\n"],
    ["filter block", d.footer.filter.size > 0 ? handleText(d.footer.filter) : "none"],
    ["index block", handleText(d.footer.index)],
    ["properties block", handleText(d.footer.properties)],
  ]));
  const rt = p.rangeTombstones;
  lines.push(...pairs([["range-tombstone block", rt.size > 0 ? handleText(rt) : "none"]]));
  lines.push("", "properties");
  lines.push(...pairs([
    [
      "entries",
      `${formatCount(p.entries)} (${formatCount(p.deletions)} ${p.deletions === 1 ? "deletion" : "deletions"})`,
    ],
    ["data blocks", `${formatCount(p.dataBlocks)} (${formatBytes(p.dataBytes)} with trailers)`],
    ["key bytes", formatCount(p.keyBytes)],
    ["value bytes", formatCount(p.valueBytes)],
    ["sequences", `${p.smallestSequence}..${p.largestSequence}`],
    ["smallest key", showInternalKey(p.smallest, hex)],
    ["largest key", showInternalKey(p.largest, hex)],
    ["restart interval", String(p.restartInterval)],
    ["bloom bits per key", String(p.bloomBitsPerKey)],
  ]));
  const f = d.filter;
  lines.push(
    "",
    f === undefined
      ? "filter: none"
      : `filter: ${formatCount(f.bytes)} bytes, ${formatCount(f.bits)} bits, ${f.blocks} ${
        f.blocks === 1 ? "block" : "blocks"
      } of 64 bytes, ` +
        `${f.probes} probes, ${f.bitsPerKey.toFixed(1)} bits per key (${formatCount(d.userKeys)} user keys)`,
  );
  const c = compressionFigures(d);
  lines.push(
    "",
    `data blocks (index: ${d.blocks.length}): ${c.lz4Blocks} lz4, ${c.rawBlocks} stored as is; ` +
      `${formatCount(c.storedBytes)} bytes stored for ${formatCount(c.rawBytes)} bytes of blocks` +
      (c.storedBytes > 0 ? ` (${(c.rawBytes / c.storedBytes).toFixed(2)}x)` : ""),
  );
  lines.push(
    formatTable(
      ["block", "offset", "size", "bytes", "codec", "raw", "entries", "last key"],
      d.blocks.map((b, i) => [
        String(i),
        String(b.handle.offset),
        String(b.handle.size),
        String(b.handle.size + BLOCK_TRAILER_SIZE),
        b.codec ?? "-",
        b.rawSize === undefined ? "-" : String(b.rawSize),
        b.entries === undefined ? "-" : String(b.entries),
        showInternalKey(b.lastKey, hex),
      ]),
    ).trimEnd(),
  );
  if (d.entries !== undefined) {
    lines.push("", `entries (${d.entries.length} of ${formatCount(p.entries)})`);
    lines.push(
      formatTable(
        ["block", "sequence", "kind", "value", "key"],
        d.entries.map((
          e,
        ) => [
          String(e.block),
          String(sequenceOf(e.key)),
          kindName(e.key[e.key.length - 8]),
          String(e.valueSize),
          showBytes(userKeyOf(e.key), hex),
        ]),
      ).trimEnd(),
    );
  }
  if (d.rangeTombstones.length > 0) {
    lines.push("", `range tombstones (${d.rangeTombstones.length})`);
    lines.push(
      formatTable(
        ["sequence", "start", "end (exclusive)"],
        d.rangeTombstones.map((t) => [String(t.sequence), showBytes(t.start, hex), showBytes(t.end, hex)]),
      ).trimEnd(),
    );
  }
  lines.push("");
  if (d.problems.length === 0) lines.push("checksums: all blocks intact");
  for (const problem of d.problems) lines.push(`problem: ${d.file} at offset ${problem.offset}: ${problem.error}`);
  return `${lines.join("\n")}\n`;
}

/** The dump as JSON (shape documented in the command's help). */
function jsonSst(d: SstDump, hex: boolean): unknown {
  const p = d.properties;
  return {
    file: d.file,
    size: d.size,
    footer: { formatVersion: TABLE_VERSION, magic: "SILTSST\n", ...d.footer },
    properties: { ...p, smallest: internalKeyJson(p.smallest, hex), largest: internalKeyJson(p.largest, hex) },
    filter: d.filter === undefined ? null : { ...d.filter, userKeys: d.userKeys },
    compression: compressionFigures(d),
    blocks: d.blocks.map((b) => ({
      offset: b.handle.offset,
      size: b.handle.size,
      bytes: b.handle.size + BLOCK_TRAILER_SIZE,
      codec: b.codec ?? null,
      rawSize: b.rawSize ?? null,
      entries: b.entries ?? null,
      lastKey: internalKeyJson(b.lastKey, hex),
    })),
    entries: d.entries?.map((e) => ({ block: e.block, ...internalKeyJson(e.key, hex), valueSize: e.valueSize })) ??
      null,
    rangeTombstones: d.rangeTombstones.map((t) => ({
      sequence: t.sequence,
      ...jsonField("start", t.start, hex),
      ...jsonField("end", t.end, hex),
    })),
    problems: d.problems,
  };
}

/**
 * `siltdb dump-sst <file> [--json] [--hex] [--entries] [--limit N]`: the structure of a table file.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await dumpSst.run(parseArgs(["./data/000007.sst", "--entries", "--limit", "20"], dumpSst.args));
 * ```
 */
export const dumpSst: Command = {
  name: "dump-sst",
  summary: "show the footer, properties, filter, index and blocks of a table file (NNNNNN.sst)",
  usage: "siltdb dump-sst <file> [--json] [--hex] [--entries] [--limit N]",
  help: `Shows the footer (format version, magic, block handles), the properties
(entries, deletions, data blocks, key and value bytes, sequences, smallest and
largest key, restart interval, bloom bits per key), the filter (bytes, bits,
probes, bits per user key), and each data block from the index (offset, size
as stored, bytes with trailer, codec: lz4 or none, size decompressed,
entries, last key), with the data blocks' compression ratio. Every block is read and its checksum
verified: a damaged block is reported with the file and its offset (exit 1).
Keys are shown as "<user key> @<sequence> <put|delete>". The file is only
read. Layout: docs/format.md (Table file).

options:
  --entries   also list every entry: block, sequence, kind, value size, key
  --limit N   list at most N entries (implies --entries)
  --json      one JSON document:
              { file, size,
                footer: { formatVersion, magic, filter, index, properties: { offset, size } },
                properties: { restartInterval, bloomBitsPerKey, entries, deletions, dataBlocks,
                  dataBytes, keyBytes, valueBytes, smallestSequence, largestSequence,
                  smallest, largest },
                filter: { bytes, bits, blocks, probes, bitsPerKey, userKeys } | null,
                compression: { lz4Blocks, rawBlocks, storedBytes, rawBytes },
                blocks: [{ offset, size, bytes, codec, rawSize, entries, lastKey }],
                entries: [{ block, key | keyHex, sequence, kind, valueSize }] | null,
                problems: [{ offset, error }] }
              where a key is { key | keyHex, sequence, kind }
  --hex       show every key as hex

example:
  siltdb dump-sst ./data/000007.sst
  siltdb dump-sst ./data/000007.sst --entries --limit 20`,
  args: { flags: { json: "boolean", hex: "boolean", entries: "boolean", limit: "number" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const hex = args.flags.hex === true;
    const limit = intFlag(args, "limit", Infinity, 1);
    const entries = args.flags.entries === true || args.flags.limit !== undefined ? limit : 0;
    requireDirectory(args.positionals[0], "dump-sst", "a local file");
    const dump = readSst(args.positionals[0], { entries });
    if (args.flags.json === true) await writeJson(jsonSst(dump, hex));
    else await stdout.write(humanSst(dump, hex));
    return dump.problems.length > 0 ? EXIT_PROBLEM : EXIT_OK;
  },
};
