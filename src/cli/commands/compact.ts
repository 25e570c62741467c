// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const compact: Command = { name: "compact", summary: "(in progress)", usage: "siltdb compact", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
