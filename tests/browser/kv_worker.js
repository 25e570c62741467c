// A dedicated module worker for tests/browser.test.ts: siltdb/kv in the
// browser (openKv from the siltdb/browser entry, on OPFS). "write" stores
// entries (sets, an atomic commit with a check and a sum, an expiring
// entry) and reports what it read back; "read" reopens and reports what
// persisted; "watch" reports the first two states a watch gives.
import { KvU64, openKv } from "/dist/browser.js";

const run = {
  async write(name) {
    const kv = await openKv(name);
    await kv.set(["users", "alice"], { name: "Alice", born: new Date(0), tags: new Set(["a"]) });
    await kv.set(["users", "bob"], "Bob");
    const bob = await kv.get(["users", "bob"]);
    const ok = await kv.atomic().check(bob).set(["users", "bob"], "Bobby").sum(["hits"], 5n).commit();
    const stale = await kv.atomic().check(bob).set(["users", "bob"], "stale").commit();
    await kv.set(["tmp"], 1, { expireIn: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const list = [];
    for await (const e of kv.list({ prefix: ["users"] })) {
      list.push([e.key, e.value instanceof Object ? "object" : e.value]);
    }
    const out = {
      ok: ok.ok,
      stale: stale.ok,
      versionstamp: typeof ok.versionstamp === "string" && ok.versionstamp.length === 20,
      list,
      tmp: (await kv.get(["tmp"])).value,
      hits: (await kv.get(["hits"])).value.value.toString(),
    };
    kv.close();
    return out;
  },
  async read(name) {
    const kv = await openKv(name);
    const alice = (await kv.get(["users", "alice"])).value;
    const out = {
      bob: (await kv.get(["users", "bob"])).value,
      alice: { name: alice.name, born: alice.born.getTime(), tags: [...alice.tags] },
      hits: (await kv.get(["hits"])).value instanceof KvU64,
    };
    kv.close();
    return out;
  },
  async watch(name) {
    const kv = await openKv(name);
    const reader = kv.watch([["w"]]).getReader();
    const first = await reader.read();
    await kv.set(["w"], "x");
    const second = await reader.read();
    await reader.cancel();
    kv.close();
    return [first.value[0].value, second.value[0].value];
  },
};

self.onmessage = async (event) => {
  const { op, name } = event.data;
  try {
    self.postMessage({ ok: true, result: await run[op](name) });
  } catch (err) {
    self.postMessage({ ok: false, error: { name: err?.name, code: err?.code, message: String(err?.message ?? err) } });
  }
};
self.postMessage({ ready: true });
