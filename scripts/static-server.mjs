// A small static file server on 127.0.0.1 for the demo page, browser e2e tests and benchmarks.
// Serves the repository root; sends the headers a SharedWorker and service worker need.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8',
};

/**
 * Starts the server. `port` 0 picks a free one. Returns { url, port, close }.
 * `routes` may map a path to a handler (req, res) for dynamic endpoints; `headers(path)` returns
 * headers to add to a file's response (e.g. COOP/COEP, which make a page cross-origin isolated).
 */
export function startStaticServer({ port = 0, root = ROOT, routes = {}, headers = () => ({}) } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = routes[url.pathname];
    if (route) return route(req, res);
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    if (!file.startsWith(normalize(root + sep)) && file !== normalize(root)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st;
    try { st = statSync(file); } catch { res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`); return; }
    if (st.isDirectory()) { res.writeHead(302, { location: `${url.pathname}/` }).end(); return; }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': 'no-store',
      'service-worker-allowed': '/',
      ...headers(path),
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = server.address().port;
      resolve({ url: `http://127.0.0.1:${actual}`, port: actual, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}
