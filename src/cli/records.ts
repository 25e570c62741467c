// Records of `load` and `export`, in JSON Lines or CSV.
//
// JSON Lines: one object per line, {"key": text, "value": text} or, for bytes
// that are not text, "keyHex" / "valueHex" (what export writes). A value that
// is not a string (a number, an object...) is stored as its JSON text.
// CSV (RFC 4180): two columns, key then value; fields with commas, quotes or
// line breaks in double quotes ("" for a quote); an optional header line
// `key,value`. With --hex, CSV fields are hex (CSV without --hex holds only
// UTF-8 text: export refuses other bytes rather than garble them).

import { fromHex, toHex, utf8Text } from "./display.ts";

/** The formats load and export know. */
export type RecordFormat = "jsonl" | "csv";

/**
 * A record that cannot be read: which line and what is wrong.
 *
 * @example
 * ```ts
 * declare const line: number, fields: string[];
 * throw new RecordError(`line ${line}: expected 2 fields (key,value), got ${fields.length}`);
 * ```
 */
export class RecordError extends Error {
  override name = "RecordError";
}

const encoder = new TextEncoder();

function bytesField(obj: Record<string, unknown>, name: string, line: number): Uint8Array {
  const text = obj[name];
  const hex = obj[`${name}Hex`];
  if (text !== undefined && hex !== undefined) throw new RecordError(`line ${line}: both "${name}" and "${name}Hex"`);
  if (hex !== undefined) {
    const bytes = typeof hex === "string" ? fromHex(hex) : undefined;
    if (bytes === undefined) throw new RecordError(`line ${line}: "${name}Hex" is not a hex string`);
    return bytes;
  }
  if (text === undefined) throw new RecordError(`line ${line}: no "${name}" (or "${name}Hex")`);
  if (typeof text === "string") return encoder.encode(text);
  if (name === "key") {
    throw new RecordError(`line ${line}: "key" must be a string, got ${text === null ? "null" : typeof text}`);
  }
  return encoder.encode(JSON.stringify(text));
}

/**
 * The key and value of one JSON Lines record (undefined for a blank line).
 *
 * @example
 * ```ts
 * parseJsonl('{"key":"a","value":{"n":1}}', 1); // [bytes of "a", bytes of '{"n":1}']
 * ```
 */
export function parseJsonl(text: string, line: number): [Uint8Array, Uint8Array] | undefined {
  if (text.trim() === "") return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RecordError(`line ${line}: not JSON (${(err as Error).message})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new RecordError(`line ${line}: not a JSON object`);
  }
  const record = obj as Record<string, unknown>;
  return [bytesField(record, "key", line), bytesField(record, "value", line)];
}

/**
 * Splits CSV text into records of fields, fed line by line (a quoted field
 * may span lines).
 *
 * @example
 * ```ts
 * const csv = new CsvReader();
 * csv.push('a,"b,c"', 1); // ["a", "b,c"]
 * csv.push('a,"b', 2); // undefined: the quoted field goes on
 * csv.push('c"', 3); // ["a", "b\nc"]
 * ```
 */
export class CsvReader {
  #fields: string[] = [];
  #field = "";
  #quoted = false;
  #startLine = 0;

  /** True while a quoted field continues on the next line. */
  get pending(): boolean {
    return this.#quoted;
  }

  /** Takes one line; returns the record it completes, or undefined if a quoted field goes on. */
  push(text: string, line: number): string[] | undefined {
    if (!this.#quoted) this.#startLine = line;
    else this.#field += "\n";
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (this.#quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            this.#field += '"';
            i += 2;
            continue;
          }
          this.#quoted = false;
          i++;
          if (i < text.length && text[i] !== ",") throw new RecordError(`line ${line}: text after a closing quote`);
          continue;
        }
        this.#field += c;
        i++;
      } else if (c === ",") {
        this.#fields.push(this.#field);
        this.#field = "";
        i++;
      } else if (c === '"' && this.#field === "") {
        this.#quoted = true;
        i++;
      } else {
        this.#field += c;
        i++;
      }
    }
    if (this.#quoted) return undefined;
    const record = [...this.#fields, this.#field];
    this.#fields = [];
    this.#field = "";
    return record;
  }

  /** The line where the current record began. */
  get startLine(): number {
    return this.#startLine;
  }
}

/**
 * The key and value of a CSV record (fields as text, or hex with `hex`).
 *
 * @example
 * ```ts
 * csvRecord(["a", "1"], false, 1); // [bytes of "a", bytes of "1"]
 * ```
 */
export function csvRecord(fields: string[], hex: boolean, line: number): [Uint8Array, Uint8Array] {
  if (fields.length !== 2) throw new RecordError(`line ${line}: expected 2 fields (key,value), got ${fields.length}`);
  return fields.map((f, i) => {
    if (!hex) return encoder.encode(f);
    const bytes = fromHex(f);
    if (bytes === undefined) {
      throw new RecordError(`line ${line}: the ${i === 0 ? "key" : "value"} is not hex (--hex is set)`);
    }
    return bytes;
  }) as [Uint8Array, Uint8Array];
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One record as a line of the format (with its line break).
 *
 * @example
 * ```ts
 * const utf8 = new TextEncoder();
 * formatRecord("csv", utf8.encode("a"), utf8.encode("b,c"), false); // 'a,"b,c"\n'
 * ```
 */
export function formatRecord(format: RecordFormat, key: Uint8Array, value: Uint8Array, hex: boolean): string {
  if (format === "csv") {
    if (hex) return `${toHex(key)},${toHex(value)}\n`;
    const k = utf8Text(key);
    const v = utf8Text(value);
    if (k === undefined || v === undefined) {
      throw new RecordError(
        `the entry with key 0x${
          toHex(key)
        } holds bytes that are not UTF-8 text: export it as CSV with --hex, or as jsonl`,
      );
    }
    return `${csvField(k)},${csvField(v)}\n`;
  }
  const k = hex ? undefined : utf8Text(key);
  const v = hex ? undefined : utf8Text(value);
  return `{${k !== undefined ? `"key":${JSON.stringify(k)}` : `"keyHex":"${toHex(key)}"`},${
    v !== undefined ? `"value":${JSON.stringify(v)}` : `"valueHex":"${toHex(value)}"`
  }}\n`;
}
