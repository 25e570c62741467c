// Looks inside the tables of a store on the memory storage (tests only).

import type { MemoryStorage } from "../mod.ts";
import { TableReader } from "../src/table/table_reader.ts";
import { indexEntries } from "../src/wasm/blocks.ts";
import { freeBuffer } from "../src/wasm/instance.ts";

/** How the data blocks of the tables of /db (or of the named ones) are stored: counts of "lz4" and "none". */
export function blockCodecs(fs: MemoryStorage, names?: string[]): { lz4: number; none: number } {
  const count = { lz4: 0, none: 0 };
  for (const name of names ?? fs.list("/db").filter((n) => n.endsWith(".sst"))) {
    const table = TableReader.open(fs, `/db/${name}`, Number.parseInt(name, 10));
    try {
      for (const { handle } of indexEntries(table.index.ptr, table.index.size)!) {
        const block = table.readBlock(handle!);
        freeBuffer(block.ptr);
        count[block.codec ?? "none"]++;
      }
    } finally {
      table.close();
    }
  }
  return count;
}
