// The compaction worker: a worker_threads worker (Node, Deno) or Web Worker
// (Bun) with its own instance of the core. It receives jobs from
// src/compaction/worker_executor.ts, runs them with runCompaction on the real
// file system, and posts back the outputs (or the error). It never touches
// the manifest.

import { parentPort } from "node:worker_threads";
import { SiltError } from "../errors.ts";
import { defaultStorage } from "../storage/default_storage.ts";
import { joinPath } from "../storage/storage.ts";
import { TableReader } from "../table/table_reader.ts";
import { tableFileName } from "../version/file_names.ts";
import { type CompactionJob, runCompaction } from "./compactor.ts";

/** A job message from the executor. */
export interface JobMessage {
  id: number;
  dir: string;
  job: CompactionJob;
}

const fs = defaultStorage();

async function handle(message: JobMessage): Promise<unknown> {
  const { id, dir, job } = message;
  try {
    const result = await runCompaction({
      fs,
      dir,
      openTable: (n) => TableReader.open(fs, joinPath(dir, tableFileName(n)), n),
      closeTable: (t) => t.close(),
    }, job);
    return { id, result };
  } catch (err) {
    const e = err instanceof SiltError ? err : new SiltError("IO_ERROR", String((err as Error)?.message ?? err));
    return { id, error: { code: e.code, message: e.message, file: e.file, offset: e.offset } };
  }
}

type Port = { postMessage(m: unknown): void };
const self_ = globalThis as unknown as Port & { onmessage: ((e: { data: JobMessage }) => void) | null };

if (parentPort) {
  const port = parentPort;
  port.on("message", (m: JobMessage) => void handle(m).then((reply) => port.postMessage(reply)));
} else {
  self_.onmessage = (e) => void handle(e.data).then((reply) => self_.postMessage(reply));
}
