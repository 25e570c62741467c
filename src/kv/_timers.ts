// A timer that can be told not to keep the process alive, in every runtime
// (Node and Bun: unref(); Deno: Deno.unrefTimer). Delays are capped at one
// hour: whoever set the timer plans again when it fires.

const HOUR = 60 * 60 * 1000;

type Unref = { unref?: () => void };
const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;

/**
 * Calls fn after ms (at most an hour); keepAlive false lets the process exit
 * meanwhile. Returns the function that cancels it.
 *
 * @example
 * ```ts
 * const cancel = setTimer(() => console.log("later"), 1000, false);
 * cancel();
 * ```
 */
export function setTimer(fn: () => void, ms: number, keepAlive: boolean): () => void {
  const id = setTimeout(fn, Math.min(HOUR, Math.max(0, ms)));
  if (!keepAlive) {
    if (typeof id === "number") deno?.unrefTimer?.(id);
    else (id as Unref).unref?.();
  }
  return () => clearTimeout(id);
}
