// The OPFS API surface OpfsStorage uses, declared structurally so that it
// type-checks without the DOM library (Deno's default, tsc without "DOM").
// A real FileSystemDirectoryHandle satisfies it (values() is in the
// "DOM.AsyncIterable" library of TypeScript). tests/_opfs_fake.ts
// implements it in memory.
//
// May import: nothing.

/**
 * `FileSystemSyncAccessHandle`, as used here.
 *
 * @example
 * ```ts
 * import type { OpfsSyncAccessHandle } from "./opfs_api.ts";
 * const readAll = (h: OpfsSyncAccessHandle) => {
 *   const out = new Uint8Array(h.getSize());
 *   h.read(out, { at: 0 });
 *   return out;
 * };
 * console.log(typeof readAll); // "function"
 * ```
 */
export interface OpfsSyncAccessHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  getSize(): number;
  truncate(newSize: number): void;
  flush(): void;
  close(): void;
}

/**
 * `FileSystemFileHandle`, as used here.
 *
 * @example
 * ```ts
 * import type { OpfsFileHandle, OpfsSyncAccessHandle } from "./opfs_api.ts";
 * const openSync = (f: OpfsFileHandle): Promise<OpfsSyncAccessHandle> => f.createSyncAccessHandle();
 * console.log(typeof openSync); // "function"
 * ```
 */
export interface OpfsFileHandle {
  readonly kind: "file";
  readonly name: string;
  createSyncAccessHandle(): Promise<OpfsSyncAccessHandle>;
}

/**
 * `FileSystemDirectoryHandle`, as used here.
 *
 * @example
 * ```ts
 * import type { OpfsDirectoryHandle } from "./opfs_api.ts";
 * async function names(dir: OpfsDirectoryHandle): Promise<string[]> {
 *   const out: string[] = [];
 *   for await (const entry of dir.values()) out.push(entry.name);
 *   return out;
 * }
 * console.log(typeof names); // "function"
 * ```
 */
export interface OpfsDirectoryHandle {
  readonly kind: "directory";
  readonly name: string;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  values(): AsyncIterable<{ readonly kind: string; readonly name: string }>;
}

/**
 * The part of the Web Locks API (`navigator.locks`) used here.
 *
 * @example
 * ```ts
 * import type { OpfsLockManager } from "./opfs_api.ts";
 * const isFree = (locks: OpfsLockManager, name: string) =>
 *   locks.request(name, { ifAvailable: true }, (lock) => lock !== null);
 * console.log(typeof isFree); // "function"
 * ```
 */
export interface OpfsLockManager {
  request(
    name: string,
    options: { mode?: "exclusive" | "shared"; ifAvailable?: boolean },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
}
