// repair: rebuilds a database's MANIFEST from the tables and logs that are
// intact, as LevelDB's RepairDB (db/repair.cc), in our own steps:
//
// 1. Take the writer lock (LOCKED if a writer holds the directory).
// 2. Read the old manifest if it is intact: its levels, log number and last
//    sequence are kept, and files it does not need (tables it does not list,
//    logs below its log number) are dropped. Without it every table goes to
//    L0 and every log is converted.
// 3. Check every table (src/tools/_checks.ts). Intact tables are kept; a
//    damaged one is replaced by a new table of the entries of its intact
//    blocks, at its level; the damaged blocks (offset, key range) are lost.
// 4. Convert each log's intact records (skipping damaged ones) into one L0
//    table per log, as recovery does.
// 5. L0 is searched newest first by largest sequence (src/version/
//    version_set.ts): wherever two L0 tables share keys and their sequence
//    ranges interleave, they are merged into one table (the compactor), so
//    that the newest version of every key wins.
// 6. Copy every file it replaces or drops (old manifests, CURRENT, logs,
//    damaged and merged tables) to <dir>/lost/<timestamp>/, synced.
// 7. Write a new manifest with every kept table and a last sequence above
//    every kept entry, and point CURRENT at it (VersionSet.writeSnapshot:
//    temp file, sync, rename, sync of the directory).
// 8. Remove the replaced files (their copies are in lost/).
//
// A crash before step 7 renames CURRENT leaves the old store (the new tables
// are unreferenced; the next open deletes them); after, the repaired one
// (old files left over are obsolete; the next open deletes them).

import { SiltError } from "../errors.ts";
import { compareUserKeys, userKeyOf } from "../format/internal_key.ts";
import { writeLevel0Table } from "../background/flush.ts";
import { Memtable } from "../wasm/memtable.ts";
import { resolveOptions } from "../options.ts";
import { removeQuietly } from "../storage/atomic_file.ts";
import { defaultStorage } from "../storage/default_storage.ts";
import { guardStorage } from "../storage/guarded_storage.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { CURRENT_FILE, LOCK_FILE, manifestFileName, parseFileName, tableFileName } from "../version/file_names.ts";
import type { FileMeta } from "../version/version_edit.ts";
import { VersionSet } from "../version/version_set.ts";
import type { BlockEntry } from "../wasm/blocks.ts";
import type { TableOptions } from "../table/table_writer.ts";
import type { Compression } from "../format/table_format.ts";
import { checkCurrent, checkLog, checkManifest, checkTable, type Problem, problemOf } from "./_checks.ts";
import { mergeTables, writeEntries } from "./_write_tables.ts";

export type { Problem } from "./_checks.ts";

/** Options of {@linkcode repair}. */
export interface RepairOptions {
  /** The storage the directory is on (default: the runtime's file system). */
  fs?: Storage;
  /** Data block size of the tables repair writes (default 4096). */
  blockSize?: number;
  /** Bloom filter bits per key of the tables repair writes (default 10). */
  bloomBitsPerKey?: number;
  /** How the data blocks of the tables repair writes are stored (default "none"; the open option). */
  compression?: Compression;
}

/** A table of the repaired store. */
export interface RepairedTable {
  /** Its name in the directory. */
  file: string;
  /** The level it was placed at. */
  level: number;
  /** Entries it holds (every version and tombstone). */
  entries: number;
  /** Smallest user key. */
  smallest: Uint8Array;
  /** Largest user key. */
  largest: Uint8Array;
  /** kept: an intact table kept as is; salvaged: the intact blocks of a damaged table; log: a log's intact records; merged: tables merged to keep L0 in order. */
  origin: "kept" | "salvaged" | "log" | "merged";
  /** The files its entries came from. */
  from: string[];
}

/** A data block of a damaged table whose entries are lost. */
export interface LostBlock {
  /** The damaged table. */
  file: string;
  /** Offset of the block in it. */
  offset: number;
  /** Size of the block (0 when its index entry was unreadable). */
  size: number;
  /** The lost keys are above this user key (undefined: from the start)... */
  after?: Uint8Array;
  /** ...and at most this one. */
  upTo: Uint8Array;
  /** What was wrong with it. */
  what: string;
}

/** A log record that was skipped. */
export interface LostRecord {
  /** The log. */
  file: string;
  /** Offset of the skipped record. */
  offset: number;
  /** Bytes skipped (to the next intact record, or the end of the log). */
  bytes: number;
  /** What was wrong with it. */
  what: string;
}

/** A table dropped whole (nothing in it could be read, or it is missing). */
export interface LostTable {
  /** The table. */
  file: string;
  /** Why it was dropped. */
  what: string;
  /** Its entries, when the manifest or its properties say. */
  entries?: number;
  /** Its smallest user key, when known. */
  smallest?: Uint8Array;
  /** Its largest user key, when known. */
  largest?: Uint8Array;
}

/** The result of {@linkcode repair}. */
export interface RepairReport {
  /** The directory repaired. */
  dir: string;
  /** The new manifest. */
  manifest: string;
  /** Where copies of the replaced and dropped files went. */
  lostDir: string;
  /** Every table of the repaired store. */
  tables: RepairedTable[];
  /** Entries in those tables. */
  entries: number;
  /** Last sequence of the new manifest. */
  lastSequence: number;
  /** What was lost. `entries` counts losses that could be counted; `uncounted` is true when some could not be (a damaged record, a table without readable properties). */
  lost: { entries: number; uncounted: boolean; blocks: LostBlock[]; records: LostRecord[]; tables: LostTable[] };
  /** Intact files left out because the old manifest says their data is elsewhere (obsolete tables and logs). */
  dropped: string[];
  /** Files copied to lostDir (then removed from the directory, but CURRENT, which was replaced). */
  copied: string[];
  /** Every problem found. */
  problems: Problem[];
  /** True when nothing was lost. */
  lossless: boolean;
}

interface Placed {
  level: number;
  meta: FileMeta;
  origin: RepairedTable["origin"];
  from: string[];
}

/**
 * Repairs the database in `dir` (see the steps at the top of this file) and
 * reports what was kept and what was lost. Takes the writer lock: rejects
 * with `LOCKED` while the database is open elsewhere, `NOT_FOUND` if `dir`
 * does not exist. The repaired store opens with `open(dir)` and holds every
 * key whose table block or log record was intact, with its newest intact
 * value.
 *
 * @example
 * ```ts
 * import { open, repair } from "siltdb";
 * const report = await repair("./data");
 * console.log(`kept ${report.entries} entries in ${report.tables.length} tables; copies in ${report.lostDir}`);
 * if (!report.lossless) console.log(`lost ${report.lost.blocks.length} blocks, ${report.lost.records.length} records`);
 * const db = await open("./data");
 * ```
 */
export async function repair(dir: string, options: RepairOptions = {}): Promise<RepairReport> {
  const base = options.fs ?? defaultStorage();
  const o = resolveOptions({
    blockSize: options.blockSize,
    bloomBitsPerKey: options.bloomBitsPerKey,
    compression: options.compression,
  });
  if (!base.exists(dir)) throw new SiltError("NOT_FOUND", `${dir} does not exist`, { file: dir });
  const lock = await base.lock(joinPath(dir, LOCK_FILE));
  try {
    return await repairLocked(guardStorage(base, lock), dir, {
      blockSize: o.blockSize,
      bloomBitsPerKey: o.bloomBitsPerKey,
      compression: o.compression,
    });
  } finally {
    lock.release();
  }
}

async function repairLocked(fs: Storage, dir: string, build: TableOptions): Promise<RepairReport> {
  const names = fs.list(dir).sort();
  const parsed = names.map((name) => ({ name, p: parseFileName(name) })).filter((x) => x.p !== undefined)
    .map((x) => ({ name: x.name, kind: x.p!.kind, number: x.p!.number }));
  const problems: Problem[] = [];
  const lost: RepairReport["lost"] = { entries: 0, uncounted: false, blocks: [], records: [], tables: [] };
  const dropped: string[] = [];
  const replaced: string[] = []; // originals copied to lost/ and then removed
  const created: number[] = []; // tables written by this repair (removed if it fails)
  let next = parsed.reduce((n, f) => Math.max(n, f.number), 1) + 1;

  // The old manifest, if intact.
  const current = checkCurrent(fs, dir);
  if (current.problem) problems.push(current.problem);
  let old:
    | { levels: Map<number, { level: number; meta: FileMeta }>; logNumber: number; lastSequence: number }
    | undefined;
  let manifestOk = false;
  for (const m of parsed.filter((f) => f.kind === "manifest")) {
    const c = checkManifest(fs, dir, m.name, m.number === current.manifest);
    problems.push(...c.problems);
    replaced.push(m.name);
    if (m.number === current.manifest) manifestOk = c.problems.length === 0;
  }
  if (current.manifest !== undefined && !current.problem && manifestOk) {
    try {
      const versions = VersionSet.recover(dir, fs);
      const levels = new Map<number, { level: number; meta: FileMeta }>();
      versions.current.levels.forEach((files, level) =>
        files.forEach((meta) => levels.set(meta.number, { level, meta }))
      );
      old = { levels, logNumber: versions.logNumber, lastSequence: versions.lastSequence };
      next = Math.max(next, versions.nextFileNumber);
    } catch (err) {
      problems.push(problemOf(err, names.find((n) => n.startsWith("MANIFEST-")) ?? CURRENT_FILE));
    }
  }
  if (names.includes(CURRENT_FILE)) replaced.push(CURRENT_FILE);
  const newNumber = () => next++;
  const placed: Placed[] = [];
  let lastSequence = old?.lastSequence ?? 0;

  try {
    // Tables.
    const tableNames = new Set(parsed.filter((f) => f.kind === "table").map((f) => f.name));
    for (const [number, { meta }] of old?.levels ?? []) {
      const name = tableFileName(number);
      if (tableNames.has(name)) continue;
      problems.push({ file: name, offset: 0, what: "listed by the manifest, but missing" });
      lost.tables.push({
        file: name,
        what: "missing",
        entries: meta.entries,
        smallest: userKeyOf(meta.smallest),
        largest: userKeyOf(meta.largest),
      });
      lost.entries += meta.entries;
    }
    for (const t of parsed.filter((f) => f.kind === "table")) {
      const listed = old?.levels.get(t.number);
      if (old !== undefined && listed === undefined) {
        // The intact manifest does not need it: an input of a finished compaction, or an output whose edit never took effect.
        dropped.push(t.name);
        replaced.push(t.name);
        continue;
      }
      const level = listed?.level ?? 0;
      const entries: BlockEntry[] = [];
      const c = checkTable(fs, dir, t.name, t.number, (block) => entries.push(...block));
      problems.push(...c.problems);
      if (c.problems.length === 0 && c.properties) {
        const p = c.properties;
        placed.push({
          level,
          origin: "kept",
          from: [t.name],
          meta: {
            number: t.number,
            size: c.size,
            smallest: p.smallest,
            largest: p.largest,
            smallestSequence: p.smallestSequence,
            largestSequence: p.largestSequence,
            entries: p.entries,
            ...(c.rangeTombstones.length > 0 ? { rangeTombstones: c.rangeTombstones } : {}),
          },
        });
        lastSequence = Math.max(lastSequence, p.largestSequence);
        continue;
      }
      replaced.push(t.name);
      const known = c.properties?.entries ?? listed?.meta.entries;
      if (known === undefined) lost.uncounted = true;
      else lost.entries += Math.max(0, known - entries.length);
      for (const b of c.damagedBlocks) {
        lost.blocks.push({
          file: t.name,
          offset: b.offset,
          size: b.size,
          after: b.after && userKeyOf(b.after),
          upTo: userKeyOf(b.upTo),
          what: c.problems.find((p) => p.offset === b.offset)?.what ?? "damaged",
        });
      }
      if (entries.length === 0) {
        const smallest = c.properties?.smallest ?? listed?.meta.smallest;
        const largest = c.properties?.largest ?? listed?.meta.largest;
        lost.tables.push({
          file: t.name,
          what: c.opened ? "no intact data block" : c.problems[0]?.what ?? "unreadable",
          entries: known,
          smallest: smallest && userKeyOf(smallest),
          largest: largest && userKeyOf(largest),
        });
        continue;
      }
      const number = newNumber();
      created.push(number);
      const meta = await writeEntries(fs, dir, number, entries, build, c.rangeTombstones);
      placed.push({ level, meta, origin: "salvaged", from: [t.name] });
      lastSequence = Math.max(lastSequence, meta.largestSequence);
    }

    // Logs, oldest first.
    let logSequence = 0;
    for (const l of parsed.filter((f) => f.kind === "log").sort((a, b) => a.number - b.number)) {
      replaced.push(l.name);
      if (old !== undefined && l.number < old.logNumber) {
        dropped.push(l.name);
        continue;
      }
      const memtable = new Memtable();
      try {
        const c = checkLog(fs, dir, l.name, memtable, logSequence);
        logSequence = Math.max(logSequence, c.lastSequence);
        problems.push(...c.problems);
        for (const d of c.damaged) {
          lost.records.push({ file: l.name, offset: d.offset, bytes: d.resumeAt - d.offset, what: d.what });
        }
        if (c.damaged.length > 0) lost.uncounted = true;
        if (c.damaged.length === 0 && c.problems.length > 0) {
          lost.records.push({ file: l.name, offset: c.problems[0].offset, bytes: c.size, what: c.problems[0].what });
          lost.uncounted = true;
        }
        if (memtable.count > 0) {
          const number = newNumber();
          created.push(number);
          const meta = await writeLevel0Table({ fs, dir }, number, memtable, build, [placed.map((p) => p.meta)]);
          placed.push({ level: 0, meta, origin: "log", from: [l.name] });
          lastSequence = Math.max(lastSequence, meta.largestSequence);
        }
      } finally {
        memtable.free();
      }
    }

    // L0 in order: merge tables that share keys and whose sequence ranges interleave.
    for (let group = l0Conflicts(placed); group.length > 0; group = l0Conflicts(placed)) {
      const others = placed.filter((p) => !group.includes(p)).map((p) => p.meta);
      const number = newNumber();
      created.push(number);
      const [meta] = await mergeTables(fs, dir, group.map((p) => p.meta), others, number, lastSequence, build);
      for (const p of group) {
        placed.splice(placed.indexOf(p), 1);
        const name = tableFileName(p.meta.number);
        if (p.origin === "kept") replaced.push(name);
        else removeQuietly(fs, joinPath(dir, name)); // written by this repair, now merged
      }
      placed.push({ level: 0, meta, origin: "merged", from: group.flatMap((p) => p.from) });
    }

    // Copies of everything replaced or dropped, synced before anything changes.
    const lostDir = lostDirectory(fs, dir);
    const copied: string[] = [];
    for (const name of [...new Set(replaced)]) {
      await copyFile(fs, joinPath(dir, name), joinPath(lostDir, name));
      copied.push(name);
    }
    await fs.syncDir(lostDir);
    await fs.syncDir(joinPath(dir, "lost"));
    await fs.syncDir(dir);

    // The new manifest, then CURRENT (atomically).
    const versions = VersionSet.empty(dir, fs);
    versions.nextFileNumber = next;
    const logNumber = versions.newFileNumber(); // above every log: none is replayed again
    let manifest: string;
    try {
      await versions.writeSnapshot({
        added: placed.map((p) => ({ level: p.level, file: p.meta })),
        logNumber,
        lastSequence,
      });
      manifest = manifestFileName(versions.manifestNumber);
    } finally {
      await versions.close();
    }
    created.length = 0; // in the manifest now

    // The originals (copied) go.
    for (const name of copied) if (name !== CURRENT_FILE && name !== manifest) removeQuietly(fs, joinPath(dir, name));
    for (const f of parsed.filter((f) => f.kind === "temp")) removeQuietly(fs, joinPath(dir, f.name));
    await fs.syncDir(dir);

    const tables = placed.map((p): RepairedTable => ({
      file: tableFileName(p.meta.number),
      level: p.level,
      entries: p.meta.entries,
      smallest: userKeyOf(p.meta.smallest),
      largest: userKeyOf(p.meta.largest),
      origin: p.origin,
      from: p.from,
    })).sort((a, b) => a.level - b.level || compareUserKeys(a.smallest, b.smallest));
    const lossless = lost.entries === 0 && !lost.uncounted && lost.blocks.length === 0 && lost.records.length === 0 &&
      lost.tables.length === 0;
    return {
      dir,
      manifest,
      lostDir,
      tables,
      entries: tables.reduce((n, t) => n + t.entries, 0),
      lastSequence,
      lost,
      dropped,
      copied,
      problems,
      lossless,
    };
  } catch (err) {
    for (const number of created) removeQuietly(fs, joinPath(dir, tableFileName(number)));
    throw err;
  }
}

/**
 * A group of L0 tables that must be merged for reads to stay right, or []:
 * L0 is searched newest first by largest sequence, so a table searched later
 * must not hold a newer version of a key an earlier one holds.
 */
function l0Conflicts(placed: Placed[]): Placed[] {
  const l0 = placed.filter((p) => p.level === 0)
    .sort((a, b) => b.meta.largestSequence - a.meta.largestSequence || b.meta.number - a.meta.number);
  for (let i = 0; i < l0.length; i++) {
    const group = [l0[i]];
    for (let j = i + 1; j < l0.length; j++) {
      const a = l0[i].meta;
      const b = l0[j].meta;
      const overlap = compareUserKeys(userKeyOf(a.smallest), userKeyOf(b.largest)) <= 0 &&
        compareUserKeys(userKeyOf(b.smallest), userKeyOf(a.largest)) <= 0;
      if (overlap && b.largestSequence > a.smallestSequence) group.push(l0[j]);
    }
    if (group.length > 1) return group;
  }
  return [];
}

/** Creates <dir>/lost/<timestamp>/ (a new one). */
function lostDirectory(fs: Storage, dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  for (let i = 0;; i++) {
    const path = joinPath(joinPath(dir, "lost"), i === 0 ? stamp : `${stamp}-${i}`);
    if (fs.exists(path)) continue;
    fs.mkdir(path);
    return path;
  }
}

/** Copies a file, synced. */
async function copyFile(fs: Storage, from: string, to: string): Promise<void> {
  const data = fs.readFile(from);
  const file = fs.open(to, { create: true, exclusive: true });
  try {
    await file.append(data);
    await file.sync();
  } finally {
    file.close();
  }
}
