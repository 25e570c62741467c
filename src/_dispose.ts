// The symbols of explicit resource management (`using`, `await using`),
// where the runtime has them, else the names polyfills and TypeScript's
// downlevel helpers use.

/**
 * `Symbol.dispose`, or `Symbol.for("Symbol.dispose")` where the runtime has
 * none (the name polyfills and TypeScript's downlevel helpers use).
 *
 * @example
 * ```ts
 * class Handle {
 *   [DISPOSE](): void {}
 * }
 * ```
 */
export const DISPOSE: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for("Symbol.dispose")) as typeof Symbol.dispose;

/**
 * `Symbol.asyncDispose`, or `Symbol.for("Symbol.asyncDispose")` where the runtime has none.
 *
 * @example
 * ```ts
 * class Resource {
 *   async [ASYNC_DISPOSE](): Promise<void> {}
 * }
 * ```
 */
export const ASYNC_DISPOSE: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose ?? Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;
