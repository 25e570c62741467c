/**
 * siltdb: an embedded, persistent, ordered key-value store (a log-structured
 * merge tree) for Deno, Bun and Node, with a WebAssembly core and no native
 * bindings.
 *
 * @example
 * ```ts
 * import { open } from "siltdb";
 *
 * const db = await open("./data", { keyEncoding: "utf8", valueEncoding: "utf8" });
 * await db.put("user:1", "alice", { sync: true });
 * console.log(await db.get("user:1"));                 // "alice"
 * await db.batch().put("user:2", "bob").delete("user:1").write();
 * for await (const [key, value] of db.scan({ gte: "user:", lt: "user;" })) {
 *   console.log(key, value);                           // user:2 bob
 * }
 * await db.close();
 * ```
 *
 * @module
 */

export { Db } from "./src/db.ts";
export { type Decoded, open, type TypedJsonOptions } from "./src/open.ts";
export { CLEAR_BATCH_BYTES, type ClearOptions } from "./src/write/writer.ts";
export type { CompactionEvent, DbEvent, DbEventMap, FlushEvent, StallEvent, StallReason } from "./src/events.ts";
export type { BucketStats, DbStats } from "./src/stats.ts";
export { Reads } from "./src/read/reads.ts";
export type { Entry } from "./src/read/reader.ts";
export { VERSION } from "./src/package_version.ts";
export type { EncodingName } from "./src/encoding.ts";
export { SiltError, type SiltErrorCode, type SiltErrorLocation } from "./src/errors.ts";
export type { RangeOptions } from "./src/read/range.ts";
export type { ScanOptions } from "./src/read/scan_options.ts";
export { Scan, ScanIterator, ScanIteratorSync, ScanSync } from "./src/read/scan_iterator.ts";
export type { CloneSource, ExpiryOptions, OpenOptions, WriteOptions } from "./src/options.ts";
export type { CompactionDecision, CompactionFilter, CompactionFilterContext } from "./src/compaction/filter.ts";
export type { Compression } from "./src/format/table_format.ts";
export { Snapshot } from "./src/read/snapshot.ts";
export { type BatchOperation, type BatchResult, WriteBatch } from "./src/write/write_batch.ts";
export { type Isolation, Transaction } from "./src/transaction/transaction.ts";
export type { TransactionOptions } from "./src/transaction/run.ts";
export type { Change, ChangesOptions, KeyChange, RangeDeleteChange } from "./src/changes/change_feed.ts";
export { TransactionalDb } from "./src/db_transactions.ts";
export { BackupDb, type CopyOptions, type WaitOptions } from "./src/db_backups.ts";
export type { CheckpointInfo } from "./src/backup/checkpoint.ts";
export type { BackupResult } from "./src/backup/backup.ts";
export type { BackupInfo } from "./src/backup/backup_format.ts";
export { type BackupOptions, listBackups, purgeOldBackups, restoreBackup } from "./src/backup/restore.ts";
export type { LockOptions, OpenFileOptions, Storage, StorageFile, StorageLock } from "./src/storage/storage.ts";
export { defaultStorage } from "./src/storage/default_storage.ts";
export { NodeStorage } from "./src/storage/node_storage.ts";
export { DenoStorage } from "./src/storage/deno_storage.ts";
export {
  type CrashOptions,
  type Fault,
  type FaultOp,
  MemoryStorage,
  type UnsyncedFate,
} from "./src/storage/memory_storage.ts";
export { type Problem, type VerifiedFile, verify, type VerifyOptions, type VerifyReport } from "./src/tools/verify.ts";
export {
  type BucketVerifyReport,
  type OrphanObject,
  type VerifiedObject,
  verifyBucket,
  type VerifyBucketOptions,
} from "./src/tools/verify_bucket.ts";
export {
  type LostBlock,
  type LostRecord,
  type LostTable,
  repair,
  type RepairedTable,
  type RepairOptions,
  type RepairReport,
} from "./src/tools/repair.ts";
export type {
  ByteRange,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutOutcome,
  StoredObject,
} from "./src/object_store/object_store.ts";
export {
  type MemoryClient,
  type MemoryClientOptions,
  MemoryObjectStore,
  type MemoryObjectStoreOptions,
  type ObjectChange,
  type ObjectFault,
  type ObjectOp,
} from "./src/object_store/memory_object_store.ts";
export { type ObjectStoreOptions, S3ObjectStore } from "./src/object_store/s3_object_store.ts";
export type { S3Config } from "./src/object_store/s3_transport.ts";
export { DiskCache, type DiskCacheOptions, type DiskCacheStats } from "./src/object_store/disk_cache.ts";
export {
  type RequestCounters,
  ResilientStore,
  type RetryOptions,
  TransientError,
  type Transport,
} from "./src/object_store/resilient_store.ts";
export { Compactor, type CompactorOptions, type CompactorStats, runCompactor } from "./src/remote_compactor.ts";
export { collectGarbage, type GarbageOptions } from "./src/bucket_gc.ts";
export { type CheckpointOptions, deleteCheckpoint, listCheckpoints } from "./src/bucket_checkpoints.ts";
export type { BucketCheckpoint } from "./src/object_store/bucket_checkpoints.ts";
export type { SweepReport } from "./src/object_store/bucket_collector.ts";
