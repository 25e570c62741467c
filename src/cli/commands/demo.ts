// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const demo: Command = { name: "demo", summary: "(in progress)", usage: "siltdb demo", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
