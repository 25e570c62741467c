// How the siltdb command shows keys, values, sizes and tables to a person.
//
// Keys and values are bytes. They are shown as text when they are valid
// UTF-8 without control characters, otherwise (or with --hex) as hex with a
// 0x prefix. In JSON output a field is `key` (text) or `keyHex` (hex), so
// that `export` and `load` round-trip any bytes.

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** True when text holds a C0 control other than tab, DEL or a C1 control: they would garble a terminal. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * The text of bytes if it is printable UTF-8, else undefined.
 *
 * @example
 * ```ts
 * printableText(new TextEncoder().encode("user:1")); // "user:1"
 * printableText(new Uint8Array([0xff]));              // undefined
 * ```
 */
export function printableText(bytes: Uint8Array): string | undefined {
  const text = utf8Text(bytes);
  return text === undefined || hasControl(text) ? undefined : text;
}

/**
 * The text of bytes if they are valid UTF-8, else undefined.
 *
 * @example
 * ```ts
 * utf8Text(new Uint8Array([0x61, 0x0a])); // "a\n"
 * ```
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Lower-case hex of bytes.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
  return out;
}

/**
 * Bytes from hex (an optional 0x prefix); undefined if it is not hex.
 *
 * @example
 * ```ts
 * fromHex("0x01ff"); // Uint8Array [1, 255]
 * ```
 */
export function fromHex(text: string): Uint8Array | undefined {
  const digits = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined;
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Bytes for a person: their text when printable (and not forced to hex), else 0x and hex.
 *
 * @example
 * ```ts
 * showBytes(new TextEncoder().encode("a"), false); // "a"
 * showBytes(new Uint8Array([0]), false);            // "0x00"
 * ```
 */
export function showBytes(bytes: Uint8Array, hex: boolean): string {
  const text = hex ? undefined : printableText(bytes);
  return text ?? `0x${toHex(bytes)}`;
}

/**
 * Bytes as a JSON field: `{ [name]: text }` when valid UTF-8 (JSON escapes
 * control characters), else `{ [name + "Hex"]: hex }`.
 *
 * @example
 * ```ts
 * jsonField("key", new TextEncoder().encode("a"), false); // { key: "a" }
 * ```
 */
export function jsonField(name: string, bytes: Uint8Array, hex: boolean): Record<string, string> {
  const text = hex ? undefined : utf8Text(bytes);
  return text !== undefined ? { [name]: text } : { [`${name}Hex`]: toHex(bytes) };
}

/**
 * A byte count for a person: 0 B, 512 B, 4.0 KiB, 1.5 MiB, 2.0 GiB.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A count with thousands separators.
 *
 * @example
 * ```ts
 * formatCount(1234567); // "1,234,567"
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * A text table: a header line, a rule, and rows; columns padded to fit,
 * numbers (cells that look like numbers) aligned right.
 *
 * @example
 * ```ts
 * console.log(formatTable(["level", "files"], [["L0", "3"], ["L1", "12"]]));
 * ```
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const numeric = headers.map((_, c) =>
    rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+( ?[%×a-zA-Z/]+)?$|^-$/.test(r[c] ?? ""))
  );
  const line = (cells: string[]) =>
    cells.map((cell, c) => numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n") + "\n";
}
