// One writer per directory, across processes, runtimes and PID namespaces
// (defect 7 of the trust issue): the lease protocol of
// src/storage/lock/, with flock where the runtime has one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { open } from "../mod.ts";
import { currentRuntime, rejectsWith, type Runtime, runtimeCommand, RUNTIMES, tempDir } from "./_harness.ts";

const child = new URL("./fixtures/child.ts", import.meta.url).pathname;
const utf8 = { keyEncoding: "utf8", valueEncoding: "utf8" } as const;

/** True when this machine lets us start a process in a new PID namespace (root, or user namespaces). */
const canUnshare = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "true"]).status === 0;
const unshared = (
  cmd: string,
  args: string[],
): [string, string[]] => ["unshare", ["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL", cmd, ...args]];

/** Starts a holder of dir and resolves once it holds it. */
function hold(runtime: Runtime, dir: string, inNewPidNamespace = false): Promise<ChildProcess> {
  let [cmd, args] = runtimeCommand(runtime, child, ["hold", dir]);
  if (inNewPidNamespace) [cmd, args] = unshared(cmd, args);
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    proc.stderr!.on("data", (d) => err += d);
    proc.stdout!.on("data", (d) => String(d).includes("held") && resolve(proc));
    proc.on("exit", (code) => reject(new Error(`${runtime} holder exited (${code}): ${err}`)));
  });
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.on("exit", () => resolve());
    proc.kill("SIGKILL");
  });
}

/**
 * Opens dir, retrying while it is LOCKED for up to 200 ms: a process killed
 * through `unshare` may still hold its OS lock for a moment after unshare exits.
 */
async function openAfterKill(dir: string) {
  for (let waited = 0;; waited += 20) {
    try {
      return await open(dir, utf8);
    } catch (err) {
      if ((err as { code?: string }).code !== "LOCKED" || waited >= 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Runs try-open in a child and returns its result line. */
function tryOpen(
  runtime: Runtime,
  dir: string,
  options: { readOnly?: boolean; denoPermissions?: string[]; newPidNamespace?: boolean } = {},
) {
  let [cmd, args] = runtimeCommand(
    runtime,
    child,
    ["try-open", dir, options.readOnly ? "ro" : "rw"],
    options.denoPermissions,
  );
  if (options.newPidNamespace) [cmd, args] = unshared(cmd, args);
  const result = spawnSync(cmd, args, { encoding: "utf8" });
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as { ok?: true; code?: string; message?: string };
  } catch {
    throw new Error(`try-open in ${runtime} printed ${JSON.stringify(result.stdout)}: ${result.stderr}`);
  }
}

test(`a live writer in each runtime keeps a ${currentRuntime} opener out; once killed, the lock is taken within seconds`, async () => {
  for (const runtime of RUNTIMES) {
    const { dir, cleanup } = tempDir();
    try {
      const holder = await hold(runtime, dir);
      await rejectsWith("LOCKED", () => open(dir, utf8));
      await rejectsWith("LOCKED", () => open(dir, { ...utf8, readOnly: true }), /live writer/);
      await kill(holder);
      const started = Date.now();
      const db = await open(dir, utf8);
      const took = Date.now() - started;
      assert.ok(took < 6000, `${runtime}: took ${took} ms to take a dead holder's lock`);
      await db.put("mine", "now", { sync: true });
      await db.close();
    } finally {
      cleanup();
    }
  }
});

test(
  "a writer in another PID namespace (a container: both may be pid 1) keeps others out, and is taken over once dead",
  { skip: !canUnshare && "unshare --pid is not permitted here" },
  async () => {
    const runtime = currentRuntime;
    const { dir, cleanup } = tempDir();
    try {
      const holder = await hold(runtime, dir, true);
      // Same pid as ours (1) in its namespace: only the lease's heartbeat can tell it is alive.
      await rejectsWith("LOCKED", () => open(dir, utf8));
      const other = tryOpen(runtime === "node" ? "deno" : "node", dir, { newPidNamespace: true });
      assert.equal(other.code, "LOCKED", `another namespace: ${other.message}`);
      await kill(holder);
      const started = Date.now();
      const db = await openAfterKill(dir);
      assert.ok(Date.now() - started < 6000, "taken within seconds");
      await db.close();
    } finally {
      cleanup();
    }
  },
);

test("Deno without --allow-run (or without /proc) never takes over a live writer's lock", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const holder = await hold("node", dir); // a lease alone, no OS lock
    for (const permissions of [["--allow-read", "--allow-write"], [`--allow-read=${dir}`, `--allow-write=${dir}`]]) {
      const got = tryOpen("deno", dir, { denoPermissions: permissions });
      assert.equal(got.code, "LOCKED", `deno ${permissions.join(" ")}: ${got.message}`);
    }
    await kill(holder);
    const got = tryOpen("deno", dir, { denoPermissions: [`--allow-read=${dir}`, `--allow-write=${dir}`] });
    assert.ok(got.ok, `a dead holder's lock is taken by the heartbeat rule: ${got.message}`);
  } finally {
    cleanup();
  }
});

test("two openers racing for a stale lock: exactly one wins", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const holder = await hold("node", dir);
    await kill(holder); // a stale lease, no OS lock
    const racers = RUNTIMES.map((runtime) => {
      const [cmd, args] = runtimeCommand(runtime, child, ["hold", dir]);
      return spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    });
    const outcomes = await Promise.all(racers.map((proc) =>
      new Promise<string>((resolve) => {
        let out = "";
        proc.stdout!.on("data", (d) => {
          out += d;
          if (out.includes("held")) resolve("held");
        });
        proc.on("exit", () => resolve("refused"));
      })
    ));
    assert.equal(outcomes.filter((o) => o === "held").length, 1, `outcomes: ${outcomes}`);
    for (const proc of racers) if (proc.exitCode === null) await kill(proc);
  } finally {
    cleanup();
  }
});
