// The page of the browser benchmark (bench/browser/index.html): runs the
// worker (bench/browser/worker.js: siltdb in the worker, IndexedDB,
// SQLite-WASM), then the siltdb workloads through the main thread's proxy
// (siltdb/browser's open() on the main thread), and puts the JSON results in
// <pre id="out" data-state="done|failed">.
import { open } from "../../dist/browser.js";
import { config, siltdbSuite } from "./common.js";

const params = new URLSearchParams(location.search);
const n = Number(params.get("n") ?? 20000);
const engines = (params.get("engines") ?? "siltdb,indexeddb,sqlite,siltdb-main").split(",");
const out = document.getElementById("out");

function runWorker(workerEngines) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message || "the benchmark worker failed to load"));
    };
    worker.onmessage = (event) => {
      const m = event.data;
      if (m.ready) worker.postMessage({ n, engines: workerEngines });
      else if (m.progress) console.log(m.progress);
      else if (m.done) {
        worker.terminate();
        resolve(m);
      }
    };
  });
}

async function main() {
  const result = await runWorker(engines.filter((e) => e !== "siltdb-main"));
  if (engines.includes("siltdb-main")) {
    console.log("siltdb-main: running");
    try {
      result.rows.push(...(await siltdbSuite("siltdb-main", (name) => open(name), config(n, "m-"), false)));
    } catch (err) {
      result.unavailable["siltdb-main"] = `${err?.name ?? "Error"}: ${err?.message ?? err}`;
    }
  }
  return { n, ...result };
}

main().then(
  (result) => {
    out.textContent = JSON.stringify(result);
    out.dataset.state = "done";
  },
  (err) => {
    out.textContent = String(err?.stack ?? err);
    out.dataset.state = "failed";
  },
);
