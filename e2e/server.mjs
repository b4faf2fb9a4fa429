// A tiny static server for dist/ on 127.0.0.1 that sends the strict
// Content-Security-Policy every pagelab page must work under.
//
//   node e2e/server.mjs [--dist DIR] [--port N] [--prefix /os/pagelab/]
//                                                   prints "http://127.0.0.1:PORT/PREFIX" when ready
//   import { serve } from './server.mjs'            for scripts (measure.mjs)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png',
};

/**
 * Serve `dist` on 127.0.0.1 (port 0: a free one), with the CSP unless `csp` is false
 * (for pages made by other tools, such as mdBook's, which have inline scripts of their own).
 * With a `prefix` such as `/os/pagelab/`, the site lives in that folder of the server, as
 * on a course site or a GitHub Pages project site, and nothing is served outside it.
 * Resolves to { url, close, requests }.
 */
export async function serve(dist, port = 0, { csp = true, prefix = '/' } = {}) {
  const root = normalize(dist);
  const requests = [];
  const server = createServer(async (req, res) => {
    const full = decodeURIComponent((req.url || '/').split(/[?#]/)[0]);
    requests.push(full);
    if (!full.startsWith(prefix)) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-security-policy': CSP });
      res.end('not found (outside the site\'s folder)');
      return;
    }
    const path = '/' + full.slice(prefix.length);
    const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(403);
      res.end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] || 'application/octet-stream',
        ...(csp ? { 'content-security-policy': CSP } : {}),
        'cache-control': 'no-cache',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-security-policy': CSP });
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}${prefix}`, close: () => server.close(), requests };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const s = await serve(opt('--dist', fileURLToPath(new URL('../dist/', import.meta.url))), Number(opt('--port', '0')),
    { prefix: opt('--prefix', '/') });
  console.log(s.url);
}
