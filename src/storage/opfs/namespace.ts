// The names of OpfsStorage's virtual file system: which virtual path is held
// by what (a slot), and its directories. Pure bookkeeping: no OPFS call, no
// I/O, no errors thrown; OpfsStorage turns its answers into IO_ERRORs.
//
// Paths are normalized, absolute POSIX paths ("/db/000005.sst"). A
// directory exists when a file lies below it (it is implied by the file's
// path, and so survives a restart: slot headers store file paths) or when
// mkdir made it; an empty directory lives in memory only (it needs no slot,
// and nothing is lost if it vanishes at a crash: open() recreates the
// database directory).
//
// May import: nothing of siltdb.

/**
 * Normalizes a path: absolute, no "." or ".." or empty segments.
 *
 * @example
 * ```ts
 * import { normalizePath } from "./namespace.ts";
 * console.log(normalizePath("db//./x/../000005.sst")); // "/db/000005.sst"
 * ```
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/**
 * The parent directory of a normalized path ("/" for "/" and its children).
 *
 * @example
 * ```ts
 * import { parentOf } from "./namespace.ts";
 * console.log(parentOf("/db/CURRENT"), parentOf("/db")); // "/db" "/"
 * ```
 */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * Virtual files (normalized path -> what holds it, T) and directories. Every
 * path handed in must be normalized ({@linkcode normalizePath}).
 *
 * @example
 * ```ts
 * import { Namespace } from "./namespace.ts";
 * const names = new Namespace<number>();
 * names.mkdir("/db");
 * names.setFile("/db/CURRENT", 7);
 * console.log(names.list("/db"), names.isDir("/db"), names.file("/db/CURRENT")); // ["CURRENT"] true 7
 * ```
 */
export class Namespace<T> {
  readonly #files = new Map<string, T>();
  readonly #dirs = new Set<string>(["/"]);

  /** What holds the file at path, or undefined when no file is there. */
  file(path: string): T | undefined {
    return this.#files.get(path);
  }

  /** True when a file (not a directory) is at path. */
  hasFile(path: string): boolean {
    return this.#files.has(path);
  }

  /** Puts a file at path (replacing any). Its directory must exist: the caller checks, or calls mkdir. */
  setFile(path: string, holder: T): void {
    this.#files.set(path, holder);
  }

  /** Takes the file at path away (its directories stay). */
  deleteFile(path: string): void {
    this.#files.delete(path);
  }

  /** True when path is a directory: made by mkdir, or a file lies below it. */
  isDir(path: string): boolean {
    if (this.#dirs.has(path)) return true;
    return this.#hasFileBelow(path);
  }

  /** Makes the directory and its parents exist (in memory). */
  mkdir(path: string): void {
    this.#addDirs(path);
  }

  /** Forgets the directory at path if nothing (file or directory) lies below it. */
  removeEmptyDir(path: string): void {
    if (this.#dirs.has(path) && !this.#hasFileBelow(path) && !this.#hasDirBelow(path)) this.#dirs.delete(path);
  }

  /** Names (not paths) of the files and directories directly in dir, sorted. */
  list(dir: string): string[] {
    const prefix = dir === "/" ? "/" : dir + "/";
    const names = new Set<string>();
    const add = (p: string) => {
      if (p.length > prefix.length && p.startsWith(prefix)) {
        const rest = p.slice(prefix.length);
        const i = rest.indexOf("/");
        names.add(i < 0 ? rest : rest.slice(0, i));
      }
    };
    for (const p of this.#files.keys()) add(p);
    for (const p of this.#dirs) add(p);
    return [...names].sort();
  }

  #addDirs(dir: string): void {
    let d = dir;
    while (!this.#dirs.has(d)) {
      this.#dirs.add(d);
      d = parentOf(d);
    }
  }

  #hasFileBelow(dir: string): boolean {
    const prefix = dir === "/" ? "/" : dir + "/";
    for (const path of this.#files.keys()) if (path.startsWith(prefix)) return true;
    return false;
  }

  #hasDirBelow(dir: string): boolean {
    const prefix = dir === "/" ? "/" : dir + "/";
    for (const d of this.#dirs) if (d.startsWith(prefix)) return true;
    return false;
  }
}
