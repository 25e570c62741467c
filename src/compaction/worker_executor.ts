// Runs compactions in a worker (compactionMode "worker"): a node:worker_threads
// worker in Node, Deno and Bun, with its own core instance, that reads and
// writes table files itself; the main thread keeps its event loop for
// foreground work and records results in the manifest.
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
import type { CompactionExecutor, CompactionJob, CompactionResult } from "./compactor.ts";
import type { JobMessage } from "./worker.ts";
import { coreWasmBase64 } from "../wasm/instance.ts";

interface Reply {
  id?: number;
  ready?: true;
  result?: CompactionResult;
  error?: { code: SiltErrorCode; message: string; file?: string; offset?: number };
}

interface NodeWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
  ref(): void;
  unref(): void;
  on(event: "message", fn: (m: Reply) => void): void;
  on(event: "error", fn: (err: unknown) => void): void;
  on(event: "exit", fn: (code: number) => void): void;
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
  #failedToStart = false;
  #next = 1;
  #waiting = new Map<number, { resolve: (r: CompactionResult) => void; reject: (e: unknown) => void }>();

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

  async run(job: CompactionJob): Promise<CompactionResult> {
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
    if (worker === undefined) return this.#fallback.run(job);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker!.ref(); // a job in flight keeps the process alive
      const message: JobMessage = { id, dir: this.#dir, job, lock: this.#lock?.() };
      worker!.postMessage(message);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await (await worker.catch(() => undefined))?.terminate();
    for (const w of this.#waiting.values()) w.reject(new SiltError("CLOSED", "the compaction worker was stopped"));
    this.#waiting.clear();
  }

  #start(): Promise<NodeWorker> {
    this.#worker ??= this.#spawn();
    return this.#worker;
  }

  /** Starts the worker; resolves once it runs (its "ready"), rejects if it cannot start. */
  async #spawn(): Promise<NodeWorker> {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(this.#url()) as unknown as NodeWorker;
    return await new Promise<NodeWorker>((resolve, reject) => {
      let started = false;
      worker.on("message", (reply: Reply) => {
        if (reply.ready) {
          started = true;
          worker.unref();
          resolve(worker);
          return;
        }
        this.#settle(reply);
      });
      const failed = (err: unknown) => {
        if (!started) {
          reject(err);
          return;
        }
        const e = new SiltError(
          "IO_ERROR",
          `the compaction worker failed: ${String((err as Error)?.message ?? err)}`,
          {},
          err,
        );
        for (const w of this.#waiting.values()) w.reject(e);
        this.#waiting.clear();
        this.#worker = undefined; // the next job starts a new one
      };
      worker.on("error", failed);
      worker.on("exit", (code) => failed(new Error(`the worker exited (code ${code})`)));
    });
  }

  #settle(reply: Reply): void {
    const w = this.#waiting.get(reply.id!);
    if (!w) return;
    this.#waiting.delete(reply.id!);
    if (this.#waiting.size === 0) void this.#worker?.then((worker) => worker.unref(), () => {}); // idle: let the process exit
    if (reply.result) w.resolve(reply.result);
    else {w.reject(
        new SiltError(reply.error!.code, reply.error!.message, {
          file: reply.error!.file,
          offset: reply.error!.offset,
        }),
      );}
  }
}
