// Appends sealed records to a log file (a write-ahead log or a manifest) and
// makes them durable with group commit.
//
// write() hands bytes to the operating system synchronously (appendSync):
// once it returns they survive a crash of the process. sync() makes every
// byte written so far durable (fdatasync); sync callers that arrive while a
// sync is in flight share the next one. One sync is in flight at a time, so
// the synced length only grows.
//
// A new log (create()) is usable only once the log before it is closed, that
// is synced: records here must never become durable before the ones there,
// or a machine crash could keep a later write and lose an earlier one. Its
// own header and directory entry are made durable before its first sync
// completes.
//
// After a failed write or sync the writer is failed for good (the state of
// the file past the last successful sync is unknown): every later write()
// throws and every sync() rejects with the same error.

import { SiltError } from "../errors.ts";
import { logFileHeader } from "../format/log_format.ts";
import { dirName, type Storage, type StorageFile } from "../storage/storage.ts";

interface SyncWaiter {
  /** Bytes (of all written) that must be durable. */
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A log file being appended to.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * declare const fs: Storage, previous: LogWriter; // previous: the log before this one
 * declare const sealedRecords: Uint8Array; // records sealed for this log
 * const log = LogWriter.create(fs, "/db/000007.log", () => previous.close());
 * await log.whenReady();
 * log.write(sealedRecords);          // the OS has them: a process crash keeps them
 * await log.sync();                  // durable: a machine crash keeps them
 * await log.close();
 * ```
 */
export class LogWriter {
  readonly file: StorageFile;
  #ready: Promise<void> | undefined;
  #readyDone = false;
  #durable: Promise<void> | undefined;
  #written = 0;
  #synced = 0;
  #syncCount = 0;
  #waiters: SyncWaiter[] = [];
  #syncing = false;
  #failure: SiltError | undefined;
  #onFailure: ((failure: SiltError) => void) | undefined;
  #closed = false;

  /**
   * @param file an open log file (append mode), its header written
   * @param ready settles when records may be written: the previous log is
   *   closed (synced)
   * @param durable settles when the file's creation is durable (its header
   *   and directory entry); awaited before the first sync completes
   */
  constructor(file: StorageFile, ready?: Promise<void>, durable?: Promise<void>) {
    this.file = file;
    this.#ready = ready;
    this.#readyDone = ready === undefined;
    this.#durable = durable;
    ready?.then(() => this.#readyDone = true, (err) => this.#fail(err));
    durable?.catch(() => {}); // surfaces through sync()
  }

  /**
   * Creates log file `path` (its header written to the OS at once) and a
   * writer for it. Once the file exists, calls `after` (typically the close
   * of the log before it): records may be written here once that settles.
   * Throws, without calling `after`, if the file cannot be created.
   */
  static create(fs: Storage, path: string, after?: () => Promise<void>): LogWriter {
    const file = fs.open(path, { create: true, exclusive: true });
    try {
      file.appendSync(logFileHeader());
    } catch (err) {
      file.close();
      throw err;
    }
    const ready = after?.() ?? Promise.resolve();
    const durable = (async () => {
      await file.sync();
      await fs.syncDir(dirName(path));
    })();
    return new LogWriter(file, ready, durable);
  }

  /**
   * Calls `report` once with the error that fails the writer (at once if it
   * already failed): the database's one background error hears of it.
   */
  onFailure(report: (failure: SiltError) => void): void {
    this.#onFailure = report;
    if (this.#failure) report(this.#failure);
  }

  /** The error that failed the writer, if any. */
  get failure(): SiltError | undefined {
    return this.#failure;
  }

  /** True when records may be written (the previous log is closed). */
  get ready(): boolean {
    return this.#readyDone && this.#failure === undefined;
  }

  /** True while a sync is in flight. */
  get busy(): boolean {
    return this.#syncing;
  }

  /** Bytes of records written. */
  get bytesWritten(): number {
    return this.#written;
  }

  /** Number of syncs (fdatasync) issued. */
  get syncCount(): number {
    return this.#syncCount;
  }

  /** Settles when records may be written; rejects with the writer's failure. */
  async whenReady(): Promise<void> {
    if (this.#ready !== undefined && !this.#readyDone) await this.#ready.catch(() => {});
    if (this.#failure) throw this.#failure;
  }

  /**
   * Writes records (copied by the OS before it returns). Requires ready.
   * Throws (and fails the writer) if the write fails.
   */
  write(data: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    if (!this.#readyDone) throw new Error("siltdb internal error: log written before it was ready");
    try {
      this.file.appendSync(data);
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
    this.#written += data.length;
  }

  /** Resolves once every record written so far is durable. */
  sync(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const target = this.#written;
    if (target <= this.#synced && this.#durable === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ target, resolve, reject });
      if (!this.#syncing) void this.#syncLoop();
    });
  }

  /** Syncs everything written, then closes the file (also after a failure). Rejects if the sync fails. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.whenReady();
      await this.sync();
    } finally {
      this.file.close();
    }
  }

  async #syncLoop(): Promise<void> {
    this.#syncing = true;
    try {
      while (this.#waiters.length > 0) {
        if (this.#durable !== undefined) {
          await this.#durable;
          this.#durable = undefined;
        }
        const target = this.#written;
        if (target > this.#synced) {
          await this.file.sync();
          this.#syncCount++;
          this.#synced = target;
        }
        const keep: SyncWaiter[] = [];
        for (const w of this.#waiters) w.target <= this.#synced ? w.resolve() : keep.push(w);
        this.#waiters = keep;
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#syncing = false;
    }
  }

  #fail(err: unknown): void {
    const first = this.#failure === undefined;
    this.#failure ??= err instanceof SiltError
      ? err
      : new SiltError("IO_ERROR", `log ${this.file.path} failed: ${err instanceof Error ? err.message : String(err)}`, {
        file: this.file.path,
      }, err);
    for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
    if (first) this.#onFailure?.(this.#failure);
  }
}
