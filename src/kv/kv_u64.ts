// KvU64: Deno KV's unsigned 64-bit integer, the value type of the sum, min
// and max mutations. Frozen; it unboxes to its bigint (valueOf), so that
// `u64 + 1n` works; printed as [Deno.KvU64: 5n] by Deno.inspect and as
// [KvU64: 5n] by Node's util.inspect.

const MAX_U64 = 0xffffffffffffffffn;

/**
 * An unsigned 64-bit integer stored as itself (not as a structured value):
 * the operand and result of `sum`, `min` and `max`.
 *
 * @example
 * ```ts
 * import { KvU64, openKv } from "siltdb/kv";
 * const kv = await openKv(":memory:");
 * await kv.set(["visits"], new KvU64(41n));
 * await kv.atomic().sum(["visits"], 1n).commit();
 * const { value } = await kv.get<KvU64>(["visits"]);
 * console.log(value!.value); // 42n
 * kv.close();
 * ```
 */
export class KvU64 {
  /** The integer, 0 to 2^64 - 1. */
  readonly value: bigint;

  /**
   * Wraps value; a TypeError if it is not a bigint, a RangeError if it is
   * below 0 or above 2^64 - 1.
   *
   * @example
   * ```ts
   * import { KvU64 } from "siltdb/kv";
   * console.log(new KvU64(7n).toString()); // "7"
   * ```
   */
  constructor(value: bigint) {
    if (typeof value !== "bigint") throw new TypeError(`Value must be a bigint: received ${typeof value}`);
    if (value < 0n) throw new RangeError(`Value must be a positive bigint: received ${value}`);
    if (value > MAX_U64) throw new RangeError("Value must fit in a 64-bit unsigned integer");
    this.value = value;
    Object.freeze(this);
  }

  /**
   * The bigint: what `+`, `<` and friends see.
   *
   * @example
   * ```ts
   * import { KvU64 } from "siltdb/kv";
   * const n = new KvU64(1n);
   * console.log((n as unknown as bigint) + 1n); // 2n
   * ```
   */
  valueOf(): bigint {
    return this.value;
  }

  /**
   * The integer in decimal.
   *
   * @example
   * ```ts
   * import { KvU64 } from "siltdb/kv";
   * console.log(String(new KvU64(10n))); // "10"
   * ```
   */
  toString(): string {
    return this.value.toString();
  }

  /**
   * "Deno.KvU64", as Deno's own.
   *
   * @example
   * ```ts
   * import { KvU64 } from "siltdb/kv";
   * console.log(Object.prototype.toString.call(new KvU64(1n))); // "[object Deno.KvU64]"
   * ```
   */
  get [Symbol.toStringTag](): string {
    return "Deno.KvU64";
  }

  /**
   * How Deno.inspect prints it: `[Deno.KvU64: 1n]`.
   *
   * @example
   * ```ts
   * import { KvU64 } from "siltdb/kv";
   * console.log(Deno.inspect(new KvU64(1n))); // [Deno.KvU64: 1n]
   * ```
   */
  [Symbol.for("Deno.customInspect")](): string {
    return `[Deno.KvU64: ${this.value}n]`;
  }

  /**
   * How Node's util.inspect (and console.log in Node and Bun) prints it: `[KvU64: 1n]`.
   *
   * @example
   * ```ts
   * import { inspect } from "node:util";
   * import { KvU64 } from "siltdb/kv";
   * console.log(inspect(new KvU64(1n))); // [KvU64: 1n]
   * ```
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `[KvU64: ${this.value}n]`;
  }
}
