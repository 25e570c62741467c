// kv.watch(): a ReadableStream of the entries of a few keys. It reads them at
// once, then again each time a commit of the store writes one of them
// (the store tells it, src/kv/store.ts), and passes them on when a
// versionstamp changed (every time with raw). It ends when the handle
// closes, and its reader's cancel() ends it too.

import { toHex } from "./_bytes.ts";
import { encodeKey, type KvKey } from "./key_codec.ts";
import { checkReadKey, MAX_WATCHED_KEYS } from "./limits.ts";
import type { Committed, StoreParts } from "./commit.ts";

/**
 * The stream of a watch. `read` reads the keys' entries (each with its
 * `versionstamp`, null when absent); `onClose` gets a hook that ends the
 * stream when the handle closes.
 *
 * @example
 * ```ts
 * import type { StoreParts } from "./commit.ts";
 * declare const store: StoreParts;
 * declare const read: (keys: Uint8Array[]) => Promise<{ versionstamp: string | null }[]>;
 * const stream = watchKeys(store, [["config"]], read, false, new Set());
 * ```
 */
export function watchKeys<E extends { versionstamp: string | null }>(
  store: StoreParts,
  keys: readonly KvKey[],
  read: (keys: Uint8Array[]) => Promise<E[]>,
  raw: boolean,
  onClose: Set<() => void>,
): ReadableStream<E[]> {
  if (!Array.isArray(keys)) throw new TypeError("watch() takes an array of keys");
  if (keys.length > MAX_WATCHED_KEYS) throw new TypeError(`Too many keys (max ${MAX_WATCHED_KEYS})`);
  const encoded = keys.map((k) => {
    const bytes = encodeKey(k);
    checkReadKey(bytes);
    return bytes;
  });
  const watched = new Set(encoded.map(toHex));
  let dirty = true;
  let ended = false;
  let last: (string | null)[] | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  const listener = (c: Committed) => {
    if (c.keys.some((k) => watched.has(toHex(k)))) {
      dirty = true;
      poke();
    }
  };
  const end = () => {
    ended = true;
    store.listeners.delete(listener);
    onClose.delete(end);
    poke();
  };
  store.listeners.add(listener);
  onClose.add(end);
  return new ReadableStream<E[]>({
    async pull(controller) {
      for (;;) {
        if (!dirty && !ended) await new Promise<void>((resolve) => (wake = resolve));
        if (ended) return controller.close();
        dirty = false;
        let entries: E[];
        try {
          entries = await read(encoded);
        } catch (err) {
          if (ended) return controller.close();
          end();
          return controller.error(err);
        }
        const stamps = entries.map((e) => e.versionstamp);
        const changed = last === undefined || stamps.some((s, i) => s !== last![i]);
        last = stamps;
        if (changed || raw) return controller.enqueue(entries);
      }
    },
    cancel: end,
  }, { highWaterMark: 0 });
}
