// A dedicated module worker for tests/browser.test.ts: opens the database
// with the siltdb/browser entry's worker-side open() (the real Db on OPFS,
// with getSync and scanSync) and runs one model sequence (model.js).
import { open } from "/dist/browser.js";
import { runModel } from "./model.js";

self.onmessage = async (event) => {
  const { name, seed, steps, options } = event.data;
  try {
    const openDb = () => open(name, { keyEncoding: "utf8", valueEncoding: "utf8", ...options });
    const result = await runModel(openDb, { seed, steps, syncReads: true });
    self.postMessage({ ok: true, result });
  } catch (err) {
    self.postMessage({ ok: false, error: { name: err?.name, code: err?.code, message: String(err?.message ?? err) } });
  }
};
self.postMessage({ ready: true });
