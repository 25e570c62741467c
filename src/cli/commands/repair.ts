// PLACEHOLDER (being written): repair.
import type { Command } from "../command.ts";
export const repair: Command = { name: "repair", summary: "(in progress)", usage: "siltdb repair", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
