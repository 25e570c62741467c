// The S3 protocol over fetch, signed with AWS Signature V4 by aws4fetch (a
// small, well-kept signer: 12 KiB, no dependencies, runs wherever fetch and
// WebCrypto do — Node, Deno, Bun, browsers). Requests: GET (with Range),
// HEAD, PUT (with If-None-Match / If-Match and x-amz-meta-* metadata),
// ListObjectsV2 and DELETE. Failures worth retrying are TransientErrors
// (resilient_store.ts retries them); final ones are SiltErrors that name the
// bucket and never echo a secret.
//
// Quirks measured on Ceph radosgw 16.2 (DESIGN §8): If-Match matches only an
// unquoted ETag, so ETags are sent unquoted; the losers of an If-Match race
// get 500 instead of 412 (a TransientError that may have been applied: the
// store reads the object back). Stores that do not support conditional
// writes answer 501: UNSUPPORTED.
//
// aws4fetch is loaded on the first request: in Deno through an npm:
// specifier (a program importing siltdb by path or URL needs no import map
// for it), elsewhere as the package (bundlers inline it).

import { runtime } from "../_runtime.ts";
import { SiltError } from "../errors.ts";
import type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectInfo,
  PutOptions,
  PutOutcome,
  StoredObject,
} from "./object_store.ts";
import { TransientError, type Transport } from "./resilient_store.ts";

/**
 * Where a bucket is and how to sign for it.
 *
 * @example
 * ```ts
 * const config: S3Config = {
 *   endpoint: "http://127.0.0.1:7480",
 *   region: "us-east-1",
 *   accessKeyId: "AKIA…",
 *   secretAccessKey: "…",
 *   forcePathStyle: true,
 * };
 * ```
 */
export interface S3Config {
  /** The S3 endpoint (scheme, host, port). Default: AWS, https://s3.<region>.amazonaws.com. */
  endpoint?: string;
  /** The signing region. Default "us-east-1". */
  region?: string;
  /** The access key (AWS_ACCESS_KEY_ID). */
  accessKeyId: string;
  /** The secret key (AWS_SECRET_ACCESS_KEY); never written to messages or logs. */
  secretAccessKey: string;
  /** A session token of temporary credentials (AWS_SESSION_TOKEN). */
  sessionToken?: string;
  /** Bucket in the path (http://host/bucket/key) instead of the host name. Default: true with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Give up on a request after this many milliseconds (then it is retried). Default 30,000. */
  requestTimeoutMs?: number;
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
    if (name[0] === "#") return String.fromCodePoint(Number(name[1] === "x" ? `0${name.slice(1)}` : name.slice(1)));
    return XML_ENTITIES[name] ?? whole;
  });
}

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** What the transport uses of aws4fetch's AwsClient. */
interface Signer {
  sign(input: string, init: RequestInit): Promise<Request>;
}

/** aws4fetch's AwsClient constructor, as the transport calls it. */
type SignerClass = new (options: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  service: string;
  retries: number;
}) => Signer;

/** Not a literal in import(): bundlers and Deno's module graph leave it to run time. */
const DENO_AWS4FETCH = "npm:aws4fetch@^1.0.20";
let signerClass: Promise<SignerClass> | undefined;

function loadSigner(): Promise<SignerClass> {
  signerClass ??= (runtime === "deno" ? import(DENO_AWS4FETCH) : import("aws4fetch")).then(
    (m: { AwsClient: SignerClass }) => m.AwsClient,
  );
  return signerClass;
}

/**
 * The S3 protocol for one bucket and prefix.
 *
 * @example
 * ```ts
 * declare const config: S3Config;
 * const transport = new S3Transport("my-bucket", "db1/", config);
 * const page = await transport.list("wal/", {});
 * ```
 */
export class S3Transport implements Transport {
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #signer: () => Promise<Signer>;
  readonly #base: string;
  readonly #timeout: number;
  readonly #where: string;

  /** @param prefix the key prefix of the store ("" or ending in "/") */
  constructor(bucket: string, prefix: string, config: S3Config) {
    this.#bucket = bucket;
    this.#prefix = prefix;
    const region = config.region ?? "us-east-1";
    let signer: Promise<Signer> | undefined;
    this.#signer = () =>
      signer ??= loadSigner().then((AwsClient) =>
        new AwsClient({
          accessKeyId: config.accessKeyId,
          secretAccessKey: config.secretAccessKey,
          sessionToken: config.sessionToken,
          region,
          service: "s3",
          retries: 0, // resilient_store.ts retries, knowing which puts may have been applied
        })
      );
    const endpoint = (config.endpoint ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, "");
    const pathStyle = config.forcePathStyle ?? config.endpoint !== undefined;
    if (pathStyle) this.#base = `${endpoint}/${encodeURIComponent(bucket)}`;
    else {
      const url = new URL(endpoint);
      this.#base = `${url.protocol}//${bucket}.${url.host}`;
    }
    this.#timeout = config.requestTimeoutMs ?? 30_000;
    this.#where = `s3://${bucket}/${prefix}`;
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | undefined> {
    const headers: Record<string, string> = {};
    if (range !== undefined) {
      headers.range = "suffix" in range
        ? `bytes=-${range.suffix}`
        : `bytes=${range.offset}-${range.offset + range.length - 1}`;
    }
    const res = await this.#request("GET", key, { headers });
    if (res.status === 404) return this.#absent(res, key);
    if (res.status === 416) {
      throw new SiltError("INVALID_ARGUMENT", `${this.#where}${key}: range past the end of the object`);
    }
    await this.#check(res, "GET", key);
    const data = new Uint8Array(await this.#body(res, "GET", key));
    const size = res.status === 206
      ? Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1] ?? data.length)
      : data.length;
    return { data, size, etag: res.headers.get("etag") ?? "", metadata: metadataOf(res.headers) };
  }

  async head(key: string): Promise<(ObjectInfo & { metadata: Record<string, string> }) | undefined> {
    const res = await this.#request("HEAD", key, {});
    if (res.status === 404) return this.#absent(res, key);
    await this.#check(res, "HEAD", key);
    return {
      key,
      size: Number(res.headers.get("content-length") ?? 0),
      etag: res.headers.get("etag") ?? "",
      lastModified: Date.parse(res.headers.get("last-modified") ?? "") || 0,
      metadata: metadataOf(res.headers),
    };
  }

  async put(key: string, data: Uint8Array, options: PutOptions = {}): Promise<PutOutcome> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (options.ifNoneMatch) headers["if-none-match"] = "*";
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch.replace(/^"|"$/g, "");
    for (const [name, value] of Object.entries(options.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
    const conditional = options.ifNoneMatch !== undefined || options.ifMatch !== undefined;
    const res = await this.#request("PUT", key, { headers, body: data as Uint8Array<ArrayBuffer> }, true);
    if (res.status === 412) {
      await res.body?.cancel();
      return { written: false };
    }
    if (res.status === 501 && conditional) {
      throw new SiltError(
        "UNSUPPORTED",
        `${this.#where}: the store does not support conditional writes (PUT with ${
          options.ifNoneMatch ? "If-None-Match" : "If-Match"
        } answered 501), which a writer needs to fence other writers`,
        { file: this.#where },
      );
    }
    if (res.status === 409 && conditional) {
      // AWS: a conflicting conditional write in flight ("ConditionalRequestConflict"): it may still land.
      await res.body?.cancel();
      throw new TransientError(`PUT ${key}: 409 conditional request conflict`, 409, true);
    }
    await this.#check(res, "PUT", key, true);
    await res.body?.cancel();
    return { written: true, etag: res.headers.get("etag") ?? "" };
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const query = new URLSearchParams({ "list-type": "2", prefix: this.#prefix + prefix });
    if (options.limit !== undefined) query.set("max-keys", String(options.limit));
    if (options.after !== undefined) query.set("start-after", this.#prefix + options.after);
    const res = await this.#fetch("GET", `${this.#base}?${query}`, {}, `LIST ${prefix}`, false);
    if (res.status === 404) return this.#absent(res, prefix).then(() => ({ objects: [] }));
    await this.#check(res, "LIST", prefix);
    const xml = await res.text();
    const objects: ObjectInfo[] = [];
    for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const full = tag(m[1], "Key") ?? "";
      objects.push({
        key: full.slice(this.#prefix.length),
        size: Number(tag(m[1], "Size") ?? 0),
        etag: tag(m[1], "ETag") ?? "",
        lastModified: Date.parse(tag(m[1], "LastModified") ?? "") || 0,
      });
    }
    const truncated = tag(xml, "IsTruncated") === "true" && objects.length > 0;
    return truncated ? { objects, next: objects[objects.length - 1].key } : { objects };
  }

  async delete(key: string): Promise<void> {
    const res = await this.#request("DELETE", key, {}, true);
    if (res.status === 404) {
      await this.#absent(res, key);
      return;
    }
    await this.#check(res, "DELETE", key, true);
    await res.body?.cancel();
  }

  #request(method: string, key: string, init: RequestInit, mayApply = false): Promise<Response> {
    return this.#fetch(method, `${this.#base}/${encodeKey(this.#prefix + key)}`, init, `${method} ${key}`, mayApply);
  }

  async #fetch(method: string, url: string, init: RequestInit, what: string, mayApply: boolean): Promise<Response> {
    try {
      const signed = await (await this.#signer()).sign(url, { ...init, method });
      return await fetch(signed, { signal: AbortSignal.timeout(this.#timeout) });
    } catch (err) {
      if (err instanceof SiltError) throw err;
      const why = (err as Error)?.name === "TimeoutError"
        ? `no answer in ${this.#timeout} ms`
        : String((err as Error)?.message ?? err);
      throw new TransientError(`${this.#where}: ${what}: ${why}`, undefined, mayApply);
    }
  }

  async #body(res: Response, method: string, key: string): Promise<ArrayBuffer> {
    try {
      return await res.arrayBuffer();
    } catch (err) {
      throw new TransientError(
        `${this.#where}: ${method} ${key}: the answer broke off: ${(err as Error)?.message}`,
        res.status,
        false,
      );
    }
  }

  /** A 404: undefined for a missing object, NOT_FOUND for a missing bucket. */
  async #absent(res: Response, key: string): Promise<undefined> {
    const text = res.bodyUsed ? "" : await res.text().catch(() => "");
    if (tag(text, "Code") === "NoSuchBucket") {
      throw new SiltError("NOT_FOUND", `bucket ${this.#bucket} does not exist (${this.#where}, looking for ${key})`, {
        file: this.#where,
      });
    }
    return undefined;
  }

  /** Throws for anything but a 2xx: TransientError when worth retrying, SiltError when final. */
  async #check(res: Response, method: string, key: string, mayApply = false): Promise<void> {
    if (res.status >= 200 && res.status < 300) return;
    const text = await res.text().catch(() => "");
    const code = tag(text, "Code") ?? res.statusText;
    const what = `${this.#where}: ${method} ${key}: ${res.status} ${code}`;
    if (res.status === 429 || res.status >= 500) throw new TransientError(what, res.status, mayApply);
    if (code === "NoSuchBucket") {
      throw new SiltError("NOT_FOUND", `bucket ${this.#bucket} does not exist (${this.#where}: ${method} ${key})`, {
        file: this.#where,
      });
    }
    if (res.status === 403 || res.status === 401) {
      throw new SiltError(
        "IO_ERROR",
        `${what}: access denied; check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the objectStore option)`,
        { file: this.#where },
      );
    }
    throw new SiltError("IO_ERROR", what, { file: this.#where });
  }
}

function metadataOf(headers: Headers): Record<string, string> {
  const metadata: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
  });
  return metadata;
}
