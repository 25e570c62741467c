// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
const todo = (name: string): Command => ({ name, summary: "(in progress)", usage: `siltdb ${name}`, help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) });
export const load = todo("load");
export const exportCommand = todo("export");
