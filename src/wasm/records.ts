// Log records in linear memory (layout: src/format/log_format.ts, drawn
// again in core/write_batch.ts, which seals and checks them): sealing,
// stamping sequences into write batches, applying them to a memtable, and
// checking records read back.

import { core } from "./instance.ts";
import type { Memtable } from "./memtable.ts";
import { noteApplied } from "./range_tombstones.ts";

/**
 * Seals the record at `record` whose payload (payloadLength bytes) is in
 * place after its header: writes the length, the type, both checksums and
 * the end mark.
 *
 * @example
 * ```ts
 * import { RECORD_HEADER_SIZE, RECORD_OVERHEAD, RECORD_TYPE_EDIT } from "../format/log_format.ts";
 * import { allocBuffer, bytes } from "./instance.ts";
 * declare const payload: Uint8Array; // an encoded version edit
 * const ptr = allocBuffer(RECORD_OVERHEAD + payload.length);
 * bytes().set(payload, ptr + RECORD_HEADER_SIZE);
 * sealRecord(ptr, payload.length, RECORD_TYPE_EDIT);
 * ```
 */
export function sealRecord(record: number, payloadLength: number, type: number): void {
  core.recordSealAs(record, payloadLength, type);
}

/**
 * Stamps `sequence` into the write batch record at `record` and seals it;
 * returns its entry count, or -1 when the batch is malformed.
 *
 * @example
 * ```ts
 * declare const record: number, payloadLength: number, lastSequence: number; // a batch record reserved in the group
 * const count = stampBatchRecord(record, payloadLength, lastSequence + 1);
 * ```
 */
export function stampBatchRecord(record: number, payloadLength: number, sequence: number): number {
  return core.recordStamp(record, payloadLength, sequence);
}

/**
 * Stamps `sequence` into the write batch record at `record`, seals it and
 * applies it to the memtable; returns its entry count, or -1 (nothing applied).
 *
 * @example
 * ```ts
 * import type { Memtable } from "./memtable.ts";
 * declare const memtable: Memtable, record: number, payloadLength: number, lastSequence: number;
 * const count = commitBatchRecord(memtable, record, payloadLength, lastSequence + 1);
 * ```
 */
export function commitBatchRecord(memtable: Memtable, record: number, payloadLength: number, sequence: number): number {
  const count = core.recordCommit(memtable.ptr, record, payloadLength, sequence);
  noteApplied();
  return count;
}

/**
 * Applies the sealed write batch records in [ptr, ptr + length) to the
 * memtable; returns the record count, or -1 (nothing applied).
 *
 * @example
 * ```ts
 * import type { Memtable } from "./memtable.ts";
 * declare const memtable: Memtable, group: number, groupLength: number; // records written to the log
 * if (applyBatchRecords(memtable, group, groupLength) < 0) throw new Error("a sealed record did not apply");
 * ```
 */
export function applyBatchRecords(memtable: Memtable, ptr: number, length: number): number {
  const records = core.recordsApplyTo(memtable.ptr, ptr, length);
  noteApplied();
  return records;
}

/**
 * True when the header checksum of the record at `record` matches (its length and type can be trusted).
 *
 * @example
 * ```ts
 * import { view } from "./instance.ts";
 * declare const p: number; // a record read back into linear memory
 * const payloadLength = recordHeaderIntact(p) ? view().getUint32(p + 4, true) : undefined; // undefined: damaged
 * ```
 */
export function recordHeaderIntact(record: number): boolean {
  return core.recordHeaderVerify(record) !== 0;
}

/**
 * True when the payload checksum (and end mark) of the record at `record` match.
 *
 * @example
 * ```ts
 * declare const p: number, payloadLength: number; // a record whose header is intact, and the length it gives
 * if (!recordPayloadIntact(p, payloadLength)) console.log("damaged record");
 * ```
 */
export function recordPayloadIntact(record: number, payloadLength: number): boolean {
  return core.recordPayloadVerify(record, payloadLength) !== 0;
}
