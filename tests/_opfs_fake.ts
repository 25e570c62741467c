// An in-memory fake of the Origin Private File System API surface that
// OpfsStorage uses, with a crash model, for tests in Node, Deno and Bun.
//
// - FileSystemDirectoryHandle: getFileHandle(name, { create }),
//   getDirectoryHandle(name, { create }), removeEntry(name),
//   entries()/values()/keys(). Directory entries are durable at once (OPFS
//   has no directory fsync; the adapter relies on none).
// - FileSystemFileHandle: createSyncAccessHandle(), exclusive as in
//   browsers: a second one while one is open rejects with
//   NoModificationAllowedError (so does removeEntry of such a file).
// - FileSystemSyncAccessHandle: read(buffer, { at }), write(buffer, { at }),
//   getSize(), truncate(n), flush(), close(). A write past the end extends the
//   file with zeros, as truncate to a larger size does.
//
// Crash model: a file's content is durable as of its last flush(). crash()
// reverts every file to that, optionally plus a prefix of the writes and
// truncates made since (in order, the last kept write possibly torn: only a
// prefix of its bytes), invalidates every open handle (InvalidStateError)
// and frees every Web Lock of the fake lock manager. crashAt(n) makes the
// n-th mutating call from now (write, truncate, flush; 0 = the next one)
// crash the "tab" before it takes effect (a write may be torn instead) and
// throw.

/** What happens at a crash to writes made since the last flush of each file. */
export type Unflushed = "drop" | "keep" | "prefix";

/** Options of {@linkcode OpfsFake.crash}. */
export interface FakeCrashOptions {
  /** "drop" (default): flushed content only. "keep": everything. "prefix": a random prefix of the ops, torn. */
  unflushed?: Unflushed;
  /** Random source in [0, 1). Default Math.random. */
  random?: () => number;
}

type Op = { kind: "write"; at: number; data: Uint8Array } | { kind: "truncate"; size: number };

function domError(name: string, message: string): Error {
  return new DOMException(message, name);
}

class Bytes {
  data = new Uint8Array(0);
  length = 0;

  view(): Uint8Array {
    return this.data.subarray(0, this.length);
  }

  resize(size: number): void {
    if (size > this.data.length) {
      const grown = new Uint8Array(Math.max(size, this.data.length * 2, 64));
      grown.set(this.view());
      this.data = grown;
    } else if (size < this.length) {
      this.data.fill(0, size, this.length);
    }
    this.length = size;
  }

  apply(op: Op): void {
    if (op.kind === "truncate") this.resize(op.size);
    else {
      if (op.at + op.data.length > this.length) this.resize(op.at + op.data.length);
      this.data.set(op.data, op.at);
    }
  }

  static of(bytes: Uint8Array): Bytes {
    const b = new Bytes();
    b.resize(bytes.length);
    b.data.set(bytes);
    return b;
  }
}

/** One file of the fake. */
export class FakeFile {
  current = new Bytes();
  flushed: Uint8Array = new Uint8Array(0);
  pending: Op[] = [];
  handle: FakeSyncAccessHandle | null = null;

  /** The file's bytes now. */
  bytes(): Uint8Array {
    return this.current.view().slice();
  }

  /** Flips the bits of the byte at `at`, durably (damage found on disk). */
  corrupt(at: number): void {
    this.current.data[at] ^= 0xff;
    this.flushed[at] ^= 0xff;
  }
}

/** A fake FileSystemSyncAccessHandle. */
export class FakeSyncAccessHandle {
  #open = true;
  constructor(private readonly fake: OpfsFake, private readonly file: FakeFile, private readonly epoch: number) {}

  #check(): FakeFile {
    if (!this.#open || this.epoch !== this.fake.epoch) {
      throw domError("InvalidStateError", "the access handle was closed or invalidated");
    }
    return this.file;
  }

  read(buffer: Uint8Array, options: { at?: number } = {}): number {
    const file = this.#check();
    const at = options.at ?? 0;
    const src = file.current.view();
    if (at >= src.length) return 0;
    const n = Math.min(buffer.length, src.length - at);
    buffer.set(src.subarray(at, at + n));
    return n;
  }

  write(buffer: Uint8Array, options: { at?: number } = {}): number {
    const file = this.#check();
    this.fake.stats.writes++;
    const op: Op = { kind: "write", at: options.at ?? 0, data: buffer.slice() };
    if (this.fake.tick()) {
      // Crash in the middle of this write: a random prefix of it may be kept.
      if (this.fake.tornAtCrash) {
        const n = Math.floor(this.fake.random() * (buffer.length + 1));
        const torn: Op = { kind: "write", at: op.at, data: op.data.subarray(0, n) };
        file.current.apply(torn);
        file.pending.push(torn);
      }
      this.fake.crashNow();
      throw domError("InvalidStateError", "crashed during write");
    }
    file.current.apply(op);
    file.pending.push(op);
    return buffer.length;
  }

  getSize(): number {
    return this.#check().current.length;
  }

  truncate(size: number): void {
    const file = this.#check();
    if (this.fake.tick()) {
      this.fake.crashNow();
      throw domError("InvalidStateError", "crashed during truncate");
    }
    const op: Op = { kind: "truncate", size };
    file.current.apply(op);
    file.pending.push(op);
  }

  flush(): void {
    const file = this.#check();
    this.fake.stats.flushes++;
    if (this.fake.tick()) {
      this.fake.crashNow();
      throw domError("InvalidStateError", "crashed during flush");
    }
    file.flushed = file.current.view().slice();
    file.pending = [];
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.epoch === this.fake.epoch && this.file.handle === this) this.file.handle = null;
  }
}

/** A fake FileSystemFileHandle. */
export class FakeFileHandle {
  readonly kind = "file" as const;
  constructor(private readonly fake: OpfsFake, readonly name: string, readonly file: FakeFile) {}

  createSyncAccessHandle(): Promise<FakeSyncAccessHandle> {
    if (this.file.handle !== null) {
      return Promise.reject(
        domError("NoModificationAllowedError", `${this.name} already has an open access handle`),
      );
    }
    const handle = new FakeSyncAccessHandle(this.fake, this.file, this.fake.epoch);
    this.file.handle = handle;
    return Promise.resolve(handle);
  }
}

type Entry = FakeFileHandle | FakeDirectoryHandle;

/** A fake FileSystemDirectoryHandle. */
export class FakeDirectoryHandle {
  readonly kind = "directory" as const;
  readonly children = new Map<string, Entry>();
  constructor(private readonly fake: OpfsFake, readonly name: string) {}

  getFileHandle(name: string, options: { create?: boolean } = {}): Promise<FakeFileHandle> {
    const entry = this.children.get(name);
    if (entry instanceof FakeDirectoryHandle) {
      return Promise.reject(domError("TypeMismatchError", `${name} is a directory`));
    }
    if (entry !== undefined) return Promise.resolve(entry);
    if (!options.create) return Promise.reject(domError("NotFoundError", `${name} not found`));
    if (this.fake.failCreates > 0) {
      this.fake.failCreates--;
      return Promise.reject(domError("QuotaExceededError", `no room to create ${name}`));
    }
    const handle = new FakeFileHandle(this.fake, name, new FakeFile());
    this.children.set(name, handle);
    return Promise.resolve(handle);
  }

  getDirectoryHandle(name: string, options: { create?: boolean } = {}): Promise<FakeDirectoryHandle> {
    const entry = this.children.get(name);
    if (entry instanceof FakeFileHandle) return Promise.reject(domError("TypeMismatchError", `${name} is a file`));
    if (entry !== undefined) return Promise.resolve(entry);
    if (!options.create) return Promise.reject(domError("NotFoundError", `${name} not found`));
    const dir = new FakeDirectoryHandle(this.fake, name);
    this.children.set(name, dir);
    return Promise.resolve(dir);
  }

  removeEntry(name: string): Promise<void> {
    const entry = this.children.get(name);
    if (entry === undefined) return Promise.reject(domError("NotFoundError", `${name} not found`));
    if (entry instanceof FakeFileHandle && entry.file.handle !== null) {
      return Promise.reject(domError("NoModificationAllowedError", `${name} has an open access handle`));
    }
    if (entry instanceof FakeDirectoryHandle && entry.children.size > 0) {
      return Promise.reject(domError("InvalidModificationError", `${name} is not empty`));
    }
    this.children.delete(name);
    return Promise.resolve();
  }

  async *entries(): AsyncIterableIterator<[string, Entry]> {
    for (const e of [...this.children]) {
      await Promise.resolve();
      yield e;
    }
  }

  async *values(): AsyncIterableIterator<Entry> {
    for await (const [, v] of this.entries()) yield v;
  }

  async *keys(): AsyncIterableIterator<string> {
    for await (const [k] of this.entries()) yield k;
  }

  /** Every file below this directory (for crash and inspection). */
  *files(): Generator<FakeFile> {
    for (const e of this.children.values()) {
      if (e instanceof FakeFileHandle) yield e.file;
      else yield* e.files();
    }
  }
}

/** A fake Web Locks manager (navigator.locks), freed by a crash of its fake. */
export class FakeLockManager {
  #held = new Map<string, { mode: "exclusive" | "shared"; count: number }>();

  request(
    name: string,
    options: { mode?: "exclusive" | "shared"; ifAvailable?: boolean },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown> {
    const mode = options.mode ?? "exclusive";
    const cur = this.#held.get(name);
    const free = cur === undefined || (mode === "shared" && cur.mode === "shared");
    if (!free) {
      if (!options.ifAvailable) return Promise.reject(new Error("the fake only supports ifAvailable"));
      return Promise.resolve(callback(null));
    }
    if (cur) cur.count++;
    else this.#held.set(name, { mode, count: 1 });
    const held = this.#held;
    const entry = held.get(name)!;
    const done = () => {
      if (held.get(name) === entry && --entry.count === 0) held.delete(name);
    };
    return Promise.resolve(callback({ name, mode })).finally(done);
  }

  /** Names held now. */
  get held(): string[] {
    return [...this.#held.keys()];
  }

  /** Forgets every lock (the holders died). */
  reset(): void {
    this.#held = new Map();
  }
}

/** The fake file system: a root directory plus crash control. */
export class OpfsFake {
  readonly root: FakeDirectoryHandle;
  readonly locks = new FakeLockManager();
  epoch = 0;
  random: () => number = Math.random;
  /** The next this many creating getFileHandle calls fail with QuotaExceededError. */
  failCreates = 0;
  /** Counters. */
  stats = { writes: 0, flushes: 0, crashes: 0 };
  #crashIn = -1;
  #crashOptions: FakeCrashOptions = {};
  /** @internal Whether the write that triggers a scheduled crash is torn. */
  tornAtCrash = false;

  constructor(name = "") {
    this.root = new FakeDirectoryHandle(this, name);
  }

  /**
   * Crashes: every file back to its flushed content (see
   * {@linkcode FakeCrashOptions}), every handle invalid, every fake Web Lock
   * free. Directory entries stay.
   */
  crash(options: FakeCrashOptions = {}): void {
    const fate = options.unflushed ?? "drop";
    const random = options.random ?? this.random;
    this.epoch++;
    this.stats.crashes++;
    this.#crashIn = -1;
    this.locks.reset();
    for (const file of this.root.files()) {
      file.handle = null;
      const b = Bytes.of(file.flushed);
      if (fate === "keep") { for (const op of file.pending) b.apply(op); }
      else if (fate === "prefix") {
        const k = Math.floor(random() * (file.pending.length + 1));
        for (let i = 0; i < k; i++) b.apply(file.pending[i]);
        const next = file.pending[k];
        if (next?.kind === "write") {
          const n = Math.floor(random() * (next.data.length + 1));
          b.apply({ kind: "write", at: next.at, data: next.data.subarray(0, n) });
        }
      }
      file.current = b;
      file.flushed = b.view().slice();
      file.pending = [];
    }
  }

  /**
   * Makes the n-th mutating call from now (write, truncate or flush of any
   * handle; 0 = the next) crash before it takes effect and throw
   * InvalidStateError. With `torn`, a write that crashes keeps a random
   * prefix of its bytes as an unflushed write (which `options.unflushed`
   * then decides about).
   */
  crashAt(n: number, options: FakeCrashOptions & { torn?: boolean } = {}): void {
    this.#crashIn = n;
    this.#crashOptions = options;
    this.tornAtCrash = options.torn ?? false;
  }

  /** Whether a crash is scheduled and not yet happened. */
  get crashPending(): boolean {
    return this.#crashIn >= 0;
  }

  /** @internal Counts a mutating call; true when it must crash. */
  tick(): boolean {
    if (this.#crashIn < 0) return false;
    if (this.#crashIn-- > 0) return false;
    return true;
  }

  /** @internal Performs the scheduled crash. */
  crashNow(): void {
    this.crash(this.#crashOptions);
  }

  /** Names of the files in the root directory. */
  names(): string[] {
    return [...this.root.children.keys()].sort();
  }
}
