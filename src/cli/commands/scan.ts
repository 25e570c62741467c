// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const scan: Command = { name: "scan", summary: "(in progress)", usage: "siltdb scan", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
