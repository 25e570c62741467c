// The OPFS API surface OpfsStorage uses, declared structurally so that it
// type-checks without the DOM library (Deno's default, tsc without "DOM").
// A real FileSystemDirectoryHandle satisfies it (values() is in the
// "DOM.AsyncIterable" library of TypeScript).

/** `FileSystemSyncAccessHandle`, as used here. */
export interface OpfsSyncAccessHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  getSize(): number;
  truncate(newSize: number): void;
  flush(): void;
  close(): void;
}

/** `FileSystemFileHandle`, as used here. */
export interface OpfsFileHandle {
  readonly kind: "file";
  readonly name: string;
  createSyncAccessHandle(): Promise<OpfsSyncAccessHandle>;
}

/** `FileSystemDirectoryHandle`, as used here. */
export interface OpfsDirectoryHandle {
  readonly kind: "directory";
  readonly name: string;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  values(): AsyncIterable<{ readonly kind: string; readonly name: string }>;
}

/** The part of the Web Locks API (`navigator.locks`) used here. */
export interface OpfsLockManager {
  request(
    name: string,
    options: { mode?: "exclusive" | "shared"; ifAvailable?: boolean },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
}

/** Options of {@linkcode OpfsStorage.create}. */
export interface OpfsStorageOptions {
  /** Free slots kept ready for synchronous creates. Default 16. */
  spareSlots?: number;
  /**
   * The Web Locks manager that keeps other tabs and workers out. Default
   * `navigator.locks` where it exists; `null` for none (in-process only).
   */
  locks?: OpfsLockManager | null;
  /**
   * Prefix of the Web Lock names (a lock is named prefix + the lock file's
   * path). Default `"siltdb-opfs:" + dir.name + ":"`. Web Lock names are
   * shared by the whole origin: give two storages over two different
   * directories with the same name different prefixes.
   */
  lockPrefix?: string;
}
