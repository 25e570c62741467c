// A database's events: their payloads, and the hub that holds the listeners
// (db.on / db.off, src/db.ts) and calls them. The background scheduler and
// write admission report through callbacks src/open.ts wires to the hub;
// payloads are built only when a listener exists (EventHub.has).

import { describe } from "./encoding.ts";
import { invalidArgument, type SiltError } from "./errors.ts";

/**
 * A flush was installed: an immutable memtable is now a level-0 table.
 *
 * @example
 * ```ts
 * import { type FlushEvent, open } from "siltdb";
 * const db = await open("./data");
 * db.on("flush", (e: FlushEvent) => console.log(`L${e.level} #${e.file}: ${e.entries} entries, ${e.bytes} bytes`));
 * await db.put("k", "v");
 * await db.flush(); // L0 #5: 1 entries, ... bytes
 * await db.close();
 * ```
 */
export interface FlushEvent {
  /** Milliseconds from the start of the flush to its installation in the manifest. */
  durationMs: number;
  /** Entries written to the table (every version and tombstone counted). */
  entries: number;
  /** Bytes of the table file written. */
  bytes: number;
  /** Number of the table file (`NNNNNN.sst`). */
  file: number;
  /** Level the table went to (0). */
  level: number;
}

/**
 * A compaction (or a trivial move of one file to the next level) was installed.
 *
 * @example
 * ```ts
 * import { type CompactionEvent, open } from "siltdb";
 * const db = await open("./data");
 * db.on("compaction", (e: CompactionEvent) => {
 *   console.log(`L${e.fromLevel} -> L${e.toLevel}: ${e.bytesWritten} bytes`);
 * });
 * await db.put("k", "v");
 * await db.compact(); // L0 -> L1: ... bytes
 * await db.close();
 * ```
 */
export interface CompactionEvent {
  /** Milliseconds from the start of the compaction to its installation. */
  durationMs: number;
  /** The shallowest input level. */
  fromLevel: number;
  /** The output level. */
  toLevel: number;
  /** Table files merged (or moved). */
  inputFiles: number;
  /** Table files written (for a trivial move: the one file moved). */
  outputFiles: number;
  /** Bytes of the input tables (0 for a trivial move: nothing is read). */
  bytesRead: number;
  /** Bytes of the tables written (0 for a trivial move). */
  bytesWritten: number;
  /** Entries dropped: versions and tombstones no snapshot can see. */
  entriesDropped: number;
  /** True when a file only changed level, without being rewritten. */
  trivialMove: boolean;
}

/**
 * Why writes waited:
 * - `"memtable"`: the memtable was full and the flush queue too;
 * - `"l0-stop"`: level 0 held `l0StopTrigger` files;
 * - `"l0-slowdown"`: level 0 held `l0SlowdownTrigger` files, and the write was delayed.
 *
 * @example
 * ```ts
 * const reason: StallReason = "l0-stop";
 * ```
 */
export type StallReason = "memtable" | "l0-stop" | "l0-slowdown";

/**
 * Writes that waited (or were slowed down) were let through.
 *
 * @example
 * ```ts
 * import { open, type StallEvent } from "siltdb";
 * const db = await open("./data");
 * db.on("stall", (e: StallEvent) => console.warn(`writes waited ${e.durationMs} ms (${e.reason})`));
 * ```
 */
export interface StallEvent {
  /** Milliseconds the writes let through waited (the longest of them). */
  durationMs: number;
  /** Why they waited. */
  reason: StallReason;
}

/**
 * Each event of a database and what its listeners receive:
 * - `"error"`: a background failure (flush, compaction, log, manifest) that
 *   stops writes until `resume()`, or a trap that closed the database; the
 *   listener gets the SiltError.
 * - `"warning"`: something worked around, such as compactions running
 *   inline because no worker could start; the listener gets a SiltError
 *   describing it.
 * - `"flush"`: a memtable was written to a table and installed ({@linkcode FlushEvent}).
 * - `"compaction"`: a compaction was installed ({@linkcode CompactionEvent}).
 * - `"stall"`: writes that had to wait were let through ({@linkcode StallEvent}).
 *
 * @example
 * ```ts
 * import { type DbEventMap, open } from "siltdb";
 * const db = await open("./data");
 * const onFlush = (e: DbEventMap["flush"]) => console.log(e.bytes);
 * db.on("flush", onFlush);
 * await db.put("k", "v");
 * await db.flush(); // logs the bytes of the new table
 * await db.close();
 * ```
 */
export interface DbEventMap {
  /** A background error stopped writes (reads go on) until `resume()`. */
  error: SiltError;
  /** Something degraded but working (e.g. compaction fell back to inline mode). */
  warning: SiltError;
  /** A memtable was flushed to a level-0 table. */
  flush: FlushEvent;
  /** A compaction (or trivial move) was installed. */
  compaction: CompactionEvent;
  /** Writes waited for room, or were slowed down. */
  stall: StallEvent;
}

/**
 * The name of an event of a database (see {@linkcode DbEventMap}).
 *
 * @example
 * ```ts
 * const event: DbEvent = "compaction";
 * ```
 */
export type DbEvent = keyof DbEventMap;

/**
 * The event names, in the order error messages list them.
 *
 * @example
 * ```ts
 * DB_EVENTS.includes("flush"); // true
 * ```
 */
export const DB_EVENTS: readonly DbEvent[] = ["error", "warning", "flush", "compaction", "stall"];

type Listener<E extends DbEvent> = (payload: DbEventMap[E]) => void;

/**
 * The listeners of one database, by event.
 *
 * @example
 * ```ts
 * const events = new EventHub();
 * events.on("flush", (e) => console.log(`flushed ${e.bytes} bytes`));
 * if (events.has("flush")) events.emit("flush", { durationMs: 3, entries: 10, bytes: 400, file: 7, level: 0 });
 * ```
 */
export class EventHub {
  readonly #listeners: { [E in DbEvent]: Set<Listener<E>> } = {
    error: new Set(),
    warning: new Set(),
    flush: new Set(),
    compaction: new Set(),
    stall: new Set(),
  };

  /** Adds a listener; INVALID_ARGUMENT for an unknown event. */
  on<E extends DbEvent>(event: E, listener: Listener<E>): void {
    this.#of(event).add(listener);
  }

  /** Removes a listener; INVALID_ARGUMENT for an unknown event. */
  off<E extends DbEvent>(event: E, listener: Listener<E>): void {
    this.#of(event).delete(listener);
  }

  /** True when the event has a listener (build its payload only then). */
  has(event: DbEvent): boolean {
    return this.#listeners[event].size > 0;
  }

  /** Calls every listener of the event; a listener that throws is ignored. */
  emit<E extends DbEvent>(event: E, payload: DbEventMap[E]): void {
    const listeners = this.#listeners[event] as Set<Listener<E>>;
    if (listeners.size === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(payload);
      } catch {
        // a failing listener must not break the database
      }
    }
  }

  #of<E extends DbEvent>(event: E): Set<Listener<E>> {
    if (!(DB_EVENTS as readonly unknown[]).includes(event)) {
      throw invalidArgument(
        `unknown event ${typeof event === "string" ? JSON.stringify(event) : describe(event)} (known: ${
          DB_EVENTS.join(", ")
        })`,
      );
    }
    return this.#listeners[event] as Set<Listener<E>>;
  }
}
