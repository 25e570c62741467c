// The database side of siltdb/browser's main-thread API: runs in the worker
// that the client started, answers the client's requests on a MessagePort
// (protocol.ts) by calling the engine's Db, and sends scans in chunks.

import type { Db } from "../db.ts";
import { SiltError } from "../errors.ts";
import type { Snapshot } from "../read/snapshot.ts";
import { openInWorker, withOpfsDirectory, type WorkerEnv } from "./in_worker.ts";
import { listBackups, purgeOldBackups, restoreBackup } from "../backup/restore.ts";
import {
  type Chunk,
  errorToData,
  outgoing,
  packColumn,
  type PortLike,
  type Request,
  type Response,
  SCAN_CHUNK,
  type ScanShape,
} from "./protocol.ts";

/** Db methods a client may call by name, with the arguments it sends. */
const DB_CALLS = new Set([
  "put",
  "get",
  "getEntry",
  "getMany",
  "has",
  "delete",
  "batch",
  "clear",
  "deleteRange",
  "count",
  "approximateSize",
  "flush",
  "compact",
  "compactRange",
  "resume",
  "stats",
  "metrics",
  "waitForCompactions",
]);

/** The path of the backups in a backup directory's OPFS storage. */
const BACKUPS = "/backups";

/** Snapshot methods a client may call by name ("snapshot." + name). */
const SNAPSHOT_CALLS = new Set(["get", "getEntry", "getMany", "has", "count"]);

type SyncScan = IterableIterator<unknown> & { return?(): IteratorResult<unknown> };

/**
 * Serves one database on `port`: the first request must be "open"; after
 * "close" the port is left for the client to close.
 *
 * @example
 * ```ts ignore
 * const { port1, port2 } = new MessageChannel();
 * serve(port2);
 * ```
 */
export function serve(port: PortLike, env: WorkerEnv = {}): void {
  let db: Db<unknown, unknown> | undefined;
  let opening = false;
  const snapshots = new Map<number, Snapshot<unknown, unknown>>();
  const scans = new Map<number, { iter: SyncScan; shape: ScanShape }>();
  const feeds = new Map<number, { feed: AsyncGenerator<unknown>; stop: AbortController }>();

  const reply = (id: number, value: unknown, transfer: unknown[] = []): void => {
    const message: Response = { id, ok: true, value };
    try {
      port.postMessage(message, transfer);
    } catch (err) {
      fail(id, err);
    }
  };
  const fail = (id: number, err: unknown): void => {
    const message: Response = { id, ok: false, error: errorToData(err) };
    port.postMessage(message);
  };

  const closedError = () => new SiltError("CLOSED", "the database is not open in this worker");
  const need = (): Db<unknown, unknown> => {
    if (db === undefined) throw closedError();
    return db;
  };

  /** Reads up to SCAN_CHUNK items of a scan. */
  const chunk = (id: number, transfer: unknown[]): Chunk => {
    const scan = scans.get(id);
    if (scan === undefined) return { done: true };
    const keys: unknown[] = [];
    const values: unknown[] = [];
    let done = false;
    try {
      while (keys.length + values.length < (scan.shape === "entries" ? 2 * SCAN_CHUNK : SCAN_CHUNK)) {
        const r = scan.iter.next();
        if (r.done) {
          done = true;
          break;
        }
        if (scan.shape === "entries") {
          const [k, v] = r.value as [unknown, unknown];
          keys.push(k);
          values.push(v);
        } else if (scan.shape === "keys") keys.push(r.value);
        else values.push(r.value);
      }
    } catch (err) {
      scans.delete(id);
      scan.iter.return?.();
      throw err;
    }
    if (done) scans.delete(id);
    const out: Chunk = { done };
    if (scan.shape !== "values") out.keys = packColumn(keys, transfer);
    if (scan.shape !== "keys") out.values = packColumn(values, transfer);
    return out;
  };

  const openScan = (
    source: Db<unknown, unknown> | Snapshot<unknown, unknown>,
    id: number,
    shape: ScanShape,
    options: unknown,
  ): void => {
    const opts = options as never;
    const iter = shape === "entries"
      ? source.scanSync(opts)
      : shape === "keys"
      ? source.keysSync(opts)
      : source.valuesSync(opts);
    scans.set(id, { iter: iter as SyncScan, shape });
  };

  const snapshot = (id: unknown): Snapshot<unknown, unknown> => {
    const snap = snapshots.get(id as number);
    if (snap === undefined) throw new SiltError("RELEASED", "the snapshot was released (or never taken)");
    return snap;
  };

  /** Runs one request; resolves to [value, transfer]. */
  const run = async (op: string, args: unknown[]): Promise<[unknown, unknown[]]> => {
    const transfer: unknown[] = [];
    if (op === "open") {
      if (db !== undefined || opening) throw new SiltError("INVALID_ARGUMENT", "this worker already serves a database");
      opening = true;
      try {
        db = await openInWorker(args[0] as string, args[1] as never, env);
      } finally {
        opening = false;
      }
      return [{ path: db.path }, transfer];
    }
    if (DB_CALLS.has(op)) {
      const d = need() as unknown as Record<string, (...a: unknown[]) => unknown>;
      const value = await d[op](...args);
      return [outgoing(value, transfer), transfer];
    }
    switch (op) {
      case "batchChecked": {
        const [ops, checks, options] = args as [never[], { key: unknown; version: number | null }[], never];
        const batch = need().batch().add(ops);
        for (const c of checks ?? []) batch.check(c.key, c.version);
        return [await batch.write(options), transfer];
      }
      case "changes": {
        const stop = new AbortController();
        feeds.set(args[0] as number, { feed: need().changes({ since: args[1] as number, signal: stop.signal }), stop });
        return [undefined, transfer];
      }
      case "changesNext": {
        const open = feeds.get(args[0] as number);
        if (open === undefined) return [undefined, transfer];
        try {
          const next = await open.feed.next();
          return next.done ? [undefined, transfer] : [outgoing(next.value, transfer), transfer];
        } catch (err) {
          if (open.stop.signal.aborted) return [undefined, transfer]; // closed by the client
          throw err;
        }
      }
      case "changesClose": {
        feeds.get(args[0] as number)?.stop.abort();
        feeds.delete(args[0] as number);
        return [undefined, transfer];
      }
      case "scan": {
        // args: [scan id, shape, options, snapshot id or undefined]
        const [id, shape, options, snap] = args as [number, ScanShape, unknown, number | undefined];
        openScan(snap === undefined ? need() : snapshot(snap), id, shape, options);
        return [chunk(id, transfer), transfer];
      }
      case "next":
        return [chunk(args[0] as number, transfer), transfer];
      case "scanClose": {
        const scan = scans.get(args[0] as number);
        scans.delete(args[0] as number);
        scan?.iter.return?.();
        return [undefined, transfer];
      }
      // Copies go to other OPFS directories: a database ("siltdb-<name>") or a backup directory.
      case "checkpoint": {
        const [name] = args as [string];
        const d = need();
        return [await withOpfsDirectory(name, "database", env, (fs) => d.checkpoint(`/${name}`, { fs })), transfer];
      }
      case "backup": {
        const d = need();
        return [await withOpfsDirectory(args[0] as string, "backup", env, (fs) => d.backup(BACKUPS, { fs })), transfer];
      }
      case "listBackups":
        return [
          await withOpfsDirectory(args[0] as string, "backup", env, (fs) => listBackups(BACKUPS, { fs })),
          transfer,
        ];
      case "purgeOldBackups": {
        const [name, keep] = args as [string, number];
        return [await withOpfsDirectory(name, "backup", env, (fs) => purgeOldBackups(BACKUPS, keep, { fs })), transfer];
      }
      case "restoreBackup": {
        const [from, id, name] = args as [string, number | undefined, string];
        const restored = await withOpfsDirectory(
          from,
          "backup",
          env,
          (fs) =>
            withOpfsDirectory(
              name,
              "database",
              env,
              (targetFs) => restoreBackup(BACKUPS, id, `/${name}`, { fs, targetFs }),
            ),
        );
        return [restored, transfer];
      }
      case "snapshot":
        snapshots.set(args[0] as number, need().snapshot());
        return [undefined, transfer];
      case "release": {
        const snap = snapshots.get(args[0] as number);
        snapshots.delete(args[0] as number);
        snap?.release();
        return [undefined, transfer];
      }
      case "close": {
        const d = need();
        try {
          await d.close();
        } finally {
          if (d.status === "closed") {
            db = undefined;
            snapshots.clear();
            scans.clear();
          }
        }
        return [undefined, transfer];
      }
      default:
        if (op.startsWith("snapshot.") && SNAPSHOT_CALLS.has(op.slice(9))) {
          const snap = snapshot(args[0]) as unknown as Record<string, (...a: unknown[]) => unknown>;
          const value = await snap[op.slice(9)](...args.slice(1));
          return [outgoing(value, transfer), transfer];
        }
        throw new SiltError("INVALID_ARGUMENT", `unknown siltdb/browser request ${JSON.stringify(op)}`);
    }
  };

  const onMessage = (event: { data: unknown }): void => {
    const req = event.data as Request;
    if (req === null || typeof req !== "object" || typeof req.id !== "number") return;
    let result: Promise<[unknown, unknown[]]>;
    try {
      // run() calls the engine synchronously up to its first await, so
      // requests reach the engine in the order they were sent.
      result = run(req.op, Array.isArray(req.args) ? req.args : []);
    } catch (err) {
      fail(req.id, err);
      return;
    }
    result.then(([value, transfer]) => reply(req.id, value, transfer), (err) => fail(req.id, err));
  };
  port.addEventListener("message", onMessage);
  port.start?.();
}
