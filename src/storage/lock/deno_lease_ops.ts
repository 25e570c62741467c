// The lease protocol's file operations (LeaseOps, ./lease_ops.ts) on Deno's
// own APIs; the OS lock is FsFile.tryLockSync (flock on Unix), where the
// Deno version has it.
//
// May import: ./lease_ops.ts, ../../_runtime.ts.

import { type DenoFile, type DenoNamespace, ioError } from "../../_runtime.ts";
import { ifErrno, type LeaseOps } from "./lease_ops.ts";

/**
 * The lease protocol's file operations on Deno's APIs, with FsFile.tryLockSync as the OS lock.
 *
 * @example
 * ```ts ignore
 * import { denoLeaseOps } from "./deno_lease_ops.ts";
 * const ops = denoLeaseOps(Deno);  // in Deno
 * console.log(ops.readFile("/no/such/dir/LOCK")); // undefined: missing is an answer, not an error
 * ```
 */
export function denoLeaseOps(d: DenoNamespace): LeaseOps<DenoFile> {
  return {
    createNew: (path) =>
      ifErrno(
        "EEXIST",
        undefined,
        "create lock",
        path,
        () => d.openSync(path, { read: true, write: true, createNew: true }),
      ),
    openExisting: (path, readOnly) =>
      ifErrno("ENOENT", undefined, "open lock", path, () => d.openSync(path, { read: true, write: !readOnly })),
    writeAt0(file, data) {
      file.seekSync(0, 0);
      let done = 0;
      while (done < data.length) done += file.writeSync(data.subarray(done));
    },
    tryOsLock(file, exclusive) {
      return typeof file.tryLockSync === "function" ? file.tryLockSync(exclusive) : undefined;
    },
    handleInode: (file) => file.statSync().ino ?? undefined,
    close: (file) => file.close(),
    readFile: (path) => ifErrno("ENOENT", undefined, "read", path, () => d.readFileSync(path)),
    inode: (path) => ifErrno("ENOENT", undefined, "stat", path, () => d.statSync(path).ino ?? undefined),
    link: (from, to) =>
      ifErrno("EEXIST", false, `link to ${to}:`, from, () => {
        d.linkSync(from, to);
        return true;
      }),
    rename(from, to) {
      try {
        d.renameSync(from, to);
      } catch (err) {
        throw ioError(`rename to ${to}:`, from, err);
      }
    },
    remove: (path) => ifErrno("ENOENT", undefined, "remove", path, () => d.removeSync(path)),
    readLink(path) {
      try {
        return d.readLinkSync(path);
      } catch {
        return undefined;
      }
    },
  };
}
