// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const bench: Command = { name: "bench", summary: "(in progress)", usage: "siltdb bench", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
