// The lease protocol's file operations (LeaseOps, ./lease_ops.ts) on
// node:fs, for Node and Bun; the OS lock is flock() through bun:ffi in Bun
// (../../_runtime.ts finds it), none in Node.
//
// May import: ./lease_ops.ts, ../../_runtime.ts, node:fs.

import * as fs from "node:fs";
import { type Flock, ioError } from "../../_runtime.ts";
import { ifErrno, type LeaseOps } from "./lease_ops.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * The lease protocol's file operations on node:fs (file descriptors); flock
 * through bun:ffi when given, no OS lock when undefined (Node).
 *
 * @example
 * ```ts
 * import { nodeLeaseOps } from "./node_lease_ops.ts";
 * import { bunFlock } from "../../_runtime.ts";
 * const ops = nodeLeaseOps(await bunFlock());
 * console.log(ops.readFile("/no/such/dir/LOCK")); // undefined: missing is an answer, not an error
 * ```
 */
export function nodeLeaseOps(flock: Flock | undefined): LeaseOps<number> {
  return {
    createNew: (path) => ifErrno("EEXIST", undefined, "create lock", path, () => fs.openSync(path, "wx+", 0o644)),
    openExisting: (path, readOnly) =>
      ifErrno("ENOENT", undefined, "open lock", path, () => fs.openSync(path, readOnly ? "r" : "r+")),
    writeAt0(fd, data) {
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, done);
    },
    tryOsLock(fd, exclusive) {
      if (flock === undefined) return undefined;
      return flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) === 0;
    },
    handleInode: (fd) => fs.fstatSync(fd).ino,
    close: (fd) => fs.closeSync(fd),
    readFile: (path) => ifErrno("ENOENT", undefined, "read", path, () => new Uint8Array(fs.readFileSync(path))),
    inode: (path) => ifErrno("ENOENT", undefined, "stat", path, () => fs.statSync(path).ino),
    link: (from, to) =>
      ifErrno("EEXIST", false, `link to ${to}:`, from, () => {
        fs.linkSync(from, to);
        return true;
      }),
    rename(from, to) {
      try {
        fs.renameSync(from, to);
      } catch (err) {
        throw ioError(`rename to ${to}:`, from, err);
      }
    },
    remove: (path) => fs.rmSync(path, { force: true }),
    readLink(path) {
      try {
        return fs.readlinkSync(path);
      } catch {
        return undefined;
      }
    },
  };
}
