// PLACEHOLDER (being written): dump-wal, dump-sst, dump-manifest.
import type { Command } from "../command.ts";
const todo = (name: string): Command => ({ name, summary: "(in progress)", usage: `siltdb ${name}`, help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) });
export const dumpWal = todo("dump-wal");
export const dumpSst = todo("dump-sst");
export const dumpManifest = todo("dump-manifest");
