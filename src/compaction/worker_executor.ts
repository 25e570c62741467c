// Runs compactions in a worker (compactionMode "worker"): a node:worker_threads
// worker in Node, Deno and Bun, with its own core instance, that reads and
// writes table files itself; the main thread keeps its event loop for
// foreground work and records results in the manifest.
//
// Replies come back on a MessageChannel of their own, and the worker counts
// each one it posts in a shared Int32Array: a program that keeps the event
// loop busy (a synchronous read loop, awaited reads that never yield to a
// task) would otherwise never hear of a finished job, and the store would
// stay as the job found it. `replyWaiting` compares that count with the
// replies taken (one memory read); `takeReplies` takes the waiting ones
// synchronously (receiveMessageOnPort) and settles their jobs at once
// (Scheduler.catchUp).
//
// The worker's code is a string inside the module (src/_worker_source.ts),
// started from a data: URL with the core's wasm prepended, so that bundled
// (esbuild, bun build) and compiled (bun build --compile, deno compile)
// programs start it without a file. If no worker can start, compactions run
// inline from then on and `onFallback` says so: writes are never refused
// for it. An idle worker is unref'd: a process that forgets close() still
// exits.

import { WORKER_SOURCE } from "../_worker_source.ts";
import { SiltError, type SiltErrorCode } from "../errors.ts";
import type { CompactionExecutor, CompactionJob, CompactionResult, JobDone } from "./compactor.ts";
import type { JobMessage, SetupMessage } from "./worker.ts";
import { coreWasmBase64 } from "../wasm/instance.ts";

interface Reply {
  id?: number;
  ready?: true;
  result?: CompactionResult;
  error?: { code: SiltErrorCode; message: string; file?: string; offset?: number };
}

interface NodeWorker {
  postMessage(m: unknown, transfer?: unknown[]): void;
  terminate(): unknown;
  ref(): void;
  unref(): void;
  on(event: "message", fn: (m: Reply) => void): void;
  on(event: "error", fn: (err: unknown) => void): void;
  on(event: "exit", fn: (code: number) => void): void;
}

/** The main thread's end of a worker's reply channel. */
interface ReplyChannel {
  port: { on(event: "message", fn: (m: Reply) => void): void; unref(): void; close(): void };
  /** Replies the worker has posted (it adds one after each). */
  posted: Int32Array | undefined;
  /** Replies settled so far. */
  taken: number;
  receive: (port: unknown) => { message: Reply } | undefined;
}

/** Where the executor runs jobs when no worker can start. */
export interface FallbackExecutor {
  run(job: CompactionJob): Promise<CompactionResult>;
}

/** The data: URL of the worker: the core's wasm as a global, then the worker's code. */
function workerUrl(): URL {
  const source = `globalThis[Symbol.for("siltdb.coreWasmBase64")] = ${
    JSON.stringify(coreWasmBase64())
  };\n${WORKER_SOURCE}`;
  return new URL(`data:text/javascript;base64,${btoa(source)}`);
}

/**
 * Runs compaction jobs in a worker thread, or inline if none can start.
 *
 * @example
 * ```ts
 * import type { CompactionJob } from "./compactor.ts";
 * import type { InlineExecutor } from "./inline_executor.ts";
 * declare const inline: InlineExecutor, job: CompactionJob;
 * const executor = new WorkerExecutor("/data/db", inline, (err) => console.warn(err.message));
 * const result = await executor.run(job);
 * await executor.close();
 * ```
 */
export class WorkerExecutor implements CompactionExecutor {
  readonly #dir: string;
  readonly #fallback: FallbackExecutor;
  readonly #onFallback: (err: SiltError) => void;
  readonly #lock: (() => { path: string; token: string } | undefined) | undefined;
  readonly #url: () => URL;
  #worker: Promise<NodeWorker> | undefined;
  /** The worker once it runs (until it fails or closes). */
  #running: NodeWorker | undefined;
  #failedToStart = false;
  #next = 1;
  #waiting = new Map<number, JobDone>();
  #replies: ReplyChannel | undefined;

  /**
   * @param dir the database directory
   * @param fallback runs jobs when no worker can start
   * @param onFallback told once, when compactions move inline
   * @param lock the LOCK file and lease token the worker checks before renaming outputs
   * @param url the worker's script (tests give one that cannot start)
   */
  constructor(
    dir: string,
    fallback: FallbackExecutor,
    onFallback: (err: SiltError) => void,
    lock?: () => { path: string; token: string } | undefined,
    url: () => URL = workerUrl,
  ) {
    this.#dir = dir;
    this.#fallback = fallback;
    this.#onFallback = onFallback;
    this.#lock = lock;
    this.#url = url;
  }

  /** "worker", or "inline" once no worker could start. */
  get mode(): "inline" | "worker" {
    return this.#failedToStart ? "inline" : "worker";
  }

  /** The job's result; rejects with the error that stopped it. */
  run(job: CompactionJob): Promise<CompactionResult> {
    return new Promise((resolve, reject) => this.submit(job, (err, result) => err ? reject(err) : resolve(result!)));
  }

  submit(job: CompactionJob, done: JobDone): void {
    // A running worker gets the job now: catchUp() starts jobs where no microtask runs until it returns.
    if (this.#running !== undefined) this.#post(this.#running, job, done);
    else void this.#submit(job, done);
  }

  get replyWaiting(): boolean {
    const r = this.#replies;
    return r !== undefined && r.posted !== undefined && r.posted[0] > r.taken;
  }

  takeReplies(): void {
    const r = this.#replies;
    if (r === undefined) return;
    for (let got = r.receive(r.port); got !== undefined; got = r.receive(r.port)) this.#settle(r, got.message);
  }

  async #submit(job: CompactionJob, done: JobDone): Promise<void> {
    let worker: NodeWorker | undefined;
    if (!this.#failedToStart) {
      try {
        worker = await this.#start();
      } catch (err) {
        this.#failedToStart = true;
        this.#worker = undefined;
        this.#onFallback(
          new SiltError(
            "IO_ERROR",
            `no compaction worker could start (${(err as Error)?.message ?? err}); compactions run inline`,
            {},
            err,
          ),
        );
      }
    }
    if (worker === undefined) {
      this.#fallback.run(job).then((result) => done(undefined, result), (err) => done(err));
      return;
    }
    this.#post(worker, job, done);
  }

  #post(worker: NodeWorker, job: CompactionJob, done: JobDone): void {
    const id = this.#next++;
    this.#waiting.set(id, done);
    worker.ref(); // a job in flight keeps the process alive
    const message: JobMessage = { id, dir: this.#dir, job, lock: this.#lock?.() };
    worker.postMessage(message);
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#running = undefined;
    if (worker) await (await worker.catch(() => undefined))?.terminate();
    this.#replies?.port.close();
    this.#replies = undefined;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const done of waiting) done(new SiltError("CLOSED", "the compaction worker was stopped"));
  }

  #start(): Promise<NodeWorker> {
    this.#worker ??= this.#spawn();
    return this.#worker;
  }

  /** Starts the worker; resolves once it runs (its "ready"), rejects if it cannot start. */
  async #spawn(): Promise<NodeWorker> {
    const { Worker, MessageChannel, receiveMessageOnPort } = await import("node:worker_threads");
    const worker = new Worker(this.#url()) as unknown as NodeWorker;
    const channel = new MessageChannel();
    const replies: ReplyChannel = {
      port: channel.port1 as unknown as ReplyChannel["port"],
      posted: typeof SharedArrayBuffer === "function" ? new Int32Array(new SharedArrayBuffer(4)) : undefined,
      taken: 0,
      receive: receiveMessageOnPort as ReplyChannel["receive"],
    };
    replies.port.on("message", (reply) => this.#settle(replies, reply));
    replies.port.unref(); // the worker's own ref keeps the process alive while a job runs
    const setup: SetupMessage = { setup: { port: channel.port2, posted: replies.posted?.buffer } };
    worker.postMessage(setup, [channel.port2]);
    this.#replies?.port.close(); // a worker that failed: its channel is done
    this.#replies = replies;
    return await new Promise<NodeWorker>((resolve, reject) => {
      let started = false;
      worker.on("message", (reply: Reply) => {
        if (reply.ready) {
          started = true;
          worker.unref();
          this.#running = worker;
          resolve(worker);
        }
      });
      const failed = (err: unknown) => {
        if (!started) {
          replies.port.close();
          if (this.#replies === replies) this.#replies = undefined;
          reject(err);
          return;
        }
        const e = new SiltError(
          "IO_ERROR",
          `the compaction worker failed: ${String((err as Error)?.message ?? err)}`,
          {},
          err,
        );
        const waiting = [...this.#waiting.values()];
        this.#waiting.clear();
        if (this.#running === worker) this.#running = undefined;
        this.#worker = undefined; // the next job starts a new one
        for (const done of waiting) done(e);
      };
      worker.on("error", failed);
      worker.on("exit", (code) => failed(new Error(`the worker exited (code ${code})`)));
    });
  }

  #settle(replies: ReplyChannel, reply: Reply): void {
    replies.taken++;
    const done = this.#waiting.get(reply.id!);
    if (!done) return;
    this.#waiting.delete(reply.id!);
    if (this.#waiting.size === 0) this.#running?.unref(); // idle: let the process exit
    if (reply.result) done(undefined, reply.result);
    else {
      done(
        new SiltError(reply.error!.code, reply.error!.message, {
          file: reply.error!.file,
          offset: reply.error!.offset,
        }),
      );
    }
  }
}
