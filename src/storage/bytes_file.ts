// Bytes already in memory seen as a read-only StorageFile: how an object
// downloaded from a bucket (a WAL object, a manifest) goes through the same
// readers as a file on disk (src/wal/log_reader.ts).

import { SiltError } from "../errors.ts";
import type { StorageFile } from "./storage.ts";

/**
 * A read-only file over `data`; writes fail.
 *
 * @example
 * ```ts
 * const file = bytesFile("s3://bucket/db/wal/00000000000000000003", new Uint8Array([1, 2, 3]));
 * const head = new Uint8Array(2);
 * file.read(0, head); // 2: head is [1, 2]
 * ```
 */
export function bytesFile(path: string, data: Uint8Array): StorageFile {
  const refuse = (): never => {
    throw new SiltError("READ_ONLY", `${path} is read-only`, { file: path });
  };
  return {
    path,
    size: () => data.length,
    read(position: number, into: Uint8Array): number {
      const n = Math.max(0, Math.min(into.length, data.length - position));
      into.set(data.subarray(position, position + n));
      return n;
    },
    append: () => Promise.reject(new SiltError("READ_ONLY", `${path} is read-only`, { file: path })),
    appendSync: refuse,
    sync: () => Promise.resolve(),
    close: () => {},
  };
}
