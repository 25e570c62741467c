// PLACEHOLDER (being written): verify.
import type { Command } from "../command.ts";
export const verify: Command = { name: "verify", summary: "(in progress)", usage: "siltdb verify", help: "", args: { positionals: [0, 9] }, run: () => Promise.reject(new Error("not built yet")) };
