// Expired entries: reads treat an entry whose expireAt has passed as absent
// at once (store.ts); this sweep deletes them. A set with expireIn also
// writes an index entry FF 02 | expireAt | key (layout.ts), so that entries
// due by now are the first keys of the index. The sweep runs when the earliest
// one falls due (a timer that does not keep the process alive; at open, and
// each time a commit sets an earlier expiry), and for each due index entry
// deletes the entry — only if it still has that expiry, guarded by a check
// of its versionstamp — and the index entry (an overwritten key leaves a
// stale index entry, which goes alone). Up to 1,000 per pass.

import { setTimer } from "./_timers.ts";
import type { CommitRequest, StoreParts } from "./commit.ts";
import { EXPIRY_PREFIX, prefixEnd, timeOfKey, versionstamp } from "./layout.ts";
import { readStored } from "./value_codec.ts";

const EXPIRY_END = prefixEnd(EXPIRY_PREFIX);
const PER_PASS = 1000;

/**
 * Starts the expiry sweep of a store (it stops when the store closes).
 *
 * @example
 * ```ts
 * import type { StoreParts } from "./commit.ts";
 * declare const store: StoreParts;
 * sweepExpired(store);
 * ```
 */
export function sweepExpired(store: StoreParts): void {
  let planned = Infinity;
  let cancel: (() => void) | undefined;
  let stopped = false;
  let sweeping = false;
  const plan = (at: number) => {
    if (stopped || at >= planned) return;
    cancel?.();
    planned = at;
    cancel = setTimer(() => void sweep(), at - Date.now(), false);
  };
  const sweep = async () => {
    planned = Infinity;
    if (stopped || sweeping) return;
    sweeping = true;
    try {
      const { next, commits } = await duePass(store, Date.now());
      const done = await Promise.allSettled(commits.map((c) => store.commits.commit(c)));
      if (stopped) return;
      if (done.some((d) => d.status === "rejected" || !d.value.ok)) plan(Date.now() + 1000);
      if (next !== undefined) plan(next);
    } catch (err) {
      if (!stopped) {
        console.error("siltdb/kv: the expiry sweep failed; it tries again in a minute", err);
        plan(Date.now() + 60_000);
      }
    } finally {
      sweeping = false;
    }
  };
  store.listeners.add((c) => c.nextExpiry !== undefined && plan(c.nextExpiry));
  store.closers.add(() => {
    stopped = true;
    cancel?.();
  });
  plan(Date.now());
}

/** The commits that delete what is due by now, and when the next index entry falls due. */
async function duePass(
  store: StoreParts,
  now: number,
): Promise<{ next: number | undefined; commits: CommitRequest[] }> {
  const commits: CommitRequest[] = [];
  let next: number | undefined;
  for await (const key of store.db.keys({ gte: EXPIRY_PREFIX, lt: EXPIRY_END })) {
    const at = timeOfKey(key);
    if (at > now || commits.length >= PER_PASS) {
      next = at > now ? at : now;
      break;
    }
    const userKey = key.slice(EXPIRY_PREFIX.length + 8);
    const { value, version } = await store.db.getEntry(userKey);
    const stored = value === undefined ? undefined : readStored(value);
    const removeIndex = { checks: [], mutations: [], enqueues: [], raw: [{ key, value: null }] };
    if (stored === undefined || version === undefined || stored.expireAt !== at) commits.push(removeIndex);
    else {
      commits.push({
        ...removeIndex,
        checks: [{ key: userKey, versionstamp: versionstamp(version - stored.index), evenExpired: true }],
        mutations: [{ type: "delete", key: userKey }],
      });
    }
  }
  return { next, commits };
}
