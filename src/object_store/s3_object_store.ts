// A store in an S3-compatible bucket: `s3://bucket/prefix` (AWS S3, Ceph
// radosgw, R2, MinIO…), configured by the standard AWS environment
// variables or explicitly, with the retries and lost-answer resolution of
// every store (resilient_store.ts) around the S3 protocol (s3_transport.ts).

import { invalidArgument } from "../errors.ts";
import { isObjectStore, type ObjectStore } from "./object_store.ts";
import { ResilientStore, type RetryOptions } from "./resilient_store.ts";
import { type S3Config, S3Transport } from "./s3_transport.ts";

/**
 * The `objectStore` option of open(): where the bucket is and how to sign
 * for it. Anything not given comes from the environment
 * (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION` or
 * `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`).
 *
 * @example
 * ```ts
 * const options: ObjectStoreOptions = {
 *   endpoint: "http://127.0.0.1:7480",
 *   accessKeyId: "AKIA…",
 *   secretAccessKey: "…",
 * };
 * ```
 */
export interface ObjectStoreOptions extends Partial<S3Config> {
  /** How failed requests are retried. */
  retry?: RetryOptions;
}

/**
 * A parsed `s3://bucket/prefix` URL: the prefix is "" or ends in "/".
 *
 * @example
 * ```ts
 * parseS3Url("s3://data/apps/db1"); // { bucket: "data", prefix: "apps/db1/" }
 * ```
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) {
    throw invalidArgument(
      `${JSON.stringify(url)} is not an s3://bucket/prefix URL (bucket names: 3-63 of a-z 0-9 . -)`,
    );
  }
  const path = (m[2] ?? "").replace(/\/+$/, "");
  return { bucket: m[1], prefix: path === "" ? "" : `${path}/` };
}

/** The process's environment variables (Node, Bun, Deno; none where there is no process, as in a browser). */
function environment(): Record<string, string | undefined> {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env: { toObject(): Record<string, string> } };
  };
  return g.process?.env ?? g.Deno?.env.toObject() ?? {};
}

/** The S3 configuration: the options given, then the AWS environment variables. */
export function s3ConfigOf(options: ObjectStoreOptions = {}): S3Config {
  const env = environment();
  const accessKeyId = options.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = options.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw invalidArgument(
      "a store in a bucket needs credentials: the objectStore option's accessKeyId and secretAccessKey, " +
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
    );
  }
  return {
    endpoint: options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    accessKeyId,
    secretAccessKey,
    sessionToken: options.sessionToken ?? env.AWS_SESSION_TOKEN,
    forcePathStyle: options.forcePathStyle,
    requestTimeoutMs: options.requestTimeoutMs,
  };
}

/**
 * The objects under `s3://bucket/prefix`.
 *
 * @example
 * ```ts
 * const store = new S3ObjectStore("s3://my-bucket/db1", { endpoint: "http://127.0.0.1:7480" });
 * await store.put("hello", new TextEncoder().encode("world"));
 * console.log((await store.get("hello"))?.size); // 5
 * ```
 */
export class S3ObjectStore extends ResilientStore {
  /** The store at `url` (s3://bucket/prefix); settings not in `options` come from the AWS_* environment variables. */
  constructor(url: string, options: ObjectStoreOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    super(`s3://${bucket}/${prefix}`, new S3Transport(bucket, prefix, s3ConfigOf(options)), options.retry);
  }
}

/**
 * The store behind a bucket URL: the ObjectStore given, or an S3ObjectStore
 * at `url` configured by the settings given (and the AWS environment).
 *
 * @example
 * ```ts
 * import { MemoryObjectStore } from "./memory_object_store.ts";
 * storeAt("s3://data/apps/db1", { region: "eu-west-1" }); // an S3ObjectStore
 * storeAt("memory://test/", new MemoryObjectStore()); // that store
 * ```
 */
export function storeAt(url: string, option: ObjectStoreOptions | ObjectStore | undefined): ObjectStore {
  return isObjectStore(option) ? option : new S3ObjectStore(url, option);
}
