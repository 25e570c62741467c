// Appends sealed records to a log file with buffering and group commit.
//
// Records are copied into an in-memory buffer and written by one drain loop:
// at most one write (or sync) is in flight at a time, so the file always
// holds a prefix of the records in the order they were added. Non-synced
// records are written when the buffer passes WRITE_THRESHOLD or on the next
// timer tick. sync() waits until every record added before the call is
// durable; all sync callers that arrive while a sync is in flight share the
// next one (group commit).
//
// After any write or sync failure the writer is failed for good: the state of
// the file past the last successful sync is unknown, so every later add()
// and sync() fails with the same error.

import { SiltError } from "../errors.ts";
import { logFileHeader } from "../format/log_format.ts";
import { dirName, type Storage, type StorageFile } from "../storage/storage.ts";

const WRITE_THRESHOLD = 256 << 10;
const INITIAL_BUFFER = 64 << 10;

interface Waiter {
  /** Byte count (of all bytes ever added) that must be written, or synced. */
  target: number;
  sync: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Buffered, group-committing appender of log records. */
export class LogWriter {
  readonly file: StorageFile;
  #active = new Uint8Array(INITIAL_BUFFER);
  #spare = new Uint8Array(INITIAL_BUFFER);
  #activeLen = 0;
  #added = 0;
  #written = 0;
  #synced = 0;
  #syncCount = 0;
  #waiters: Waiter[] = [];
  #draining = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failure: SiltError | undefined;
  #ready: Promise<void> | undefined;

  /**
   * @param file an open log file (append mode)
   * @param ready settles before the first write: the file's creation, and the
   *   close of the log before it (records here must not become durable before
   *   the ones there)
   */
  constructor(file: StorageFile, ready?: Promise<void>) {
    this.file = file;
    this.#ready = ready;
    ready?.catch(() => {}); // a failure surfaces through the drain
  }

  /**
   * Creates log file `path` and a writer for it, at once. The header, the
   * file's sync and its directory entry's sync happen before the first
   * record is written, after `after` (the previous log's close) settles.
   */
  static create(fs: Storage, path: string, after: Promise<void>): LogWriter {
    const file = fs.open(path, { create: true, exclusive: true });
    const ready = (async () => {
      await after;
      await file.append(logFileHeader());
      await file.sync();
      await fs.syncDir(dirName(path));
    })();
    return new LogWriter(file, ready);
  }

  /** The error that failed the writer, if any. */
  get failure(): SiltError | undefined {
    return this.#failure;
  }

  /** True while a write or sync is in flight or records wait in the buffer. */
  get busy(): boolean {
    return this.#draining || this.#activeLen > 0;
  }

  /** Bytes added since the writer was created. */
  get bytesAdded(): number {
    return this.#added;
  }

  /** Number of syncs (fdatasync) issued. */
  get syncCount(): number {
    return this.#syncCount;
  }

  /** Queues a record (copied). Throws the writer's failure, if it failed. */
  add(record: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    const need = this.#activeLen + record.length;
    if (need > this.#active.length) {
      let cap = this.#active.length * 2;
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.#active.subarray(0, this.#activeLen));
      this.#active = grown;
    }
    this.#active.set(record, this.#activeLen);
    this.#activeLen = need;
    this.#added += record.length;
    if (this.#activeLen >= WRITE_THRESHOLD) this.#kick();
    else if (this.#timer === undefined && !this.#draining) this.#timer = setTimeout(() => this.#kick(), 0);
  }

  /** Settles when the log file is created (rejects, failing the writer, if that failed). */
  async whenReady(): Promise<void> {
    if (this.#ready === undefined) return;
    try {
      await this.#ready;
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
  }

  /** Resolves once every record added so far is durable. */
  sync(): Promise<void> {
    return this.#wait(true);
  }

  /** Resolves once every record added so far is written to the file (not necessarily durable). */
  flush(): Promise<void> {
    return this.#wait(false);
  }

  /** Writes and syncs everything, then closes the file. */
  async close(): Promise<void> {
    try {
      if (this.#ready !== undefined && !this.#draining) {
        try {
          await this.#ready;
          this.#ready = undefined;
        } catch (err) {
          this.#fail(err);
        }
      }
      if (!this.#failure) await this.sync();
    } finally {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.file.close();
    }
  }

  #wait(sync: boolean): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const target = this.#added;
    if (target <= (sync ? this.#synced : this.#written)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ target, sync, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
  }

  async #drain(): Promise<void> {
    try {
      if (this.#ready !== undefined) {
        await this.#ready;
        this.#ready = undefined;
      }
      while (true) {
        if (this.#activeLen > 0) {
          const chunk = this.#active;
          const len = this.#activeLen;
          this.#active = this.#spare;
          this.#activeLen = 0;
          await this.file.append(chunk.subarray(0, len));
          this.#spare = chunk;
          this.#written += len;
        }
        if (this.#waiters.some((w) => w.sync && w.target > this.#synced)) {
          const target = this.#written;
          await this.file.sync();
          this.#syncCount++;
          this.#synced = target;
        }
        this.#settle();
        // added - written == activeLen here, so an empty buffer leaves no waiter behind.
        if (this.#activeLen === 0) break;
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#draining = false;
    }
  }

  #fail(err: unknown): void {
    this.#failure ??= err instanceof SiltError
      ? err
      : new SiltError("IO_ERROR", `log write to ${this.file.path} failed: ${String(err)}`, { file: this.file.path }, err);
    for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
  }

  #settle(): void {
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.target <= (w.sync ? this.#synced : this.#written)) w.resolve();
      else keep.push(w);
    }
    this.#waiters = keep;
  }
}
