// Types of scripts/serve.mjs (for tsc and deno check of the files importing it).

/** Content types by file extension. */
export declare const MIME_TYPES: Record<string, string>;

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** Port to listen on; 0 (default): any free port. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1 (a secure context for the browser, as OPFS needs). */
  host?: string;
  /** Directory served. Default: the repository root. */
  root?: string;
}

/** A running server. */
export interface Server {
  /** Its origin, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  /** Stops it (open connections are closed). */
  close(): Promise<void>;
}

/** Starts the static server; resolves once it listens. */
export declare function serve(options?: ServeOptions): Promise<Server>;
