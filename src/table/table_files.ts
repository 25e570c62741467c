// Where a database's table files are: a directory of a Storage (NNNNNN.sst)
// or a bucket (sst/<n>.sst, src/object_store/bucket_layout.ts). Opening a
// table, naming it in messages and writing a new one (table_writer.ts) go
// through here, so the table cache, the block provider, flushes and
// compactions do not care which.

import { SiltError } from "../errors.ts";
import { tableKey } from "../object_store/bucket_layout.ts";
import type { ObjectStore } from "../object_store/object_store.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { tableFileName } from "../version/file_names.ts";
import { TableReader } from "./table_reader.ts";

/**
 * Where a table file is written: a directory of a Storage, or a bucket.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * const onDisk: TableTarget = { fs, dir: "/db" };
 * ```
 */
export type TableTarget = { fs: Storage; dir: string } | { store: ObjectStore };

/**
 * The table files of one database.
 *
 * @example
 * ```ts
 * import type { Storage } from "../storage/storage.ts";
 * declare const fs: Storage;
 * const files = tableFiles({ fs, dir: "/db" });
 * const table = files.open(7); // a TableReader of /db/000007.sst
 * ```
 */
export interface TableFiles {
  /** Where new tables go. */
  readonly target: TableTarget;
  /** True when tables can be opened and read synchronously (on disk; not in a bucket). */
  readonly synchronous: boolean;
  /** The path or URL of table n, for messages. */
  pathOf(n: number): string;
  /** Opens table n synchronously (UNSUPPORTED in a bucket). */
  open(n: number): TableReader;
  /** Opens table n. */
  openAsync(n: number): Promise<TableReader>;
}

/**
 * The table files at `target`. In a bucket, tables are read with ranged
 * GETs (a point read fetches one block); with `whole`, each table is
 * downloaded with one GET when opened (a compaction reads every block).
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "../object_store/object_store.ts";
 * declare const store: ObjectStore;
 * const files = tableFiles({ store });
 * const table = await files.openAsync(7); // ranged GETs of sst/00000000000000000007.sst
 * const forCompaction = tableFiles({ store }, { whole: true }); // one GET per table
 * ```
 */
export function tableFiles(target: TableTarget, options: { whole?: boolean } = {}): TableFiles {
  if ("store" in target) {
    const { store } = target;
    return {
      target,
      synchronous: false,
      pathOf: (n) => `${store.location}${tableKey(n)}`,
      open: (n) => {
        throw new SiltError(
          "UNSUPPORTED",
          `${store.location}${tableKey(n)}: a store in a bucket is read asynchronously; ` +
            "use get, getMany, has, scan, keys, values or count instead of their synchronous forms",
          { file: `${store.location}${tableKey(n)}` },
        );
      },
      openAsync: (n) =>
        options.whole
          ? TableReader.downloadObject(store, tableKey(n), n)
          : TableReader.openObject(store, tableKey(n), n),
    };
  }
  const { fs, dir } = target;
  const pathOf = (n: number) => joinPath(dir, tableFileName(n));
  return {
    target,
    synchronous: true,
    pathOf,
    open: (n) => TableReader.open(fs, pathOf(n), n),
    openAsync: (n) => Promise.resolve(TableReader.open(fs, pathOf(n), n)),
  };
}
