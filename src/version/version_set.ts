// The set of table files per level (a Version), and its persistent history:
// MANIFEST-NNNNNN (a log of version edits) and CURRENT (names the manifest).
//
// Every writable open starts a new manifest holding one snapshot edit of the
// whole state, points CURRENT at it (src/storage/atomic_file.ts: temp file,
// sync, rename, then a sync of the directory), so manifests stay small; the
// obsolete-file deleter removes the old one. Later edits (flushes,
// compactions) are appended and synced before they take effect.
//
// Failures never leave CURRENT naming a missing manifest: the new manifest is
// removed only while CURRENT cannot name it (before the rename). If an edit
// cannot be written, or the directory sync after the rename fails, the
// on-disk state is unknown: the set turns unhealthy, logs no edit and lets
// no manifest be deleted until writeSnapshot() succeeds (db.resume()).
//
// Versions are immutable; readers (scans) hold a reference to the one they
// started on so its files outlive later edits.
//
// A store in a bucket keeps no MANIFEST file: each edit is committed as a
// new manifest object (src/object_store/bucket_manifest.ts), which may have
// to be applied on top of another holder's commit (a compactor's); the
// version installed is the one the committed manifest holds.

import { corruption, SiltError } from "../errors.ts";
import { logFileHeader, RECORD_HEADER_SIZE, RECORD_OVERHEAD, RECORD_TYPE_EDIT } from "../format/log_format.ts";
import { removeQuietly, writeFileAtomically } from "../storage/atomic_file.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { LogWriter } from "../wal/log_writer.ts";
import { replayLog } from "../wal/log_reader.ts";
import { CURRENT_FILE, manifestFileName } from "./file_names.ts";
import { decodeEdit, encodeEdit, type FileMeta, type VersionEdit } from "./version_edit.ts";
import { compareInLevel, type Levels, NUM_LEVELS, Version } from "./version.ts";

import { allocBuffer, bytes, freeBuffer } from "../wasm/instance.ts";
import { sealRecord } from "../wasm/records.ts";

/**
 * Seals a version edit as a manifest record (log framing, type 2).
 *
 * @example
 * ```ts
 * import { logFileHeader } from "../format/log_format.ts";
 * // A whole manifest holding one snapshot edit (as checkpoints write it):
 * const bytes = [logFileHeader(), sealEdit({ logNumber: 5, nextFileNumber: 9, lastSequence: 42, added: [] })];
 * ```
 */
export function sealEdit(edit: VersionEdit): Uint8Array {
  const payload = encodeEdit(edit);
  const size = RECORD_OVERHEAD + payload.length;
  const ptr = allocBuffer(size);
  try {
    bytes().set(payload, ptr + RECORD_HEADER_SIZE);
    sealRecord(ptr, payload.length, RECORD_TYPE_EDIT);
    return bytes().slice(ptr, ptr + size);
  } finally {
    freeBuffer(ptr);
  }
}

/** Applies an edit to level lists, returning new lists. */
function applyEdit(levels: Levels, edit: VersionEdit): FileMeta[][] {
  const next = levels.map((l) => [...l]);
  for (const d of edit.deleted ?? []) {
    next[d.level] = next[d.level].filter((f) => f.number !== d.number);
  }
  for (const { level, file } of edit.added ?? []) next[level].push(file);
  next.forEach((files, level) => files.sort((a, b) => compareInLevel(level, a, b)));
  return next;
}

/** What a manifest of a bucket holds, as VersionSet needs it. */
export interface RemoteManifestState {
  number: number;
  levels: FileMeta[][];
  /** The first WAL object not yet in tables (the log number). */
  walStart: number;
  /** Every table number in use is below this. */
  nextFileNumber: number;
  lastSequence: number;
  /** The largest oldest-snapshot sequence a compaction of these tables used. */
  horizon: number;
}

/**
 * The manifest of a store in a bucket, held by this writer
 * (src/object_store/bucket_manifest.ts implements it).
 *
 * @example
 * ```ts
 * declare const manifest: RemoteManifest;
 * const state = await manifest.commit({ logNumber: 9 });
 * ```
 */
export interface RemoteManifest {
  readonly location: string;
  readonly state: RemoteManifestState;
  /** A table number from the ranges this holder reserved. */
  takeFileNumber(): number;
  /** Numbers whose tables are committed or deleted. */
  releaseFileNumbers(numbers: Iterable<number>): void;
  /** Commits the edit on top of the newest manifest; the state it made. */
  commit(edit: VersionEdit): Promise<RemoteManifestState>;
  /**
   * Reads the newest manifest (FENCED when another holder of this role
   * claimed the store). `exact`: also reads the numbers after the newest
   * one listed, which a listing may not show yet.
   */
  refresh(options?: { exact?: boolean }): Promise<RemoteManifestState>;
}

/**
 * The database's versions and counters, and its manifest.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "../storage/memory_storage.ts";
 * const fs = new MemoryStorage();
 * fs.mkdir("/db");
 * const versions = VersionSet.empty("/db", fs);
 * await versions.writeSnapshot(); // MANIFEST-000002, and CURRENT naming it
 * await versions.logAndApply({ lastSequence: 5 }); // appended to the manifest and synced
 * await versions.close();
 * console.log(VersionSet.recover("/db", fs).lastSequence); // 5
 * ```
 */
export class VersionSet {
  readonly dir: string;
  readonly fs: Storage;
  current: Version;
  /** Logs numbered below this hold nothing that is not in tables. */
  logNumber = 0;
  nextFileNumber = 2;
  lastSequence = 0;
  manifestNumber = 0;
  #manifest: LogWriter | undefined;
  #live = new Set<Version>();
  /** Called when a version no reader uses any more is dropped (its files may be obsolete). */
  onVersionReleased: (() => void) | undefined;
  #edits: Promise<void> = Promise.resolve();
  /** Edits (and manifest switches, bucket refreshes) chained on #edits and not settled yet. */
  #queued = 0;
  #healthy = true;
  #switching = false;
  /** A store in a bucket: its manifest, held by this writer. */
  #bucket: RemoteManifest | undefined;
  /** A store in a bucket: the largest oldest-snapshot a compaction of the current state used (0 on disk). */
  horizon = 0;
  /** A store in a bucket: the oldest sequence the writer's snapshots read (recorded with every commit). */
  oldestSnapshot: (() => number) | undefined;

  private constructor(dir: string, fs: Storage) {
    this.dir = dir;
    this.fs = fs;
    this.current = this.#install(Array.from({ length: NUM_LEVELS }, () => []));
  }

  /** A fresh state (no files). */
  static empty(dir: string, fs: Storage): VersionSet {
    return new VersionSet(dir, fs);
  }

  /**
   * The versions of a store in a bucket, as its manifest holds them; the
   * writer takes file numbers from the range it reserved.
   *
   * @example
   * ```ts
   * declare const manifest: RemoteManifest; // a BucketManifest this writer claimed
   * const versions = VersionSet.ofBucket(manifest);
   * ```
   */
  static ofBucket(manifest: RemoteManifest): VersionSet {
    const state = manifest.state;
    const set = new VersionSet(manifest.location, undefined as unknown as Storage);
    set.#bucket = manifest;
    set.current.unref();
    set.current = set.#install(state.levels.map((files) => [...files]));
    set.logNumber = state.walStart;
    set.lastSequence = state.lastSequence;
    set.nextFileNumber = state.nextFileNumber;
    set.manifestNumber = state.number;
    set.horizon = state.horizon;
    return set;
  }

  /**
   * The versions of a store in a bucket for a reader: the state of one
   * manifest, never committed to.
   *
   * @example
   * ```ts
   * declare const state: RemoteManifestState; // the newest manifest
   * const versions = VersionSet.ofBucketState("s3://bucket/db/", state);
   * ```
   */
  static ofBucketState(location: string, state: RemoteManifestState): VersionSet {
    const set = new VersionSet(location, undefined as unknown as Storage);
    set.current.unref();
    set.current = set.#install(state.levels.map((files) => [...files]));
    set.logNumber = state.walStart;
    set.lastSequence = state.lastSequence;
    set.nextFileNumber = state.nextFileNumber;
    set.manifestNumber = state.number;
    set.horizon = state.horizon;
    return set;
  }

  /**
   * A reader of a bucket moves to a newer manifest's state (scans keep the
   * version they started on).
   *
   * @example
   * ```ts
   * declare const versions: VersionSet, newer: RemoteManifestState;
   * versions.installBucketState(newer);
   * ```
   */
  installBucketState(state: RemoteManifestState): void {
    const previous = this.current;
    this.current = this.#install(state.levels.map((files) => [...files]));
    previous.unref();
    this.logNumber = state.walStart;
    this.lastSequence = Math.max(this.lastSequence, state.lastSequence);
    this.manifestNumber = state.number;
    this.horizon = state.horizon;
  }

  /** Reads CURRENT and replays the manifest it names. */
  static recover(dir: string, fs: Storage): VersionSet {
    const currentPath = joinPath(dir, CURRENT_FILE);
    const text = new TextDecoder().decode(fs.readFile(currentPath));
    const m = /^MANIFEST-(\d{6,})\n$/.exec(text);
    if (!m) throw corruption(currentPath, 0, `CURRENT does not name a manifest: ${JSON.stringify(text.slice(0, 40))}`);
    const set = new VersionSet(dir, fs);
    set.manifestNumber = Number(m[1]);
    const path = joinPath(dir, manifestFileName(set.manifestNumber));
    if (!fs.exists(path)) {
      throw corruption(currentPath, 0, `CURRENT names ${manifestFileName(set.manifestNumber)}, which does not exist`);
    }
    const file = fs.open(path);
    let levels: FileMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
    try {
      // Every manifest record is synced before it takes effect, and the first
      // (a snapshot) before CURRENT names the file: a torn tail is an edit that
      // never took effect, and the first record is never torn.
      const replay = replayLog(file, path, (payload, length, offset) => {
        const edit = decodeEdit(bytes().slice(payload, payload + length), path, offset);
        for (const d of edit.deleted ?? []) checkLevel(d.level, path, offset);
        for (const a of edit.added ?? []) checkLevel(a.level, path, offset);
        levels = applyEdit(levels, edit);
        if (edit.logNumber !== undefined) set.logNumber = edit.logNumber;
        if (edit.nextFileNumber !== undefined) set.nextFileNumber = edit.nextFileNumber;
        if (edit.lastSequence !== undefined) set.lastSequence = edit.lastSequence;
      }, RECORD_TYPE_EDIT);
      if (replay.records === 0) throw corruption(path, replay.validEnd, "the manifest holds no intact record");
    } finally {
      file.close();
    }
    set.current.unref();
    set.current = set.#install(levels);
    for (const f of set.current.files()) {
      if (f.number >= set.nextFileNumber) {
        throw corruption(path, 0, `file ${f.number} is not below the next file number ${set.nextFileNumber}`);
      }
    }
    return set;
  }

  /** True for a store in a bucket. */
  get inBucket(): boolean {
    return this.#bucket !== undefined;
  }

  /** A new file number (in a bucket: from the ranges this writer reserved). */
  newFileNumber(): number {
    if (this.#bucket !== undefined) return this.#bucket.takeFileNumber();
    return this.nextFileNumber++;
  }

  /** File numbers whose tables are committed or deleted (in a bucket, the writer's floor may rise past them). */
  releaseFileNumbers(numbers: Iterable<number>): void {
    this.#bucket?.releaseFileNumbers(numbers);
  }

  /**
   * A store in a bucket: installs the newest manifest (another holder's
   * commits, e.g. a remote compactor's). FENCED when a newer writer has
   * claimed the store. `exact`: the newest one even if listings do not show
   * it yet (after a commit of this writer's whose outcome is unknown).
   *
   * @example
   * ```ts
   * declare const versions: VersionSet;
   * await versions.refreshBucket(); // the compactions a remote compactor committed are now current
   * ```
   */
  refreshBucket(options: { exact?: boolean } = {}): Promise<void> {
    const bucket = this.#bucket;
    if (bucket === undefined) return Promise.resolve();
    return this.#chain(async () => {
      const state = await bucket.refresh(options);
      if (state.number > this.manifestNumber) this.#adopt(state);
    });
  }

  /** Table numbers of every version someone still reads, and of the current one. */
  liveTables(): Set<number> {
    const live = new Set<number>();
    for (const v of this.#live) for (const f of v.files()) live.add(f.number);
    return live;
  }

  /**
   * False after a manifest write or a CURRENT switch failed: the on-disk
   * state is unknown, so no edit is logged and no manifest may be deleted
   * until writeSnapshot() succeeds.
   */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** True while writeSnapshot() switches manifests (CURRENT.tmp is in use). */
  get switching(): boolean {
    return this.#switching;
  }

  /**
   * Starts a new manifest holding the whole current state (after applying
   * `edit`, if given, in memory) and points CURRENT at it. Returns the
   * number of the manifest it replaces (0 if none); the obsolete-file
   * deleter removes that one.
   */
  writeSnapshot(edit?: VersionEdit): Promise<number> {
    if (this.#bucket !== undefined) {
      // Every manifest object of a bucket is whole: there is nothing to start anew.
      return edit === undefined ? Promise.resolve(0) : this.logAndApply(edit).then(() => 0);
    }
    return this.#chain(() => this.#writeSnapshot(edit));
  }

  async #writeSnapshot(edit: VersionEdit | undefined): Promise<number> {
    this.#switching = true;
    try {
      if (edit !== undefined) {
        if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
        if (edit.lastSequence !== undefined) this.lastSequence = Math.max(this.lastSequence, edit.lastSequence);
        const previous = this.current;
        this.current = this.#install(applyEdit(previous.levels, edit));
        previous.unref();
      }
      const previous = this.manifestNumber;
      const number = this.newFileNumber();
      const path = joinPath(this.dir, manifestFileName(number));
      const file = this.fs.open(path, { create: true, exclusive: true });
      try {
        file.appendSync(logFileHeader());
        const added = this.current.levels.flatMap((files, level) => files.map((file) => ({ level, file })));
        file.appendSync(sealEdit({
          logNumber: this.logNumber,
          nextFileNumber: this.nextFileNumber,
          lastSequence: this.lastSequence,
          added,
        }));
        await file.sync();
        await writeFileAtomically(
          this.fs,
          this.dir,
          CURRENT_FILE,
          (f) => f.append(new TextEncoder().encode(`${manifestFileName(number)}\n`)),
          { syncDir: false },
        );
      } catch (err) {
        // CURRENT still names the previous manifest: this one is garbage.
        file.close();
        removeQuietly(this.fs, path);
        throw err;
      }
      // CURRENT names the new manifest; durable once the directory is synced.
      try {
        await this.fs.syncDir(this.dir);
      } catch (err) {
        // After a crash CURRENT may name either manifest: keep both, log nothing.
        this.#healthy = false;
        file.close();
        throw err;
      }
      await this.#manifest?.close().catch(() => {});
      this.#manifest = new LogWriter(file);
      this.manifestNumber = number;
      this.#healthy = true;
      return previous;
    } finally {
      this.#switching = false;
    }
  }

  /**
   * Appends the edit to the manifest (durably) and installs the version it
   * makes. Edits are applied one at a time, in call order. A failure leaves
   * the set unhealthy (see `healthy`).
   */
  logAndApply(edit: VersionEdit): Promise<Version> {
    if (this.#bucket !== undefined) return this.#commitToBucket(this.#bucket, edit);
    return this.#chain(async () => {
      const manifest = this.#writableManifest();
      const full = this.#append(manifest, edit);
      try {
        await manifest.sync();
      } catch (err) {
        this.#healthy = false;
        throw err;
      }
      return this.#applied(edit, full);
    });
  }

  /**
   * True when logAndApplyNow() can run: a manifest on disk, healthy, no
   * edit under way, and storage that syncs on the calling thread.
   */
  get canApplyNow(): boolean {
    return this.#bucket === undefined && this.#queued === 0 && this.#healthy && this.#manifest?.canSyncNow === true;
  }

  /**
   * logAndApply() on the calling thread, blocking it while the manifest
   * syncs: for installing finished background work when the event loop is
   * kept busy (Scheduler.catchUp). Requires canApplyNow. A failure leaves the
   * set unhealthy, as logAndApply's does.
   *
   * @example
   * ```ts
   * declare const versions: VersionSet;
   * if (versions.canApplyNow) versions.logAndApplyNow({ lastSequence: 9 }); // durable when it returns
   * ```
   */
  logAndApplyNow(edit: VersionEdit): Version {
    if (!this.canApplyNow) throw new Error("siltdb internal error: logAndApplyNow while it cannot run");
    const manifest = this.#manifest!;
    const full = this.#append(manifest, edit);
    try {
      manifest.syncNow();
    } catch (err) {
      this.#healthy = false;
      throw err;
    }
    return this.#applied(edit, full);
  }

  /** Runs `step` after every edit before it; counted in #queued until it settles. */
  #chain<T>(step: () => Promise<T>): Promise<T> {
    this.#queued++;
    const run = this.#edits.then(step);
    const settled = () => {
      this.#queued--;
    };
    this.#edits = run.then(settled, settled);
    return run;
  }

  #writableManifest(): LogWriter {
    const manifest = this.#manifest;
    if (manifest === undefined) throw new SiltError("READ_ONLY", "the manifest is not open for writing");
    if (!this.#healthy) {
      throw new SiltError(
        "IO_ERROR",
        "the manifest is not written after an earlier failure (db.resume() starts a new one)",
        { file: manifest.file.path },
      );
    }
    return manifest;
  }

  /** Writes the edit, with the counters, to the manifest (not synced); returns what was written. */
  #append(manifest: LogWriter, edit: VersionEdit): VersionEdit {
    const full: VersionEdit = {
      ...edit,
      nextFileNumber: this.nextFileNumber,
      lastSequence: edit.lastSequence ?? this.lastSequence,
    };
    try {
      manifest.write(sealEdit(full));
    } catch (err) {
      this.#healthy = false;
      throw err;
    }
    return full;
  }

  /** Installs the version a durable edit makes. */
  #applied(edit: VersionEdit, full: VersionEdit): Version {
    if (edit.logNumber !== undefined) this.logNumber = edit.logNumber;
    // Every later edit (a compaction's too) records at least this sequence.
    this.lastSequence = Math.max(this.lastSequence, full.lastSequence ?? 0);
    const previous = this.current;
    this.current = this.#install(applyEdit(previous.levels, edit));
    previous.unref();
    return this.current;
  }

  /** logAndApply for a store in a bucket: one manifest object per edit, one at a time. */
  #commitToBucket(bucket: RemoteManifest, edit: VersionEdit): Promise<Version> {
    return this.#chain(async () => {
      const full: VersionEdit = {
        ...edit,
        lastSequence: edit.lastSequence ?? this.lastSequence,
        writerSnapshot: this.oldestSnapshot?.(),
      };
      this.#adopt(await bucket.commit(full));
      return this.current;
    });
  }

  /** Makes a manifest's state of a bucket current. */
  #adopt(state: RemoteManifestState): void {
    this.logNumber = state.walStart;
    this.lastSequence = Math.max(this.lastSequence, state.lastSequence);
    this.nextFileNumber = state.nextFileNumber;
    this.manifestNumber = state.number;
    this.horizon = state.horizon;
    const previous = this.current;
    this.current = this.#install(state.levels.map((files) => [...files]));
    previous.unref();
  }

  #install(levels: FileMeta[][]): Version {
    const version = new Version(levels, (v) => {
      this.#live.delete(v);
      this.onVersionReleased?.();
    });
    this.#live.add(version);
    return version.ref();
  }

  /** Closes the manifest (nothing is pending: every edit was synced when it was applied). */
  async close(): Promise<void> {
    await this.#edits;
    const manifest = this.#manifest;
    this.#manifest = undefined;
    await manifest?.close().catch(() => {});
  }
}

function checkLevel(level: number, path: string, offset: number): void {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) {
    throw corruption(path, offset, `version edit names level ${level}`);
  }
}
