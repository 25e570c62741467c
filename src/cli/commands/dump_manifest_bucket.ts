// siltdb dump-manifest s3://…: a manifest of a store in a bucket (the
// newest, or a given number). Each manifest object holds the whole state in
// one record (src/object_store/bucket_manifest.ts), so the edit shown is
// what this commit changed from the one before it (when that one is still
// kept), then the levels it holds, as the directory's dump shows them.

import { SiltError } from "../../errors.ts";
import { MANIFEST_DIR, manifestKey, numberOfKey } from "../../object_store/bucket_layout.ts";
import { type BucketState, decodeManifest, readManifest } from "../../object_store/bucket_manifest.ts";
import { listAll, type ObjectStore } from "../../object_store/object_store.ts";
import type { FileMeta } from "../../version/version_edit.ts";
import { formatBytes, formatCount } from "../display.ts";
import { addedFileLine, fileJson, levelLines } from "./_dump_common.ts";

/** The counters of a manifest an edit may change. */
const FIELDS = ["walStart", "nextFileNumber", "lastSequence", "writerEpoch", "compactorEpoch"] as const;
type Field = typeof FIELDS[number];
const FIELD_NAMES: Record<Field, string> = {
  walStart: "WAL start",
  nextFileNumber: "next file number",
  lastSequence: "last sequence",
  writerEpoch: "writer epoch",
  compactorEpoch: "compactor epoch",
};

/** What a manifest changed from the one before it. */
interface ManifestChanges {
  since: number;
  added: { level: number; file: FileMeta }[];
  deleted: { level: number; number: number }[];
  fields: { field: Field; from: number; to: number }[];
}

/** What dump-manifest found in a bucket. */
export interface BucketManifestDump {
  location: string;
  /** The manifest's key, relative to the location. */
  key: string;
  size: number;
  state: BucketState;
  /** The manifest numbers the bucket keeps (the collector deletes older ones). */
  kept: number[];
  /** Changes from the previous manifest; undefined for the first one or when it is gone. */
  changes: ManifestChanges | undefined;
}

function changesOf(before: BucketState, after: BucketState): ManifestChanges {
  const at = (s: BucketState) =>
    new Map(s.levels.flatMap((files, level) => files.map((file) => [`${level}/${file.number}`, { level, file }])));
  const old = at(before);
  const now = at(after);
  return {
    since: before.number,
    added: [...now].filter(([k]) => !old.has(k)).map(([, v]) => v),
    deleted: [...old].filter(([k]) => !now.has(k)).map(([, v]) => ({ level: v.level, number: v.file.number })),
    fields: FIELDS.filter((f) => before[f] !== after[f]).map((field) => ({
      field,
      from: before[field],
      to: after[field],
    })),
  };
}

/**
 * Reads manifest `number` of the store (the newest when undefined), the
 * numbers kept, and the changes from the previous one. NOT_FOUND when the
 * bucket holds no manifest or not that one; CORRUPTION (object, offset) when
 * it is damaged.
 *
 * @example
 * ```ts
 * import { S3ObjectStore } from "../../object_store/s3_object_store.ts";
 * const dump = await readBucketManifest(new S3ObjectStore("s3://my-bucket/db1"), undefined);
 * console.log(dump.state.number, dump.kept);
 * ```
 */
export async function readBucketManifest(store: ObjectStore, number: number | undefined): Promise<BucketManifestDump> {
  for (let attempt = 1;; attempt++) {
    const kept: number[] = [];
    for await (const o of listAll(store, MANIFEST_DIR)) {
      const n = numberOfKey(MANIFEST_DIR, o.key);
      if (n !== undefined) kept.push(n);
    }
    kept.sort((a, b) => a - b);
    if (kept.length === 0) {
      throw new SiltError("NOT_FOUND", `${store.location} holds no database (no manifest)`, { file: store.location });
    }
    const n = number ?? kept[kept.length - 1];
    const key = manifestKey(n);
    const got = await store.get(key);
    if (got === undefined) {
      // The newest is never collected; a listing that is behind is read again, a few times.
      if (number === undefined && attempt < 3) continue;
      throw new SiltError(
        "NOT_FOUND",
        `${store.location}${key}: no manifest ${n} (the bucket keeps ${kept[0]}..${kept[kept.length - 1]})`,
        { file: `${store.location}${key}` },
      );
    }
    const state = decodeManifest(`${store.location}${key}`, n, got.data);
    const before = n > 1 ? await readManifest(store, n - 1) : undefined;
    return {
      location: store.location,
      key,
      size: got.size,
      state,
      kept,
      changes: before && changesOf(before, state),
    };
  }
}

function keptRange(kept: number[]): string {
  return kept.length === 1 ? `${kept[0]}` : `${kept[0]}..${kept[kept.length - 1]}`;
}

/**
 * The dump as a person reads it.
 *
 * @example
 * ```ts
 * declare const dump: BucketManifestDump;
 * console.log(humanBucketManifest(dump, false));
 * ```
 */
export function humanBucketManifest(d: BucketManifestDump, hex: boolean): string {
  const s = d.state;
  const newest = s.number === d.kept[d.kept.length - 1];
  const lines = [
    `manifest ${s.number} of ${d.location}: ${d.key}, ${formatBytes(d.size)} (${
      newest ? "the newest" : "not the newest"
    }; ${d.kept.length} kept: ${keptRange(d.kept)})`,
    FIELDS.map((f) => `${FIELD_NAMES[f]} ${formatCount(s[f])}`).join("   "),
    "",
  ];
  const c = d.changes;
  if (c === undefined) {
    lines.push(s.number === 1 ? "the first manifest" : `changes: manifest ${s.number - 1} is not kept any more`);
  } else {
    const fields = c.fields.map((x) => `${FIELD_NAMES[x.field]} ${formatCount(x.from)} -> ${formatCount(x.to)}`);
    lines.push(`edit since manifest ${c.since}${fields.length > 0 ? `  ${fields.join("  ")}` : ""}`);
    for (const { level, file } of c.added) lines.push(addedFileLine(level, file, hex));
    for (const { level, number } of c.deleted) lines.push(`  - L${level} #${number}`);
    if (c.added.length + c.deleted.length + c.fields.length === 0) lines.push("  (nothing changed)");
  }
  lines.push("", "levels", ...levelLines(s.levels, hex));
  return `${lines.join("\n")}\n`;
}

/**
 * The dump as JSON (shape in the command's help).
 *
 * @example
 * ```ts
 * declare const dump: BucketManifestDump;
 * console.log(JSON.stringify(jsonBucketManifest(dump, false), null, 2));
 * ```
 */
export function jsonBucketManifest(d: BucketManifestDump, hex: boolean): unknown {
  const s = d.state;
  const c = d.changes;
  return {
    location: d.location,
    manifest: d.key,
    number: s.number,
    size: d.size,
    kept: d.kept,
    state: {
      ...Object.fromEntries(FIELDS.map((f) => [f, s[f]])),
      levels: s.levels.map((files, level) => ({
        level,
        files: files.map((f) => fileJson(f, hex)),
        bytes: files.reduce((n, f) => n + f.size, 0),
      })),
    },
    changes: c === undefined ? null : {
      since: c.since,
      added: c.added.map(({ level, file }) => ({ level, ...fileJson(file, hex) })),
      deleted: c.deleted,
      fields: Object.fromEntries(c.fields.map((x) => [x.field, { from: x.from, to: x.to }])),
    },
  };
}
