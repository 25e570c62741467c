// siltdb/browser's open(): the engine itself inside a dedicated worker; on
// the main thread, a worker started on this same module plus a BrowserDb
// talking to it. Loaded as a module in a dedicated worker, this module also
// listens for the client's connect message (protocol.ts) and then serves the
// database on the port that came with it; the engine is loaded only there.

import type { Db } from "../db.ts";
import type { Decoded } from "../open.ts";
import { SiltError } from "../errors.ts";
import { BrowserDb } from "./client.ts";
import { checkName, splitOptions } from "./checks.ts";
import { CONNECT, type ConnectMessage, errorToData, type PortLike, PROTOCOL_VERSION } from "./protocol.ts";
import type { AsyncDb, BrowserOpenOptions } from "./types.ts";

/** The part of a Worker used here. */
interface WorkerLike {
  postMessage(message: unknown, transfer: unknown[]): void;
  addEventListener(type: string, listener: (event: { message?: string; error?: unknown }) => void): void;
  terminate(): void;
}

type WorkerConstructor = new (url: URL, options: { type: "module"; name: string }) => WorkerLike;
type ChannelConstructor = new () => { port1: PortLike; port2: PortLike };

interface GlobalLike {
  WorkerGlobalScope?: unknown;
  document?: unknown;
  Worker?: WorkerConstructor;
  MessageChannel?: ChannelConstructor;
  addEventListener?: (type: string, listener: (event: { data: unknown }) => void) => void;
}

const global = globalThis as unknown as GlobalLike;

/**
 * True in a dedicated worker (a worker global scope and no document).
 *
 * @example
 * ```ts
 * if (inWorker()) {
 *   const db = await openInWorker("notes", { valueEncoding: "utf8" });
 *   console.log(db.getSync("note:1")); // the synchronous API: only inside a worker
 *   await db.close();
 * }
 * ```
 */
export function inWorker(): boolean {
  return typeof global.WorkerGlobalScope !== "undefined" && typeof global.document === "undefined";
}

/**
 * Opens the database `name`, kept in the Origin Private File System
 * (directory "siltdb-" + name), one tab or worker at a time (Web Lock
 * "siltdb:" + name: another one gets `LOCKED`, or waits with `wait: true`).
 *
 * - In a dedicated worker: runs the engine here and returns siltdb's `Db`
 *   (getSync, scanSync and the rest of the synchronous API too; see
 *   {@linkcode openInWorker} for its type).
 * - On the main thread: starts a module worker on siltdb/browser, opens the
 *   database there and returns a {@linkcode BrowserDb}, the same async API
 *   through messages; `close()` ends the worker.
 *
 * @example
 * ```ts ignore
 * import { open } from "siltdb/browser";
 * const db = await open("notes", { keyEncoding: "utf8", valueEncoding: "json" });
 * await db.put("note:1", { title: "hello" }, { sync: true });
 * for await (const [key, note] of db.scan({ prefix: "note:" })) console.log(key, note);
 * await db.close();
 * ```
 */
export async function open<O extends BrowserOpenOptions = Record<never, never>>(
  name: string,
  options?: O,
): Promise<AsyncDb<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>> {
  checkName(name);
  splitOptions(options);
  if (inWorker()) {
    return await openInWorker(name, options) as AsyncDb<
      Decoded<O["keyEncoding"]>,
      Decoded<O["valueEncoding"]>
    >;
  }
  if (global.document === undefined || typeof global.Worker !== "function" || global.MessageChannel === undefined) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      'siltdb/browser opens databases in a browser (a page or a dedicated worker); in Deno, Node and Bun use "siltdb"',
    );
  }
  if ((options as { clock?: unknown } | undefined)?.clock !== undefined) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      "the clock option is a function, which cannot cross to the database worker: use it with openInWorker()",
    );
  }
  const filter = (options as { compactionFilter?: unknown } | undefined)?.compactionFilter;
  // A URL object does not cross to the worker (structured clone): its text does.
  return await openFromMainThread(
    name,
    filter instanceof URL ? { ...options, compactionFilter: filter.href } : options,
  );
}

/**
 * Opens database `name` inside this dedicated worker and returns the engine's
 * `Db` itself (what {@linkcode open} does in a worker, typed as `Db`).
 *
 * @example
 * ```ts ignore
 * import { openInWorker } from "siltdb/browser";
 * const db = await openInWorker("notes", { valueEncoding: "utf8" });
 * console.log(db.getSync("note:1"));
 * await db.close();
 * ```
 */
export async function openInWorker<O extends BrowserOpenOptions = Record<never, never>>(
  name: string,
  options?: O,
): Promise<Db<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>> {
  checkName(name);
  if (!inWorker()) {
    throw new SiltError(
      "INVALID_ARGUMENT",
      "openInWorker() runs in a dedicated worker (OPFS sync access handles exist only there); on the main thread use open()",
    );
  }
  const engine = await import("./in_worker.ts");
  return await engine.openInWorker(name, options) as Db<Decoded<O["keyEncoding"]>, Decoded<O["valueEncoding"]>>;
}

async function openFromMainThread<K, V>(name: string, options: unknown): Promise<BrowserDb<K, V>> {
  const worker = new global.Worker!(new URL(import.meta.url), { type: "module", name: "siltdb" });
  const channel = new global.MessageChannel!();
  const db = new BrowserDb<K, V>(name, channel.port1, () => worker.terminate());
  worker.addEventListener("error", (event) => {
    const detail = event.message ?? (event.error as Error | undefined)?.message ?? "it could not be loaded";
    db.fail(new SiltError("INTERNAL", `the siltdb worker of database ${name} failed: ${detail}`, {}, event.error));
  });
  worker.addEventListener("messageerror", () => {
    db.fail(new SiltError("INTERNAL", `the siltdb worker of database ${name} sent a message that could not be read`));
  });
  const connect: ConnectMessage = { siltdb: CONNECT, version: PROTOCOL_VERSION, port: channel.port2 };
  worker.postMessage(connect, [channel.port2]);
  return await db.connect(options);
}

/** In a dedicated worker: serve a client's database on the port of its connect message. */
function listenForClients(): void {
  if (!inWorker() || typeof global.addEventListener !== "function") return;
  global.addEventListener("message", (event) => {
    const message = event.data as Partial<ConnectMessage> | null;
    if (message === null || typeof message !== "object" || message.siltdb !== CONNECT || !message.port) return;
    const port = message.port;
    if (message.version !== PROTOCOL_VERSION) {
      const error = new SiltError(
        "INVALID_ARGUMENT",
        `siltdb/browser protocol version ${
          String(message.version)
        } from the page, ${PROTOCOL_VERSION} in the worker: load the same siltdb in both`,
      );
      port.addEventListener("message", (e) => {
        const id = (e.data as { id?: unknown } | null)?.id;
        if (typeof id === "number") port.postMessage({ id, ok: false, error: errorToData(error) });
      });
      port.start?.();
      return;
    }
    import("./worker_server.ts").then(
      (server) => server.serve(port),
      (err) => {
        port.addEventListener("message", (e) => {
          const id = (e.data as { id?: unknown } | null)?.id;
          if (typeof id === "number") port.postMessage({ id, ok: false, error: errorToData(err) });
        });
        port.start?.();
      },
    );
  });
}

listenForClients();
