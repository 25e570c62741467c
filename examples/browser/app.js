// The siltdb browser example: the main thread opens a database by name (the
// siltdb/browser entry starts its worker and returns the async API), then the
// buttons write, read, scan and show stats. With ?auto=1 it runs once by
// itself and prints JSON into <pre id="out"> (used by tests/browser.test.ts):
// it reads the visit counter, writes counter + 1 and a visit:<n> key with
// sync: true, reads them back, scans the visits and shows a few stats.
import { open } from "/dist/browser.js";

const params = new URLSearchParams(location.search);
const name = params.get("name") ?? "siltdb-example";
const $ = (id) => document.getElementById(id);
const out = $("out");
$("name").textContent = name;

/** Shows a value (as JSON) or an error in the output box. */
function show(value) {
  out.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function describeError(err) {
  return { error: { name: err?.name, code: err?.code, message: String(err?.message ?? err) } };
}

/** The figures of db.stats() worth showing (its key bounds are bytes). */
function summary(stats) {
  return {
    sequence: stats.sequence,
    memtableEntries: stats.memtable.entries,
    tables: stats.levels.map((l) => l.files),
    flushes: stats.flushes,
    compactions: stats.compaction.count,
    walSyncs: stats.wal.syncs,
    writeAmplification: Number(stats.writeAmplification.toFixed(2)),
  };
}

const pad = (n) => String(n).padStart(8, "0");

/** The visit counter: read, incremented, written with sync, read back. */
async function visit(db) {
  const previous = Number((await db.get("counter")) ?? 0);
  const counter = previous + 1;
  await db.batch([
    { type: "put", key: "counter", value: String(counter) },
    { type: "put", key: `visit:${pad(counter)}`, value: new Date().toISOString() },
  ], { sync: true });
  const readBack = Number(await db.get("counter"));
  $("visits").textContent = String(counter);
  return { previous, counter, readBack };
}

async function main() {
  let db;
  try {
    // wait: a reload (or a second tab) waits until the previous holder lets go.
    db = await open(name, { keyEncoding: "utf8", valueEncoding: "utf8", wait: true });
  } catch (err) {
    $("status").textContent = "failed";
    show(describeError(err));
    out.dataset.state = "error";
    return;
  }
  $("status").textContent = "open";

  if (params.get("auto") === "1") {
    try {
      const result = await visit(db);
      const visits = [];
      for await (const [key, value] of db.scan({ prefix: "visit:" })) visits.push([key, value]);
      const last = [];
      for await (const key of db.keys({ prefix: "visit:", reverse: true, limit: 1 })) last.push(key);
      show({
        ok: true,
        name,
        ...result,
        visits: visits.length,
        lastVisit: last[0],
        count: await db.count({ prefix: "visit:" }),
        stats: summary(await db.stats()),
      });
      out.dataset.state = "done";
    } catch (err) {
      show(describeError(err));
      out.dataset.state = "error";
    }
    return;
  }

  await visit(db);
  const scanOptions = () => {
    const limit = Number($("limit").value);
    return { prefix: $("prefix").value, reverse: $("reverse").checked, limit: limit > 0 ? limit : -1 };
  };
  const actions = {
    put: async () => {
      await db.put($("key").value, $("value").value);
      return `put ${$("key").value}`;
    },
    get: async () => ({ key: $("key").value, value: await db.get($("key").value) ?? null }),
    delete: async () => {
      await db.delete($("key").value);
      return `deleted ${$("key").value}`;
    },
    fill: async () => {
      const started = performance.now();
      const ops = [];
      for (let i = 0; i < 1000; i++) ops.push({ type: "put", key: `item:${pad(i)}`, value: `value ${i}` });
      await db.batch(ops);
      return `1,000 keys item:00000000… in ${(performance.now() - started).toFixed(1)} ms`;
    },
    scan: async () => {
      const entries = [];
      for await (const entry of db.scan(scanOptions())) entries.push(entry);
      return entries;
    },
    count: async () => ({ prefix: $("prefix").value, count: await db.count({ prefix: $("prefix").value }) }),
    clear: async () => {
      await db.clear({ prefix: $("prefix").value });
      return `deleted the keys starting with ${JSON.stringify($("prefix").value)}`;
    },
    stats: async () => summary(await db.stats()),
    flush: async () => {
      await db.flush();
      return summary(await db.stats());
    },
    compact: async () => {
      await db.compact();
      return summary(await db.stats());
    },
    close: async () => {
      await db.close();
      $("status").textContent = "closed (reload to open again)";
      return "closed";
    },
  };
  for (const [id, action] of Object.entries(actions)) {
    $(id).addEventListener("click", async () => {
      try {
        show(await action());
      } catch (err) {
        show(describeError(err));
      }
    });
  }
  show(summary(await db.stats()));
}

main();
