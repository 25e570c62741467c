// Opening a database: the path and options checked, the directory created
// if allowed, the lock taken (src/storage/lock: one writer per directory, in
// any process, container or runtime), the directory recovered
// (src/recovery.ts), and the parts of the database built and wired together
// (assemble): the read side, the write side, the background scheduler and
// its executor, maintenance, events, stats and the lifecycle. Nothing here
// runs after open() returns; src/db.ts is the facade over the parts.

import { Maintenance } from "./maintenance.ts";
import { Scheduler } from "./background/scheduler.ts";
import { InlineExecutor } from "./compaction/inline_executor.ts";
import { loadCompactionFilter } from "./compaction/filter.ts";
import { WorkerExecutor } from "./compaction/worker_executor.ts";
import { Db, type DbParts } from "./db.ts";
import { describe, type EncodingName } from "./encoding.ts";
import { invalidArgument, isTrap, SiltError } from "./errors.ts";
import { EventHub } from "./events.ts";
import { Lifecycle } from "./lifecycle.ts";
import type { MemtableHandle } from "./memtable.ts";
import { type OpenOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { Reader } from "./read/reader.ts";
import { hasDatabase, recover } from "./recovery.ts";
import { recoverBucket } from "./bucket_recovery.ts";
import { type LiveFiles, removeObsoleteFiles } from "./background/obsolete_files.ts";
import type { CompactionExecutor } from "./compaction/compactor.ts";
import { BucketCollector } from "./object_store/bucket_collector.ts";
import { isObjectStore, type ObjectStore } from "./object_store/object_store.ts";
import { cloneCheckpoint } from "./object_store/bucket_clone.ts";
import { storeAt } from "./object_store/s3_object_store.ts";
import { DiskCache, withDiskCache } from "./object_store/disk_cache.ts";
import type { TableCache } from "./table/table_cache.ts";
import { type TableFiles, tableFiles } from "./table/table_files.ts";
import type { VersionSet } from "./version/version_set.ts";
import { totalBytes } from "./version/version.ts";
import type { Memtable } from "./wasm/memtable.ts";
import { BucketCommitPipeline } from "./write/bucket_commit.ts";
import { BucketFollower } from "./bucket_follower.ts";
import { type BucketStats, collectStats } from "./stats.ts";
import { countersOf } from "./object_store/resilient_store.ts";
import { guardStorage } from "./storage/guarded_storage.ts";
import { joinPath } from "./storage/storage.ts";
import { LOCK_FILE } from "./version/file_names.ts";
import { Admission } from "./write/admission.ts";
import { CommitPipeline, type WritePipeline } from "./write/commit.ts";
import { Writer } from "./write/writer.ts";
import { memtableLimit } from "./write/write_buffer.ts";
import { ChangeHub } from "./changes/change_feed.ts";
import { TransactionRunner } from "./transaction/run.ts";
import { LiveStore } from "./backup/live.ts";

/** Value type produced by an encoding name. */
export type Decoded<E> = E extends "utf8" ? string : E extends "json" ? unknown : Uint8Array;

/**
 * Options of {@linkcode open} for JSON values of a type given explicitly
 * (`open<User>(path, { valueEncoding: "json" })`): `valueEncoding` must be
 * "json", and a `keyEncoding` other than "binary" must be named as the
 * second type argument (`open<User, "utf8">(path, { keyEncoding: "utf8",
 * valueEncoding: "json" })`).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * interface User { name: string }
 * const db = await open<User, "utf8">("./data", { keyEncoding: "utf8", valueEncoding: "json" });
 * const user = await db.get("user:1"); // User | undefined
 * await db.close();
 * ```
 */
export type TypedJsonOptions<KE extends EncodingName = "binary"> =
  & Omit<OpenOptions, "keyEncoding" | "valueEncoding">
  & { valueEncoding: "json" }
  & ([KE] extends ["binary"] ? { keyEncoding?: "binary" } : { keyEncoding: KE });

/**
 * Opens (creating if needed) the database in directory `path`, with JSON
 * values of the type given: `open<User>(path, { valueEncoding: "json" })`
 * (see {@linkcode TypedJsonOptions}); a key encoding other than "binary" is
 * the second type argument. With `await using`, the database is closed at
 * the end of the block.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * await using users = await open<{ name: string }>("./users", { valueEncoding: "json" });
 * const user = await users.get("user:1"); // { name: string } | undefined
 * await using byName = await open<{ name: string }, "utf8">("./names", { keyEncoding: "utf8", valueEncoding: "json" });
 * for (const [key, user] of byName.scanSync()) console.log(key.toUpperCase(), user.name);
 * ```
 */
export function open<V, KE extends EncodingName = "binary">(
  path: string,
  options: TypedJsonOptions<KE>,
): Promise<Db<Decoded<KE>, V>>;
/**
 * Opens (creating if needed) the database in directory `path`. Key and value
 * types follow the encodings chosen (`string` for "utf8", `Uint8Array` for
 * "binary", `unknown` for "json", unless given: see the overload above).
 * With `await using`, the database is closed at the end of the block.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { valueEncoding: "utf8" });
 * await db.put("user:1", "alice");
 * console.log(await db.get("user:1")); // "alice"
 * await db.close();
 * ```
 */
export function open<O extends OpenOptions = Record<never, never>>(
  path: string,
  options?: O,
): Promise<Db<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>>;
export async function open(path: string, options?: OpenOptions): Promise<Db<unknown, unknown>> {
  if (typeof path !== "string" || path === "") {
    throw invalidArgument(`path must be a non-empty string, got ${typeof path === "string" ? '""' : describe(path)}`);
  }
  const o = resolveOptions(options);
  if (o.compactionFilter !== undefined) await loadCompactionFilter(o.compactionFilter); // refuses a bad URL now
  try {
    return new Db(await (inBucket(path, o) ? openInBucket(path, o) : openDirectory(path, o)));
  } catch (err) {
    if (isTrap(err)) {
      throw new SiltError(
        "INTERNAL",
        `siltdb's WebAssembly core failed while opening ${path}: ${(err as Error).message}`,
        {},
        err,
      );
    }
    throw err;
  }
}

/** True for a store in a bucket: an s3:// URL, or an ObjectStore given as the objectStore option. */
function inBucket(path: string, o: ResolvedOptions): boolean {
  return path.startsWith("s3://") || isObjectStore(o.objectStore);
}

/** Opens the database of a directory: lock, recovery, then the parts. */
async function openDirectory(path: string, o: ResolvedOptions): Promise<DbParts> {
  if (o.compactionMode === "remote") {
    throw invalidArgument(`compaction "remote" is for a store in a bucket; ${path} is a directory`);
  }
  if (o.cacheDir !== undefined) throw invalidArgument("option cacheDir is for a store in a bucket, not a directory");
  if (o.checkpoint !== undefined || o.cloneFrom !== undefined) {
    throw invalidArgument(`options checkpoint and cloneFrom are for a store in a bucket; ${path} is a directory`);
  }
  const fs = o.fs;
  if (!fs.exists(path)) {
    if (!o.createIfMissing || o.readOnly) {
      throw new SiltError("NOT_FOUND", `${path} does not exist (createIfMissing is false or readOnly is set)`, {
        file: path,
      });
    }
    fs.mkdir(path);
  }
  const lock = await fs.lock(joinPath(path, LOCK_FILE), { readOnly: o.readOnly });
  o.fs = guardStorage(fs, lock);
  try {
    const names = o.fs.list(path);
    const exists = hasDatabase(names);
    if (exists && o.errorIfExists) {
      throw new SiltError("EXISTS", `${path} already holds a database (errorIfExists is set)`, { file: path });
    }
    if (!exists && (!o.createIfMissing || o.readOnly)) {
      throw new SiltError("NOT_FOUND", `${path} holds no database (createIfMissing is false or readOnly is set)`, {
        file: path,
      });
    }
    const state = await recover(path, names, o);
    const files = tableFiles({ fs: o.fs, dir: path });
    const lockFile = joinPath(path, LOCK_FILE);
    // A worker reaches only the real file system, through the runtime's default storage.
    const workerCan = o.compactionMode === "worker" && (o.fs.kind === "node" || o.fs.kind === "deno");
    return assemble(path, o, {
      files,
      versions: state.versions,
      memtable: state.memtable,
      memtableLog: state.memtableLog,
      lastSequence: state.lastSequence,
      executor: (events) => {
        const inline = new InlineExecutor(files);
        if (!workerCan) return inline;
        return new WorkerExecutor(
          path,
          inline,
          (err) => events.emit("warning", err),
          () => lock.token ? { path: lockFile, token: lock.token } : undefined,
        );
      },
      deleteObsolete: (live) => removeObsoleteFiles(o.fs, path, live),
      pipeline: (scheduler, life) =>
        new CommitPipeline({
          fs: o.fs,
          dir: path,
          versions: state.versions,
          scheduler,
          memtableLimit: () => memtableLimit(o.memtableSize, totalBytes(state.versions.current.levels.flat())),
          bufferWrites: o.bufferWrites,
          onTrap: (err) => life.onTrap(err, "a write"),
        }, { ...state, log: state.log! }),
      release: () => lock.release(),
    });
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Opens a store in a bucket: no lock (the manifest's epoch fences other writers), recovery, then the parts. */
async function openInBucket(path: string, o: ResolvedOptions): Promise<DbParts> {
  if (o.bufferWrites) throw invalidArgument("bufferWrites is not available for a store in a bucket");
  const store = withDiskCache(storeAt(path, o.objectStore), o);
  if (o.cloneFrom) await cloneCheckpoint(cloneSource(path, o), o.cloneFrom.checkpoint, store);
  const found = await recoverBucket(store, o);
  const files = tableFiles({ store });
  const opened: { tables?: TableCache; events?: EventHub } = {}; // what the collector and the follower report to
  const collector = new BucketCollector(store, {
    minAgeMs: o.gcMinAge,
    onTableDeleted: (n) => opened.tables?.evict(n),
  });
  // A checkpoint's state does not move: no follower.
  const follower = o.readOnly && o.checkpoint === undefined
    ? new BucketFollower(
      store,
      found.versions,
      {
        memtable: found.memtable,
        walStart: found.memtableLog,
        nextWal: found.nextWal,
        lastSequence: found.lastSequence,
        manifestNumber: found.versions.manifestNumber,
      },
      o.refreshInterval,
      (err) => opened.events?.emit("warning", warningOf(err)),
    )
    : undefined;
  const parts = assemble(path, o, {
    files,
    follower,
    versions: found.versions,
    memtable: found.memtable,
    memtableLog: found.memtableLog,
    lastSequence: found.lastSequence,
    // A compaction reads every block of its inputs: one GET per table, not one per block.
    executor: () => new InlineExecutor(tableFiles({ store }, { whole: true })),
    deleteObsolete: (live) => collector.collect(live),
    pipeline: (scheduler, life) =>
      new BucketCommitPipeline({
        store,
        scheduler,
        memtableLimit: () => memtableLimit(o.memtableSize, totalBytes(found.versions.current.levels.flat())),
        epoch: found.epoch,
        onTrap: (err) => life.onTrap(err, "a write"),
        checkEpoch: () =>
          Date.now() - found.manifest!.verifiedAt >= o.gcMinAge / 2 ? found.versions.refreshBucket() : undefined,
      }, found),
    release: () => {},
    objectStore: store,
    idle: () => collector.idle(),
    stats: () => ({
      location: store.location,
      manifest: found.versions.manifestNumber,
      requests: countersOf(store),
      diskCache: store instanceof DiskCache ? store.stats() : undefined,
      objectsDeleted: collector.deleted,
    }),
  });
  opened.tables = parts.reader.tables;
  opened.events = parts.events;
  return parts;
}

/** The store `cloneFrom` names: its URL (default: the one opened) and its settings (default: this store's). */
function cloneSource(path: string, o: ResolvedOptions): ObjectStore {
  const from = o.cloneFrom!;
  const settings = from.objectStore ?? (isObjectStore(o.objectStore) ? undefined : o.objectStore);
  return storeAt(from.url ?? path, settings);
}

/** What the parts of a database stand on: a directory, or a bucket. */
interface Backing {
  files: TableFiles;
  versions: VersionSet;
  /** The memtable recovery filled, its first log, and the last sequence. */
  memtable: Memtable;
  memtableLog: number;
  lastSequence: number;
  executor(events: EventHub): CompactionExecutor;
  deleteObsolete(live: LiveFiles): number[];
  /** The write path (not made when read-only). */
  pipeline(scheduler: Scheduler, life: Lifecycle): WritePipeline;
  /** Lets the directory go (its lock). */
  release(): void;
  /** A reader of a bucket: its view, following the writer. */
  follower?: BucketFollower;
  /** A store in a bucket: its object store (checkpoints). */
  objectStore?: ObjectStore;
  /** A store in a bucket: its figures for db.stats(). */
  stats?(): BucketStats;
  /** Resolves when the backing's own background work (a bucket's collector sweep) is done; close() waits. */
  idle?(): Promise<void>;
}

/** A background refresh that failed, as a warning (the reader keeps its view and tries again). */
function warningOf(err: unknown): SiltError {
  return new SiltError(
    err instanceof SiltError ? err.code : "IO_ERROR",
    `refreshing the reader failed (it keeps its view and tries again): ${err instanceof Error ? err.message : err}`,
    {},
    err,
  );
}

/** Builds the parts of an open database on what recovery found, and wires them together. */
function assemble(path: string, o: ResolvedOptions, backing: Backing): DbParts {
  const { versions } = backing;
  const events = new EventHub();
  // Read-only: the memtable replayed from the logs and the last sequence stand still.
  const frozen = { mt: backing.memtable, firstLog: backing.memtableLog, refs: 0, retired: false };
  let pipeline: WritePipeline | undefined;
  const follower = backing.follower;
  const activeMemtable = (): MemtableHandle => pipeline?.mem ?? follower?.mem ?? frozen;
  const visibleSequence = (): number => pipeline?.visibleSequence ?? follower?.sequence ?? backing.lastSequence;
  const life: Lifecycle = new Lifecycle(path, {
    close: async () => {
      try {
        admission.rejectAll(new SiltError("CLOSED", `${path} closed before the write could be applied`));
        await pipeline?.drain().catch(() => {});
        await scheduler.close();
        await pipeline?.close();
        follower?.close();
      } finally {
        changes.closeAll(); // a close that failed ends the feeds too: nothing more will be applied
      }
      await versions.close();
      await backing.idle?.();
    },
    abandon: (fatal) => {
      admission.rejectAll(fatal);
      void scheduler.close().catch(() => {});
      pipeline?.abandon();
      follower?.close();
      changes.closeAll();
    },
    release: (afterTrap) => {
      reader.releaseAll();
      if (!afterTrap) {
        // After a trap the core's state is suspect: its memory is left alone.
        activeMemtable().mt.free();
        scheduler.freeMemtables();
        reader.free();
      }
      backing.release();
    },
    reportFatal: (fatal) => events.emit("error", fatal),
  });
  const reader = new Reader({
    files: backing.files,
    path,
    keyEncoding: o.keyEncoding,
    valueEncoding: o.valueEncoding,
    maxKeySize: o.maxKeySize,
    blockCacheSize: o.blockCacheSize,
    maxOpenFiles: o.maxOpenFiles,
    life,
    versions,
    activeMemtable,
    immutables: () => scheduler.immutables,
    visibleSequence,
  });
  reader.readState.clock = o.clock;
  const scheduler: Scheduler = new Scheduler({
    dir: path,
    options: o,
    versions,
    tables: reader.tables,
    blocks: reader.readState.cache,
    executor: backing.executor(events),
    deleteObsolete: (live) => backing.deleteObsolete(live),
    oldestSnapshot: () => reader.oldestSnapshot(visibleSequence()),
    newestSnapshot: () => reader.newestSnapshot(),
    lastSequence: () => pipeline?.lastSequence ?? 0,
    activeLog: () => pipeline!.mem.firstLog,
    changed: () => writer.drainQueue(),
    onError: (err) => events.emit("error", err),
    onTrap: (err) => life.onTrap(err, "background work"),
    onFlush: (event) => events.emit("flush", event),
    onCompaction: (event) => events.emit("compaction", event),
  });
  const admission = new Admission(o, {
    l0Files: () => versions.current.levels[0].length,
    memtableBlocked: () => pipeline!.memtableFull && scheduler.flushQueueFull,
    backgroundBusy: () => scheduler.busy || (pipeline?.busy ?? false),
    onStalled: (durationMs, reason) => {
      if (events.has("stall")) events.emit("stall", { durationMs, reason });
    },
  });
  if (!o.readOnly) pipeline = backing.pipeline(scheduler, life);
  const writer: Writer = new Writer({
    path,
    keyEncoding: o.keyEncoding,
    valueEncoding: o.valueEncoding,
    maxKeySize: o.maxKeySize,
    maxValueSize: o.maxValueSize,
    sync: o.sync,
    clock: o.clock,
    life,
    scheduler,
    admission,
    pipeline,
    versionOf: (key, sequence) => reader.getEntryAsync(key, sequence).then((e) => e.version),
    pin: (sequence) => reader.trackSnapshot(sequence, () => {}),
  });
  // In a bucket, the writer records what its snapshots read (a remote compaction keeps it), and a
  // reader moves to a compacted state only when its snapshots can see it.
  versions.oldestSnapshot = () => reader.oldestSnapshot(visibleSequence());
  // Reads in flight do not hold a reader back: they restart at a newer sequence (src/read/reader.ts).
  const changes = new ChangeHub({
    keyEncoding: o.keyEncoding,
    valueEncoding: o.valueEncoding,
    checkOpen: () => life.checkOpen(),
    visibleSequence,
    memtables: () => [...scheduler.immutables].reverse().concat(activeMemtable()),
  });
  changes.onActive = (active) => {
    if (pipeline) pipeline.onApplied = active ? (records) => changes.publish(records) : undefined;
  };
  if (follower) {
    follower.onAdvance = () => changes.publish();
    follower.oldestSnapshot = () => reader.oldestHeldSnapshot(Infinity);
    follower.releaseSnapshots = () => reader.releaseSnapshots();
    follower.gracePeriod = o.gcMinAge;
  }
  versions.onVersionReleased = () => {
    if (life.state === "open") scheduler.removeObsoleteFiles();
  };
  // Recovered tables may need compacting.
  if (!o.readOnly) scheduler.maybeSchedule();
  const maintenance = new Maintenance({
    path,
    keyEncoding: o.keyEncoding,
    maxKeySize: o.maxKeySize,
    writer,
    pipeline,
    scheduler,
  });
  return {
    path,
    options: o,
    life,
    events,
    reader,
    writer,
    changes,
    transactions: new TransactionRunner({
      keyEncoding: o.keyEncoding,
      valueEncoding: o.valueEncoding,
      maxKeySize: o.maxKeySize,
      maxValueSize: o.maxValueSize,
      clock: o.clock,
      reader,
      writer,
    }),
    maintenance,
    versions,
    visibleSequence,
    live: new LiveStore({
      path,
      fs: o.fs,
      objectStore: backing.objectStore,
      gcMinAge: o.gcMinAge,
      flush: () => maintenance.flush(),
      versions,
      scheduler,
      pipeline,
      bufferWrites: o.bufferWrites,
      readOnly: o.readOnly,
      visibleSequence,
      checkOpen: () => life.checkOpen(),
    }),
    currentReader: () => {
      scheduler.catchUp();
      return reader;
    },
    refresh: () => follower?.refresh() ?? scheduler.refreshBucket(),
    stats: () =>
      collectStats({
        options: o,
        versions,
        scheduler,
        admission,
        reader,
        pipeline,
        activeMemtable,
        visibleSequence,
        bucket: backing.stats,
      }),
  };
}
