/**
 * The siltdb version (kept equal to package.json's by a test).
 *
 * @example
 * ```ts
 * import { VERSION } from "siltdb";
 * console.log(`siltdb ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
