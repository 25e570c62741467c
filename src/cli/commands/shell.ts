// PLACEHOLDER (being written)
import type { Command } from "../command.ts";
export const shell: Command = { name: "shell", summary: "(in progress)", usage: "siltdb shell", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
