// Explicit snapshots of SiltLevel (`db.snapshot()` of abstract-level 2+): a
// token wrapping a siltdb snapshot, passed to reads as `{ snapshot }`.

import { AbstractSnapshot } from "abstract-level";
import type { Snapshot } from "../read/snapshot.ts";
import { SiltLevelError } from "./errors.ts";

// abstract-level's typings omit the constructor's options ({ owner }).
const SnapshotBase = AbstractSnapshot as unknown as new (options: object) => AbstractSnapshot;

/** The siltdb snapshot of each SiltSnapshot (undefined once closed). */
const inner = new WeakMap<object, Snapshot<Uint8Array, Uint8Array> | undefined>();

/**
 * An explicit snapshot of a {@linkcode SiltLevel} database: pass it to
 * `get`, `getMany`, `has`, `hasMany`, `iterator`, `keys`, `values` and
 * `clear` as `{ snapshot }`; close it when done (`db.close()` closes it too).
 *
 * @example
 * ```ts
 * import { SiltLevel } from "siltdb/level";
 * const db = new SiltLevel("./data");
 * await db.put("example", "1");
 * const snapshot = db.snapshot();
 * await db.put("example", "2");
 * console.log(await db.get("example", { snapshot })); // "1"
 * await snapshot.close();
 * await db.close();
 * ```
 */
export class SiltSnapshot extends SnapshotBase {
  /** @internal Snapshots come from `db.snapshot()`. */
  constructor(options: object, snapshot: Snapshot<Uint8Array, Uint8Array>) {
    super(options);
    inner.set(this, snapshot);
  }

  /** @internal abstract-level's private API: gives the siltdb snapshot back, once, when no read uses it. */
  _close(): Promise<void> {
    inner.get(this)?.release();
    inner.set(this, undefined);
    return Promise.resolve();
  }
}

/**
 * The siltdb snapshot behind a SiltSnapshot: LEVEL_SNAPSHOT_NOT_OPEN once it
 * is closed, a TypeError for anything else.
 *
 * @example
 * ```ts
 * import type { SiltLevel } from "./silt_level.ts";
 * declare const level: SiltLevel;
 * const snapshot = level.snapshot(); // a SiltSnapshot of a SiltLevel
 * const value = siltSnapshotOf(snapshot).getSync("user:1"); // Uint8Array | undefined
 * ```
 */
export function siltSnapshotOf(snapshot: unknown): Snapshot<Uint8Array, Uint8Array> {
  if (typeof snapshot !== "object" || snapshot === null || !inner.has(snapshot)) {
    throw new TypeError("The snapshot option must be a snapshot of a SiltLevel database (from db.snapshot())");
  }
  const s = inner.get(snapshot);
  if (s === undefined) {
    throw new SiltLevelError("LEVEL_SNAPSHOT_NOT_OPEN", "Snapshot is not open: cannot use snapshot after close()");
  }
  return s;
}
