// The methods of an open database that copy it or wait for it to settle:
// checkpoint() and backup() (src/backup/), waitForCompactions() (the
// scheduler). Db (db.ts) inherits them; each delegates in a few lines.

import type { BackupResult } from "./backup/backup.ts";
import { oneAtATime, writeBackup } from "./backup/backup.ts";
import { type CheckpointInfo, writeCheckpoint } from "./backup/checkpoint.ts";
import type { LiveStore } from "./backup/live.ts";
import { checkEmptyTarget } from "./backup/target.ts";
import { checkBackupDir } from "./backup/backup.ts";
import { TransactionalDb, type TransactionalParts } from "./db_transactions.ts";
import { invalidArgument } from "./errors.ts";
import type { ReadAt } from "./read/reads.ts";
import type { Storage } from "./storage/storage.ts";

/** @internal What these methods need from their database. */
export interface BackupParts extends TransactionalParts {
  live: LiveStore;
}

/**
 * Options of {@linkcode BackupDb.checkpoint} and {@linkcode BackupDb.backup}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "siltdb";
 * const options: CopyOptions = { fs: new MemoryStorage() }; // copy into another storage
 * ```
 */
export interface CopyOptions {
  /** The storage of the target (default: the database's own). Tables are linked only within one storage. */
  fs?: Storage;
}

/**
 * Options of {@linkcode BackupDb.waitForCompactions}.
 *
 * @example
 * ```ts
 * const options: WaitOptions = { signal: AbortSignal.timeout(60_000) }; // ABORTED after a minute
 * ```
 */
export interface WaitOptions {
  /** Aborting rejects the wait with ABORTED. */
  signal?: AbortSignal;
}

/**
 * Checkpoints, backups and waiting for background work of an open database
 * (see {@linkcode Db}).
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data");
 * await db.checkpoint("./data-checkpoint");
 * await db.backup("./backups");
 * await db.waitForCompactions();
 * await db.close();
 * ```
 */
export class BackupDb<K, V> extends TransactionalDb<K, V> {
  readonly #live: LiveStore;
  /** The checksums of this store's tables, by number, as backups summed them (numbers are never reused). */
  readonly #checksums = new Map<number, string>();

  /** @internal */
  constructor(at: ReadAt<V>, parts: BackupParts) {
    super(at, parts);
    this.#live = parts.live;
  }

  /**
   * Writes a consistent copy of the database, as of this call, into `dir`
   * (which must not exist or be empty: INVALID_ARGUMENT naming it), while
   * writes go on: every write acknowledged before the call is in it, none
   * after its sequence. Tables are hard-linked where the storage can (else
   * copied), the unflushed log tail copied, a new MANIFEST and CURRENT
   * written; everything synced before it resolves. The copy opens as a
   * database of its own. A crash midway leaves a directory that open()
   * refuses (CORRUPTION, INCOMPLETE), never a partial store.
   *
   * A store in a bucket (the writer), called without arguments: flushes,
   * then records a checkpoint in the bucket that pins the manifest holding
   * the flush, so the collector keeps its tables until
   * {@linkcode deleteCheckpoint}; open it with `open(url, { readOnly: true,
   * checkpoint: id })`, or clone it with `open(otherUrl, { cloneFrom })`.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
   * await db.put("k", "v");
   * const { sequence } = await db.checkpoint("./data-2024-06-01");
   * const copy = await open("./data-2024-06-01", { readOnly: true, valueEncoding: "utf8" });
   * console.log(await copy.get("k"), sequence); // "v" 1
   * await copy.close();
   * await db.close();
   * ```
   */
  async checkpoint(dir?: string, options?: CopyOptions): Promise<CheckpointInfo> {
    this.#live.checkOpen();
    if (this.#live.inBucket) {
      if (dir !== undefined || options !== undefined) {
        throw invalidArgument("checkpoint(): a store in a bucket checkpoints in its bucket; call it without arguments");
      }
      return await this.#live.bucketCheckpoint();
    }
    if (dir === undefined) throw invalidArgument("checkpoint(): the directory of the copy is missing");
    const fs = targetStorage(options, this.#live.fs);
    checkEmptyTarget(fs, dir, "checkpoint");
    const state = await this.#live.capture("a checkpoint");
    try {
      return await writeCheckpoint(state, dir, fs);
    } finally {
      state.release();
    }
  }

  /**
   * Backs the database up, as of this call, into `backupDir` (created if
   * missing; INVALID_ARGUMENT if it is a file): tables are copied into its
   * `shared/` folder only when no earlier backup put them there, the log
   * tail and a new manifest go to files of this backup, and its metadata is
   * written last, so an interrupted backup is never listed. Restore with
   * {@linkcode restoreBackup}; list with {@linkcode listBackups}.
   *
   * @example
   * ```ts
   * import { listBackups, open } from "siltdb";
   * const db = await open("./data");
   * const { id, tablesCopied } = await db.backup("./backups");
   * console.log(id, tablesCopied, (await listBackups("./backups")).length);
   * await db.close();
   * ```
   */
  async backup(backupDir: string, options?: CopyOptions): Promise<BackupResult> {
    this.#live.checkOpen();
    const fs = targetStorage(options, this.#live.fs);
    checkBackupDir(fs, backupDir, true);
    return await oneAtATime(backupDir, async () => {
      const state = await this.#live.capture("a backup");
      try {
        return await writeBackup(state, backupDir, fs, this.#checksums);
      } finally {
        state.release();
      }
    });
  }

  /**
   * Resolves when no flush or compaction is pending or running (RocksDB's
   * WaitForCompact): the tree is as compact as the policy makes it. Rejects
   * with the background error if one stops work, ABORTED when `signal`
   * aborts, CLOSED when the database closes. Data still in the active
   * memtable is not flushed (call flush() first for that). With
   * `compaction: "remote"` (a bucket), it waits for this writer's flushes
   * only: the compactor process compacts. Read-only: resolves at once.
   *
   * @example
   * ```ts
   * import { open } from "siltdb";
   * const db = await open("./data");
   * for (let i = 0; i < 1000; i++) await db.put(`k${i % 10}`, `v${i}`);
   * await db.flush();
   * await db.waitForCompactions({ signal: AbortSignal.timeout(60_000) });
   * console.log(db.stats().spaceAmplification);
   * await db.close();
   * ```
   */
  waitForCompactions(options?: WaitOptions): Promise<void> {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      return Promise.reject(invalidArgument("waitForCompactions: options must be an object"));
    }
    return this.#live.settle(options?.signal);
  }
}

function targetStorage(options: CopyOptions | undefined, fs: Storage): Storage {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalidArgument("options must be an object");
  }
  return options?.fs ?? fs;
}
