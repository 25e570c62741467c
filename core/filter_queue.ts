// The compaction filter's queue (core/compaction_iter.ts): with a filter
// set, the entries a compaction keeps wait here, in order, until TypeScript
// has decided on the candidates among them — one crossing per batch of up
// to FQ_MAX_CANDIDATES, not one per entry — and then go to the table
// builder in the same order (ciDecide).
//
// Queue record (8-byte aligned, in a buffer):
//   +0 u64 trailer   +8 u32 key length   +12 u32 value length
//   +16 u32 candidate number + 1 (0: an entry the filter is not asked about)
//   +20 key bytes, then value bytes, padded to 8
//
// Candidates (fqPrepare; FQ_CANDIDATE bytes each, addresses into the queue,
// valid until the queue changes):
//   +0 u32 key   +4 u32 key length   +8 u32 value   +12 u32 value length
//   +16 f64 sequence   +24 u32 kind   +28 u32 unused
//
// Queue state (heap, FQ_SIZE bytes):
//   +0 u32 records (buffer)   +4 u32 candidates (buffer)   +8 u32 candidate count   +12 u32 record count

import { bufData, bufFree, bufLength, bufNew, bufReserve, bufSetLength } from "./buffer";

const FQ_SIZE: usize = 16;
const RECORD_HEADER: usize = 20;
export const FQ_CANDIDATE: usize = 32;
/** Candidates per batch handed to TypeScript. */
export const FQ_MAX_CANDIDATES: u32 = 256;

export function fqNew(): usize {
  const fq = heap.alloc(FQ_SIZE);
  store<u32>(fq, <u32>bufNew(4096));
  store<u32>(fq, <u32>bufNew(<u32>(FQ_CANDIDATE * 16)), 4);
  store<u32>(fq, 0, 8);
  store<u32>(fq, 0, 12);
  return fq;
}

export function fqFree(fq: usize): void {
  bufFree(<usize>load<u32>(fq));
  bufFree(<usize>load<u32>(fq, 4));
  heap.free(fq);
}

// @ts-ignore: decorator
@inline export function fqRecords(fq: usize): u32 { return load<u32>(fq, 12); }
// @ts-ignore: decorator
@inline export function fqCandidates(fq: usize): u32 { return load<u32>(fq, 8); }
// @ts-ignore: decorator
@inline export function fqBytes(fq: usize): u32 { return bufLength(<usize>load<u32>(fq)); }

/** Queues an entry (a candidate: the filter is asked about it). */
export function fqPush(fq: usize, key: usize, keyLen: u32, trailer: u64, value: usize, valueLen: u32, candidate: bool): void {
  const records = <usize>load<u32>(fq);
  const size = (RECORD_HEADER + <usize>keyLen + <usize>valueLen + 7) & ~(<usize>7);
  const at = bufReserve(records, <u32>size);
  store<u64>(at, trailer);
  store<u32>(at, keyLen, 8);
  store<u32>(at, valueLen, 12);
  let number: u32 = 0;
  if (candidate) {
    number = load<u32>(fq, 8) + 1;
    store<u32>(fq, number, 8);
  }
  store<u32>(at, number, 16);
  memory.copy(at + RECORD_HEADER, key, keyLen);
  memory.copy(at + RECORD_HEADER + <usize>keyLen, value, valueLen);
  bufSetLength(records, bufLength(records) + <u32>size);
  store<u32>(fq, load<u32>(fq, 12) + 1, 12);
}

/** Writes the candidates' descriptors (layout above); returns their address. */
export function fqPrepare(fq: usize): usize {
  const records = <usize>load<u32>(fq);
  const cands = <usize>load<u32>(fq, 4);
  bufSetLength(cands, 0);
  const out = bufReserve(cands, <u32>(<usize>load<u32>(fq, 8) * FQ_CANDIDATE));
  let p = bufData(records);
  const end = p + <usize>bufLength(records);
  while (p < end) {
    const keyLen = load<u32>(p, 8);
    const valueLen = load<u32>(p, 12);
    const number = load<u32>(p, 16);
    if (number != 0) {
      const c = out + <usize>(number - 1) * FQ_CANDIDATE;
      const trailer = load<u64>(p);
      store<u32>(c, <u32>(p + RECORD_HEADER));
      store<u32>(c, keyLen, 4);
      store<u32>(c, <u32>(p + RECORD_HEADER + <usize>keyLen), 8);
      store<u32>(c, valueLen, 12);
      store<f64>(c, <f64>(trailer >> 8), 16);
      store<u32>(c, <u32>(trailer & 0xff), 24);
    }
    p += (RECORD_HEADER + <usize>keyLen + <usize>valueLen + 7) & ~(<usize>7);
  }
  return out;
}

/** The first queued record (walk with fqNext while below fqEnd). */
export function fqFirst(fq: usize): usize { return bufData(<usize>load<u32>(fq)); }
export function fqEnd(fq: usize): usize { return bufData(<usize>load<u32>(fq)) + <usize>fqBytes(fq); }
export function fqNext(p: usize): usize {
  return p + ((RECORD_HEADER + <usize>load<u32>(p, 8) + <usize>load<u32>(p, 12) + 7) & ~(<usize>7));
}
// @ts-ignore: decorator
@inline export function fqTrailer(p: usize): u64 { return load<u64>(p); }
// @ts-ignore: decorator
@inline export function fqKey(p: usize): usize { return p + RECORD_HEADER; }
// @ts-ignore: decorator
@inline export function fqKeyLen(p: usize): u32 { return load<u32>(p, 8); }
// @ts-ignore: decorator
@inline export function fqValue(p: usize): usize { return p + RECORD_HEADER + <usize>load<u32>(p, 8); }
// @ts-ignore: decorator
@inline export function fqValueLen(p: usize): u32 { return load<u32>(p, 12); }
// @ts-ignore: decorator
@inline export function fqNumber(p: usize): u32 { return load<u32>(p, 16); }

/** Empties the queue. */
export function fqClear(fq: usize): void {
  bufSetLength(<usize>load<u32>(fq), 0);
  store<u32>(fq, 0, 8);
  store<u32>(fq, 0, 12);
}
