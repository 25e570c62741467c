// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const stats: Command = { name: "stats", summary: "(in progress)", usage: "siltdb stats", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
