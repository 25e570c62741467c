// @ts-self-types="./serve.d.mts"
// A tiny static file server (node:http) for the browser example and the
// browser tests: it serves the repository root, with the MIME types a browser
// needs for ES modules and WebAssembly. No COOP/COEP headers: siltdb on OPFS
// does not need them. Runs in Node, Deno and Bun.
//
//   node scripts/serve.mjs [port]     port 0 (default): any free port
//   npm run serve:example             then open the printed example URL
//
// Tests import serve() and start it in-process on an ephemeral port.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Content types by file extension. */
export const MIME_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** The file a request path names under root (a directory: its index.html), or undefined if it is outside root. */
function fileFor(root, pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const path = normalize(join(root, decoded));
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  return path;
}

/**
 * Starts the server; resolves once it listens.
 *
 * @param {{ port?: number, host?: string, root?: string, quiet?: boolean }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export function serve(options = {}) {
  const root = resolve(options.root ?? ROOT);
  const host = options.host ?? "127.0.0.1";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    let path = fileFor(root, url.pathname);
    if (path === undefined) return send(403, "forbidden\n");
    let stat;
    try {
      stat = statSync(path);
      if (stat.isDirectory()) {
        if (!url.pathname.endsWith("/")) {
          res.writeHead(301, { location: `${url.pathname}/${url.search}` });
          return res.end();
        }
        path = join(path, "index.html");
        stat = statSync(path);
      }
    } catch {
      return send(404, `not found: ${url.pathname}\n`);
    }
    if (!stat.isFile()) return send(404, `not found: ${url.pathname}\n`);
    res.writeHead(200, {
      "content-type": MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
      "content-length": stat.size,
      "cache-control": "no-store",
    });
    if (req.method === "HEAD") return res.end();
    const stream = createReadStream(path);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : Number(options.port ?? 0);
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      resolvePromise({
        url,
        port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const arg = process.argv[2] ?? "0";
  const port = Number(arg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`usage: node scripts/serve.mjs [port]   (got ${JSON.stringify(arg)})`);
    process.exit(2);
  }
  const { url } = await serve({ port });
  console.log(`serving ${ROOT} at ${url}/`);
  console.log(`example: ${url}/examples/browser/   (auto-run: ${url}/examples/browser/?auto=1)`);
  console.log("(build dist/browser.js first: node scripts/build.mjs; Ctrl-C stops)");
}
