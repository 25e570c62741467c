// Version edits: the records of the MANIFEST. Each edit is the payload of a
// log record of type 2 (the log framing of src/format/log_format.ts).
// Do not change: these bytes are on disk.
//
// An edit is a sequence of tagged fields (varints are LEB128, up to 2^53):
//
//   1  log number        varint   logs below this number hold nothing not in tables
//   2  next file number  varint
//   3  last sequence     varint
//   4  deleted file      varint level, varint file number
//   5  added file        varint level, varint file number, varint file size,
//                        varint length + smallest internal key, varint length + largest internal key,
//                        varint smallest sequence, varint largest sequence, varint entries
//   6  writer epoch      varint   (a store in a bucket: the writer that holds it; docs/format.md)
//   7  compactor epoch   varint   (a store in a bucket: the compactor that holds it)
//   8  writer floor      varint   (a bucket: table numbers from here on may be a writer's uploads in flight)
//   9  compactor floor   varint   (a bucket: the same for the compactor)
//  10  writer snapshot   varint   (a bucket: the oldest sequence the writer's snapshots read)
//  11  horizon           varint   (a bucket: the largest oldest-snapshot any compaction used)
//  12  writer limit      varint   (a bucket: the end of the writer's numbers; its floor up to here is in flight)
//  13  compactor limit   varint   (a bucket: the same for the compactor)
//  14  grace period      varint   (a bucket: the writer's gcMinAge, ms: every collector waits at least this)
//  15  range tombstones  varint file number (a file this edit adds), varint count, count times:
//                        varint length + start, varint length + end, varint sequence
//                        (a copy of the file's range-tombstone block, so that reads and
//                        compactions know every table's tombstones without opening it)

import { corruption } from "../errors.ts";
import type { TableRangeTombstone, TableSummary } from "../format/table_format.ts";
import { compareUserKeys } from "../format/internal_key.ts";

/** A table file in a version: its number and what the manifest records of it. */
export interface FileMeta extends TableSummary {
  number: number;
}

/** A change to the set of files and counters. */
export interface VersionEdit {
  logNumber?: number;
  nextFileNumber?: number;
  lastSequence?: number;
  deleted?: { level: number; number: number }[];
  added?: { level: number; file: FileMeta }[];
  /** A store in a bucket: the epoch of the writer that holds it. */
  writerEpoch?: number;
  /** A store in a bucket: the epoch of the compactor that holds it. */
  compactorEpoch?: number;
  /** A store in a bucket: table numbers at or above this may be the writer's uploads not yet committed. */
  writerFloor?: number;
  /** A store in a bucket: the same for the compactor. */
  compactorFloor?: number;
  /** A store in a bucket: the oldest sequence the writer's snapshots read (compactions keep what it sees). */
  writerSnapshot?: number;
  /** A store in a bucket: the largest oldest-snapshot sequence a compaction used (older snapshots may miss data). */
  horizon?: number;
  /** A store in a bucket: the end (exclusive) of the numbers the writer reserved. */
  writerLimit?: number;
  /** A store in a bucket: the end (exclusive) of the numbers the compactor reserved. */
  compactorLimit?: number;
  /** A store in a bucket: the writer's gcMinAge (milliseconds); every collector and reader keeps to at least this. */
  gracePeriod?: number;
}

const TAG_LOG = 1;
const TAG_NEXT_FILE = 2;
const TAG_LAST_SEQUENCE = 3;
const TAG_DELETED = 4;
const TAG_ADDED = 5;
const TAG_WRITER_EPOCH = 6;
const TAG_COMPACTOR_EPOCH = 7;
const TAG_WRITER_FLOOR = 8;
const TAG_COMPACTOR_FLOOR = 9;
const TAG_WRITER_SNAPSHOT = 10;
const TAG_HORIZON = 11;
const TAG_WRITER_LIMIT = 12;
const TAG_COMPACTOR_LIMIT = 13;
const TAG_GRACE_PERIOD = 14;
const TAG_RANGE_TOMBSTONES = 15;

class Writer {
  bytes: number[] = [];
  varint(v: number): void {
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
  data(d: Uint8Array): void {
    this.varint(d.length);
    for (const b of d) this.bytes.push(b);
  }
}

/**
 * Encodes an edit.
 *
 * @example
 * ```ts
 * const payload = encodeEdit({ logNumber: 5, nextFileNumber: 9, lastSequence: 1200 }); // 7 bytes: 1 5 2 9 3 176 9
 * ```
 */
export function encodeEdit(edit: VersionEdit): Uint8Array {
  const w = new Writer();
  if (edit.logNumber !== undefined) (w.varint(TAG_LOG), w.varint(edit.logNumber));
  if (edit.nextFileNumber !== undefined) (w.varint(TAG_NEXT_FILE), w.varint(edit.nextFileNumber));
  if (edit.lastSequence !== undefined) (w.varint(TAG_LAST_SEQUENCE), w.varint(edit.lastSequence));
  for (const d of edit.deleted ?? []) (w.varint(TAG_DELETED), w.varint(d.level), w.varint(d.number));
  for (const { level, file } of edit.added ?? []) {
    w.varint(TAG_ADDED);
    w.varint(level);
    w.varint(file.number);
    w.varint(file.size);
    w.data(file.smallest);
    w.data(file.largest);
    w.varint(file.smallestSequence);
    w.varint(file.largestSequence);
    w.varint(file.entries);
    if (file.rangeTombstones === undefined || file.rangeTombstones.length === 0) continue;
    w.varint(TAG_RANGE_TOMBSTONES);
    w.varint(file.number);
    w.varint(file.rangeTombstones.length);
    for (const t of file.rangeTombstones) {
      w.data(t.start);
      w.data(t.end);
      w.varint(t.sequence);
    }
  }
  if (edit.writerEpoch !== undefined) (w.varint(TAG_WRITER_EPOCH), w.varint(edit.writerEpoch));
  if (edit.compactorEpoch !== undefined) (w.varint(TAG_COMPACTOR_EPOCH), w.varint(edit.compactorEpoch));
  if (edit.writerFloor !== undefined) (w.varint(TAG_WRITER_FLOOR), w.varint(edit.writerFloor));
  if (edit.compactorFloor !== undefined) (w.varint(TAG_COMPACTOR_FLOOR), w.varint(edit.compactorFloor));
  if (edit.writerSnapshot !== undefined) (w.varint(TAG_WRITER_SNAPSHOT), w.varint(edit.writerSnapshot));
  if (edit.horizon !== undefined) (w.varint(TAG_HORIZON), w.varint(edit.horizon));
  if (edit.writerLimit !== undefined) (w.varint(TAG_WRITER_LIMIT), w.varint(edit.writerLimit));
  if (edit.compactorLimit !== undefined) (w.varint(TAG_COMPACTOR_LIMIT), w.varint(edit.compactorLimit));
  if (edit.gracePeriod !== undefined) (w.varint(TAG_GRACE_PERIOD), w.varint(edit.gracePeriod));
  return Uint8Array.from(w.bytes);
}

/**
 * Decodes an edit; CORRUPTION naming the manifest and the record's offset if malformed.
 *
 * @example
 * ```ts
 * const payload = encodeEdit({ logNumber: 5, lastSequence: 1200 });
 * decodeEdit(payload, "/db/MANIFEST-000004", 16); // { logNumber: 5, lastSequence: 1200 }
 * decodeEdit(new Uint8Array([99]), "/db/MANIFEST-000004", 16); // throws CORRUPTION: version edit: unknown tag 99
 * ```
 */
export function decodeEdit(bytes: Uint8Array, file: string, offset: number): VersionEdit {
  let at = 0;
  const bad = (what: string) => corruption(file, offset, `version edit: ${what}`);
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (at >= bytes.length) throw bad("truncated varint");
      const b = bytes[at++];
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw bad("varint too long");
  };
  const data = (): Uint8Array => {
    const len = varint();
    if (at + len > bytes.length) throw bad("key runs past the record");
    const d = bytes.slice(at, at + len);
    at += len;
    return d;
  };
  const edit: VersionEdit = {};
  while (at < bytes.length) {
    const tag = varint();
    switch (tag) {
      case TAG_LOG:
        edit.logNumber = varint();
        break;
      case TAG_NEXT_FILE:
        edit.nextFileNumber = varint();
        break;
      case TAG_LAST_SEQUENCE:
        edit.lastSequence = varint();
        break;
      case TAG_DELETED:
        (edit.deleted ??= []).push({ level: varint(), number: varint() });
        break;
      case TAG_ADDED: {
        const level = varint();
        const file: FileMeta = {
          number: varint(),
          size: varint(),
          smallest: data(),
          largest: data(),
          smallestSequence: varint(),
          largestSequence: varint(),
          entries: varint(),
        };
        if (file.smallest.length < 8 || file.largest.length < 8) throw bad("file key shorter than a trailer");
        (edit.added ??= []).push({ level, file });
        break;
      }
      case TAG_WRITER_EPOCH:
        edit.writerEpoch = varint();
        break;
      case TAG_COMPACTOR_EPOCH:
        edit.compactorEpoch = varint();
        break;
      case TAG_WRITER_FLOOR:
        edit.writerFloor = varint();
        break;
      case TAG_COMPACTOR_FLOOR:
        edit.compactorFloor = varint();
        break;
      case TAG_WRITER_SNAPSHOT:
        edit.writerSnapshot = varint();
        break;
      case TAG_HORIZON:
        edit.horizon = varint();
        break;
      case TAG_WRITER_LIMIT:
        edit.writerLimit = varint();
        break;
      case TAG_COMPACTOR_LIMIT:
        edit.compactorLimit = varint();
        break;
      case TAG_GRACE_PERIOD:
        edit.gracePeriod = varint();
        break;
      case TAG_RANGE_TOMBSTONES: {
        const number = varint();
        const file = edit.added?.findLast((a) => a.file.number === number)?.file;
        if (file === undefined) throw bad(`range tombstones of file ${number}, which the edit does not add`);
        const count = varint();
        const list: TableRangeTombstone[] = [];
        file.rangeTombstones = list;
        for (let i = 0; i < count; i++) {
          const t = { start: data(), end: data(), sequence: varint() };
          if (compareUserKeys(t.start, t.end) >= 0) {
            throw bad(`a range tombstone of file ${number} ends before it starts`);
          }
          list.push(t);
        }
        break;
      }
      default:
        throw bad(`unknown tag ${tag}`);
    }
  }
  return edit;
}
