// Options of open() and of writes and reads: their types, defaults and checks.

import { describe, type Encoding, type EncodingName, encodingNamed } from "./encoding.ts";
import { invalidArgument } from "./errors.ts";
import type { Compression } from "./format/table_format.ts";
import type { Storage } from "./storage/storage.ts";
import { defaultStorage } from "./storage/default_storage.ts";
import { isObjectStore, type ObjectStore } from "./object_store/object_store.ts";
import type { ObjectStoreOptions } from "./object_store/s3_object_store.ts";

const OBJECT_STORE_OPTIONS: Record<string, "string" | "boolean" | "number" | "object"> = {
  endpoint: "string",
  region: "string",
  accessKeyId: "string",
  secretAccessKey: "string",
  sessionToken: "string",
  forcePathStyle: "boolean",
  requestTimeoutMs: "number",
  retry: "object",
};

/** The objectStore option: an ObjectStore as it is, or S3 settings of the right types (never echoing a value). */
function objectStoreOption(value: unknown): ObjectStoreOptions | ObjectStore | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument(`option objectStore must be an object, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  if (isObjectStore(value)) return value;
  for (const [name, v] of Object.entries(o)) {
    const type = OBJECT_STORE_OPTIONS[name];
    if (type === undefined) {
      throw invalidArgument(
        `unknown objectStore option ${JSON.stringify(name)} (known: ${Object.keys(OBJECT_STORE_OPTIONS).join(", ")})`,
      );
    }
    if (v !== undefined && (typeof v !== type || v === null)) {
      throw invalidArgument(`objectStore option ${name} must be a ${type}`);
    }
  }
  return value as ObjectStoreOptions;
}

/** The cacheDir option: a non-empty path; cacheSize alone is refused (it bounds nothing). */
function cacheDirOption(o: Record<string, unknown>): string | undefined {
  const dir = o.cacheDir;
  if (dir === undefined) {
    if (o.cacheSize !== undefined) throw invalidArgument("option cacheSize needs cacheDir (the disk cache it bounds)");
    return undefined;
  }
  if (typeof dir !== "string" || dir === "") {
    throw invalidArgument(
      `option cacheDir must be a non-empty path, got ${typeof dir === "string" ? '""' : describe(dir)}`,
    );
  }
  return dir;
}

/**
 * Options of {@linkcode open}.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "json", sync: true });
 * await db.put("user:1", { name: "alice" });
 * await db.close();
 * ```
 */
export interface OpenOptions {
  /** Storage adapter. Default: the runtime's file system (`defaultStorage()`). */
  fs?: Storage;
  /** Create the database if the directory holds none. Default true. */
  createIfMissing?: boolean;
  /** Fail with `EXISTS` if the directory already holds a database. Default false. */
  errorIfExists?: boolean;
  /** Open for reads only: writes fail with `READ_ONLY`, nothing on disk changes. Default false. */
  readOnly?: boolean;
  /** Default of the `sync` write option. Default false. */
  sync?: boolean;
  /** How keys are given and returned. Default "binary". */
  keyEncoding?: EncodingName;
  /** How values are given and returned. Default "binary". */
  valueEncoding?: EncodingName;
  /** Largest key in bytes (1 to 16 MiB). Default 65,536. */
  maxKeySize?: number;
  /** Largest value in bytes (1 to 256 MiB). Default 64 MiB. */
  maxValueSize?: number;
  /**
   * Acknowledge unsynced writes once they are in siltdb's log buffer, before
   * they reach the operating system: faster, but a crash of the process (a
   * kill, a power loss) loses up to 256 KiB or one timer tick of them. The
   * buffer is written at close(), flush(), and when the process exits
   * (process.exit(), an uncaught exception). Default false: a write
   * resolves once the OS has it, so only a machine crash can lose it.
   */
  bufferWrites?: boolean;
  /**
   * Memtable size in bytes before it is frozen and flushed (1 KiB to 1 GiB).
   * Default: 4 MiB, doubling up to 32 MiB as the store's tables grow past
   * 128 MiB (while the tables hold more than 32 memtables; src/write/write_buffer.ts).
   */
  memtableSize?: number;
  /** Data block size of table files in bytes (256 B to 1 MiB). Default 4 KiB. */
  blockSize?: number;
  /**
   * Block cache size in bytes (0 to 2 GiB: the cache lives in WebAssembly
   * memory, at most 4 GiB in all). Default 256 MiB: the cache fills only
   * with blocks that are read, so a small store uses little of it, and a
   * store of 1,000,000 db_bench entries (~110 MiB of tables) is read from
   * it: `getSync` 1.5-2.0 µs with 97% of blocks found, against 3.4-4.4 µs
   * with 32 MiB, where 41% missed (each miss a positional read and a
   * checksum; docs/benchmarks.md, "Scale (issue 21)").
   */
  blockCacheSize?: number;
  /**
   * Table files kept open (file handle, index and filter in memory), as
   * LevelDB's max_open_files (1 to 100,000). Default 500. A table a scan is
   * reading stays usable when it is closed: its file reopens on demand.
   */
  maxOpenFiles?: number;
  /** Bloom filter bits per key (0 disables filters, up to 64). Default 10. */
  bloomBitsPerKey?: number;
  /**
   * How the data blocks of new tables (flushes, compactions, repair) are
   * stored: "lz4" compresses each block that shrinks by at least an eighth
   * (the others are stored as they are), "none" stores every block as is.
   * Blocks are decompressed once, when read from storage; the block cache
   * holds them decompressed. Tables of either kind are read whatever the
   * option. Default "none", by measurement (docs/benchmarks.md): on
   * JSON-like values "lz4" makes tables 2.5× smaller and gets that miss
   * the block cache run at 0.82-0.83×, but awaited puts at 0.84-0.87× (the
   * targets were 0.8× and 0.9×). Choose "lz4" when disk space or bytes
   * moved (OPFS quotas, a bucket) matter more.
   */
  compression?: Compression;
  /**
   * Compaction policy. Default "leveled". For a store in a bucket, "remote":
   * this writer compacts nothing; a compactor process (`siltdb compactor`,
   * runCompactor()) does, with its own policy (the same as compactionMode "remote").
   */
  compaction?: "leveled" | "tiered" | "remote";
  /**
   * Where compactions run: "worker" (a Worker / worker_threads with its own
   * core instance; the default on real file systems), "inline" (the main
   * thread; always used with in-memory storage) or, for a store in a bucket,
   * "remote" (in a compactor process).
   */
  compactionMode?: "worker" | "inline" | "remote";
  /**
   * Target size of table files written by compactions into L1 (4 KiB to 1 GiB); each
   * level below doubles it (L2 4 MiB, L3 8 MiB, ... by default). Default 2 MiB.
   */
  targetFileSize?: number;
  /** L0 files that start a compaction (leveled), or sorted runs (tiered). Default 4. */
  l0CompactionTrigger?: number;
  /** L0 files past which writes are slowed down a little. Default 8. */
  l0SlowdownTrigger?: number;
  /** L0 files past which writes wait for compaction. Default 12. */
  l0StopTrigger?: number;
  /** Byte target of L1 (leveled); each deeper level is 10x. Default 10 MiB. */
  levelBaseBytes?: number;
  /**
   * A store in a bucket (`open("s3://bucket/prefix")`): where the S3 endpoint
   * is and how to sign for it (anything not given comes from the AWS_*
   * environment variables) — or an ObjectStore to use instead, such as a
   * MemoryObjectStore.
   */
  objectStore?: ObjectStoreOptions | ObjectStore;
  /**
   * A store in a bucket: objects nothing needs any more are deleted once
   * they are this old (milliseconds), so that readers and a compactor on
   * other machines never lose what they still read. Default 300,000 (5 minutes).
   */
  gcMinAge?: number;
  /**
   * A store in a bucket opened readOnly: how often it catches up with its
   * writer (milliseconds; 0: only at db.refresh()). Default 1,000.
   */
  refreshInterval?: number;
  /**
   * A store in a bucket: a local directory where the tables' tails and
   * blocks fetched from the bucket are kept (checked when read back, shared
   * safely by processes, kept across restarts), so that each is fetched
   * once. Default: none (every block the block cache lacks is a GET).
   */
  cacheDir?: string;
  /** The bound of cacheDir in bytes (least recently used pieces go first; 1 MiB to 1 PiB). Default 1 GiB. */
  cacheSize?: number;
  /**
   * A store in a bucket opened readOnly: open exactly the state of this
   * checkpoint (an id from `db.checkpoint()`), which does not move.
   */
  checkpoint?: string;
  /**
   * A store in a bucket that holds no database yet: create it as a copy of
   * a checkpoint of another store (its tables are copied into this one).
   * A store that holds a database already opens as it is.
   */
  cloneFrom?: CloneSource;
  /**
   * The clock expiring puts (`{ ttl }`, `{ expireAt }`) are judged by:
   * epoch milliseconds. Default Date.now. For tests and simulations (a fake
   * clock that only moves forward); reads and compactions read it once per
   * call, compactions when they are planned. Moving it back does not revive
   * what a compaction already dropped.
   */
  clock?: () => number;
  /**
   * A compaction filter (RocksDB's CompactionFilter): the URL (string or
   * URL, absolute, e.g. `new URL("./filter.js", import.meta.url)`) of a
   * module whose default export decides, for the newest version of each key
   * during compaction, "keep", "drop" or `{ value }` (the type
   * CompactionFilter). Loaded at open (INVALID_ARGUMENT names a
   * URL that does not load or has no such export) and in the compaction worker.
   */
  compactionFilter?: string | URL;
}

/**
 * Where {@linkcode OpenOptions.cloneFrom} clones from.
 *
 * @example
 * ```ts
 * const from: CloneSource = { url: "s3://my-bucket/app/db", checkpoint: "001733500000000-0a1b2c3d" };
 * ```
 */
export interface CloneSource {
  /** The source store's s3:// URL (default: the one opened). */
  url?: string;
  /** The source's ObjectStore or S3 settings (default: the `objectStore` option's settings). */
  objectStore?: ObjectStoreOptions | ObjectStore;
  /** The checkpoint id. */
  checkpoint: string;
}

/**
 * When a put expires: after `ttl` milliseconds, or at `expireAt` (one of
 * the two). An expired key reads as deleted everywhere (get, scans, counts,
 * snapshots, transactions) and compactions drop it.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 * const db = await open("./data");
 * const ttl: ExpiryOptions = { ttl: 60_000 }; // a minute from now
 * await db.put("session:1", "token", ttl);
 * await db.batch().put("session:2", "token", { expireAt: new Date("2030-01-01") }).write();
 * await db.close();
 * ```
 */
export interface ExpiryOptions {
  /** Milliseconds from now (by the database's clock) until the key expires: a finite number > 0. */
  ttl?: number;
  /** When the key expires: a Date, or epoch milliseconds (a finite number >= 0; a past time writes an expired put). */
  expireAt?: Date | number;
}

/** Options of a write (put, delete, batch write). */
export interface WriteOptions {
  /** Resolve only once the write is durable (fdatasync). Default: the database's `sync` option. */
  sync?: boolean;
}

/** Open options with every default applied and every value checked. */
export interface ResolvedOptions {
  fs: Storage;
  createIfMissing: boolean;
  errorIfExists: boolean;
  readOnly: boolean;
  sync: boolean;
  keyEncoding: Encoding<unknown>;
  valueEncoding: Encoding<unknown>;
  maxKeySize: number;
  maxValueSize: number;
  bufferWrites: boolean;
  /** Undefined: the default, grown with the store (src/write/write_buffer.ts). */
  memtableSize: number | undefined;
  blockSize: number;
  blockCacheSize: number;
  maxOpenFiles: number;
  bloomBitsPerKey: number;
  compression: Compression;
  compaction: "leveled" | "tiered";
  compactionMode: "worker" | "inline" | "remote";
  targetFileSize: number;
  l0CompactionTrigger: number;
  l0SlowdownTrigger: number;
  l0StopTrigger: number;
  levelBaseBytes: number;
  objectStore: ObjectStoreOptions | ObjectStore | undefined;
  gcMinAge: number;
  refreshInterval: number;
  cacheDir: string | undefined;
  cacheSize: number;
  checkpoint: string | undefined;
  cloneFrom: CloneSource | undefined;
  clock: () => number;
  /** The compaction filter module's URL (checked to parse; loaded at open). */
  compactionFilter: string | undefined;
}

/**
 * The names of every open option (the keys of {@linkcode OpenOptions}).
 *
 * @example
 * ```ts
 * const passed = OPEN_OPTION_NAMES.filter((name) => name !== "fs");
 * ```
 */
export const OPEN_OPTION_NAMES: readonly (keyof OpenOptions)[] = [
  "compactionMode",
  "targetFileSize",
  "l0CompactionTrigger",
  "l0SlowdownTrigger",
  "l0StopTrigger",
  "levelBaseBytes",
  "fs",
  "createIfMissing",
  "errorIfExists",
  "readOnly",
  "sync",
  "keyEncoding",
  "valueEncoding",
  "maxKeySize",
  "maxValueSize",
  "bufferWrites",
  "memtableSize",
  "blockSize",
  "blockCacheSize",
  "maxOpenFiles",
  "bloomBitsPerKey",
  "compression",
  "compaction",
  "objectStore",
  "gcMinAge",
  "refreshInterval",
  "cacheDir",
  "cacheSize",
  "checkpoint",
  "cloneFrom",
  "clock",
  "compactionFilter",
];

const KNOWN = new Set<string>(OPEN_OPTION_NAMES);

function flag(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalidArgument(`option ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

function integer(options: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(
      `option ${name} must be an integer from ${min} to ${max}, got ${
        typeof value === "number" ? value : describe(value)
      }`,
    );
  }
  return value;
}

/** The compression option: "lz4" or "none" (the default); anything else is INVALID_ARGUMENT naming it. */
function compressionOption(value: unknown): Compression {
  if (value === undefined) return "none";
  if (value === "lz4" || value === "none") return value;
  throw invalidArgument(
    `option compression must be "lz4" or "none", got ${
      typeof value === "string" ? `unknown codec ${JSON.stringify(value)}` : describe(value)
    }`,
  );
}

function isStorage(value: unknown): value is Storage {
  const s = value as Record<string, unknown> | null;
  return typeof s === "object" && s !== null &&
    ["open", "readFile", "list", "exists", "mkdir", "rename", "remove", "syncDir", "lock"]
      .every((m) => typeof s[m] === "function");
}

/**
 * The largest maxValueSize. A value passes through linear memory about four
 * times (write buffer, memtable, table builder), and the core's memory is at
 * most 4 GiB per thread, shared by every database of the thread.
 *
 * @example
 * ```ts
 * resolveOptions({ maxValueSize: MAX_VALUE_SIZE }).maxValueSize; // 268435456
 * resolveOptions({ maxValueSize: MAX_VALUE_SIZE + 1 }); // throws INVALID_ARGUMENT
 * ```
 */
export const MAX_VALUE_SIZE = 256 * 1024 * 1024;

/**
 * Checks open options and fills in defaults; INVALID_ARGUMENT names the bad option.
 *
 * @example
 * ```ts
 * const o = resolveOptions({ compaction: "tiered" });
 * console.log(o.compaction, o.blockSize, o.sync); // "tiered" 4096 false
 * resolveOptions({ compression: "zstd" }); // throws INVALID_ARGUMENT: option compression must be "lz4" or "none", got unknown codec "zstd"
 * ```
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (input === undefined) input = {};
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalidArgument(`options must be an object, got ${describe(input)}`);
  }
  const o = input as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if (!KNOWN.has(name)) {
      throw invalidArgument(`unknown option ${JSON.stringify(name)} (known: ${[...KNOWN].join(", ")})`);
    }
  }
  if (o.fs !== undefined && !isStorage(o.fs)) {
    throw invalidArgument(
      "option fs must be a Storage (open, readFile, list, exists, mkdir, rename, remove, syncDir, lock)",
    );
  }
  const remote = o.compaction === "remote";
  const compaction = remote ? "leveled" : o.compaction ?? "leveled";
  if (compaction !== "leveled" && compaction !== "tiered") {
    throw invalidArgument(
      `option compaction must be "leveled", "tiered" or "remote", got ${
        JSON.stringify(compaction) ?? describe(compaction)
      }`,
    );
  }
  const compactionMode = remote ? "remote" : o.compactionMode ?? "worker";
  if (compactionMode !== "worker" && compactionMode !== "inline" && compactionMode !== "remote") {
    throw invalidArgument(
      `option compactionMode must be "worker", "inline" or "remote", got ${
        JSON.stringify(compactionMode) ?? describe(compactionMode)
      }`,
    );
  }
  const MiB = 1 << 20;
  const l0CompactionTrigger = integer(o, "l0CompactionTrigger", 4, 2, 1000);
  const l0SlowdownTrigger = integer(o, "l0SlowdownTrigger", Math.max(8, l0CompactionTrigger * 2), 2, 10000);
  const l0StopTrigger = integer(o, "l0StopTrigger", Math.max(12, l0SlowdownTrigger + 4), 2, 10000);
  if (l0SlowdownTrigger < l0CompactionTrigger || l0StopTrigger < l0SlowdownTrigger) {
    throw invalidArgument(
      `options must satisfy l0CompactionTrigger <= l0SlowdownTrigger <= l0StopTrigger, got ${l0CompactionTrigger}, ${l0SlowdownTrigger}, ${l0StopTrigger}`,
    );
  }
  return {
    fs: (o.fs as Storage | undefined) ?? defaultStorage(),
    createIfMissing: flag(o, "createIfMissing", true),
    errorIfExists: flag(o, "errorIfExists", false),
    readOnly: flag(o, "readOnly", false),
    sync: flag(o, "sync", false),
    keyEncoding: encodingNamed(o.keyEncoding ?? "binary", "option keyEncoding"),
    valueEncoding: encodingNamed(o.valueEncoding ?? "binary", "option valueEncoding"),
    maxKeySize: integer(o, "maxKeySize", 65536, 1, 16 * MiB),
    maxValueSize: integer(o, "maxValueSize", 64 * MiB, 1, MAX_VALUE_SIZE),
    bufferWrites: flag(o, "bufferWrites", false),
    memtableSize: o.memtableSize === undefined ? undefined : integer(o, "memtableSize", 4 * MiB, 1024, 1024 * MiB),
    blockSize: integer(o, "blockSize", 4096, 256, MiB),
    blockCacheSize: integer(o, "blockCacheSize", 256 * MiB, 0, 2048 * MiB),
    maxOpenFiles: integer(o, "maxOpenFiles", 500, 1, 100_000),
    bloomBitsPerKey: integer(o, "bloomBitsPerKey", 10, 0, 64),
    compression: compressionOption(o.compression),
    compaction,
    compactionMode,
    targetFileSize: integer(o, "targetFileSize", 2 * MiB, 4096, 1024 * MiB),
    l0CompactionTrigger,
    l0SlowdownTrigger,
    l0StopTrigger,
    levelBaseBytes: integer(o, "levelBaseBytes", 10 * MiB, 4096, 2 ** 40),
    objectStore: objectStoreOption(o.objectStore),
    gcMinAge: integer(o, "gcMinAge", 300_000, 0, 2 ** 40),
    refreshInterval: integer(o, "refreshInterval", 1000, 0, 2 ** 31 - 1),
    cacheDir: cacheDirOption(o),
    cacheSize: integer(o, "cacheSize", 1024 * MiB, MiB, 2 ** 50),
    ...checkpointOptions(o),
    clock: clockOption(o.clock),
    compactionFilter: filterUrlOption(o.compactionFilter),
  };
}

/** The checkpoint and cloneFrom options (a store in a bucket), checked. */
function checkpointOptions(
  o: Record<string, unknown>,
): { checkpoint: string | undefined; cloneFrom: CloneSource | undefined } {
  const { checkpoint, cloneFrom } = o as { checkpoint?: unknown; cloneFrom?: Record<string, unknown> };
  if (checkpoint !== undefined && (typeof checkpoint !== "string" || o.readOnly !== true)) {
    throw invalidArgument("option checkpoint must be a checkpoint id (a string) and needs readOnly: true");
  }
  if (cloneFrom === undefined) return { checkpoint, cloneFrom: undefined };
  if (typeof cloneFrom !== "object" || cloneFrom === null || typeof cloneFrom.checkpoint !== "string") {
    throw invalidArgument(
      `option cloneFrom must be { url?, objectStore?, checkpoint: string }, got ${describe(cloneFrom)}`,
    );
  }
  if (o.readOnly === true) throw invalidArgument("option cloneFrom creates a store: it cannot be readOnly");
  if (cloneFrom.url !== undefined && typeof cloneFrom.url !== "string") {
    throw invalidArgument("option cloneFrom.url must be a string");
  }
  const objectStore = objectStoreOption(cloneFrom.objectStore);
  return {
    checkpoint,
    cloneFrom: { url: cloneFrom.url as string | undefined, objectStore, checkpoint: cloneFrom.checkpoint },
  };
}

function clockOption(value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== "function") {
    throw invalidArgument(`option clock must be a function returning epoch milliseconds, got ${describe(value)}`);
  }
  return value as () => number;
}

function filterUrlOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL) return value.href;
  if (typeof value === "string") {
    try {
      return new URL(value).href;
    } catch {
      // not an absolute URL
    }
  }
  throw invalidArgument(
    `option compactionFilter must be an absolute module URL (a string or URL), got ${
      typeof value === "string" ? JSON.stringify(value) : describe(value)
    }`,
  );
}

/**
 * Checks an options object of a call: undefined or a plain object whose
 * names are all known. INVALID_ARGUMENT names the first unknown one.
 *
 * @example
 * ```ts
 * checkCallOptions({ sync: true }, "put", ["sync"]); // { sync: true }
 * checkCallOptions({ snyc: true }, "put", ["sync"]); // throws INVALID_ARGUMENT: unknown put option "snyc"
 * ```
 */
export function checkCallOptions(
  options: unknown,
  call: string,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidArgument(`${call} options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw invalidArgument(
        `unknown ${call} option ${JSON.stringify(name)} (${
          known.length > 0 ? `known: ${known.join(", ")}` : `${call} takes no options`
        })`,
      );
    }
  }
  return options as Record<string, unknown>;
}

/**
 * The `sync` flag of write options (checked: only `sync` is known), or the database default.
 *
 * @example
 * ```ts
 * resolveSync(undefined, false); // false: the database's default
 * resolveSync({ sync: true }, false, "put"); // true
 * ```
 */
export function resolveSync(options: unknown, fallback: boolean, call = "write"): boolean {
  const o = checkCallOptions(options, call, ["sync"]);
  const sync = o?.sync;
  if (sync === undefined) return fallback;
  if (typeof sync !== "boolean") throw invalidArgument(`${call} option sync must be a boolean, got ${describe(sync)}`);
  return sync;
}
