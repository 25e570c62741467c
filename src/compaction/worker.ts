// The compaction worker: a node:worker_threads worker (in Node, Deno and Bun
// alike) with its own instance of the core. Its code travels inside the
// module as a string (src/_worker_source.ts, built from this file) and runs
// from a data: URL, so bundled and compiled programs start it without
// looking for a file. It announces itself ({ ready: true }), learns where
// replies go (a port of their own, and a shared count of replies posted: see
// worker_executor.ts), then receives jobs from
// src/compaction/worker_executor.ts, runs them with runCompaction on the
// real file system, and posts back the outputs (or the error). It
// never touches the manifest, and renames an output into place only while
// the database still holds its directory lock.

import { parentPort } from "node:worker_threads";
import { SiltError } from "../errors.ts";
import { leaseToken } from "../storage/lock/lease_file.ts";
import { defaultStorage } from "../storage/default_storage.ts";
import { tableFiles } from "../table/table_files.ts";
import { type CompactionJob, runCompaction } from "./compactor.ts";

/** The executor's first message: the port replies go to, and the count of replies posted (shared memory). */
export interface SetupMessage {
  setup: { port: unknown; posted: ArrayBufferLike | undefined };
}

/** A job message from the executor. */
export interface JobMessage {
  id: number;
  dir: string;
  job: CompactionJob;
  /** The database's LOCK file and its lease token, checked before each output is renamed into place. */
  lock?: { path: string; token: string };
}

const fs = defaultStorage();

async function handle(message: JobMessage): Promise<unknown> {
  const { id, dir, job, lock } = message;
  try {
    const result = await runCompaction({
      files: tableFiles({ fs, dir }),
      beforeRename: lock === undefined ? undefined : () => {
        let token: string | undefined;
        try {
          token = leaseToken(fs.readFile(lock.path));
        } catch {
          token = undefined;
        }
        if (token !== lock.token) {
          throw new SiltError("LOCKED", `${lock.path}: the database lost its directory lock; the compaction stops`, {
            file: lock.path,
          });
        }
      },
    }, job);
    return { id, result };
  } catch (err) {
    const e = err instanceof SiltError ? err : new SiltError("IO_ERROR", String((err as Error)?.message ?? err));
    return { id, error: { code: e.code, message: e.message, file: e.file, offset: e.offset } };
  }
}

interface ReplyPort {
  postMessage(m: unknown): void;
}

const port = parentPort!;
let replies: ReplyPort = port;
let posted: Int32Array | undefined;
port.on("message", (m: JobMessage | SetupMessage) => {
  if ("setup" in m) {
    replies = m.setup.port as ReplyPort;
    posted = m.setup.posted === undefined ? undefined : new Int32Array(m.setup.posted);
    return;
  }
  void handle(m).then((reply) => {
    replies.postMessage(reply);
    if (posted !== undefined) Atomics.add(posted, 0, 1); // after the post: the reply can be taken once counted
  });
});
port.postMessage({ ready: true });
