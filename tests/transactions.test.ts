// Conditional batches and transactions (issue 19): batch().check() commits
// only when every checked key is still at its version; db.transaction()
// reads at a snapshot with its own writes on top and commits atomically,
// validated at the moment the writer stamps it. The model test runs many
// concurrent transactions over few keys — transfers that must conserve a
// total, unique inserts, inserts bounded by a count of their range (write
// skew and phantoms) — with reopens between rounds and tiny memtables (so
// flushes and compactions run under them), on disk and in a bucket, and
// checks every round against a serial model.

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Db, MemoryObjectStore, MemoryStorage, open, SiltError, type Transaction } from "../mod.ts";
import { fcRuns, rejectsWith, tempDir, TINY } from "./_harness.ts";

async function withDb(fn: (db: Db<string, unknown>) => Promise<void>, options: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir();
  const db = await open(dir, { keyEncoding: "utf8", valueEncoding: "json", ...options }) as Db<string, unknown>;
  try {
    await fn(db);
  } finally {
    if (db.status === "open") await db.close();
    cleanup();
  }
}

test("batch check: commits only while every checked key is at its version (null: absent)", async () => {
  await withDb(async (db) => {
    assert.deepEqual(await db.batch().check("a", null).put("a", 1).write(), { ok: true, sequence: 1 });
    assert.deepEqual(await db.batch().check("a", null).put("a", 2).write(), { ok: false });
    assert.equal(await db.get("a"), 1, "a failed check writes nothing");
    const { version } = await db.getEntry("a");
    const r = await db.batch().check("a", version!).check("b", null).put("a", 3).put("b", 4).write();
    assert.equal(r.ok, true);
    assert.deepEqual(await db.getMany(["a", "b"]), [3, 4]);
    await db.delete("b");
    assert.equal((await db.batch().check("b", null).put("c", 1).write()).ok, true, "a deleted key is absent");
    assert.equal((await db.batch().check("a", version!).put("a", 9).write()).ok, false, "an old version fails");
    // A check with no writes still says whether it holds.
    const now = (await db.getEntry("a")).version!;
    assert.deepEqual(await db.batch().check("a", now).write(), { ok: true, sequence: db.sequence });
  });
});

test("batch check: a write stamped but not yet applied (same tick) fails the check", async () => {
  await withDb(async (db) => {
    await db.put("k", 0);
    const { version } = db.getEntrySync("k");
    const pending = db.put("k", 1); // not awaited: its group is written at the next microtask
    const checked = db.batch().check("k", version!).put("k", 2).write();
    await pending;
    assert.deepEqual(await checked, { ok: false });
    assert.equal(await db.get("k"), 1);
  });
});

test("batch check: bad versions and keys are refused before anything is written", async () => {
  await withDb(async (db) => {
    for (const bad of [-1, 1.5, NaN, "1", undefined, 2 ** 60]) {
      assert.throws(
        () => db.batch().check("a", bad as unknown as number),
        (err: unknown) => err instanceof SiltError && err.code === "INVALID_ARGUMENT" && /version/.test(err.message),
      );
    }
    assert.throws(() => db.batch().check(42 as unknown as string, null), /check key/);
    const batch = db.batch().put("a", 1);
    await batch.write();
    assert.throws(() => batch.check("a", null), (err: unknown) => (err as SiltError).code === "CLOSED");
    assert.equal(db.sequence, 1);
  });
});

test("transaction: reads its own writes; gets, has, count and scans merge them in; commit is atomic", async () => {
  await withDb(async (db) => {
    await db.batch().put("u:1", "a").put("u:3", "c").put("u:5", "e").write();
    const result = await db.transaction(async (tx) => {
      tx.put("u:2", "b").delete("u:3").put("u:5", "E").put("u:6", "f");
      assert.equal(await tx.get("u:2"), "b");
      assert.equal(await tx.get("u:3"), undefined);
      assert.equal(await tx.has("u:3"), false);
      assert.deepEqual(await tx.getMany(["u:1", "u:5", "u:9"]), ["a", "E", undefined]);
      const all = [];
      for await (const e of tx.scan({ prefix: "u:" })) all.push(e);
      assert.deepEqual(all, [["u:1", "a"], ["u:2", "b"], ["u:5", "E"], ["u:6", "f"]]);
      assert.deepEqual([...tx.scanSync({ reverse: true, limit: 3 })], [["u:6", "f"], ["u:5", "E"], ["u:2", "b"]]);
      assert.deepEqual([...tx.scanSync({ gt: "u:2", lte: "u:5" })], [["u:5", "E"]]);
      assert.equal(await tx.count({ prefix: "u:" }), 4);
      assert.equal(await db.get("u:2"), undefined, "nothing is visible outside before commit");
      return "done";
    });
    assert.equal(result, "done");
    assert.deepEqual(await db.scan().toArray(), [["u:1", "a"], ["u:2", "b"], ["u:5", "E"], ["u:6", "f"]]);
    const versions = await Promise.all(["u:2", "u:5", "u:6"].map(async (k) => (await db.getEntry(k)).version!));
    const first = Math.min(...versions);
    assert.ok(versions.every((v) => v - first <= 3), "one batch of 4 writes: consecutive sequences");
    assert.equal(db.sequence, first + 3);
  });
});

test("transaction: a body that throws writes nothing; an aborted signal gives ABORTED; options are checked", async () => {
  await withDb(async (db) => {
    await assert.rejects(
      db.transaction((tx) => {
        tx.put("a", 1);
        throw new Error("no");
      }),
      /no/,
    );
    assert.equal(await db.get("a"), undefined);
    const controller = new AbortController();
    await rejectsWith("ABORTED", () =>
      db.transaction(async (tx) => {
        tx.put("a", 1);
        await Promise.resolve();
        controller.abort();
      }, { signal: controller.signal }));
    assert.equal(await db.get("a"), undefined);
    await rejectsWith("INVALID_ARGUMENT", () => db.transaction(() => {}, { isolation: "none" as "snapshot" }));
    await rejectsWith("INVALID_ARGUMENT", () => db.transaction(() => {}, { retries: -1 }));
    await rejectsWith("INVALID_ARGUMENT", () => db.transaction(() => {}, { nope: 1 } as never));
    await rejectsWith("INVALID_ARGUMENT", () => db.transaction(42 as never));
    await rejectsWith("INVALID_ARGUMENT", () => db.transactionSync(async () => {}));
    await rejectsWith("INVALID_ARGUMENT", () => db.transaction((tx) => void tx.put("a", undefined as never)));
    assert.equal(db.sequence, 0, "nothing was written");
    let kept: { put(k: string, v: unknown): unknown } | undefined;
    await db.transaction((tx) => void (kept = tx));
    assert.throws(() => kept!.put("late", 1), (err: unknown) => (err as SiltError).code === "CLOSED");
  });
});

test("transaction: concurrent increments all land (conflicts retried); CONFLICT once retries run out", async () => {
  await withDb(async (db) => {
    await db.put("n", 0);
    const increment = () =>
      db.transaction(async (tx) => {
        const n = (await tx.get("n")) as number;
        await new Promise((r) => setTimeout(r, 1));
        tx.put("n", n + 1);
      }, { retries: 1000 });
    await Promise.all(Array.from({ length: 25 }, increment));
    assert.equal(await db.get("n"), 25);
    const both = await Promise.allSettled([0, 1].map((i) =>
      db.transaction(async (tx) => {
        const n = (await tx.get("n")) as number;
        await new Promise((r) => setTimeout(r, 5));
        tx.put("n", n + 100 * (i + 1));
      }, { retries: 0 })
    ));
    const failed = both.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 1);
    assert.equal(((failed[0] as PromiseRejectedResult).reason as SiltError).code, "CONFLICT");
    assert.ok([125, 225].includes(await db.get("n") as number));
  });
});

test("transaction: serializable prevents write skew; snapshot isolation allows it", async () => {
  for (const isolation of ["serializable", "snapshot"] as const) {
    await withDb(async (db) => {
      await db.batch().put("x", 50).put("y", 50).write();
      // Each withdraws 80 from its account if x + y >= 80 (the classic write skew).
      const withdraw = (account: "x" | "y") =>
        db.transaction(async (tx) => {
          const total = (await tx.get("x") as number) + (await tx.get("y") as number);
          await new Promise((r) => setTimeout(r, 5));
          if (total >= 80) tx.put(account, (await tx.get(account) as number) - 80);
        }, { isolation, retries: 5 });
      await Promise.all([withdraw("x"), withdraw("y")]);
      const sum = (await db.get("x") as number) + (await db.get("y") as number);
      if (isolation === "serializable") assert.equal(sum, 20, "one withdrawal only");
      else assert.equal(sum, -60, "both went through (write skew)");
    });
  }
});

test("transactionSync: runs with nothing in between, so it commits at once; its result and sequence", async () => {
  await withDb(async (db) => {
    const ids = await Promise.all(Array.from({ length: 50 }, () =>
      db.transactionSync((tx) => {
        const next = (tx.getSync("id") as number ?? 0) + 1;
        tx.put("id", next).put(`item:${next}`, true);
        return next;
      }, { retries: 0 })));
    assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.equal(await db.count({ prefix: "item:" }), 50);
    const sequence = await db.transaction(async (tx) => {
      tx.put("z", 1);
      return await tx.commit();
    });
    assert.equal((await db.getEntry("z")).version, sequence);
  });
});

test("transaction: sync: true holds when the body commits itself (found by the simulation)", async () => {
  // tx.commit() without options committed with the database's default
  // (unsynced), and the transaction, asked for sync: true, resolved on that
  // commit: a crash of the machine then lost an acknowledged transaction.
  const fs = new MemoryStorage();
  let db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  await db.transaction(async (tx) => {
    tx.put("a", "1");
    await tx.commit();
  }, { sync: true });
  await db.transactionSync((tx) => {
    tx.put("b", "2");
    void tx.commit();
  }, { sync: true });
  fs.crash({ unsynced: "drop" });
  await db.close().catch(() => {});
  db = await open("/db", { fs, keyEncoding: "utf8", valueEncoding: "utf8" });
  assert.deepEqual(db.scanSync().toArray(), [["a", "1"], ["b", "2"]]);
  await db.close();
});

test("transaction: a body reading after the database closed gets CLOSED (found by the simulation)", async () => {
  // Its snapshot was released by close(), and the read failed with RELEASED
  // ("the snapshot was released"): a snapshot the user never had.
  const reads = [
    (tx: Transaction) => tx.get("a"),
    (tx: Transaction) => tx.getEntry("a"),
    (tx: Transaction) => tx.scan().next(),
    (tx: Transaction) => tx.count(),
  ];
  for (const read of reads) {
    const db = await open("/db", { fs: new MemoryStorage(), keyEncoding: "utf8", valueEncoding: "utf8" });
    await db.put("a", "1");
    const run = db.transaction(async (tx) => {
      await db.close();
      await read(tx as unknown as Transaction);
    });
    await rejectsWith("CLOSED", () => run);
  }
  // Closed in the middle of a scan.
  const db = await open("/db", { fs: new MemoryStorage(), keyEncoding: "utf8", valueEncoding: "utf8" });
  await db.batch().put("a", "1").put("b", "2").write();
  const run = db.transaction(async (tx) => {
    for await (const _ of tx.scan()) await db.close();
  });
  await rejectsWith("CLOSED", () => run);
});

// ---- The model test -------------------------------------------------------

type Job =
  | { kind: "transfer"; from: number; to: number; amount: number }
  | { kind: "unique"; name: number; owner: number }
  | { kind: "bounded"; slot: number }
  | { kind: "put"; account: number };

const ACCOUNTS = 5;
const START = 100;
const BOUND = 3;
const job: fc.Arbitrary<Job> = fc.oneof(
  fc.record({
    kind: fc.constant("transfer" as const),
    from: fc.nat(ACCOUNTS - 1),
    to: fc.nat(ACCOUNTS - 1),
    amount: fc.integer({ min: 1, max: 60 }),
  }),
  fc.record({ kind: fc.constant("unique" as const), name: fc.nat(3), owner: fc.nat(1000) }),
  fc.record({ kind: fc.constant("bounded" as const), slot: fc.nat(20) }),
  fc.record({ kind: fc.constant("put" as const), account: fc.nat(ACCOUNTS - 1) }),
);
const rounds = fc.array(fc.array(job, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 });

const acct = (n: number) => `acct:${n}`;

for (const where of ["disk", "bucket"] as const) {
  test(`transactions model (${where}): concurrent transfers, unique inserts and bounded inserts against a serial model, with reopens`, async () => {
    await fc.assert(
      fc.asyncProperty(rounds, fc.constantFrom("serializable" as const, "snapshot" as const), async (list, iso) => {
        const { dir, cleanup } = tempDir();
        const store = new MemoryObjectStore();
        const options = { ...TINY, keyEncoding: "utf8", valueEncoding: "json", objectStore: store } as const;
        const reopen = () =>
          (where === "disk"
            ? open(dir, { ...options, objectStore: undefined })
            : open("memory://tx-model/", options)) as Promise<Db<string, unknown>>;
        let db = await reopen();
        try {
          const init = db.batch();
          for (let i = 0; i < ACCOUNTS; i++) init.put(acct(i), START);
          await init.write();
          const owners = new Map<string, number>(); // unique name -> owner: once set, never changes
          let overdrawn = false;
          for (const round of list) {
            const results = await Promise.allSettled(round.map((j, i) =>
              db.transaction(async (tx) => {
                await new Promise((r) => setTimeout(r, i % 3));
                if (j.kind === "transfer") {
                  const from = await tx.get(acct(j.from)) as number;
                  if (j.from === j.to || from < j.amount) return false;
                  const to = await tx.get(acct(j.to)) as number;
                  tx.put(acct(j.from), from - j.amount).put(acct(j.to), to + j.amount);
                  return true;
                }
                if (j.kind === "unique") {
                  if (await tx.has(`name:${j.name}`)) return false;
                  tx.put(`name:${j.name}`, j.owner);
                  return true;
                }
                if (j.kind === "bounded") {
                  // At most BOUND slots: a read of the range, then an insert (a phantom under snapshot isolation).
                  if (await tx.count({ prefix: "slot:" }) >= BOUND) return false;
                  tx.put(`slot:${String(j.slot).padStart(2, "0")}`, true);
                  return true;
                }
                // A blind rewrite of an account's own balance: conflicts with transfers touching it.
                tx.put(acct(j.account), await tx.get(acct(j.account)) as number);
                return true;
              }, { isolation: iso, retries: 200 })
            ));
            for (const r of results) assert.equal(r.status, "fulfilled", String((r as PromiseRejectedResult).reason));
            // The serial model: balances conserved and never negative; a unique name keeps its first owner.
            let total = 0;
            for (let i = 0; i < ACCOUNTS; i++) {
              const balance = await db.get(acct(i)) as number;
              total += balance;
              if (balance < 0) overdrawn = true;
            }
            assert.equal(total, ACCOUNTS * START, "transfers conserve the total");
            assert.equal(overdrawn, false, "no account is overdrawn (each transfer checks its balance)");
            for (const [k, v] of await db.scan({ prefix: "name:" }).toArray()) {
              if (owners.has(k)) assert.equal(v, owners.get(k), `${k} keeps its first owner`);
              else owners.set(k, v as number);
            }
            const slots = await db.count({ prefix: "slot:" });
            if (iso === "serializable") assert.ok(slots <= BOUND, `${slots} slots: no phantom`);
            await db.close();
            db = await reopen();
          }
        } finally {
          if (db.status === "open") await db.close();
          cleanup();
        }
      }),
      { numRuns: fcRuns(12) },
    );
  });
}

test("transactions in a bucket: conflicts are found while the writes they race are still uploading", async () => {
  const store = new MemoryObjectStore({ latencyMs: 5 });
  const db = await open("memory://tx-latency/", { objectStore: store, keyEncoding: "utf8", valueEncoding: "json" });
  try {
    await db.put("n", 0);
    await Promise.all(Array.from({ length: 12 }, () =>
      db.transaction(async (tx) => {
        tx.put("n", (await tx.get("n") as number) + 1);
      }, { retries: 500 })));
    assert.equal(await db.get("n"), 12);
    const { version } = await db.getEntry("n");
    const racing = db.put("n", -1); // in flight for a while
    assert.deepEqual(await db.batch().check("n", version!).put("n", 99).write(), { ok: false });
    await racing;
  } finally {
    await db.close();
  }
});

test("regression: compare-and-set loops of conditional batches make progress while the log rotates (no livelock)", {
  timeout: 120_000,
}, async () => {
  // Old code: a check failed on a write stamped but not yet applied, and a loop retrying at once ran on
  // microtasks only, so the I/O that would apply that write never ran (a tiny memtable: the log rotates
  // and the next group waits for the previous log's sync).
  await withDb(async (db) => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      let done = 0;
      const loop = async () => {
        while (done < 2000) {
          const { value, version } = await db.getEntry("counter");
          const next = ((value as number | undefined) ?? 0) + 1;
          const r = await db.batch().check("counter", version ?? null).put("counter", next).put(`c:${next}`, 1).write();
          if (r.ok) done++;
        }
      };
      await Promise.all([loop(), loop(), loop()]);
      assert.equal(await db.get("counter"), await db.count({ prefix: "c:" }));
      assert.ok(ticks > 0, "timers ran while the loops did");
    } finally {
      clearInterval(timer);
    }
  }, { memtableSize: 8192, targetFileSize: 16384 });
});
