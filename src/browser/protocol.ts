// The messages between siltdb/browser's main-thread client (client.ts) and
// the database worker (worker_server.ts), and the helpers both sides use:
// errors as plain data, and scan chunks whose binary keys and values travel
// packed in one transferred buffer.
//
// Handshake: the client starts a module worker on siltdb/browser itself and
// posts it one message, `{ siltdb: CONNECT, version, port }`, transferring
// `port` (one end of a MessageChannel). The module, loaded in a dedicated
// worker, listens for that message (and ignores every other one, so a
// worker of the user's that imports siltdb/browser keeps its messages) and
// serves the database on the port. Every later message travels on the port:
// requests `{ id, op, args }`, answered in any order by `{ id, ok: true,
// value }` or `{ id, ok: false, error }`. The first request is "open".

import { SiltError, type SiltErrorCode } from "../errors.ts";

/**
 * The `siltdb` field of the connect message.
 *
 * @example
 * ```ts
 * declare const worker: Worker; // a module worker started on siltdb/browser
 * const channel = new MessageChannel();
 * const connect: ConnectMessage = { siltdb: CONNECT, version: PROTOCOL_VERSION, port: channel.port2 };
 * worker.postMessage(connect, [channel.port2]); // then requests travel on channel.port1
 * ```
 */
export const CONNECT = "siltdb-connect";

/**
 * Version of this protocol: a client and a worker of different versions refuse each other.
 *
 * @example
 * ```ts
 * declare const message: ConnectMessage; // received by the worker
 * if (message.version !== PROTOCOL_VERSION) console.log("a page of another siltdb: every request fails");
 * ```
 */
export const PROTOCOL_VERSION = 1;

/**
 * Entries per scan chunk: one message carries this many.
 *
 * @example
 * ```ts
 * const messages = Math.ceil(1000 / SCAN_CHUNK); // 4: a scan of 1000 entries arrives in 4 chunks
 * ```
 */
export const SCAN_CHUNK = 256;

/** What is used of a MessagePort (a real one, or Node's, Deno's, Bun's). */
export interface PortLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  start?(): void;
  close(): void;
}

/** The first message to the worker. */
export interface ConnectMessage {
  siltdb: typeof CONNECT;
  version: number;
  port: PortLike;
}

/** A call: the operation's name and its arguments. */
export interface Request {
  id: number;
  op: string;
  args: unknown[];
}

/** The answer to a call. */
export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorData };

/** An error as plain, cloneable data. */
export interface ErrorData {
  name: string;
  message: string;
  code?: SiltErrorCode;
  file?: string;
  offset?: number;
  cause?: { name: string; message: string };
}

/** A column of a scan chunk: items as they are, or byte strings packed into one buffer. */
export type Column = { items: unknown[] } | { bytes: Uint8Array; ends: Uint32Array };

/** A chunk of a scan: its columns (keys and/or values) and whether the scan ended. */
export interface Chunk {
  keys?: Column;
  values?: Column;
  done: boolean;
}

/** What a scan yields. */
export type ScanShape = "entries" | "keys" | "values";

/**
 * An error as data, to post.
 *
 * @example
 * ```ts
 * import { SiltError } from "../errors.ts";
 * errorToData(new SiltError("LOCKED", "held")); // { name: "SiltError", message: "held", code: "LOCKED" }
 * ```
 */
export function errorToData(err: unknown): ErrorData {
  if (err instanceof SiltError) {
    const data: ErrorData = { name: err.name, message: err.message, code: err.code };
    if (err.file !== undefined) data.file = err.file;
    if (err.offset !== undefined) data.offset = err.offset;
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) data.cause = plain(cause);
    return data;
  }
  return plain(err);
}

function plain(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  const e = err as { name?: unknown; message?: unknown } | null;
  if (e !== null && typeof e === "object" && typeof e.message === "string") {
    return { name: typeof e.name === "string" ? e.name : "Error", message: e.message };
  }
  return { name: "Error", message: String(err) };
}

/**
 * The error posted as data, rebuilt: a SiltError with the same code, message, file and offset, or an Error.
 *
 * @example
 * ```ts
 * import { SiltError } from "../errors.ts";
 * const err = errorFromData({ name: "SiltError", message: "held", code: "LOCKED" });
 * console.log(err instanceof SiltError, (err as SiltError).code); // true "LOCKED"
 * ```
 */
export function errorFromData(data: ErrorData): Error {
  const cause = data.cause === undefined ? undefined : namedError(data.cause);
  if (data.code !== undefined) {
    return new SiltError(data.code, data.message, { file: data.file, offset: data.offset }, cause);
  }
  return namedError(data);
}

function namedError(data: { name: string; message: string }): Error {
  const err = new Error(data.message);
  err.name = data.name;
  return err;
}

/**
 * A value to post: a Uint8Array that views part of a larger buffer (the
 * engine hands out views of shared slabs) is copied, and the copy's buffer
 * transferred, so that the message never clones a whole slab.
 *
 * @example
 * ```ts
 * const transfer: ArrayBuffer[] = [];
 * const out = outgoing(new Uint8Array(64).subarray(8, 12), transfer); // a 4-byte copy; transfer holds its buffer
 * ```
 */
export function outgoing(value: unknown, transfer: unknown[]): unknown {
  if (value instanceof Uint8Array) {
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) return value;
    const copy = value.slice();
    transfer.push(copy.buffer);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => outgoing(v, transfer));
  return value;
}

/**
 * Items as a column: byte strings packed into one buffer (transferred), anything else as it is.
 *
 * @example
 * ```ts
 * const transfer: unknown[] = [];
 * const column = packColumn([new Uint8Array([1]), new Uint8Array([2, 3])], transfer);
 * unpackColumn(column); // [Uint8Array [1], Uint8Array [2, 3]]
 * ```
 */
export function packColumn(items: unknown[], transfer: unknown[]): Column {
  let total = 0;
  for (const item of items) {
    if (!(item instanceof Uint8Array)) return { items: items.map((v) => outgoing(v, transfer)) };
    total += item.length;
  }
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(items.length);
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Uint8Array;
    bytes.set(item, at);
    at += item.length;
    ends[i] = at;
  }
  transfer.push(bytes.buffer, ends.buffer);
  return { bytes, ends };
}

/**
 * The items of a column (packed byte strings come back as views of one buffer).
 *
 * @example
 * ```ts
 * unpackColumn({ items: ["a", "b"] }); // ["a", "b"]
 * ```
 */
export function unpackColumn(column: Column): unknown[] {
  if ("items" in column) return column.items;
  const out: Uint8Array[] = new Array(column.ends.length);
  let at = 0;
  for (let i = 0; i < column.ends.length; i++) {
    out[i] = column.bytes.subarray(at, column.ends[i]);
    at = column.ends[i];
  }
  return out;
}
