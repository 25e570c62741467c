// Finding and starting Chromium with puppeteer-core, shared by the browser
// tests (tests/browser.test.ts) and the browser benchmark
// (bench/browser_bench.ts): Debian's chromium (or CHROME_PATH), headless, a
// profile directory of the caller's, --no-sandbox when running as root.

import { existsSync } from "node:fs";
import process from "node:process";
import type { Browser } from "puppeteer-core";

const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";

/** The Chromium to drive, or why there is none. */
export function findChrome(): { path: string } | { reason: string } {
  const fromEnv = process.env.CHROME_PATH;
  if (fromEnv) {
    return existsSync(fromEnv) ? { path: fromEnv } : { reason: `no Chromium: CHROME_PATH=${fromEnv} does not exist` };
  }
  for (const path of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (existsSync(path)) return { path };
  return { reason: "no Chromium: install chromium (apt-get install chromium) or set CHROME_PATH" };
}

/** The puppeteer-core default export. */
export type Puppeteer = typeof import("puppeteer-core").default;

/** puppeteer-core, or why it cannot be loaded in this runtime. */
export async function loadPuppeteer(): Promise<{ puppeteer: Puppeteer } | { reason: string }> {
  try {
    return { puppeteer: (await import("puppeteer-core")).default };
  } catch (err) {
    return { reason: `puppeteer-core does not load in ${runtime}: ${(err as Error).message.split("\n")[0]}` };
  }
}

/** Starts headless Chromium at chromePath on the profile directory. */
export async function launchChromium(puppeteer: Puppeteer, chromePath: string, profile: string): Promise<Browser> {
  const asRoot = process.getuid?.() === 0;
  return await puppeteer.launch({
    executablePath: chromePath,
    headless: true,
    userDataDir: profile,
    args: [...(asRoot ? ["--no-sandbox"] : []), "--no-first-run", "--no-default-browser-check"],
    protocolTimeout: 60_000,
  });
}
