// The queue of a siltdb/kv store: kv.listenQueue() handlers and the one
// dispatcher per store that feeds them. Messages are entries of the store
// (written by the commit that enqueued them, under FF 01 | readyAt | id:
// queue_format.ts), so a message survives a crash or a restart until a
// handler has taken it:
//
//   - the dispatcher reads the messages due now, in order, and hands each to
//     a handler (round robin across handlers, up to 100 at a time); it wakes
//     when a commit enqueues and when the next message falls due;
//   - a handler that returns (or resolves) ends its message: a commit
//     deletes it; one that throws moves it later by the next interval of its
//     backoff schedule; once the schedule is used up, a commit writes the
//     message to its keysIfUndelivered keys and deletes it;
//   - a message whose handler is still running when the store closes stays
//     stored and is delivered again after the next open (at least once).
//
// While handlers listen, a timer keeps the process alive (as Deno's
// listenQueue does) until the handle closes.

import { toHex } from "./_bytes.ts";
import { setTimer } from "./_timers.ts";
import type { CommitRequest, StoreParts } from "./commit.ts";
import { prefixEnd, QUEUE_PREFIX, timeOfKey } from "./layout.ts";
import { decodeMessage, encodeMessage, type QueueMessage, rescheduled } from "./queue_format.ts";
import { decodeValue } from "./value_codec.ts";

type Handler = (value: unknown) => Promise<void> | void;
/** A listenQueue call: its handler, and the outcome commits of the deliveries it finished, under way. */
type Listener = { handler: Handler; finishing: Set<Promise<void>> };

const MAX_IN_FLIGHT = 100;
const IDLE_MS = 60 * 60 * 1000;
const QUEUE_END = prefixEnd(QUEUE_PREFIX);
const dispatchers = new WeakMap<StoreParts, Dispatcher>();

/**
 * Listens with handler until the handle closes: `onClose` gets the hook
 * that stops it; the promise resolves once the handle's close (`closed()`)
 * has settled and the outcome of every delivery its handler finished is
 * committed (as Deno's: deliveries still in the handler are not waited for).
 *
 * @example
 * ```ts
 * import type { StoreParts } from "./commit.ts";
 * declare const store: StoreParts;
 * const hooks = new Set<() => void>();
 * const done = listenQueue(store, (msg) => console.log(msg), hooks, () => undefined);
 * for (const hook of hooks) hook(); // the handle closes
 * await done;
 * ```
 */
export function listenQueue(
  store: StoreParts,
  handler: Handler,
  onClose: Set<() => void>,
  closed: () => Promise<void> | undefined,
): Promise<void> {
  if (typeof handler !== "function") return Promise.reject(new TypeError("listenQueue() takes a handler function"));
  let dispatcher = dispatchers.get(store);
  if (dispatcher === undefined) dispatchers.set(store, dispatcher = new Dispatcher(store));
  const listener: Listener = { handler, finishing: new Set() };
  dispatcher.add(listener);
  return new Promise((resolve) => {
    const hook = () => {
      onClose.delete(hook);
      dispatcher!.remove(listener);
      Promise.allSettled([closed(), ...listener.finishing]).then(() => resolve());
    };
    onClose.add(hook);
  });
}

/** Hands a store's due messages to its handlers. */
class Dispatcher {
  readonly #store: StoreParts;
  readonly #listeners: Listener[] = [];
  readonly #inFlight = new Set<string>();
  #turn = 0;
  #pumping = false;
  #again = false;
  #stopped = false;
  #cancelTimer: (() => void) | undefined;

  constructor(store: StoreParts) {
    this.#store = store;
    store.listeners.add((c) => c.enqueued && this.#kick());
    store.closers.add(() => {
      this.#stopped = true;
      this.#cancelTimer?.();
    });
  }

  /** Starts handing messages to a listener too. */
  add(listener: Listener): void {
    this.#listeners.push(listener);
    this.#kick();
  }

  /** Stops handing messages to a listener. */
  remove(listener: Listener): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
    if (this.#listeners.length === 0) this.#cancelTimer?.();
  }

  #kick(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#pump().finally(() => (this.#pumping = false));
  }

  async #pump(): Promise<void> {
    do {
      this.#again = false;
      if (this.#stopped || this.#listeners.length === 0) return;
      const now = Date.now();
      let next = now + IDLE_MS;
      try {
        for await (const [key, value] of this.#store.db.scan({ gte: QUEUE_PREFIX, lt: QUEUE_END })) {
          const due = timeOfKey(key);
          if (due > now) {
            next = due;
            break;
          }
          const hex = toHex(key);
          if (this.#inFlight.has(hex)) continue;
          if (this.#inFlight.size >= MAX_IN_FLIGHT) break;
          this.#inFlight.add(hex);
          this.#deliver(key, hex, decodeMessage(value));
        }
      } catch (err) {
        if (this.#stopped) return;
        console.error("siltdb/kv: reading the queue failed; trying again in a second", err);
        next = Date.now() + 1000;
      }
      if (this.#stopped || this.#listeners.length === 0) return;
      this.#cancelTimer?.();
      this.#cancelTimer = setTimer(() => this.#kick(), next - Date.now(), true);
    } while (this.#again);
  }

  async #deliver(key: Uint8Array, hex: string, message: QueueMessage): Promise<void> {
    const listener = this.#listeners[this.#turn++ % this.#listeners.length];
    let ok = false;
    try {
      await listener.handler(await decodeValue(message.payload));
      ok = true;
    } catch (err) {
      console.error("siltdb/kv: a queue handler threw; the message will be retried on its backoff schedule", err);
    }
    if (this.#stopped) return; // still stored: delivered again after the next open
    const finish = this.#store.commits.commit(outcome(key, message, ok)).then(
      () => {},
      (err) => {
        if (!this.#stopped) console.error("siltdb/kv: recording a queue delivery failed; it comes again", err);
      },
    );
    listener.finishing.add(finish);
    await finish;
    listener.finishing.delete(finish);
    this.#inFlight.delete(hex);
    this.#kick();
  }
}

/** The commit that ends a delivery: delete, move later, or write to keysIfUndelivered and delete. */
function outcome(key: Uint8Array, message: QueueMessage, ok: boolean): CommitRequest {
  const done: CommitRequest = { checks: [], mutations: [], enqueues: [], raw: [{ key, value: null }] };
  if (ok) return done;
  const [wait, ...rest] = message.backoff;
  if (wait !== undefined) {
    const later = { key: rescheduled(key, Date.now() + wait), value: encodeMessage({ ...message, backoff: rest }) };
    return { ...done, raw: [...done.raw!, later] };
  }
  return {
    ...done,
    mutations: message.keysIfUndelivered.map((k) => ({
      type: "set",
      key: k,
      value: message.payload,
      expireAt: undefined,
    })),
  };
}
