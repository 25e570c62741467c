// siltdb dump-manifest: the manifest CURRENT names, edit by edit, then the
// levels it makes, as LevelDB's `ldb manifest_dump`. Edits are read with the
// project's log reader and decodeEdit (src/version/version_edit.ts); the
// levels are those VersionSet.recover builds (src/version/version_set.ts),
// the same as an open. Layout: docs/format.md#manifest-manifest-nnnnnn.

import { bytes } from "../../wasm/instance.ts";
import { corruption, SiltError } from "../../errors.ts";
import { RECORD_TYPE_EDIT } from "../../format/log_format.ts";
import { defaultStorage } from "../../storage/default_storage.ts";
import { joinPath } from "../../storage/storage.ts";
import { CURRENT_FILE } from "../../version/file_names.ts";
import { decodeEdit, type FileMeta, type VersionEdit } from "../../version/version_edit.ts";
import { VersionSet } from "../../version/version_set.ts";
import { intFlag, type ParsedArgs, UsageError } from "../args.ts";
import { BUCKET_HELP, bucketStore, isBucketUrl } from "../bucket.ts";
import { type Command, EXIT_OK, EXIT_PROBLEM } from "../command.ts";
import { formatBytes } from "../display.ts";
import { stdout } from "../io.ts";
import {
  addedFileLine,
  describeTail,
  fileJson,
  levelLines,
  type LogTail,
  replayForDump,
  requirePath,
  withoutPlace,
  writeJson,
} from "./_dump_common.ts";
import { humanBucketManifest, jsonBucketManifest, readBucketManifest } from "./dump_manifest_bucket.ts";

/** The state the manifest leads to (what an open would start from). */
interface ManifestState {
  logNumber: number;
  nextFileNumber: number;
  lastSequence: number;
  levels: readonly (readonly FileMeta[])[];
}

/** What dump-manifest found. */
interface ManifestDump {
  dir: string;
  current: string;
  path: string;
  size: number;
  edits: { offset: number; edit: VersionEdit }[];
  tail: LogTail;
  /** Undefined when the manifest is damaged. */
  state: ManifestState | undefined;
  /** Why the state could not be built, when the edits read fine but do not make a valid state. */
  problem: string | undefined;
}

/**
 * Reads CURRENT, every edit of the manifest it names, and the state they
 * make. Throws for a missing directory, a directory without CURRENT, a
 * CURRENT naming no manifest, or a file that is not a siltdb log.
 *
 * @example
 * ```ts
 * const dump = await readManifest("./data");
 * console.log(dump.current, dump.edits.length);
 * ```
 */
export async function readManifest(dir: string): Promise<ManifestDump> {
  const fs = defaultStorage();
  requirePath(fs, dir, "directory");
  const currentPath = joinPath(dir, CURRENT_FILE);
  if (!fs.exists(currentPath)) {
    throw new SiltError("NOT_FOUND", `${dir} holds no database (no ${CURRENT_FILE} file)`, { file: currentPath });
  }
  const text = new TextDecoder().decode(fs.readFile(currentPath));
  const m = /^(MANIFEST-\d{6,})\n$/.exec(text);
  if (!m) throw corruption(currentPath, 0, `CURRENT does not name a manifest: ${JSON.stringify(text.slice(0, 40))}`);
  const path = joinPath(dir, m[1]);
  if (!fs.exists(path)) throw corruption(currentPath, 0, `CURRENT names ${m[1]}, which does not exist`);
  const edits: ManifestDump["edits"] = [];
  const file = fs.open(path);
  let replay: ReturnType<typeof replayForDump>;
  try {
    replay = replayForDump(file, path, (payload, length, offset) => {
      edits.push({ offset, edit: decodeEdit(bytes().slice(payload, payload + length), path, offset) });
    }, RECORD_TYPE_EDIT);
  } finally {
    file.close();
  }
  const dump: ManifestDump = {
    dir,
    current: m[1],
    path,
    size: replay.size,
    edits,
    tail: replay.tail,
    state: undefined,
    problem: undefined,
  };
  if (replay.tail.state !== "corrupt") {
    try {
      const set = VersionSet.recover(dir, fs);
      const { logNumber, nextFileNumber, lastSequence } = set;
      dump.state = { logNumber, nextFileNumber, lastSequence, levels: set.current.levels };
      await set.close();
    } catch (err) {
      if (!(err instanceof SiltError) || err.code !== "CORRUPTION") throw err;
      dump.problem = err.file === undefined
        ? err.message
        : `${err.file} at offset ${err.offset ?? 0}: ${withoutPlace(err)}`;
    }
  }
  return dump;
}

/** The dump as a person reads it. */
function humanManifest(d: ManifestDump, hex: boolean): string {
  const lines = [`CURRENT: ${d.current} (${d.path}, ${formatBytes(d.size)})`, ""];
  for (const { offset, edit } of d.edits) {
    const fields = [
      edit.logNumber !== undefined ? `log number ${edit.logNumber}` : "",
      edit.nextFileNumber !== undefined ? `next file number ${edit.nextFileNumber}` : "",
      edit.lastSequence !== undefined ? `last sequence ${edit.lastSequence}` : "",
    ].filter((s) => s !== "");
    lines.push(`edit @${offset}${fields.length > 0 ? `  ${fields.join("  ")}` : ""}`);
    for (const { level, file } of edit.added ?? []) lines.push(addedFileLine(level, file, hex));
    for (const { level, number } of edit.deleted ?? []) lines.push(`  - L${level} #${number}`);
  }
  lines.push("", `edits: ${d.edits.length}   tail: ${describeTail(d.tail)}`);
  if (d.state !== undefined) {
    const s = d.state;
    lines.push(
      "",
      `levels (log number ${s.logNumber}, next file number ${s.nextFileNumber}, last sequence ${s.lastSequence})`,
    );
    lines.push(...levelLines(s.levels, hex));
  }
  if (d.problem !== undefined) lines.push("", `problem: ${d.problem}`);
  return `${lines.join("\n")}\n`;
}

/** The dump as JSON (shape documented in the command's help). */
function jsonManifest(d: ManifestDump, hex: boolean): unknown {
  const s = d.state;
  return {
    dir: d.dir,
    current: d.current,
    manifest: d.path,
    size: d.size,
    edits: d.edits.map(({ offset, edit }) => ({
      offset,
      logNumber: edit.logNumber ?? null,
      nextFileNumber: edit.nextFileNumber ?? null,
      lastSequence: edit.lastSequence ?? null,
      added: (edit.added ?? []).map(({ level, file }) => ({ level, ...fileJson(file, hex) })),
      deleted: edit.deleted ?? [],
    })),
    tail: d.tail,
    state: s === undefined ? null : {
      logNumber: s.logNumber,
      nextFileNumber: s.nextFileNumber,
      lastSequence: s.lastSequence,
      levels: s.levels.map((files, level) => ({
        level,
        files: files.map((f) => fileJson(f, hex)),
        bytes: files.reduce((n, f) => n + f.size, 0),
      })),
    },
    problem: d.problem ?? null,
  };
}

/**
 * `siltdb dump-manifest <store> [--number N] [--json] [--hex]`: the current manifest, edit by edit, and the
 * levels it makes (in a bucket: the newest manifest or manifest N, its changes and its levels).
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await dumpManifest.run(parseArgs(["./data"], dumpManifest.args));
 * ```
 */
export const dumpManifest: Command = {
  name: "dump-manifest",
  summary: "show the version edits of the current manifest and the levels they make",
  usage: "siltdb dump-manifest <store> [--number N] [--json] [--hex]",
  help: `Shows which manifest CURRENT names, then every version edit in it, in
order: its file offset, log number, next file number and last sequence (when
the edit sets them), the table files it adds (+ level, number, size, entries,
smallest .. largest key) and removes (-). Then the state they make, as an open
would see it: the counters and the files of each level. Keys are shown as
"<user key> @<sequence> <put|delete>". A damaged edit is reported with its
offset (exit 1); a torn tail is an edit that never took effect (exit 0). The
directory is only read (a database open elsewhere may be dumped).
Layout: docs/format.md (Manifest).

In a bucket, each manifest is an object holding the whole state (one
record); the newest is shown, or manifest N with --number: the object, the
manifests the bucket keeps, its counters (WAL start, next file number, last
sequence, writer and compactor epochs), the edit it made since the one
before (+/- tables, counters changed; when that one is still kept), and its
levels. A damaged manifest fails naming the object and offset (exit 1).

${BUCKET_HELP}

options:
  --number N   (a bucket) manifest N instead of the newest
  --json   one JSON document:
           { dir, current, manifest, size,
             edits: [{ offset, logNumber, nextFileNumber, lastSequence (null when not set),
                       added: [{ level, number, size, entries, smallestSequence,
                                 largestSequence, smallest, largest }],
                       deleted: [{ level, number }] }],
             tail: { state: "clean" } | { state: "torn", offset, bytes }
                 | { state: "corrupt", offset, error },
             state: { logNumber, nextFileNumber, lastSequence,
                      levels: [{ level, files: [...as added, without level], bytes }] } | null,
             problem: string | null }
           where a key is { key | keyHex, sequence, kind }; for a bucket:
           { location, manifest, number, size, kept: [numbers],
             state: { walStart, nextFileNumber, lastSequence, writerEpoch,
                      compactorEpoch, levels: [{ level, files, bytes }] },
             changes: { since, added: [{ level, ...file }], deleted: [{ level, number }],
                        fields: { <name>: { from, to } } } | null }
  --hex    show every key as hex

example:
  siltdb dump-manifest ./data
  siltdb dump-manifest ./data --json | jq '.state.levels[1].files'
  siltdb dump-manifest s3://my-bucket/db1 --number 12`,
  args: { flags: { json: "boolean", hex: "boolean", number: "number" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const hex = args.flags.hex === true;
    if (isBucketUrl(args.positionals[0])) {
      const number = args.flags.number === undefined ? undefined : intFlag(args, "number", 0, 1);
      const dump = await readBucketManifest(bucketStore(args.positionals[0]), number);
      if (args.flags.json === true) await writeJson(jsonBucketManifest(dump, hex));
      else await stdout.write(humanBucketManifest(dump, hex));
      return EXIT_OK;
    }
    if (args.flags.number !== undefined) throw new UsageError("--number is for a store in a bucket");
    const dump = await readManifest(args.positionals[0]);
    if (args.flags.json === true) await writeJson(jsonManifest(dump, hex));
    else await stdout.write(humanManifest(dump, hex));
    return dump.tail.state === "corrupt" || dump.state === undefined ? EXIT_PROBLEM : EXIT_OK;
  },
};
