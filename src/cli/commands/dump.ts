// The inspection commands: dump-wal, dump-sst, dump-manifest (one file each).

export { dumpWal } from "./dump_wal.ts";
export { dumpSst } from "./dump_sst.ts";
export { dumpManifest } from "./dump_manifest.ts";
