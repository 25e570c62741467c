// LZ4 block format: a compressor (hash-table matcher, as LZ4's fast mode)
// and a decompressor that checks every read
// and every write, so a malformed stream is refused and never reads or
// writes outside its buffers. Both copy short runs 8 bytes at a time where
// the buffers have room past the run (the extra bytes are overwritten
// later), since memory.copy of a few bytes costs a call in the engines.
// The format is LZ4's own (any LZ4 block decoder reads what this writes);
// the code is siltdb's.
//
// A stream is a run of sequences; each copies literals, then a match:
//
//   +-------+---------------------+----------+-----------+---------------------+
//   | token | literal length more | literals | offset    | match length more   |
//   | u8    | 0+ bytes            | L bytes  | u16 LE    | 0+ bytes            |
//   +-------+---------------------+----------+-----------+---------------------+
//   token high 4 bits: L (15 = more bytes follow, each added, until one below 255)
//   token low 4 bits:  M - 4, where M is the match length (15 = more bytes follow, likewise)
//   offset: 1..65535, how far back the match starts in the output; a match may
//           overlap the bytes it produces (offset < M repeats them)
//
// The last sequence holds literals only (it ends after them: no offset);
// an empty input is the one byte 0x00. As LZ4 requires of its streams, the
// last 5 bytes are literals and no match starts in the last 12 bytes.
//
// Used for table data blocks (table_builder.ts compresses, table_reader.ts
// blockLoad decompresses; docs/format.md "Compressed blocks").
//
// The compressor's hash table (HASH_ENTRIES u32 positions, 64 KiB: fewer
// collisions than a table sized to the block, measured faster) lives in
// static memory and is never cleared: positions are stored plus a base that grows
// by each input's length, so an entry from an earlier call is older than
// the base and ignored.

const MIN_MATCH: u32 = 4;
const LAST_LITERALS: u32 = 5;
const MATCH_FIND_LIMIT: u32 = 12;
const MAX_OFFSET: u32 = 65535;
const HASH_LOG: u32 = 14;
const HASH_ENTRIES: u32 = 1 << HASH_LOG;
// After 2^SKIP_TRIGGER misses in a row the search steps over more bytes (incompressible data goes fast).
const SKIP_TRIGGER: u32 = 6;

const TABLE: usize = memory.data(<i32>(HASH_ENTRIES << 2), 8);
let base: u32 = 1;

/**
 * The hash of the 5 bytes at p (8 are read: p is at least 8 bytes before
 * the input's end), as LZ4 hashes on 64-bit machines: 5 bytes find fewer
 * short matches that go nowhere than 4, and the stream comes out smaller.
 */
// @ts-ignore: decorator
@inline function hashAt(p: usize): u32 { return <u32>(((load<u64>(p) << 24) * 889523592379) >> (64 - HASH_LOG)); }

/**
 * Compresses srcLen bytes at src into dst; returns the stream's length, or
 * 0 when it would not fit in dstCap bytes (store the input raw instead).
 */
export function lz4Compress(src: usize, srcLen: u32, dst: usize, dstCap: u32): u32 {
  if (<u64>base + <u64>srcLen + 1 >= 0xffff0000) {
    memory.fill(TABLE, 0, <usize>HASH_ENTRIES << 2);
    base = 1;
  }
  const b = base;
  base += srcLen + 1;
  let op: u32 = 0;
  let anchor: u32 = 0;
  if (srcLen >= MATCH_FIND_LIMIT + 1) {
    const matchLimit = srcLen - LAST_LITERALS; // matches end at or before here
    const lastStart = srcLen - MATCH_FIND_LIMIT; // no match starts past here
    store<u32>(TABLE + (<usize>hashAt(src) << 2), b);
    let ip: u32 = 1;
    while (true) {
      // Find a match: the position stored for the hash of the 5 bytes here, if it holds the same 4.
      let ref: u32 = 0;
      let step: u32 = 1;
      let misses: u32 = 1 << SKIP_TRIGGER;
      let found = false;
      while (ip <= lastStart) {
        const v = load<u32>(src + <usize>ip);
        const slot = TABLE + (<usize>hashAt(src + <usize>ip) << 2);
        const stored = load<u32>(slot);
        store<u32>(slot, ip + b);
        if (stored >= b) {
          ref = stored - b;
          if (ip - ref <= MAX_OFFSET && load<u32>(src + <usize>ref) == v) {
            found = true;
            break;
          }
        }
        ip += step;
        step = misses++ >> SKIP_TRIGGER;
      }
      if (!found) break;
      // Extend backwards over equal bytes not yet emitted.
      while (ip > anchor && ref > 0 && load<u8>(src + <usize>ip - 1) == load<u8>(src + <usize>ref - 1)) {
        ip--;
        ref--;
      }
      const end = matchEnd(src, ip + MIN_MATCH, ref + MIN_MATCH, matchLimit);
      op = putSequence(src + <usize>anchor, ip - anchor, ip - ref, end - ip, dst, op, dstCap);
      if (op == 0xffffffff) return 0;
      ip = end;
      anchor = ip;
      if (ip > lastStart) break;
      // Remember a position inside the match, so the next match may start near it.
      store<u32>(TABLE + (<usize>hashAt(src + <usize>ip - 2) << 2), ip - 2 + b);
    }
  }
  // The last literals.
  const literals = srcLen - anchor;
  if (<u64>op + 1 + <u64>extraBytes(literals) + <u64>literals > <u64>dstCap) return 0;
  op = putLength(dst, op, literals, 0);
  memory.copy(dst + <usize>op, src + <usize>anchor, literals);
  return op + literals;
}

/** Where the match of the bytes at `at` and at `ref` (before `at`) ends, at `limit` at the latest: 8 bytes compared at a time. */
// @ts-ignore: decorator
@inline function matchEnd(src: usize, at: u32, ref: u32, limit: u32): u32 {
  while (at + 8 <= limit) {
    const x = load<u64>(src + <usize>at) ^ load<u64>(src + <usize>ref);
    if (x != 0) return at + <u32>(ctz(x) >> 3);
    at += 8;
    ref += 8;
  }
  while (at < limit && load<u8>(src + <usize>at) == load<u8>(src + <usize>ref)) {
    at++;
    ref++;
  }
  return at;
}

/** Bytes after the token that a length of n (literals, or match - 4) takes. */
// @ts-ignore: decorator
@inline function extraBytes(n: u32): u32 { return n < 15 ? 0 : (n - 15) / 255 + 1; }

/**
 * Writes a token at dst + op (literal length n in its high half, `low` in
 * its low half) and the literal length's extra bytes; returns the new
 * output position.
 */
function putLength(dst: usize, op: u32, n: u32, low: u32): u32 {
  const token = dst + <usize>op;
  op++;
  if (n < 15) {
    store<u8>(token, <u8>((n << 4) | low));
    return op;
  }
  store<u8>(token, <u8>(0xf0 | low));
  return putExtension(dst, op, n - 15);
}

/** Writes a length's extension (rest = length - 15: as many 255s as fit, then the remainder) at op; returns the new position. */
// @ts-ignore: decorator
@inline function putExtension(dst: usize, op: u32, rest: u32): u32 {
  while (rest >= 255) {
    store<u8>(dst + <usize>(op++), 255);
    rest -= 255;
  }
  store<u8>(dst + <usize>(op++), <u8>rest);
  return op;
}

/**
 * Copies n literals (they lie before the match that follows them, so at
 * least 12 readable bytes follow them in the input) to `to`, where `room`
 * bytes may be written: short runs 8 bytes at a time, the extra bytes
 * landing inside the room (and overwritten by what follows).
 */
// @ts-ignore: decorator
@inline function copyLiterals(to: usize, from: usize, n: u32, room: u32): void {
  if (n <= 32 && room >= n + 8) {
    const end = to + <usize>n;
    while (to < end) {
      store<u64>(to, load<u64>(from));
      to += 8;
      from += 8;
    }
  } else {
    memory.copy(to, from, n);
  }
}

/** Appends one sequence; returns the new output position, or 0xffffffff when it does not fit in cap. */
function putSequence(lit: usize, litLen: u32, offset: u32, matchLen: u32, dst: usize, op: u32, cap: u32): u32 {
  const m = matchLen - MIN_MATCH;
  const need = <u64>op + 1 + <u64>extraBytes(litLen) + <u64>litLen + 2 + <u64>extraBytes(m);
  if (need > <u64>cap) return 0xffffffff;
  op = putLength(dst, op, litLen, m < 15 ? m : 15);
  copyLiterals(dst + <usize>op, lit, litLen, cap - op);
  op += litLen;
  store<u16>(dst + <usize>op, <u16>offset);
  op += 2;
  if (m >= 15) op = putExtension(dst, op, m - 15);
  return op;
}

/**
 * Decompresses the stream of srcLen bytes at src into exactly dstLen bytes
 * at dst. False when the stream is malformed: a length or offset pointing
 * outside the input or the output, a stream ending inside a sequence or
 * after a match, or an output of another length. Never reads outside
 * [src, src + srcLen) nor writes outside [dst, dst + dstLen).
 */
export function lz4Decompress(src: usize, srcLen: u32, dst: usize, dstLen: u32): bool {
  let ip: u32 = 0;
  let op: u32 = 0;
  while (ip < srcLen) {
    // The common sequences, with room around them: fewer than 15 literals, then a match at
    // an offset of 8 or more, of 4 to 18 bytes or of 19 to 273 (one length byte). Copies whose
    // extra bytes stay inside both buffers (and are overwritten); the first other sequence
    // leaves this loop for the checked paths below.
    if (srcLen - ip >= 19 && dstLen - op >= 40) {
      let p = src + <usize>ip;
      let q = dst + <usize>op;
      const pLast = src + <usize>(srcLen - 19); // a token here has 18 bytes after it
      const qLast = dst + <usize>(dstLen - 40); // and 40 bytes of output room
      const qEnd = dst + <usize>dstLen;
      while (p <= pLast && q <= qLast) {
        const token = <u32>load<u8>(p);
        if (token >= 0xf0) break;
        const lit = <usize>(token >> 4);
        store<u64>(q, load<u64>(p, 1));
        store<u64>(q, load<u64>(p, 9), 8);
        const offset = <usize>load<u16>(p + lit, 1);
        const m = q + lit;
        if (offset < 8 || offset > m - dst) break;
        const r = m - offset;
        const short = <usize>(token & 15);
        if (short < 15) {
          store<u64>(m, load<u64>(r));
          store<u64>(m, load<u64>(r, 8), 8);
          store<u64>(m, load<u64>(r, 16), 16);
          p += lit + 3;
          q = m + short + <usize>MIN_MATCH;
          continue;
        }
        // p + lit + 3 <= p + 17 < src + srcLen: the length byte is inside the input.
        const more = <usize>load<u8>(p + lit, 3);
        const n: usize = <usize>(15 + MIN_MATCH) + more;
        if (more == 255 || qEnd - m < n + 8) break;
        copy8(m, r, <u32>n);
        p += lit + 4;
        q = m + n;
      }
      // A sequence here takes at most 18 bytes after its token: ip stays inside the input.
      ip = <u32>(p - src);
      op = <u32>(q - dst);
    }
    const token = <u32>load<u8>(src + <usize>(ip++));
    // Literals.
    let n = token >> 4;
    if (n < 15 && srcLen - ip >= 16 && dstLen - op >= 16) {
      // Fewer than 15, with room: two 8-byte copies, whose extra bytes stay inside both
      // buffers (and are overwritten). Not the last sequence: 16 bytes of input follow.
      store<u64>(dst + <usize>op, load<u64>(src + <usize>ip));
      store<u64>(dst + <usize>op, load<u64>(src + <usize>ip, 8), 8);
      ip += n;
      op += n;
    } else {
      if (n == 15) {
        let b: u32 = 255;
        while (b == 255) {
          if (ip >= srcLen) return false;
          b = load<u8>(src + <usize>(ip++));
          n += b;
          if (n > dstLen) return false;
        }
      }
      if (n > srcLen - ip || n > dstLen - op) return false;
      if (n <= 64 && srcLen - ip >= n + 8 && dstLen - op >= n + 8) {
        copy8(dst + <usize>op, src + <usize>ip, n);
      } else {
        memory.copy(dst + <usize>op, src + <usize>ip, n);
      }
      ip += n;
      op += n;
      if (ip == srcLen) return op == dstLen; // the last sequence: literals only
    }
    // Match.
    if (srcLen - ip < 2) return false;
    const offset = <u32>load<u16>(src + <usize>ip);
    ip += 2;
    if (offset == 0 || offset > op) return false;
    n = token & 15;
    if (n == 15) {
      let b: u32 = 255;
      while (b == 255) {
        if (ip >= srcLen) return false;
        b = load<u8>(src + <usize>(ip++));
        n += b;
        if (n > dstLen) return false;
      }
    }
    n += MIN_MATCH;
    if (n > dstLen - op) return false;
    let to = dst + <usize>op;
    let from = to - <usize>offset;
    const room = dstLen - op; // at least n
    op += n;
    if (offset >= 8 && room - n >= 8) {
      // 8 bytes at a time, each load reading bytes already written (offset >= 8); the last
      // store may run up to 7 bytes past the match, inside the output, to be overwritten.
      if (n <= 16 && room >= 16) {
        store<u64>(to, load<u64>(from));
        store<u64>(to, load<u64>(from, 8), 8);
      } else {
        copy8(to, from, n);
      }
    } else if (offset >= n) {
      memory.copy(to, from, n);
    } else {
      // Overlapping by less than 8 bytes (or at the output's very end): byte by byte.
      while (n > 0) {
        store<u8>(to++, load<u8>(from++));
        n--;
      }
    }
  }
  return false; // no sequence ended the stream with literals
}

/** Copies n bytes 8 at a time, up to 7 past n (the caller made room); from is at least 8 before to, or apart. */
// @ts-ignore: decorator
@inline function copy8(to: usize, from: usize, n: u32): void {
  const end = to + <usize>n;
  do {
    store<u64>(to, load<u64>(from));
    to += 8;
    from += 8;
  } while (to < end);
}
