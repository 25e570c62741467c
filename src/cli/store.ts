// How commands open a store (a directory, or s3://bucket/prefix for the
// commands that take one), read its entries, and read key arguments.

import type { Db } from "../db.ts";
import { open } from "../open.ts";
import { SiltError } from "../errors.ts";
import type { S3ObjectStore } from "../object_store/s3_object_store.ts";
import type { ScanOptions } from "../read/scan_options.ts";
import { UsageError } from "./args.ts";
import { bucketStore, isBucketUrl, requireDirectory } from "./bucket.ts";
import { fromHex } from "./display.ts";

/** A store opened by a command: keys and values as bytes. */
export type Store = Db<Uint8Array, Uint8Array>;

/** A store a command opened, and the S3 store under it when it is in a bucket. */
export interface OpenedStore {
  db: Store;
  /** The bucket's store (its request counters), or undefined for a directory. */
  bucket: S3ObjectStore | undefined;
}

/** How a command opens a store. */
export interface OpenHow {
  /** Open as the writer (a bucket: claims the writer epoch, fencing any other writer). */
  write: boolean;
  /** Create the store when there is none. */
  create?: boolean;
  /** The command takes s3:// URLs too (name it for the message when it does not). */
  bucket?: boolean;
  /** The command's name, for the message refusing an s3:// URL. */
  command?: string;
}

/**
 * Opens the store at `location` for a command: a directory, or (for commands
 * that take one) s3://bucket/prefix. Reading commands open it read-only (a
 * directory: LOCKED while a writer holds it; a bucket: a reader that does not
 * follow the writer); writing commands may create it when `create` is set.
 *
 * @example
 * ```ts
 * const { db, bucket } = await openLocation("s3://data/db1", { write: false, bucket: true });
 * await db.close();
 * console.log(bucket?.counters.gets);
 * ```
 */
export async function openLocation(location: string, how: OpenHow): Promise<OpenedStore> {
  if (!how.bucket) requireDirectory(location, how.command ?? "this command");
  if (isBucketUrl(location)) {
    const bucket = bucketStore(location);
    const db = await open(location, {
      objectStore: bucket,
      readOnly: !how.write,
      createIfMissing: how.create ?? false,
      refreshInterval: 0,
    }) as Store;
    return { db, bucket };
  }
  try {
    return {
      db: await open(location, { readOnly: !how.write, createIfMissing: how.create ?? false }) as Store,
      bucket: undefined,
    };
  } catch (err) {
    if (err instanceof SiltError && err.code === "NOT_FOUND" && !how.create) {
      throw new SiltError("NOT_FOUND", `no siltdb store at ${location}`, { file: location });
    }
    throw err;
  }
}

/**
 * Opens the store in directory `dir` for a command that works on directories only.
 *
 * @example
 * ```ts
 * const db = await openStore("./data", { write: false });
 * ```
 */
export async function openStore(dir: string, how: Omit<OpenHow, "bucket">): Promise<Store> {
  return (await openLocation(dir, how)).db;
}

const CHUNK = 1024;

/**
 * The entries of a range, a chunk at a time: a directory is scanned
 * synchronously (one await per chunk), a bucket asynchronously (its blocks
 * are fetched with GETs).
 *
 * @example
 * ```ts
 * declare const opened: OpenedStore;
 * for await (const chunk of entryChunks(opened, { prefix: new TextEncoder().encode("user:") })) {
 *   for (const [key, value] of chunk) console.log(key.length, value.length);
 * }
 * ```
 */
export async function* entryChunks(
  opened: OpenedStore,
  options: ScanOptions<Uint8Array>,
): AsyncGenerator<[Uint8Array, Uint8Array][]> {
  let chunk: [Uint8Array, Uint8Array][] = [];
  const entries = opened.bucket === undefined ? opened.db.scanSync(options) : opened.db.scan(options);
  // A synchronous scan is read in a plain loop: `for await` would cost a turn per entry.
  if (Symbol.iterator in entries) {
    for (const entry of entries) {
      chunk.push(entry);
      if (chunk.length === CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
  } else {
    for await (const entry of entries) {
      chunk.push(entry);
      if (chunk.length === CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

const encoder = new TextEncoder();

/**
 * A key or value given on the command line: UTF-8 text, or hex with --hex.
 *
 * @example
 * ```ts
 * bytesArg("user:1", false, "key"); // the UTF-8 bytes of "user:1"
 * bytesArg("00ff", true, "key");    // Uint8Array [0, 255]
 * ```
 */
export function bytesArg(text: string, hex: boolean, what: string): Uint8Array {
  if (!hex) return encoder.encode(text);
  const bytes = fromHex(text);
  if (bytes === undefined) throw new UsageError(`${what} ${JSON.stringify(text)} is not hex (--hex is set)`);
  return bytes;
}
