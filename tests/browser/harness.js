// The in-page side of tests/browser.test.ts, loaded by harness.html. It
// imports the siltdb/browser entry (dist/browser.js) on the main thread and
// sets globalThis.harness: functions the test calls with page.evaluate, which
// answer with JSON-friendly values (errors as { ok: false, error: { name,
// code, message } }, not thrown, so that the SiltError code reaches the test).
import { open } from "/dist/browser.js";
import { runModel } from "./model.js";

const BASE = { keyEncoding: "utf8", valueEncoding: "utf8" };
const dbs = new Map();
const pending = new Map();

const describe = (err) => ({ name: err?.name, code: err?.code, message: String(err?.message ?? err) });
const pad = (n) => String(n).padStart(8, "0");

/** The value the write loop writes for a key (100 to 1,000 bytes), checked after the reload. */
function valueFor(key) {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return `${key}|` + "0123456789abcdef".repeat(64).slice(0, 100 + (h % 900));
}

async function openDb(name, options = {}) {
  try {
    dbs.set(name, await open(name, { ...BASE, ...options }));
    return { ok: true };
  } catch (err) {
    return { ok: false, error: describe(err) };
  }
}

function db(name) {
  const found = dbs.get(name);
  if (!found) throw new Error(`harness: ${name} is not open in this page`);
  return found;
}

/** Runs a model sequence in a dedicated worker (model_worker.js) against the real Db. */
function modelInWorker(name, seed, steps, options = {}) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./model_worker.js", import.meta.url), { type: "module" });
    const done = (answer) => {
      worker.terminate();
      resolve(answer);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      done({ ok: false, error: { name: "WorkerError", message: event.message || "the model worker failed to load" } });
    };
    worker.onmessageerror = () => done({ ok: false, error: { name: "WorkerError", message: "unreadable message" } });
    worker.onmessage = (event) => {
      if (event.data.ready) worker.postMessage({ name, seed, steps, options });
      else done(event.data);
    };
  });
}

/** Runs one operation of kv_worker.js (siltdb/kv on OPFS) in a new dedicated worker. */
function kvInWorker(op, name) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./kv_worker.js", import.meta.url), { type: "module" });
    const done = (answer) => {
      worker.terminate();
      resolve(answer);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      done({ ok: false, error: { name: "WorkerError", message: event.message || "the kv worker failed to load" } });
    };
    worker.onmessage = (event) => {
      if (event.data.ready) worker.postMessage({ op, name });
      else done(event.data);
    };
  });
}

globalThis.harness = {
  kvInWorker,
  /** siltdb/kv's openKv on the main thread: UNSUPPORTED for a name, works for ":memory:". */
  kvOnMainThread: async () => {
    const { openKv } = await import("/dist/browser.js");
    let named;
    try {
      await openKv("main");
      named = "opened";
    } catch (err) {
      named = err.code;
    }
    const memory = await openKv(":memory:");
    await memory.set(["a"], 1);
    const value = (await memory.get(["a"])).value;
    memory.close();
    return { named, value };
  },
  /** Opens (or fails to open) a database from the main thread. */
  openDb,
  /** Starts an open without waiting for it (e.g. { wait: true } while another tab holds the lock). */
  startOpen(name, options = {}) {
    const entry = { state: "pending" };
    entry.promise = openDb(name, options).then((r) => {
      entry.state = r.ok ? "open" : "failed";
      return r;
    });
    pending.set(name, entry);
    return "started";
  },
  /** "pending", "open" or "failed": the state of the open started by startOpen. */
  openState: (name) => pending.get(name)?.state ?? "none",
  /** The result of the open started by startOpen. */
  awaitOpen: (name) => pending.get(name).promise,
  put: (name, key, value, options) => db(name).put(key, value, options).then(() => true),
  get: async (name, key) => (await db(name).get(key)) ?? null,
  entries: async (name, options) => {
    const out = [];
    for await (const entry of db(name).scan(options)) out.push(entry);
    return out;
  },
  close: async (name) => {
    await db(name).close();
    dbs.delete(name);
    return true;
  },
  /** A model sequence against the main thread's proxy. */
  modelOnMainThread: (name, seed, steps, options = {}) =>
    runModel(() => open(name, { ...BASE, ...options }), { seed, steps, syncReads: false }),
  modelInWorker,
  /**
   * Writes keys prefix + 00000000, 00000001, ... with sync: true (single
   * puts, and now and then a batch of 5) until the page goes away, logging
   * "ack <key>" once each write is acknowledged. Returns at once.
   */
  startWriteLoop(name, prefix, options = {}) {
    (async () => {
      const target = await open(name, { ...BASE, memtableSize: 16 * 1024, ...options, wait: true });
      console.log(`opened ${name}`);
      for (let i = 0;;) {
        if (i % 7 === 6) {
          const keys = Array.from({ length: 5 }, (_, j) => prefix + pad(i + j));
          await target.batch(keys.map((key) => ({ type: "put", key, value: valueFor(key) })), { sync: true });
          for (const key of keys) console.log(`ack ${key}`);
          i += 5;
        } else {
          const key = prefix + pad(i);
          await target.put(key, valueFor(key), { sync: true });
          console.log(`ack ${key}`);
          i++;
        }
      }
    })().catch((err) => console.log(`write loop failed: ${JSON.stringify(describe(err))}`));
    return "started";
  },
  /** Opens the database (waiting for the lock), checks that every key holds valueFor(key), and closes it. */
  async checkKeys(name, keys) {
    let target;
    try {
      target = await open(name, { ...BASE, wait: true });
    } catch (err) {
      return { ok: false, error: describe(err) };
    }
    try {
      const values = await target.getMany(keys);
      const missing = [];
      const wrong = [];
      keys.forEach((key, i) => {
        if (values[i] === undefined) missing.push(key);
        else if (values[i] !== valueFor(key)) wrong.push(key);
      });
      let total = 0;
      let ordered = true;
      let last;
      for await (const [key, value] of target.scan()) {
        if (last !== undefined && !(key > last)) ordered = false;
        if (value !== valueFor(key)) wrong.push(key);
        last = key;
        total++;
      }
      return { ok: true, missing, wrong, total, ordered };
    } catch (err) {
      return { ok: false, error: describe(err) };
    } finally {
      await target.close();
    }
  },
};
document.body.dataset.ready = "1";
