// The S3 server of the object-storage tests: the throw-away Ceph cluster
// `npm test` starts once (scripts/ceph_cluster.mjs; it passes the endpoint
// and keys in SILTDB_TEST_S3_*), or, when a test file runs on its own on a
// machine with Ceph installed, one started for this process. Without Ceph
// the tests skip, saying why — except with CI set, where they fail: in CI
// the object-storage suite must run.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";
import type { ObjectStoreOptions } from "../src/object_store/s3_object_store.ts";

/** The cluster's endpoint and keys. */
export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

let cluster: Promise<TestS3 | string> | undefined;

async function find(): Promise<TestS3 | string> {
  const env = process.env;
  if (env.SILTDB_TEST_S3_ENDPOINT) {
    return {
      endpoint: env.SILTDB_TEST_S3_ENDPOINT,
      region: env.SILTDB_TEST_S3_REGION ?? "us-east-1",
      accessKeyId: env.SILTDB_TEST_S3_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.SILTDB_TEST_S3_SECRET_ACCESS_KEY ?? "",
    };
  }
  const missing = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"].filter((bin) =>
    !(env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, bin)))
  );
  if (missing.length > 0) {
    const why = `no S3 server: Ceph is not installed (${missing.join(", ")}; ` +
      "apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd)";
    if (env.CI) throw new Error(`${why}; with CI set the object-storage suite must run`);
    return why;
  }
  // A cluster for this process alone: a Node helper starts it and stops it
  // once this process is gone (test runners may end without exit handlers).
  const { s3, helper } = await serveCluster();
  // From now on the helper must not keep this process alive.
  helper.unref();
  return s3;
}

/**
 * Starts a throw-away Ceph cluster through a helper process
 * (scripts/ceph_cluster.mjs serve) that stops it, by the process ids it
 * started, on SIGTERM or once this process is gone; resolves with the
 * cluster's endpoint and keys, and the helper. Rejects (the helper gone)
 * when the cluster does not start.
 *
 * @example
 * ```ts
 * const { s3, helper } = await serveCluster();
 * console.log(s3.endpoint);
 * helper.kill("SIGTERM"); // the cluster stops
 * ```
 */
export async function serveCluster(): Promise<{ s3: TestS3; helper: ChildProcess }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "ceph_cluster.mjs");
  const helper = spawn("node", [script, "serve", String(process.pid)], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      helper.stdout!.on("data", (chunk: Uint8Array) => {
        out += new TextDecoder().decode(chunk);
        if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
      });
      helper.on("exit", (code) => reject(new Error(`the Ceph cluster did not start (exit ${code})`)));
    });
    helper.stdout!.destroy();
    return { s3: JSON.parse(line) as TestS3, helper };
  } catch (err) {
    helper.kill("SIGTERM");
    throw err;
  }
}

/**
 * The S3 server, or why there is none (the test then skips). Starts a
 * cluster for this process at the first call when npm test did not.
 */
export function testS3(): Promise<TestS3 | string> {
  cluster ??= find();
  return cluster;
}

/**
 * A new, empty bucket on the server; resolves with the objectStore option for it.
 *
 * @example
 * ```ts
 * const s3 = await testS3();
 * if (typeof s3 !== "string") {
 *   const { url, options } = await newBucket(s3);
 *   const store = new S3ObjectStore(url, options);
 * }
 * ```
 */
export async function newBucket(s3: TestS3, prefix = "db"): Promise<{ url: string; options: ObjectStoreOptions }> {
  const bucket = `siltdb-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const client = new AwsClient({
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    region: s3.region,
    service: "s3",
    retries: 0,
  });
  const res = await client.fetch(`${s3.endpoint}/${bucket}`, { method: "PUT" });
  if (res.status !== 200) throw new Error(`creating bucket ${bucket}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
  const { endpoint, region, accessKeyId, secretAccessKey } = s3;
  return {
    url: `s3://${bucket}/${prefix}`,
    options: { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle: true },
  };
}
