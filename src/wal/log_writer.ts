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
//
// Synced writes (issue 21). A sync that also commits a new file size costs a
// journal commit on top of the data; a sync of data written over bytes that
// are already on disk does not. So a write-ahead log (create()) that is
// asked to sync records (often: below) writes zeros ahead of its records,
// 64 KiB at first and doubling to 1 MiB per step, and writes each record at its
// logical end (writeAt) over those zeros: the next sync makes the zeros
// durable with the records before them (one size change per step), the
// syncs after it change no size. The log format already reads zeros from a
// record's start to the end of the file as the end of the log (a torn tail
// when a crash leaves them, padding here: docs/format.md), so a log that
// ends in zeros keeps the format. The zeros are left at close: recovery,
// verify, dump-wal and checkpoints (trimLog) stop at them. ENOSPC while
// writing zeros ends the preallocation of this log (the records themselves
// may still fit); any other failure fails the writer as a failed write does.
// Logs that are never asked to sync (and manifests) are plain appends.
//
// A record written over zeros costs more than one appended: 2.2-2.5 against
// 1.1-1.2 µs a 140-byte write on ext4 (Node 20 and 24, with or without a
// sync of the zeros first), 0.4-0.5 µs more an awaited put end to end in
// Node, Deno and Bun; a sync that commits no size change saves 30-50 µs
// (docs/benchmarks.md, "Issue 21, tenth stop"). So zeros are written only
// while syncs are asked for at least once every WRITES_PER_SYNC writes,
// counted with decay (both counts halve whenever the writes reach twice
// RATE_WINDOW, so older writes and syncs weigh less): a log that synced once
// and then takes unsynced writes uses up the zeros it has and goes back to
// appending, and syncs that resume start the zeros again.
//
// A sync runs on the calling thread (syncNow) instead of the thread pool
// when it is the only one waiting, for a single write (one put or batch
// alone in its group: a lone synced writer), the log's recent syncs took at most
// INLINE_SYNC_MS, and the syncs on the pool before showed no other sync
// asked for while they were in flight: that saves the hop to the pool and
// back (a third of a short fdatasync) at the price of blocking the event
// loop while the disk syncs. Inline, nothing else runs during a sync, so
// nothing can join it: writers that a yield or a slowdown timer set apart
// would each sync alone from then on. So one sync in PROBE_EVERY stays on
// the pool, and any sync asked for while it is in flight sends the log
// back to the pool (group commit) until LONE_SYNCS syncs in a row see none;
// a log whose syncs get slow goes back to the pool until they are short.

import { errnoCode } from "../_runtime.ts";
import { SiltError } from "../errors.ts";
import { logFileHeader } from "../format/log_format.ts";
import { dirName, type Storage, type StorageFile } from "../storage/storage.ts";

/** Zeros written ahead by the first step of a log that syncs; each step doubles it. */
const PREALLOCATE_FIRST = 64 << 10;
/** The largest step of zeros written ahead. */
const PREALLOCATE_MAX = 1 << 20;
/** Syncs run on the calling thread while the log's recent ones took at most this (ms). */
const INLINE_SYNC_MS = 1;

/** Zeros are written ahead while syncs are asked for at least once per this many writes... */
const WRITES_PER_SYNC = 64;
/** ...counted with decay: both counts halve whenever the writes reach twice this many. */
const RATE_WINDOW = 256;
/** Syncs go inline after this many on the pool in a row during which no other sync was asked for... */
const LONE_SYNCS = 4;
/** ...and one in this many stays on the pool, to see whether other syncs are asked for meanwhile. */
const PROBE_EVERY = 32;

let zeroBlock: Uint8Array | undefined;

/** How a log writer writes. */
export interface LogWriterOptions {
  /**
   * Write zeros ahead of the records while syncs of records are requested
   * often (see the header), and records over them (the file must take
   * `writeAt`). Default false.
   */
  preallocate?: boolean;
}

interface SyncWaiter {
  /** Bytes (of all written) that must be durable. */
  target: number;
  /** One write alone in its group: its sync may run inline. */
  single: boolean;
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
  /** File offset where the next record goes. */
  #end: number;
  /** File offset up to which zeros (or records) are written. */
  #allocated: number;
  /** Records go to writeAt at the logical end (the file takes positional writes). */
  #positional: boolean;
  #preallocate: boolean;
  #preallocating = false;
  #step = PREALLOCATE_FIRST;
  /** Recent writes and syncs asked for (decayed counts, see RATE_WINDOW). */
  #recentWrites = 0;
  #recentSyncs = 0;
  /** Recent sync duration, ms (a moving average). */
  #syncMs = 0;
  /** Syncs on the pool in a row during which no other sync was asked for. */
  #lone = 0;
  /** Inline syncs since the last one on the pool. */
  #inlineRun = 0;

  /**
   * @param file an open log file (append mode), its header written
   * @param ready settles when records may be written: the previous log is
   *   closed (synced)
   * @param durable settles when the file's creation is durable (its header
   *   and directory entry); awaited before the first sync completes
   * @param options preallocation (a file opened with `positional`)
   */
  constructor(file: StorageFile, ready?: Promise<void>, durable?: Promise<void>, options: LogWriterOptions = {}) {
    this.file = file;
    this.#end = this.#allocated = file.size();
    this.#preallocate = this.#positional = options.preallocate === true && file.writeAt !== undefined;
    this.#ready = ready;
    this.#readyDone = ready === undefined;
    this.#durable = durable;
    ready?.then(() => this.#readyDone = true, (err) => this.#fail(err));
    durable?.catch(() => {}); // surfaces through sync()
  }

  /**
   * Creates log file `path` (its header written to the OS at once) and a
   * writer for it that preallocates while it syncs often. Once the file exists,
   * calls `after` (typically the close of the log before it): records may be
   * written here once that settles. Throws, without calling `after`, if the
   * file cannot be created.
   */
  static create(fs: Storage, path: string, after?: () => Promise<void>): LogWriter {
    const file = fs.open(path, { create: true, exclusive: true, positional: true });
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
    return new LogWriter(file, ready, durable, { preallocate: true });
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
      if (this.#positional) {
        if (++this.#recentWrites >= 2 * RATE_WINDOW) {
          this.#recentWrites /= 2;
          this.#recentSyncs /= 2;
        }
        // Records of a step or more extend the file themselves: zeros ahead of them would double their writes.
        if (this.#preallocating && this.#end + data.length > this.#allocated && data.length < PREALLOCATE_MAX) {
          if (this.#recentSyncs * WRITES_PER_SYNC >= this.#recentWrites) this.#fillAhead(data.length);
          else this.#preallocating = false; // syncs are rare: append until one is asked for again
        }
        this.file.writeAt!(this.#end, data);
      } else {
        this.file.appendSync(data);
      }
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
    this.#end += data.length;
    this.#allocated = Math.max(this.#allocated, this.#end);
    this.#written += data.length;
  }

  /** Bytes of zeros written ahead of the records (0 when the log does not preallocate). */
  get preallocated(): number {
    return Math.max(0, this.#allocated - this.#end);
  }

  /**
   * Writes zeros from the allocated end to a 4 KiB boundary at least one
   * step past the next `length` bytes of records. ENOSPC ends this log's
   * preallocation (whatever zeros were written stay: a zero tail); any
   * other error is thrown.
   */
  #fillAhead(length: number): void {
    const target = Math.ceil((this.#end + length + this.#step) / 4096) * 4096;
    zeroBlock ??= new Uint8Array(PREALLOCATE_MAX);
    try {
      while (this.#allocated < target) {
        const n = Math.min(target - this.#allocated, zeroBlock.length);
        this.file.writeAt!(this.#allocated, zeroBlock.subarray(0, n));
        this.#allocated += n;
      }
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      this.#preallocating = false;
      this.#preallocate = false; // for good in this log: a full disk would refuse every step
      return;
    }
    this.#step = Math.min(this.#step * 2, PREALLOCATE_MAX);
  }

  /**
   * Resolves once every record written so far is durable. `single`: the
   * caller is one write alone in its group, whose sync may run inline
   * (see the header); groups of several sync writes always use the pool.
   */
  sync(single = false): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const target = this.#written;
    if (target <= this.#synced && this.#durable === undefined) return Promise.resolve();
    if (!this.#closed && target > 0 && this.#preallocate) {
      this.#preallocating = true;
      this.#recentSyncs++;
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ target, single, resolve, reject });
      if (!this.#syncing) {
        // Started at the next microtask: the syncs asked for in this synchronous stretch share it.
        this.#syncing = true;
        queueMicrotask(() => void this.#syncLoop());
      }
    });
  }

  /**
   * True when syncNow() can run: the file is ready, its creation durable,
   * no sync under way or asked for, and the storage syncs on the calling
   * thread.
   */
  get canSyncNow(): boolean {
    return this.#failure === undefined && this.#readyDone && this.#durable === undefined && !this.#syncing &&
      this.file.syncNow !== undefined;
  }

  /**
   * sync() on the calling thread, blocking it while the disk syncs: every
   * record written so far is durable when it returns. Requires canSyncNow.
   * Throws (and fails the writer) if the sync fails.
   */
  syncNow(): void {
    if (this.#failure) throw this.#failure;
    if (!this.canSyncNow) throw new Error("siltdb internal error: syncNow while a sync is under way");
    const target = this.#written;
    if (target <= this.#synced) return;
    try {
      this.file.syncNow!();
    } catch (err) {
      this.#fail(err);
      throw this.#failure;
    }
    this.#syncCount++;
    this.#synced = target;
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
    try {
      while (this.#waiters.length > 0) {
        if (this.#durable !== undefined) {
          await this.#durable;
          this.#durable = undefined;
        }
        const target = this.#written;
        if (target > this.#synced) {
          const waiting = this.#waiters.length;
          const inline = this.file.syncNow !== undefined && waiting === 1 && this.#waiters[0].single &&
            this.#lone >= LONE_SYNCS &&
            this.#inlineRun < PROBE_EVERY && this.#syncMs <= INLINE_SYNC_MS;
          const started = performance.now();
          if (inline) {
            this.file.syncNow!();
            this.#inlineRun++;
          } else {
            await this.file.sync();
            this.#inlineRun = 0;
            // Another sync asked for while this one was in flight: writers that group commit would
            // merge; inline syncs would keep them apart (each its own sync). Back to the pool for a while.
            this.#lone = this.#waiters.length > waiting ? 0 : this.#lone + 1;
          }
          this.#syncMs = 0.75 * this.#syncMs + 0.25 * (performance.now() - started);
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

/** True when err is (or was caused by) a full disk. */
function isNoSpace(err: unknown): boolean {
  for (let e = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = errnoCode(e);
    if (code === "ENOSPC" || code === "NoSpace") return true;
  }
  return false;
}
