// Bytes already in memory seen as a read-only StorageFile (or a Storage
// holding that one file): how an object downloaded from a bucket (a WAL
// object, a manifest, a table) goes through the same readers and checks as
// a file on disk (src/wal/log_reader.ts, src/tools/_checks.ts).

import { SiltError } from "../errors.ts";
import type { Storage, StorageFile } from "./storage.ts";

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

/**
 * A read-only Storage whose every path is the one downloaded object `data`:
 * what the checks of files (verify) read an object through. Everything but
 * reading fails with `READ_ONLY`, naming `reader`.
 *
 * @example
 * ```ts
 * import { checkTable } from "../tools/_checks.ts";
 * declare const data: Uint8Array; // a table object's bytes
 * const check = checkTable(oneObjectStorage(data, "verifyBucket"), "", "sst/7.sst", 7);
 * console.log(check.problems.length === 0 ? "intact" : "damaged");
 * ```
 */
export function oneObjectStorage(data: Uint8Array, reader: string): Storage {
  const refusal = () => new SiltError("READ_ONLY", `${reader} reads objects only`);
  const refuse = (): never => {
    throw refusal();
  };
  return {
    kind: "object",
    open: (path) => bytesFile(path, data),
    readFile: () => data,
    list: refuse,
    exists: () => true,
    mkdir: refuse,
    rename: refuse,
    remove: refuse,
    syncDir: () => Promise.reject(refusal()),
    lock: () => Promise.reject(refusal()),
  };
}
