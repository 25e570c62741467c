// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
const todo = (name: string): Command => ({ name, summary: "(in progress)", usage: `siltdb ${name}`, help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) });
export const get = todo("get");
export const put = todo("put");
export const del = todo("delete");
