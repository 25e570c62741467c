// Where a store in a bucket keeps its objects (drawn in docs/format.md):
//
//   <prefix>manifest/<n, 20 digits>   the state after commit n: immutable; created with a
//                                      create-only PUT (If-None-Match: *), so of two committers
//                                      of n exactly one wins
//   <prefix>wal/<n, 20 digits>         a group of writes: the log format of a .log file (header,
//                                      sealed batch records); created with a create-only PUT, so
//                                      a fenced writer cannot add one
//   <prefix>sst/<n, 20 digits>.sst     a table (the table format), immutable; numbers are unique:
//                                      each writer takes them from a range its manifest reserved
//   <prefix>probe/<id>                 empty, for a moment: a writer or compactor checks that the
//                                      store refuses a second create-only PUT before it claims
//
// Numbers are zero-padded to 20 digits so that listings (in key order) are
// in number order.

/** The folder of manifests. */
export const MANIFEST_DIR = "manifest/";
/** The folder of WAL objects. */
export const WAL_DIR = "wal/";
/** The folder of tables. */
export const TABLE_DIR = "sst/";

const pad = (n: number) => String(n).padStart(20, "0");

/**
 * The key of manifest n.
 *
 * @example
 * ```ts
 * manifestKey(7); // "manifest/00000000000000000007"
 * ```
 */
export function manifestKey(n: number): string {
  return `${MANIFEST_DIR}${pad(n)}`;
}

/**
 * The key of WAL object n.
 *
 * @example
 * ```ts
 * walKey(12); // "wal/00000000000000000012"
 * ```
 */
export function walKey(n: number): string {
  return `${WAL_DIR}${pad(n)}`;
}

/**
 * The key of table n.
 *
 * @example
 * ```ts
 * tableKey(9); // "sst/00000000000000000009.sst"
 * ```
 */
export function tableKey(n: number): string {
  return `${TABLE_DIR}${pad(n)}.sst`;
}

/**
 * The key of a create-only probe (bucket_manifest.ts's checkCreateOnly).
 *
 * @example
 * ```ts
 * probeKey("3f9c0d"); // "probe/3f9c0d"
 * ```
 */
export function probeKey(id: string): string {
  return `probe/${id}`;
}

/**
 * The number in a key of one of the folders, or undefined for any other key.
 *
 * @example
 * ```ts
 * numberOfKey(WAL_DIR, "wal/00000000000000000012"); // 12
 * numberOfKey(TABLE_DIR, "sst/00000000000000000009.sst"); // 9
 * numberOfKey(WAL_DIR, "wal/junk"); // undefined
 * ```
 */
export function numberOfKey(dir: string, key: string): number | undefined {
  if (!key.startsWith(dir)) return undefined;
  const m = /^(\d{20})(\.sst)?$/.exec(key.slice(dir.length));
  if (!m || (dir === TABLE_DIR) !== (m[2] !== undefined)) return undefined;
  return Number(m[1]);
}
