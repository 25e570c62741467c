// verify: checks every file of a database directory, read-only, and reports
// every problem with its file and offset (LevelDB's `leveldbutil` checks and
// RocksDB's `ldb checkconsistency`, in one pass). See docs/reliability.md.
//
// It takes the directory the way a read-only open does (the lease of
// src/storage/lock/, checked, not taken): LOCKED while a writer
// holds it, and it never writes a byte.

import { SiltError } from "../errors.ts";
import { Memtable } from "../wasm/memtable.ts";
import { defaultStorage } from "../storage/default_storage.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { INCOMPLETE_FILE, LOCK_FILE, manifestFileName, parseFileName, tableFileName } from "../version/file_names.ts";
import { VersionSet } from "../version/version_set.ts";
import { checkCurrent, checkLog, checkManifest, checkTable, type Problem, problemOf } from "./_checks.ts";

export type { Problem } from "./_checks.ts";

/** Options of {@linkcode verify}. */
export interface VerifyOptions {
  /** The storage the directory is on (default: the runtime's file system). */
  fs?: Storage;
}

/** What verify checked in one file. */
export interface VerifiedFile {
  /** Name in the directory. */
  name: string;
  /** What kind of file it is (by its name). */
  kind: "table" | "log" | "manifest" | "current" | "temp";
  /** Size in bytes. */
  bytes: number;
  /** Tables: data blocks checked. */
  blocks?: number;
  /** Logs and manifests: intact records. */
  records?: number;
  /** Tables and logs: entries decoded. */
  entries?: number;
  /** Logs and manifests: bytes of a torn tail (what a crash leaves; recovery stops there, not a problem). */
  tornBytes?: number;
  /** Problems found in this file. */
  problems: number;
}

/** The result of {@linkcode verify}. */
export interface VerifyReport {
  /** The directory checked. */
  dir: string;
  /** True when no problem was found. */
  ok: boolean;
  /** Every file checked. */
  files: VerifiedFile[];
  /** Totals over the files. */
  checked: {
    files: number;
    tables: number;
    logs: number;
    manifests: number;
    blocks: number;
    records: number;
    entries: number;
    bytes: number;
  };
  /** Torn log tails (noted; recovery treats them as the end of the log). */
  tornTails: { file: string; offset: number; bytes: number }[];
  /** Every problem: file, offset, what. */
  problems: Problem[];
}

/**
 * Checks every file of the database in `dir`: each table (footer,
 * properties, index, filter, every data block read from storage with its
 * checksum, every entry decoded, keys in order), each log (every record's
 * checksums and batch), the manifest (every edit decodes), CURRENT, and that
 * every table the manifest lists exists with the listed size. Read-only;
 * rejects with `LOCKED` while a writer holds the directory, `NOT_FOUND` if
 * `dir` does not exist.
 *
 * @example
 * ```ts
 * import { verify } from "siltdb";
 * const report = await verify("./data");
 * for (const p of report.problems) console.log(`${p.file}:${p.offset}: ${p.what}`);
 * if (!report.ok) console.log("run repair(\"./data\")");
 * ```
 */
export async function verify(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const fs = options.fs ?? defaultStorage();
  if (!fs.exists(dir)) throw new SiltError("NOT_FOUND", `${dir} does not exist`, { file: dir });
  const lock = await fs.lock(joinPath(dir, LOCK_FILE), { readOnly: true });
  try {
    return verifyFiles(fs, dir);
  } finally {
    lock.release();
  }
}

function verifyFiles(fs: Storage, dir: string): VerifyReport {
  const names = fs.list(dir).sort();
  const files: VerifiedFile[] = [];
  const problems: Problem[] = [];
  const tornTails: VerifyReport["tornTails"] = [];
  const parsed = names.map((name) => ({ name, p: parseFileName(name) })).filter((x) => x.p !== undefined);
  const sizes = new Map<string, number>();
  if (names.includes(INCOMPLETE_FILE)) {
    problems.push({ file: INCOMPLETE_FILE, offset: 0, what: "an unfinished checkpoint or restore: open refuses it" });
  }

  // Tables.
  for (const { name, p } of parsed.filter((x) => x.p!.kind === "table")) {
    const c = checkTable(fs, dir, name, p!.number);
    sizes.set(name, c.size);
    files.push({
      name,
      kind: "table",
      bytes: c.size,
      blocks: c.blocks,
      entries: c.entries,
      problems: c.problems.length,
    });
    problems.push(...c.problems);
  }
  // Logs, oldest first (sequences follow one another across them).
  let lastSequence = 0;
  for (const { name } of parsed.filter((x) => x.p!.kind === "log").sort((a, b) => a.p!.number - b.p!.number)) {
    const memtable = new Memtable();
    try {
      const c = checkLog(fs, dir, name, memtable, lastSequence);
      lastSequence = Math.max(lastSequence, c.lastSequence);
      files.push({
        name,
        kind: "log",
        bytes: c.size,
        records: c.records,
        entries: c.entries,
        tornBytes: c.tornBytes,
        problems: c.problems.length,
      });
      if (c.tornBytes > 0) tornTails.push({ file: name, offset: c.tornAt, bytes: c.tornBytes });
      problems.push(...c.problems);
    } finally {
      memtable.free();
    }
  }
  // CURRENT and the manifests.
  const hasData = parsed.some((x) => x.p!.kind === "table" || x.p!.kind === "log" || x.p!.kind === "manifest");
  const current = names.includes("CURRENT") || hasData ? checkCurrent(fs, dir) : {};
  if (names.includes("CURRENT")) {
    files.push({
      name: "CURRENT",
      kind: "current",
      bytes: fs.readFile(joinPath(dir, "CURRENT")).length,
      problems: current.problem ? 1 : 0,
    });
  }
  if (current.problem) problems.push(current.problem);
  let manifestOk = false;
  for (const { name, p } of parsed.filter((x) => x.p!.kind === "manifest")) {
    const isCurrent = p!.number === current.manifest;
    const c = checkManifest(fs, dir, name, isCurrent);
    files.push({
      name,
      kind: "manifest",
      bytes: c.size,
      records: c.records,
      tornBytes: c.tornBytes,
      problems: c.problems.length,
    });
    if (c.tornBytes > 0) tornTails.push({ file: name, offset: c.size - c.tornBytes, bytes: c.tornBytes });
    problems.push(...c.problems);
    if (isCurrent) manifestOk = c.problems.length === 0;
  }
  for (const { name } of parsed.filter((x) => x.p!.kind === "temp")) {
    const file = fs.open(joinPath(dir, name));
    files.push({ name, kind: "temp", bytes: file.size(), problems: 0 });
    file.close();
  }
  // The tables the manifest lists: present, with the listed size.
  if (manifestOk && current.manifest !== undefined && !current.problem) {
    const manifestName = manifestFileName(current.manifest);
    let versions: VersionSet | undefined;
    try {
      versions = VersionSet.recover(dir, fs);
      for (const f of versions.current.files()) {
        const name = tableFileName(f.number);
        const size = sizes.get(name);
        if (size === undefined) {
          problems.push({ file: manifestName, offset: 0, what: `lists table ${name}, which is missing` });
        } else if (size !== f.size) {
          problems.push({ file: name, offset: 0, what: `is ${size} bytes, the manifest lists ${f.size}` });
        }
      }
    } catch (err) {
      problems.push(problemOf(err, manifestName));
    } finally {
      versions?.current.unref();
    }
  }
  const sum = (k: "blocks" | "records" | "entries" | "bytes") => files.reduce((n, f) => n + (f[k] ?? 0), 0);
  const count = (kind: VerifiedFile["kind"]) => files.filter((f) => f.kind === kind).length;
  return {
    dir,
    ok: problems.length === 0,
    files,
    checked: {
      files: files.length,
      tables: count("table"),
      logs: count("log"),
      manifests: count("manifest"),
      blocks: sum("blocks"),
      records: sum("records"),
      entries: sum("entries"),
      bytes: sum("bytes"),
    },
    tornTails,
    problems,
  };
}
