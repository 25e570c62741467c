// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8.
//
// Every checksum siltdb stores is a *masked* CRC (as LevelDB): storing the
// plain CRC of data that itself contains CRCs weakens the check, so stored
// values are rotated and offset. mask/unmask are exact inverses.

const POLY: u32 = 0x82f63b78;
const MASK_DELTA: u32 = 0xa282ead8;

// 8 tables of 256 u32 entries: table k maps a byte to its CRC contribution
// k bytes further along.
const TABLES: usize = memory.data(8 * 256 * 4, 16);

function buildTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (<usize>n << 2));
    for (let t: usize = 1; t < 8; t++) {
      c = load<u32>(TABLES + ((<usize>(c & 0xff)) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + (t << 10) + (<usize>n << 2), c);
    }
  }
}
buildTables();

// @ts-ignore: decorator
@inline
function entry(table: usize, byte: u32): u32 {
  return load<u32>(TABLES + (table << 10) + (<usize>(byte & 0xff) << 2));
}

/** Extends `crc` (0 to start) over len bytes at ptr. */
export function crc32cExtend(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc;
  let p = ptr;
  const end = ptr + len;
  while (p + 8 <= end) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p, 4);
    c = entry(7, lo) ^ entry(6, lo >>> 8) ^ entry(5, lo >>> 16) ^ entry(4, lo >>> 24) ^
      entry(3, hi) ^ entry(2, hi >>> 8) ^ entry(1, hi >>> 16) ^ entry(0, hi >>> 24);
    p += 8;
  }
  while (p < end) {
    c = entry(0, c ^ load<u8>(p)) ^ (c >>> 8);
    p++;
  }
  return ~c;
}

/** The masked form of a CRC, as stored on disk. */
// @ts-ignore: decorator
@inline
export function maskCrc(crc: u32): u32 {
  return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
}

/** Inverse of maskCrc. */
// @ts-ignore: decorator
@inline
export function unmaskCrc(masked: u32): u32 {
  const rot = masked - MASK_DELTA;
  return (rot >>> 17) | (rot << 15);
}
