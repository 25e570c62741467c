// siltdb checkpoint | backup | restore | backups: copies of a store
// (src/backup/). checkpoint and backup open the store read-only (so they
// work on a store no writer holds, and change nothing in it); a running
// program takes them with db.checkpoint() / db.backup() instead.

import { listBackups, restoreBackup } from "../../backup/restore.ts";
import { intFlag, type ParsedArgs } from "../args.ts";
import { type Command, EXIT_OK } from "../command.ts";
import { formatBytes, formatTable } from "../display.ts";
import { stdout } from "../io.ts";
import { openStore } from "../store.ts";

/**
 * `siltdb checkpoint <dir> <target>`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await checkpoint.run(parseArgs(["./data", "./data-copy"], checkpoint.args));
 * ```
 */
export const checkpoint: Command = {
  name: "checkpoint",
  summary: "write an openable copy of a store (tables hard-linked)",
  usage: "siltdb checkpoint <dir> <target>",
  help: `Writes a consistent copy of the store into <target> (which must not exist
or be empty): tables hard-linked where the file system allows (copied
otherwise), the log tail copied, a new manifest written, everything synced.
The copy opens as a store of its own. The store is opened read-only: no
writer may hold it (a running program calls db.checkpoint() instead).

example:
  siltdb checkpoint ./data ./data-2024-06-01`,
  args: { flags: {}, positionals: [2, 2] },
  async run(args: ParsedArgs): Promise<number> {
    const [dir, target] = args.positionals;
    const db = await openStore(dir, { write: false, command: "checkpoint" });
    try {
      const info = await db.checkpoint(target);
      await stdout.write(
        `checkpoint ${info.dir} at sequence ${info.sequence}: ${info.linked} tables linked, ${info.copied} copied\n`,
      );
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};

/**
 * `siltdb backup <dir> <backupDir>`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await backup.run(parseArgs(["./data", "./backups"], backup.args));
 * ```
 */
export const backup: Command = {
  name: "backup",
  summary: "add an incremental backup of a store to a backup directory",
  usage: "siltdb backup <dir> <backupDir>",
  help: `Backs the store up into <backupDir> (created if missing): tables the
directory holds already (from earlier backups) are not copied again. Each
backup gets an id (1, 2, ...); list them with \`siltdb backups\`, restore
with \`siltdb restore\`. The store is opened read-only: no writer may hold
it (a running program calls db.backup() instead).

example:
  siltdb backup ./data /mnt/backups/data`,
  args: { flags: {}, positionals: [2, 2] },
  async run(args: ParsedArgs): Promise<number> {
    const [dir, backupDir] = args.positionals;
    const db = await openStore(dir, { write: false, command: "backup" });
    try {
      const b = await db.backup(backupDir);
      await stdout.write(
        `backup ${b.id} at sequence ${b.sequence}: ${b.tablesCopied} tables copied, ${b.tablesShared} already there, ${
          formatBytes(b.bytes)
        }\n`,
      );
    } finally {
      await db.close();
    }
    return EXIT_OK;
  },
};

/**
 * `siltdb restore <backupDir> <target> [--id N]`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await restore.run(parseArgs(["./backups", "./restored", "--id", "3"], restore.args));
 * ```
 */
export const restore: Command = {
  name: "restore",
  summary: "restore a backup into a new store directory",
  usage: "siltdb restore <backupDir> <target> [--id N]",
  help: `Restores backup N (default: the latest) of <backupDir> into <target>, which
must not exist or be empty. Every file is checked against its checksum
first; a damaged one is reported by name and nothing is written.

options:
  --id N   the backup to restore (see \`siltdb backups\`)

example:
  siltdb restore /mnt/backups/data ./data-restored --id 3`,
  args: { flags: { id: "number" }, positionals: [2, 2] },
  async run(args: ParsedArgs): Promise<number> {
    const [backupDir, target] = args.positionals;
    const id = args.flags.id === undefined ? undefined : intFlag(args, "id", 0, 1);
    const b = await restoreBackup(backupDir, id, target);
    await stdout.write(`restored backup ${b.id} (sequence ${b.sequence}) into ${target}\n`);
    return EXIT_OK;
  },
};

/**
 * `siltdb backups <backupDir>`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "../args.ts";
 * const code = await backups.run(parseArgs(["./backups"], backups.args));
 * ```
 */
export const backups: Command = {
  name: "backups",
  summary: "list the backups of a backup directory",
  usage: "siltdb backups <backupDir> [--json]",
  help: `Lists the backups of <backupDir>: id, sequence, time taken and bytes.

options:
  --json   one JSON array

example:
  siltdb backups /mnt/backups/data`,
  args: { flags: { json: "boolean" }, positionals: [1, 1] },
  async run(args: ParsedArgs): Promise<number> {
    const list = await listBackups(args.positionals[0]);
    if (args.flags.json === true) {
      await stdout.write(`${JSON.stringify(list)}\n`);
      return EXIT_OK;
    }
    if (list.length === 0) {
      await stdout.write(`no backups in ${args.positionals[0]}\n`);
      return EXIT_OK;
    }
    const rows = list.map((
      b,
    ) => [String(b.id), String(b.sequence), new Date(b.time).toISOString(), formatBytes(b.bytes)]);
    await stdout.write(`${formatTable(["id", "sequence", "time", "bytes"], rows)}\n`);
    return EXIT_OK;
  },
};
