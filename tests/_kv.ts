// Helpers of the siltdb/kv tests (tests/kv_*.test.ts).

import { type Kv, type KvEntry, openKv } from "../kv.ts";
import { tempDir } from "./_harness.ts";

/** Every entry of a list. */
export async function collect<T>(iter: AsyncIterable<KvEntry<T>>): Promise<KvEntry<T>[]> {
  const out: KvEntry<T>[] = [];
  for await (const entry of iter) out.push(entry);
  return out;
}

/** Runs fn on a fresh ":memory:" Kv, closed afterwards. */
export async function withKv(fn: (kv: Kv) => Promise<void> | void): Promise<void> {
  const kv = await openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    await kv.close();
  }
}

/** Runs fn with a fresh temporary directory path for a Kv store, removed afterwards. */
export async function withDir(fn: (path: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir("siltdb-kv-test-");
  try {
    await fn(`${dir}/kv`);
  } finally {
    cleanup();
  }
}

/** Resolves after ms milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once check() is true (polled every 10 ms); rejects after timeoutMs. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A promise with its resolve function outside (Promise.withResolvers is not in Node 20). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The setupData of Deno KV's own tests, our way: eight keys in one commit; its versionstamp. */
export async function eightKeys(kv: Kv): Promise<string> {
  const res = await kv.atomic()
    .set(["a"], -1)
    .set(["a", "a"], 0)
    .set(["a", "b"], 1)
    .set(["a", "c"], 2)
    .set(["a", "d"], 3)
    .set(["a", "e"], 4)
    .set(["b"], 99)
    .set(["b", "a"], 100)
    .commit();
  if (!res.ok) throw new Error("the commit of eight keys failed");
  return res.versionstamp;
}
