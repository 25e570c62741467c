// The entries of a table object, for the ground truth of the bucket
// simulation (tests/sim/bucket_truth.ts): every version it holds, with its
// sequence, so that a manifest's tables can be held against the committed
// history. Read with the checks verify uses (src/tools/_checks.ts).

import { KIND_PUT, sequenceOf, userKeyOf } from "../../src/format/internal_key.ts";
import { oneObjectStorage } from "../../src/storage/bytes_file.ts";
import { checkTable } from "../../src/tools/_checks.ts";

/** One version a table holds: its key, sequence, and value (null: a delete). */
export interface TableEntry {
  key: string;
  seq: number;
  value: string | null;
}

const decoder = new TextDecoder();

/**
 * Every entry of table `number` (its object's bytes), in table order;
 * throws when the table is damaged (a table a holder uploaded never is).
 *
 * @example
 * ```ts
 * declare const data: Uint8Array;
 * for (const e of decodeTable(7, data)) console.log(e.key, e.seq, e.value);
 * ```
 */
export function decodeTable(number: number, data: Uint8Array): TableEntry[] {
  const entries: TableEntry[] = [];
  const check = checkTable(
    oneObjectStorage(data, "the simulation's truth"),
    "",
    `sst/${number}.sst`,
    number,
    (block) => {
      for (const { key, value } of block) {
        const kind = key[key.length - 8];
        entries.push({
          key: decoder.decode(userKeyOf(key)),
          seq: sequenceOf(key),
          value: kind === KIND_PUT ? decoder.decode(value) : null,
        });
      }
    },
  );
  if (check.problems.length > 0) {
    throw new Error(`table ${number} does not decode: ${check.problems.map((p) => p.what).join("; ")}`);
  }
  return entries;
}
