// siltdb in a real browser: Debian's Chromium, headless, driven with
// puppeteer-core. scripts/serve.mjs serves the repository on an ephemeral
// port (in this process); each test launches Chromium with a fresh profile in
// a temporary directory (OPFS persists across reloads and restarts within the
// test, never between runs) and checks:
//   1. the example (examples/browser/?auto=1) keeps its data across reloads,
//      a new tab and a browser restart;
//   2. the model test: seeded random sequences of writes, reads, scans,
//      snapshots and reopens against the real Db in a dedicated worker (and
//      one through the main thread's proxy), compared with a Map model;
//   3. reloads in the middle of sync writes, and then a browser killed with
//      SIGKILL while writing, leave a store that opens with every
//      acknowledged write;
//   4. two tabs: the second gets LOCKED, or waits with { wait: true } and
//      opens once the first closes the database (or its tab).
// The in-page code is in tests/browser/ (harness.html, harness.js, model.js,
// model_worker.js). Skipped, saying why, when no Chromium is found
// (CHROME_PATH, /usr/bin/chromium, /usr/bin/chromium-browser), when
// dist/browser.js is not built, or when puppeteer-core cannot start here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, ConsoleMessage, Page } from "puppeteer-core";
import { serve, type Server } from "../scripts/serve.mjs";
import { findChrome, launchChromium, loadPuppeteer } from "./browser/_launch.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const chrome = findChrome();
const loaded = "path" in chrome && existsSync(join(root, "dist", "browser.js")) ? await loadPuppeteer() : undefined;
const skipReason: string | false = "reason" in chrome
  ? chrome.reason
  : !existsSync(join(root, "dist", "browser.js"))
  ? "dist/browser.js not built (run node scripts/build.mjs)"
  : loaded && "reason" in loaded
  ? loaded.reason
  : false;
// Deno and Bun do not print a test's skip reason: say it once here.
if (skipReason) console.log(`  browser tests skipped: ${skipReason}`);

const chromePath = "path" in chrome ? chrome.path : "";
const puppeteer = loaded && "puppeteer" in loaded ? loaded.puppeteer : undefined;

/** What one test sets up: the server, a profile directory, the browser, and a log of what the pages said. */
interface Env {
  server: Server;
  profile: string;
  browser: Browser;
  log: string[];
  /** Starts Chromium again on the same profile (closing the running one). */
  restart(): Promise<Browser>;
  /** Kills Chromium (SIGKILL) and starts it again on the same profile. */
  kill(): Promise<Browser>;
  /** A new tab on the harness page, its console and errors going to the log. */
  harnessPage(label: string): Promise<Page>;
  /** A new tab, its console and errors going to the log. */
  newPage(label: string): Promise<Page>;
}

async function launch(profile: string): Promise<Browser> {
  return await launchChromium(puppeteer!, chromePath, profile);
}

async function withBrowser(fn: (env: Env) => Promise<void>): Promise<void> {
  const server = await serve({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), "siltdb-chromium-"));
  const log: string[] = [];
  const env: Env = {
    server,
    profile,
    log,
    browser: await launch(profile),
    async restart() {
      await env.browser.close();
      env.browser = await launch(profile);
      return env.browser;
    },
    async kill() {
      const child = env.browser.process();
      assert.ok(child, "no browser process to kill");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      await env.browser.disconnect().catch(() => {});
      env.browser = await launch(profile);
      return env.browser;
    },
    async newPage(label) {
      const page = await env.browser.newPage();
      page.setDefaultTimeout(30_000);
      page.on("console", (msg: ConsoleMessage) => log.push(`[${label}] ${msg.type()}: ${msg.text()}`));
      page.on("pageerror", (err: unknown) => log.push(`[${label}] page error: ${String(err)}`));
      page.on("requestfailed", (req) => log.push(`[${label}] request failed: ${req.url()}`));
      return page;
    },
    async harnessPage(label) {
      const page = await env.newPage(label);
      await gotoHarness(env, page);
      return page;
    },
  };
  try {
    await fn(env);
  } catch (err) {
    // What the pages said, to explain the failure.
    const tail = log.filter((l) => !/\] log: ack /.test(l)).slice(-40);
    if (tail.length > 0) console.log(`  browser log (last ${tail.length} lines):\n    ${tail.join("\n    ")}`);
    throw err;
  } finally {
    await env.browser.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function gotoHarness(env: Env, page: Page): Promise<void> {
  await page.goto(`${env.server.url}/tests/browser/harness.html`);
  await page.waitForSelector("body[data-ready]", { timeout: 15_000 }).catch(() => {
    throw new Error(`the harness page did not load (dist/browser.js?):\n  ${env.log.slice(-10).join("\n  ")}`);
  });
}

/** Calls globalThis.harness[fn](...args) in the page (arguments as JSON, so no function is serialized). */
async function call<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  const expression = `globalThis.harness.${fn}(${args.map((a) => JSON.stringify(a) ?? "undefined").join(", ")})`;
  return await page.evaluate(expression) as T;
}

interface OpenResult {
  ok: boolean;
  error?: { name?: string; code?: string; message: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until check() holds, polling; fails after timeoutMs with the message. */
async function until(check: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(20);
  }
}

test("browser: the example page keeps its data across reloads, a new tab and a browser restart", {
  skip: skipReason,
}, async () => {
  await withBrowser(async (env) => {
    const url = `${env.server.url}/examples/browser/?auto=1&name=example-test`;
    const read = async (page: Page) => {
      await page.waitForSelector("#out[data-state]", { timeout: 30_000 });
      // Expressions, not functions: nothing of this file is serialized into the page.
      const state = await page.evaluate(`document.getElementById("out").dataset.state`);
      const text = String(await page.evaluate(`document.getElementById("out").textContent`));
      assert.equal(state, "done", `the example failed: ${text}`);
      return JSON.parse(text) as { previous: number; counter: number; readBack: number; visits: number; count: number };
    };
    const expect = (r: Awaited<ReturnType<typeof read>>, n: number, when: string) => {
      assert.deepEqual(
        { previous: r.previous, counter: r.counter, readBack: r.readBack, visits: r.visits, count: r.count },
        { previous: n - 1, counter: n, readBack: n, visits: n, count: n },
        when,
      );
    };

    let page = await env.newPage("example");
    await page.goto(url);
    expect(await read(page), 1, "first visit");
    await page.reload();
    expect(await read(page), 2, "after a reload");
    await page.reload();
    expect(await read(page), 3, "after a second reload");
    await page.close();
    page = await env.newPage("example tab 2");
    await page.goto(url);
    expect(await read(page), 4, "in a new tab after the first was closed");
    await env.restart();
    page = await env.newPage("example after restart");
    await page.goto(url);
    expect(await read(page), 5, "after a browser restart on the same profile");
  });
});

test("browser: model sequences in a dedicated worker (the real Db on OPFS) and through the main thread's proxy", {
  skip: skipReason,
}, async () => {
  await withBrowser(async (env) => {
    const page = await env.harnessPage("model");
    type Result = {
      seed: number;
      steps: number;
      reopens: number;
      keys: number;
      tables?: number;
      counts: Record<string, number>;
      mismatches: unknown[];
    };
    const runs: { where: string; seed: number; steps: number; options: Record<string, unknown> }[] = [
      { where: "worker", seed: 1, steps: 1500, options: {} },
      { where: "worker", seed: 2, steps: 1500, options: { memtableSize: 8 * 1024 } },
      { where: "worker", seed: 3, steps: 1500, options: { memtableSize: 16 * 1024, compaction: "tiered" } },
      { where: "worker", seed: 5, steps: 1500, options: { memtableSize: 8 * 1024, compression: "lz4" } },
      { where: "main", seed: 4, steps: 500, options: { memtableSize: 8 * 1024 } },
    ];
    const failures: string[] = [];
    for (const run of runs) {
      const name = `model-${run.where}-${run.seed}`;
      let result: Result;
      if (run.where === "worker") {
        const answer = await call<{ ok: boolean; result?: Result; error?: unknown }>(
          page,
          "modelInWorker",
          name,
          run.seed,
          run.steps,
          run.options,
        );
        assert.ok(answer.ok, `the model worker failed: ${JSON.stringify(answer.error)}`);
        result = answer.result!;
      } else {
        result = await call<Result>(page, "modelOnMainThread", name, run.seed, run.steps, run.options);
      }
      const summary = `${run.where} seed ${run.seed} ${JSON.stringify(run.options)}: ${result.steps} steps, ` +
        `${result.reopens} reopens, ${result.keys} keys and ${result.tables ?? "?"} ` +
        `table files at the end`;
      console.log(`  model ${summary}: ${result.mismatches.length} mismatches`);
      if (result.mismatches.length > 0) {
        failures.push(
          `${summary}\n    ${result.mismatches.map((m) => JSON.stringify(m).slice(0, 600)).join("\n    ")}`,
        );
      }
    }
    assert.deepEqual(failures, [], `model mismatches:\n  ${failures.join("\n  ")}`);
  });
});

test(
  "browser: siltdb/kv (openKv) in a dedicated worker on OPFS: writes, atomics, expiry, watch, and data across a browser restart",
  {
    skip: skipReason,
  },
  async () => {
    await withBrowser(async (env) => {
      let page = await env.harnessPage("kv");
      type Answer = { ok: boolean; result?: unknown; error?: unknown };
      const written = await call<Answer>(page, "kvInWorker", "write", "kv1");
      assert.ok(written.ok, `the kv worker failed: ${JSON.stringify(written.error)}`);
      assert.deepEqual(written.result, {
        ok: true,
        stale: false,
        versionstamp: true,
        list: [[["users", "alice"], "object"], [["users", "bob"], "Bobby"]],
        tmp: null,
        hits: "5",
      });
      const watched = await call<Answer>(page, "kvInWorker", "watch", "kv2");
      assert.deepEqual(watched, { ok: true, result: [null, "x"] });
      assert.deepEqual(await call(page, "kvOnMainThread"), { named: "UNSUPPORTED", value: 1 });
      await env.restart();
      page = await env.harnessPage("kv after restart");
      const read = await call<Answer>(page, "kvInWorker", "read", "kv1");
      assert.deepEqual(read, {
        ok: true,
        result: { bob: "Bobby", alice: { name: "Alice", born: 0, tags: ["a"] }, hits: true },
      });
    });
  },
);

test("browser: reloads (and a killed browser) in the middle of sync writes keep every acknowledged write", {
  skip: skipReason,
}, async () => {
  await withBrowser(async (env) => {
    const name = "reload-mid-write";
    const acked: string[] = [];
    const writerPage = async (label: string) => {
      const page = await env.newPage(label);
      page.on("console", (msg: ConsoleMessage) => {
        const m = /^ack (.+)$/.exec(msg.text());
        if (m) acked.push(m[1]);
      });
      await gotoHarness(env, page);
      return page;
    };
    const writeUntil = async (page: Page, round: number, after: number) => {
      const before = acked.length;
      await call(page, "startWriteLoop", name, `r${round}-`);
      await until(
        () => acked.length - before >= after,
        30_000,
        () => `round ${round}: ${acked.length - before} of ${after} acknowledgements`,
      );
    };
    type Checked = {
      ok: boolean;
      missing: string[];
      wrong: string[];
      total: number;
      ordered: boolean;
      error?: unknown;
    };
    const check = (checked: Checked, when: string) => {
      assert.ok(checked.ok, `the store did not open ${when}: ${JSON.stringify(checked.error)}`);
      console.log(`  ${when}: ${acked.length} sync writes acknowledged, ${checked.total} keys in the store`);
      assert.deepEqual(
        checked.missing,
        [],
        `${checked.missing.length} of ${acked.length} acknowledged sync writes are missing ${when}`,
      );
      assert.deepEqual(checked.wrong, [], `keys with a wrong value ${when}`);
      assert.ok(checked.ordered, `a scan returned keys out of order ${when}`);
      assert.ok(checked.total >= acked.length, `${checked.total} keys in the store, ${acked.length} acknowledged`);
    };

    // Rounds of writing, each cut by a reload after a different number of acknowledgements.
    let page = await writerPage("writer");
    for (const [round, after] of [[0, 150], [1, 263], [2, 71]]) {
      await writeUntil(page, round, after);
      await page.reload();
      await page.waitForSelector("body[data-ready]");
    }
    check(await call<Checked>(page, "checkKeys", name, acked), "after 3 reloads");

    // Then the browser process killed (SIGKILL) while writing, and started again on the same profile.
    await writeUntil(page, 3, 200);
    await env.kill();
    page = await writerPage("writer after the kill");
    check(await call<Checked>(page, "checkKeys", name, acked), "after a killed browser");
  });
});

test("browser: a second tab gets LOCKED, or waits with { wait: true } until the first lets go", {
  skip: skipReason,
}, async () => {
  await withBrowser(async (env) => {
    const name = "two-tabs";
    const first = await env.harnessPage("tab 1");
    const second = await env.harnessPage("tab 2");
    assert.deepEqual(await call<OpenResult>(first, "openDb", name), { ok: true });
    await call(first, "put", name, "from", "tab 1");

    const refused = await call<OpenResult>(second, "openDb", name);
    assert.equal(refused.ok, false, "the second tab opened a database the first holds");
    assert.equal(refused.error?.code, "LOCKED", `expected LOCKED, got ${JSON.stringify(refused.error)}`);
    assert.equal(refused.error?.name, "SiltError");
    assert.match(refused.error?.message ?? "", /lock|open|tab|another|use/i);

    // { wait: true }: pending while the first tab holds it, open once it closes the database.
    await call(second, "startOpen", name, { wait: true });
    await sleep(500);
    assert.equal(await call(second, "openState", name), "pending", "the waiting open did not wait");
    await call(first, "close", name);
    assert.deepEqual(await call<OpenResult>(second, "awaitOpen", name), { ok: true });
    assert.equal(await call(second, "get", name, "from"), "tab 1");
    await call(second, "put", name, "from", "tab 2", { sync: true });

    // Closing the tab that holds it (without close()) lets a waiting tab in too.
    await call(first, "startOpen", name, { wait: true });
    await sleep(300);
    assert.equal(await call(first, "openState", name), "pending", "the first tab's waiting open did not wait");
    await second.close();
    assert.deepEqual(await call<OpenResult>(first, "awaitOpen", name), { ok: true });
    assert.equal(await call(first, "get", name, "from"), "tab 2");
    await call(first, "close", name);
  });
});
