// Internal keys: user key + 8-byte trailer, trailer = (sequence << 8) | kind.
// Order: user key bytewise ascending, then trailer descending, so the newest
// version of a key comes first. Sequences start at 1 and are below 2^53 (they
// cross into JavaScript as exact numbers). Do not change: these are on disk.

/** Kind of an entry that removes its key (a tombstone). */
export const KIND_DELETE = 0;
/** Kind of an entry that sets its key. */
export const KIND_PUT = 1;
/** Largest sequence siltdb assigns (2^53 - 1). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;
