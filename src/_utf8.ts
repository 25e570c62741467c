// UTF-8 encoding into an existing buffer, with a fast path for short ASCII
// strings (a plain loop beats TextEncoder.encodeInto's call overhead there).

const encoder = new TextEncoder();

/**
 * Writes text as UTF-8 into target at `at` (room for text.length * 3 bytes
 * must be there) and returns the number of bytes written.
 *
 * @example
 * ```ts
 * const buffer = new Uint8Array("key".length * 3);
 * const n = encodeUtf8Into("key", buffer, 0); // 3
 * ```
 */
export function encodeUtf8Into(text: string, target: Uint8Array, at: number): number {
  const n = text.length;
  if (n < 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      target[at + i] = c;
    }
    if (i === n) return n;
  }
  return encoder.encodeInto(text, target.subarray(at, at + n * 3)).written;
}
