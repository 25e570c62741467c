// Runs compactions in a worker (compactionMode "worker"): worker_threads in
// Node and Deno (an idle worker is unref'd there, so a process that forgets
// close() still exits), a Web Worker in Bun. The worker has its own core instance and
// reads and writes table files itself; the main thread keeps its event loop
// for foreground work and records results in the manifest.

import { runtime } from "../_runtime.ts";
import { SiltError, type SiltErrorCode } from "../errors.ts";
import type { CompactionJob, CompactionResult } from "./compactor.ts";
import type { CompactionExecutor } from "../background/scheduler.ts";

interface Reply {
  id: number;
  result?: CompactionResult;
  error?: { code: SiltErrorCode; message: string; file?: string; offset?: number };
}

interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
  /** worker_threads only: whether the worker keeps the process alive. */
  ref?(): void;
  unref?(): void;
}

/** The worker script: beside this file when running from source, beside the bundle otherwise. */
function workerUrl(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("./worker.ts", import.meta.url)
    : new URL("./compaction_worker.js", import.meta.url);
}

/**
 * @example
 * ```ts
 * const executor = new WorkerExecutor("/data/db");
 * const result = await executor.run(job);
 * await executor.close();
 * ```
 */
export class WorkerExecutor implements CompactionExecutor {
  readonly mode = "worker";
  readonly #dir: string;
  #worker: Promise<AnyWorker> | undefined;
  #next = 1;
  #waiting = new Map<number, { resolve: (r: CompactionResult) => void; reject: (e: unknown) => void }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  run(job: CompactionJob): Promise<CompactionResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#start().then((w) => {
        w.ref?.(); // a job in flight keeps the process alive
        w.postMessage({ id, dir: this.#dir, job });
      }, (err) => {
        this.#waiting.delete(id);
        reject(err);
      });
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await (await worker).terminate();
    for (const w of this.#waiting.values()) w.reject(new SiltError("CLOSED", "the compaction worker was stopped"));
    this.#waiting.clear();
  }

  #start(): Promise<AnyWorker> {
    this.#worker ??= this.#spawn();
    return this.#worker;
  }

  async #spawn(): Promise<AnyWorker> {
    const onReply = (reply: Reply) => {
      const w = this.#waiting.get(reply.id);
      if (!w) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) void this.#worker?.then((worker) => worker.unref?.()); // idle: let the process exit
      if (reply.result) w.resolve(reply.result);
      else w.reject(new SiltError(reply.error!.code, reply.error!.message, { file: reply.error!.file, offset: reply.error!.offset }));
    };
    const onFailure = (err: unknown) => {
      const e = new SiltError("IO_ERROR", `the compaction worker failed: ${String((err as Error)?.message ?? err)}`, {}, err);
      for (const w of this.#waiting.values()) w.reject(e);
      this.#waiting.clear();
      this.#worker = undefined;
    };
    if (runtime === "node" || runtime === "deno") {
      const { Worker } = await import("node:worker_threads");
      const url = workerUrl();
      // From source, Node runs TypeScript only through tsx, whose hooks must be
      // registered inside the worker before the worker's module loads.
      const worker = url.pathname.endsWith(".ts") && runtime === "node"
        ? new Worker(
          `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})` +
            `.then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`,
          { eval: true },
        )
        : new Worker(url);
      worker.on("message", onReply);
      worker.on("error", onFailure);
      worker.unref();
      return worker;
    }
    const WebWorker = (globalThis as unknown as { Worker: new (url: URL, o: { type: "module" }) => AnyWorker & { onmessage: unknown; onerror: unknown } }).Worker;
    const worker = new WebWorker(workerUrl(), { type: "module" });
    worker.onmessage = (e: { data: Reply }) => onReply(e.data);
    worker.onerror = (e: { message?: string; preventDefault?: () => void }) => {
      e.preventDefault?.();
      onFailure(e.message ?? e);
    };
    return worker;
  }
}
