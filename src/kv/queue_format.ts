// A queue message as siltdb/kv stores it, under the key
// FF 01 | readyAt u64 BE | id (8 bytes: a counter, then 4 random bytes) —
// so that messages sort by when they are due (src/kv/layout.ts):
//
//   +---------+--------------------------+-----------------------------+------+---------+
//   | version | backoff: varint n,       | keysIfUndelivered: varint n,| enc  | payload |
//   | u8 = 1  | n x varint milliseconds  | n x (varint len, key bytes) | u8   |         |
//   +---------+--------------------------+-----------------------------+------+---------+
//
// backoff is what is left of the schedule: each failed delivery takes its
// first interval and writes the message back that much later; once it is
// empty, a failure writes the payload (as a value of encoding `enc`, see
// value_codec.ts) to every key of keysIfUndelivered and drops the message.
// DO NOT CHANGE: stored messages are this.

import { ByteReader, ByteWriter } from "./_bytes.ts";
import { QUEUE_PREFIX, timedKey } from "./layout.ts";
import type { EncodedValue, EncodingId } from "./value_codec.ts";

const MESSAGE_VERSION = 1;

/** A queue message. */
export interface QueueMessage {
  /** Milliseconds to wait before each next try, after a failed one. */
  backoff: number[];
  /** Where the payload goes once every try failed. */
  keysIfUndelivered: Uint8Array[];
  /** The message, encoded as a value. */
  payload: EncodedValue;
}

let counter = Math.floor(Math.random() * 0x100000000);

/**
 * A new message key, due at readyAt (ms since the epoch).
 *
 * @example
 * ```ts
 * messageKey(Date.now()).length; // 18
 * ```
 */
export function messageKey(readyAt: number): Uint8Array {
  const id = new DataView(new ArrayBuffer(8));
  counter = (counter + 1) >>> 0;
  id.setUint32(0, counter);
  id.setUint32(4, Math.floor(Math.random() * 0x100000000));
  return timedKey(QUEUE_PREFIX, readyAt, new Uint8Array(id.buffer));
}

/**
 * The same message's key at another time (its id kept).
 *
 * @example
 * ```ts
 * const key = messageKey(0);
 * rescheduled(key, 5000).subarray(10); // the same id as key.subarray(10)
 * ```
 */
export function rescheduled(key: Uint8Array, readyAt: number): Uint8Array {
  return timedKey(QUEUE_PREFIX, readyAt, key.subarray(QUEUE_PREFIX.length + 8));
}

/**
 * The stored bytes of a message.
 *
 * @example
 * ```ts
 * const bytes = encodeMessage({ backoff: [100], keysIfUndelivered: [], payload: { encoding: 3, payload: new Uint8Array([1]) } });
 * console.log(decodeMessage(bytes).backoff); // [100]
 * ```
 */
export function encodeMessage(m: QueueMessage): Uint8Array {
  const w = new ByteWriter(m.payload.payload.length + 32);
  w.u8(MESSAGE_VERSION);
  w.varint(m.backoff.length);
  for (const ms of m.backoff) w.varint(Math.floor(ms));
  w.varint(m.keysIfUndelivered.length);
  for (const key of m.keysIfUndelivered) {
    w.varint(key.length);
    w.bytes(key);
  }
  w.u8(m.payload.encoding);
  w.bytes(m.payload.payload);
  return w.finish();
}

/**
 * A message of stored bytes (CORRUPTION for bytes no message has).
 *
 * @example
 * ```ts
 * decodeMessage(new Uint8Array([1, 0, 0, 3, 7])); // { backoff: [], keysIfUndelivered: [], payload: { encoding: 3, ... } }
 * ```
 */
export function decodeMessage(bytes: Uint8Array): QueueMessage {
  const r = new ByteReader(bytes, "a stored queue message");
  if (r.u8() !== MESSAGE_VERSION) throw r.corrupt("unknown queue message version");
  const backoff = Array.from({ length: r.varint() }, () => r.varint());
  const keysIfUndelivered = Array.from({ length: r.varint() }, () => r.bytes(r.varint()).slice());
  const encoding = r.u8();
  if (encoding < 1 || encoding > 3) throw r.corrupt(`unknown payload encoding ${encoding}`);
  return {
    backoff,
    keysIfUndelivered,
    payload: { encoding: encoding as EncodingId, payload: r.bytes(bytes.length - r.at) },
  };
}
