// Measure the built site (dist/): gzip -9 sizes of what a browser downloads,
// and the cold-load time to the lab's first render in headless Chromium
// (median of several runs, each in a fresh browser context: empty cache).
//
//   node e2e/measure.mjs [--runs N] [--dist DIR]
//
// Serves dist/ itself on 127.0.0.1 (a free port) with a tiny static server.
import { createServer } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, extname } from 'node:path';
import { launch } from './helpers.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', '7'));
const dist = opt('--dist', new URL('../dist/', import.meta.url).pathname);

const files = readdirSync(dist).filter((f) => statSync(join(dist, f)).isFile());
const kind = (f) => ({ '.wasm': 'wasm', '.js': 'JS', '.css': 'CSS', '.html': 'HTML' })[extname(f)] || 'other';
const rows = files.map((f) => {
  const raw = readFileSync(join(dist, f));
  return { file: f, kind: kind(f), raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
});
const sum = (k, field) => rows.filter((r) => k === 'total' || r.kind === k).reduce((a, r) => a + r[field], 0);

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const server = createServer((req, res) => {
  const path = decodeURIComponent(req.url.split(/[?#]/)[0]);
  const file = join(dist, path === '/' ? 'index.html' : path.slice(1));
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await launch();
const times = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Record when the lab's layout first appears, from navigation start.
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.getElementById('main')) {
        window.__firstRender = performance.now();
        obs.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(url);
  await page.waitForSelector('#main');
  times.push(await page.evaluate(() => window.__firstRender));
  await context.close();
}
await browser.close();
server.close();

times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log('| what | raw | gzip -9 |');
console.log('|---|---:|---:|');
for (const k of ['wasm', 'JS', 'CSS', 'HTML']) {
  if (rows.some((r) => r.kind === k)) console.log(`| ${k} | ${sum(k, 'raw')} B (${kb(sum(k, 'raw'))}) | ${sum(k, 'gzip')} B (${kb(sum(k, 'gzip'))}) |`);
}
console.log(`| total transfer | ${sum('total', 'raw')} B (${kb(sum('total', 'raw'))}) | ${sum('total', 'gzip')} B (${kb(sum('total', 'gzip'))}) |`);
console.log('');
console.log(`Cold load to first render (headless Chromium, 127.0.0.1, empty cache, ${runs} runs): median ${median.toFixed(0)} ms ` +
  `(min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)})`);
