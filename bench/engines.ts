// The stores db_bench.ts compares, behind one interface. Each engine uses
// its fastest fitting API: synchronous reads and scans where the store has
// them (siltdb getSync/scanSync, lmdb, SQLite), asynchronous ones otherwise.
// A store that cannot run in this runtime throws from its factory and is
// reported as such.
//
// Durability as each store ships by default: siltdb hands every awaited write
// to the OS (survives a process crash); classic-level the same (LevelDB
// without sync); lmdb is opened with noSync (its commits reach the OS, not
// the disk: the same class; it sits out fillsync); SQLite runs in
// WAL mode with synchronous=NORMAL (each statement its own transaction);
// Deno KV commits each set to its SQLite store. fillsync asks every store
// for a machine-crash-safe write (sync: true, synchronous=FULL).
// "siltdb-lz4" is siltdb with compression "lz4" (bench/scale_bench.ts runs
// it beside the default); seekValueBytes, scanValueBytes and settle are
// what the scale benchmark needs of siltdb, classic-level and lmdb.

import process from "node:process";

/** A value, or a promise of it: stores with synchronous APIs answer at once; callers await either. */
export type Awaitable<T> = T | Promise<T>;

/** One store under test. Keys are strings, values bytes. */
export interface Engine {
  open(dir: string): Awaitable<void>;
  close(): Awaitable<void>;
  put(key: string, value: Uint8Array): Awaitable<void>;
  /** A write that survives a machine crash when it resolves. */
  putDurable(key: string, value: Uint8Array): Awaitable<void>;
  get(key: string): Awaitable<Uint8Array | undefined>;
  getSync(key: string): Uint8Array | undefined;
  del(key: string): Awaitable<void>;
  batch(entries: [string, Uint8Array][]): Awaitable<void>;
  /** Entries in a full scan. */
  scanCount(reverse: boolean): Awaitable<number>;
  /** Reads up to n entries from the first key at or after key; returns how many. */
  seek(key: string, n: number): Awaitable<number>;
  /** As seek, but returns the bytes of the values read (so that a caller can check them). */
  seekValueBytes?(key: string, n: number): Awaitable<number>;
  /** A full forward scan; returns the entries and the bytes of their values. */
  scanValueBytes?(): Awaitable<{ entries: number; bytes: number }>;
  /** Waits until background work (flushes, compactions) is done, for stores that have it. */
  settle?(): Promise<void>;
  /** Workloads that do not apply (e.g. durability of an in-memory map). */
  skip?: string[];
  stats?(): unknown;
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

async function siltdb(options: { bufferWrites?: boolean; compression?: "lz4" } = {}): Promise<Engine> {
  const { open } = await import("../mod.ts");
  let db: Awaited<ReturnType<typeof open<{ keyEncoding: "utf8" }>>>;
  return {
    async open(dir) {
      db = await open(dir, { keyEncoding: "utf8", ...options });
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v),
    putDurable: (k, v) => db.put(k, v, { sync: true }),
    get: (k) => db.get(k),
    getSync: (k) => db.getSync(k),
    del: (k) => db.delete(k),
    async batch(entries) {
      const b = db.batch();
      for (const [k, v] of entries) b.put(k, v);
      await b.write();
    },
    scanCount(reverse) {
      let n = 0;
      for (const _ of db.scanSync({ reverse })) n++;
      return n;
    },
    seek(key, limit) {
      let n = 0;
      for (const _ of db.scanSync({ gte: key, limit })) n++;
      return n;
    },
    seekValueBytes(key, limit) {
      let bytes = 0;
      for (const [, v] of db.scanSync({ gte: key, limit })) bytes += v.length;
      return bytes;
    },
    scanValueBytes() {
      let entries = 0;
      let bytes = 0;
      for (const [, v] of db.scanSync()) {
        entries++;
        bytes += v.length;
      }
      return { entries, bytes };
    },
    settle: () => db.waitForCompactions(),
    stats: () => db.stats(),
  };
}

async function classicLevel(): Promise<Engine> {
  const { ClassicLevel } = await import("classic-level");
  let db: InstanceType<typeof ClassicLevel<string, Uint8Array>>;
  return {
    async open(dir) {
      db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
      await db.open();
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v),
    putDurable: (k, v) => db.put(k, v, { sync: true }),
    get: (k) => db.get(k),
    getSync: (k) => db.getSync(k),
    del: (k) => db.del(k),
    async batch(entries) {
      await db.batch(entries.map(([key, value]) => ({ type: "put" as const, key, value })));
    },
    async scanCount(reverse) {
      let n = 0;
      for await (const _ of db.iterator({ reverse })) n++;
      return n;
    },
    async seek(key, limit) {
      return (await db.iterator({ gte: key, limit }).all()).length;
    },
    async seekValueBytes(key, limit) {
      let bytes = 0;
      for (const [, v] of await db.iterator({ gte: key, limit }).all()) bytes += v.length;
      return bytes;
    },
    async scanValueBytes() {
      let entries = 0;
      let bytes = 0;
      for await (const [, v] of db.iterator()) {
        entries++;
        bytes += v.length;
      }
      return { entries, bytes };
    },
  };
}

async function lmdb(): Promise<Engine> {
  const { open } = await import("lmdb");
  let db: ReturnType<typeof open<Uint8Array, string>>;
  return {
    open(dir) {
      db = open<Uint8Array, string>({ path: dir, encoding: "binary", keyEncoding: "ordered-binary", noSync: true });
    },
    close: () => db.close(),
    put: (k, v) => db.put(k, v).then(() => {}),
    putDurable: () => Promise.reject(new Error("lmdb is opened with noSync here")),
    get: (k) => Promise.resolve(db.get(k)),
    getSync: (k) => db.get(k),
    del: (k) => db.remove(k).then(() => {}),
    batch(entries) {
      db.transactionSync(() => {
        for (const [k, v] of entries) db.putSync(k, v);
      });
    },
    scanCount(reverse) {
      let n = 0;
      for (const _ of db.getRange({ reverse })) n++;
      return n;
    },
    seek(key, limit) {
      let n = 0;
      for (const _ of db.getRange({ start: key, limit })) n++;
      return n;
    },
    seekValueBytes(key, limit) {
      let bytes = 0;
      for (const { value } of db.getRange({ start: key, limit })) bytes += value.length;
      return bytes;
    },
    scanValueBytes() {
      let entries = 0;
      let bytes = 0;
      for (const { value } of db.getRange()) {
        entries++;
        bytes += value.length;
      }
      return { entries, bytes };
    },
    skip: ["fillsync-c1", "fillsync-c8", "fillsync-c64"],
  };
}

/** The statements an SQLite engine needs, over any binding with prepare/exec. */
interface SqlStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): Iterable<unknown>;
}
interface SqlDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqlStatement;
  close(): unknown;
}

function sqliteEngine(openDb: (file: string) => SqlDatabase): Engine {
  let db: SqlDatabase;
  let put: SqlStatement,
    get: SqlStatement,
    del: SqlStatement,
    seek: SqlStatement,
    forward: SqlStatement,
    backward: SqlStatement;
  const value = (row: unknown) => row === undefined || row === null ? undefined : (row as { v: Uint8Array }).v;
  return {
    open(dir) {
      db = openDb(`${dir}.sqlite`);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      db.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
      put = db.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)");
      get = db.prepare("SELECT v FROM kv WHERE k = ?");
      del = db.prepare("DELETE FROM kv WHERE k = ?");
      seek = db.prepare("SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?");
      forward = db.prepare("SELECT k, v FROM kv ORDER BY k");
      backward = db.prepare("SELECT k, v FROM kv ORDER BY k DESC");
    },
    close() {
      db.close();
    },
    put(k, v) {
      put.run(k, v);
    },
    putDurable(k, v) {
      db.exec("PRAGMA synchronous = FULL");
      put.run(k, v);
      db.exec("PRAGMA synchronous = NORMAL");
    },
    get: (k) => Promise.resolve(value(get.get(k))),
    getSync: (k) => value(get.get(k)),
    del(k) {
      del.run(k);
    },
    batch(entries) {
      db.exec("BEGIN");
      for (const [k, v] of entries) put.run(k, v);
      db.exec("COMMIT");
    },
    scanCount(reverse) {
      let n = 0;
      for (const _ of (reverse ? backward : forward).iterate()) n++;
      return n;
    },
    seek(key, limit) {
      return seek.all(key, limit).length;
    },
  };
}

async function nodeSqlite(): Promise<Engine> {
  if (runtime !== "node") throw new Error("node:sqlite runs in Node only");
  const { DatabaseSync } = await import("node:sqlite");
  return sqliteEngine((file) => new DatabaseSync(file) as unknown as SqlDatabase);
}

async function betterSqlite3(): Promise<Engine> {
  if (runtime === "deno") throw new Error("better-sqlite3 needs Node's native addon API");
  const name = "better-sqlite3";
  const { default: Database } = await import(name) as { default: new (file: string) => SqlDatabase };
  return sqliteEngine((file) => new Database(file));
}

async function bunSqlite(): Promise<Engine> {
  if (runtime !== "bun") throw new Error("bun:sqlite runs in Bun only");
  const name = "bun:sqlite";
  const { Database } = await import(name) as {
    Database: new (file: string) => SqlDatabase & { query(sql: string): SqlStatement };
  };
  return sqliteEngine((file) => {
    const db = new Database(file);
    // bun:sqlite statements return rows as objects too; iterate() exists as in node:sqlite.
    return db;
  });
}

interface DenoKv {
  get(key: unknown[]): Promise<{ value: unknown }>;
  set(key: unknown[], value: unknown): Promise<unknown>;
  delete(key: unknown[]): Promise<void>;
  list(
    selector: { prefix?: unknown[]; start?: unknown[] },
    options?: { limit?: number; reverse?: boolean; batchSize?: number },
  ): AsyncIterable<{ key: unknown[]; value: unknown }>;
  atomic(): { set(key: unknown[], value: unknown): unknown; commit(): Promise<unknown> };
  close(): void;
}

function denoKv(): Engine {
  const deno = (globalThis as unknown as { Deno?: { openKv?(path: string): Promise<DenoKv> } }).Deno;
  if (deno?.openKv === undefined) throw new Error("Deno KV runs in Deno only (with --unstable-kv)");
  let kv: DenoKv;
  return {
    async open(dir) {
      kv = await deno.openKv!(`${dir}.kv`);
    },
    close() {
      kv.close();
    },
    put: async (k, v) => void await kv.set(["k", k], v),
    putDurable: async (k, v) => void await kv.set(["k", k], v),
    get: async (k) => (await kv.get(["k", k])).value as Uint8Array | undefined ?? undefined,
    getSync: () => {
      throw new Error("Deno KV has no synchronous read");
    },
    del: (k) => kv.delete(["k", k]),
    async batch(entries) {
      // An atomic operation takes at most 1,000 mutations (and 800 KB).
      for (let i = 0; i < entries.length; i += 500) {
        const op = kv.atomic();
        for (const [k, v] of entries.slice(i, i + 500)) op.set(["k", k], v);
        await op.commit();
      }
    },
    async scanCount(reverse) {
      let n = 0;
      for await (const _ of kv.list({ prefix: ["k"] }, { reverse, batchSize: 1000 })) n++;
      return n;
    },
    async seek(key, limit) {
      let n = 0;
      for await (const _ of kv.list({ start: ["k", key], end: ["k", "\uffff"] } as never, { limit })) n++;
      return n;
    },
    skip: ["readsync"],
  };
}

/** The ceiling: a sorted in-memory map (B+ tree) behind the same interface, no persistence. */
async function memory(): Promise<Engine> {
  const mod = await import("sorted-btree") as unknown as { default: unknown };
  // CommonJS interop differs: Node and Bun give the class as default, Deno the module object.
  const BTree =
    ((mod.default as { default?: unknown }).default ?? mod.default) as typeof import("sorted-btree").default;
  let tree = new BTree<string, Uint8Array>();
  return {
    open() {
      tree = new BTree<string, Uint8Array>();
    },
    async close() {},
    put: (k, v) => void tree.set(k, v),
    putDurable: (k, v) => void tree.set(k, v),
    get: (k) => tree.get(k),
    getSync: (k) => tree.get(k),
    del: (k) => void tree.delete(k),
    batch(entries) {
      for (const [k, v] of entries) tree.set(k, v);
    },
    scanCount(reverse) {
      let n = 0;
      for (const _ of reverse ? tree.entriesReversed() : tree.entries()) n++;
      return n;
    },
    seek(key, limit) {
      let n = 0;
      for (const _ of tree.entries(key)) if (++n >= limit) break;
      return n;
    },
    skip: ["fillsync-c1", "fillsync-c8", "fillsync-c64"],
  };
}

/** Engines by name; SILTDB_BENCH_ENGINES picks among them. */
export const ENGINES: Record<string, () => Awaitable<Engine>> = {
  siltdb: () => siltdb(),
  "siltdb-buffered": () => siltdb({ bufferWrites: true }),
  "siltdb-lz4": () => siltdb({ compression: "lz4" }),
  "classic-level": classicLevel,
  lmdb,
  "node:sqlite": nodeSqlite,
  "better-sqlite3": betterSqlite3,
  "bun:sqlite": bunSqlite,
  "deno-kv": denoKv,
  memory,
};

/** The peers of each runtime, in the order they run. */
export function defaultEngines(): string[] {
  const common = ["siltdb", "classic-level", "lmdb"];
  if (runtime === "node") return [...common, "node:sqlite", "better-sqlite3", "memory"];
  if (runtime === "bun") return [...common, "bun:sqlite", "better-sqlite3", "memory"];
  return [...common, "deno-kv", "memory"];
}

/** The version of the runtime, e.g. "node v24.21.0". */
export function runtimeVersion(): string {
  if (runtime === "deno") {
    return `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`;
  }
  if (runtime === "bun") return `bun ${(process.versions as Record<string, string>).bun}`;
  return `node ${process.version}`;
}

export { runtime };
