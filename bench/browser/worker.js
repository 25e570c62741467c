// The dedicated module worker of the browser benchmark (bench/browser/
// index.html starts it): the same workloads on siltdb (the real Db on OPFS,
// async and sync API), raw IndexedDB and SQLite-WASM on OPFS ("opfs-sahpool"
// VFS), one engine after the other. It answers { rows, unavailable, info }.
import { openInWorker } from "../../dist/browser.js";
import sqlite3InitModule from "../../node_modules/@sqlite.org/sqlite-wasm/dist/index.mjs";
import { check, config, siltdbSuite, startup, timed } from "./common.js";

// ---- IndexedDB: one transaction per awaited write; getAll / a cursor for scans.

const request = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
const committed = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });

function idbOpen(name) {
  const req = indexedDB.open(name, 1);
  req.onupgradeneeded = () => req.result.createObjectStore("kv");
  return request(req);
}

async function idbSuite(cfg) {
  const { n, syncN, reads, seeks, opens, data, order, prefix } = cfg;
  const { keys, values } = data;
  const engine = "indexeddb";
  const rows = [];
  const putEach = async (db, count, durability) => {
    for (let i = 0; i < count; i++) {
      const tx = db.transaction("kv", "readwrite", { durability });
      tx.objectStore("kv").put(values[i], keys[i]);
      await committed(tx);
    }
  };

  let db = await idbOpen(`${prefix}put`);
  rows.push(await timed("put", engine, n, () => putEach(db, n, "relaxed"), 'durability "relaxed"'));
  db.close();
  db = await idbOpen(`${prefix}put-sync`);
  rows.push(await timed("put-sync", engine, syncN, () => putEach(db, syncN, "strict"), 'durability "strict"'));
  db.close();

  db = await idbOpen(`${prefix}main`);
  rows.push(
    await timed("batch200", engine, n, async () => {
      for (let i = 0; i < n; i += 200) {
        const tx = db.transaction("kv", "readwrite", { durability: "relaxed" });
        const store = tx.objectStore("kv");
        for (let j = i; j < Math.min(n, i + 200); j++) store.put(values[j], keys[j]);
        await committed(tx);
      }
    }, 'durability "relaxed"'),
  );

  // Point reads: one readonly transaction per get (as idb-keyval), and all gets in one transaction.
  const perTx = await timed("get", engine, reads, async () => {
    let found = 0;
    for (let i = 0; i < reads; i++) {
      const v = await request(db.transaction("kv", "readonly").objectStore("kv").get(keys[order[i]]));
      if (v !== undefined) found++;
    }
    check(found === reads, `indexeddb get found ${found} of ${reads}`);
  }, "one transaction per get");
  const oneTx = await timed("get", engine, reads, async () => {
    const store = db.transaction("kv", "readonly").objectStore("kv");
    let found = 0;
    for (let i = 0; i < reads; i++) if ((await request(store.get(keys[order[i]]))) !== undefined) found++;
    check(found === reads, `indexeddb get (one transaction) found ${found} of ${reads}`);
  }, "all gets in one transaction");
  rows.push(perTx.opsPerSec >= oneTx.opsPerSec ? perTx : oneTx);
  rows.push({ ...(perTx.opsPerSec >= oneTx.opsPerSec ? oneTx : perTx), workload: "get-alt" });

  rows.push(
    await timed("seek100", engine, seeks, async () => {
      let entries = 0;
      for (let i = 0; i < seeks; i++) {
        const store = db.transaction("kv", "readonly").objectStore("kv");
        const [ks, vs] = await Promise.all([
          request(store.getAllKeys(IDBKeyRange.lowerBound(keys[order[i]]), 100)),
          request(store.getAll(IDBKeyRange.lowerBound(keys[order[i]]), 100)),
        ]);
        check(ks.length === vs.length, "getAllKeys and getAll disagree");
        entries += vs.length;
      }
      check(entries > seeks, `indexeddb seeks read ${entries} entries`);
    }, "getAllKeys + getAll(range, 100)"),
  );
  rows.push(
    await timed("scan", engine, n, async () => {
      let entries = 0;
      const cursor = db.transaction("kv", "readonly").objectStore("kv").openCursor();
      await new Promise((resolve, reject) => {
        cursor.onerror = () => reject(cursor.error);
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) return resolve();
          if (c.key && c.value) entries++;
          c.continue();
        };
      });
      check(entries === n, `indexeddb scan read ${entries} of ${n}`);
      return entries;
    }, "cursor"),
  );
  db.close();

  rows.push(
    await startup(engine, opens, async () => {
      const started = performance.now();
      const reopened = await idbOpen(`${prefix}main`);
      const v = await request(reopened.transaction("kv", "readonly").objectStore("kv").get(keys[0]));
      check(v !== undefined, "indexeddb reopened store lost key 0");
      const ms = performance.now() - started;
      reopened.close();
      return ms;
    }),
  );
  return rows;
}

// ---- SQLite-WASM on OPFS (opfs-sahpool VFS): prepared statements, autocommit per put.

async function sqliteSuite(cfg, info) {
  const { n, syncN, reads, seeks, opens, data, order, prefix } = cfg;
  const { keys, values } = data;
  const engine = "sqlite";
  const rows = [];
  const sqlite3 = await sqlite3InitModule({ print: () => {}, printErr: () => {} });
  info.sqlite = sqlite3.version.libVersion;
  const pool = await sqlite3.installOpfsSAHPoolVfs({
    name: "bench-sahpool",
    directory: ".bench-sahpool",
    clearOnInit: true,
    initialCapacity: 16,
  });
  const openDb = (name, create) => {
    const db = new pool.OpfsSAHPoolDb(`/${prefix}${name}.db`);
    if (create) db.exec("CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID");
    return db;
  };
  const insertEach = (db, count) => {
    const insert = db.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
    for (let i = 0; i < count; i++) insert.bind([keys[i], values[i]]).stepReset();
    insert.finalize();
  };

  let db = openDb("put", true);
  db.exec("PRAGMA synchronous=OFF");
  rows.push(await timed("put", engine, n, () => insertEach(db, n), "autocommit, synchronous=OFF"));
  db.close();
  db = openDb("put-sync", true);
  db.exec("PRAGMA synchronous=FULL");
  rows.push(await timed("put-sync", engine, syncN, () => insertEach(db, syncN), "autocommit, synchronous=FULL"));
  db.close();

  db = openDb("main", true);
  db.exec("PRAGMA synchronous=OFF");
  rows.push(
    await timed("batch200", engine, n, () => {
      const insert = db.prepare("INSERT INTO kv(k, v) VALUES (?, ?)");
      for (let i = 0; i < n; i += 200) {
        db.exec("BEGIN");
        for (let j = i; j < Math.min(n, i + 200); j++) insert.bind([keys[j], values[j]]).stepReset();
        db.exec("COMMIT");
      }
      insert.finalize();
    }, "BEGIN / 200 INSERTs / COMMIT, synchronous=OFF"),
  );

  const get = (select, key) => {
    select.bind([key]);
    const v = select.step() ? select.get(0) : undefined;
    select.reset();
    return v;
  };
  rows.push(
    await timed("get", engine, reads, () => {
      const select = db.prepare("SELECT v FROM kv WHERE k = ?");
      let found = 0;
      for (let i = 0; i < reads; i++) if (get(select, keys[order[i]]) !== undefined) found++;
      select.finalize();
      check(found === reads, `sqlite get found ${found} of ${reads}`);
    }),
  );
  rows.push(
    await timed("seek100", engine, seeks, () => {
      const select = db.prepare("SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT 100");
      let entries = 0;
      for (let i = 0; i < seeks; i++) {
        select.bind([keys[order[i]]]);
        while (select.step()) if (select.get(0) && select.get(1)) entries++;
        select.reset();
      }
      select.finalize();
      check(entries > seeks, `sqlite seeks read ${entries} entries`);
    }),
  );
  rows.push(
    await timed("scan", engine, n, () => {
      const select = db.prepare("SELECT k, v FROM kv ORDER BY k");
      let entries = 0;
      while (select.step()) if (select.get(0) && select.get(1)) entries++;
      select.finalize();
      check(entries === n, `sqlite scan read ${entries} of ${n}`);
      return entries;
    }),
  );
  db.close();

  rows.push(
    await startup(engine, opens, () => {
      const started = performance.now();
      const reopened = openDb("main", false);
      const select = reopened.prepare("SELECT v FROM kv WHERE k = ?");
      check(get(select, keys[0]) !== undefined, "sqlite reopened store lost key 0");
      const ms = performance.now() - started;
      select.finalize();
      reopened.close();
      return ms;
    }),
  );
  // Cold start as siltdb's open is cold: the pool's sync access handles let go (pauseVfs) and taken again.
  if (typeof pool.pauseVfs === "function" && typeof pool.unpauseVfs === "function") {
    const cold = await startup(engine, opens, async () => {
      pool.pauseVfs();
      const started = performance.now();
      await pool.unpauseVfs();
      const reopened = openDb("main", false);
      const select = reopened.prepare("SELECT v FROM kv WHERE k = ?");
      check(get(select, keys[0]) !== undefined, "sqlite reopened store lost key 0");
      const ms = performance.now() - started;
      select.finalize();
      reopened.close();
      return ms;
    });
    rows.push({ ...cold, workload: "open-cold", note: `${cold.note}, unpauseVfs() + open + 1 read` });
  }
  return rows;
}

/** Where siltdb's open time goes: its OPFS slot files and taking their sync access handles one by one. */
async function siltdbOpenBreakdown(name) {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(`siltdb-${name}`);
  const files = [];
  for await (const entry of dir.values()) if (entry.kind === "file") files.push(entry.name);
  let started = performance.now();
  const handles = [];
  for (const file of files) handles.push(await (await dir.getFileHandle(file)).createSyncAccessHandle());
  const handlesMs = performance.now() - started;
  let bytes = 0;
  started = performance.now();
  for (const h of handles) bytes += h.getSize();
  const sizeMs = performance.now() - started;
  for (const h of handles) h.close();
  return { files: files.length, bytes, createSyncAccessHandlesMs: handlesMs, getSizeMs: sizeMs };
}

self.onmessage = async (event) => {
  const { n, engines } = event.data;
  const cfg = config(n, "w-");
  const rows = [];
  const unavailable = {};
  const info = { userAgent: navigator.userAgent };
  const suites = {
    siltdb: () => siltdbSuite("siltdb", (name) => openInWorker(name), cfg, true),
    indexeddb: () => idbSuite(cfg),
    sqlite: () => sqliteSuite(cfg, info),
  };
  for (const name of engines) {
    try {
      self.postMessage({ progress: `${name}: running` });
      rows.push(...(await suites[name]()));
      if (name === "siltdb") info.siltdbOpen = await siltdbOpenBreakdown("w-main");
    } catch (err) {
      unavailable[name] = `${err?.name ?? "Error"}: ${err?.message ?? err}`;
    }
  }
  self.postMessage({ done: true, rows, unavailable, info });
};
self.postMessage({ ready: true });
