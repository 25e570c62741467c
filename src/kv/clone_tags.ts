// The tags of siltdb/kv's structured-clone format (what clone_encode.ts
// writes and clone_decode.ts reads; the layout is drawn in clone_encode.ts).
// DO NOT CHANGE a tag's number: stored values hold them.

/** First byte of every encoded value: the version of the format. */
export const CLONE_VERSION = 1;

/** One byte before each value: what follows. */
export const Tag = {
  undefined: 0x00,
  null: 0x01,
  false: 0x02,
  true: 0x03,
  int: 0x04,
  float: 0x05,
  bigint: 0x06,
  utf8: 0x07,
  utf16: 0x08,
  ref: 0x09,
  object: 0x0a,
  array: 0x0b,
  sparseArray: 0x0c,
  date: 0x0d,
  regexp: 0x0e,
  map: 0x0f,
  set: 0x10,
  arrayBuffer: 0x11,
  resizableArrayBuffer: 0x12,
  view: 0x13,
  error: 0x14,
  booleanObject: 0x15,
  numberObject: 0x16,
  stringObject: 0x17,
  bigintObject: 0x18,
  kvU64: 0x19,
  blob: 0x1a,
  file: 0x1b,
  domException: 0x1c,
  cryptoKey: 0x1d,
} as const;

/** The view kinds of Tag.view, by constructor name; the index is stored. */
export const VIEW_KINDS = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "DataView",
  "Float16Array",
] as const;

/** The error kinds of Tag.error, by name; the index is stored (anything else is stored as Error). */
export const ERROR_KINDS = [
  "Error",
  "EvalError",
  "RangeError",
  "ReferenceError",
  "SyntaxError",
  "TypeError",
  "URIError",
] as const;

/** Flags of Tag.error: which of the error's own properties follow. */
export const ErrorField = { message: 1, stack: 2, cause: 4 } as const;
