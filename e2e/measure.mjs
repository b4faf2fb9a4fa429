// Measure the built site (dist/) as a browser sees it: the gzip -9 size of
// every file each page loads, and cold-load times in headless Chromium
// (median of several runs, each in a fresh browser context: empty cache),
// served from 127.0.0.1 with the strict Content-Security-Policy.
//
//   node e2e/measure.mjs [--runs N] [--dist DIR] [--page lab|notes|all]
//
// The lab: time from navigation start to the lab's first render (#main).
// The notes page (notes.html): time to the first widget drawn, and to all of them.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './helpers.mjs';
import { serve } from './server.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', '7'));
const dist = opt('--dist', fileURLToPath(new URL('../dist/', import.meta.url)));
const which = opt('--page', 'all');

const kind = (f) => ({ '.wasm': 'wasm', '.js': 'JS', '.css': 'CSS', '.html': 'HTML' })[extname(f)] || 'other';
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Every widget element the notes page may hold.
const WIDGETS = 'pagelab-translate, pagelab-exec, pagelab-walk, pagelab-frames, pagelab-shm, pagelab-tlb, pagelab-lab, pagelab-quiz, pagelab-run';

const server = await serve(dist);
const browser = await launch();

/** Load `path` cold `runs` times; `mark` runs in the page and resolves to the times to report. */
async function measure(path, ready, marks) {
  const times = Object.fromEntries(marks.map((m) => [m, []]));
  let files = new Set();
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = new Set();
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.origin + '/' === server.url && r.status() === 200) seen.add(decodeURIComponent(u.pathname === '/' ? '/index.html' : u.pathname));
    });
    await page.addInitScript((widgets) => {
      // Poll every frame: the widgets draw inside shadow roots, out of a MutationObserver's sight.
      window.__marks = {};
      const tick = () => {
        const t = performance.now();
        if (!window.__marks.lab && document.getElementById('main')) window.__marks.lab = t;
        const hosts = [...document.querySelectorAll(widgets)];
        window.__marks.widgets = hosts.length;
        const drawn = hosts.filter((h) => h.dataset.state && h.shadowRoot?.querySelector('.pl > *'));
        if (!window.__marks.first && drawn.length > 0) window.__marks.first = t;
        if (!window.__marks.all && hosts.length > 0 && drawn.length === hosts.length) window.__marks.all = t;
        if (!window.__marks.all || (!window.__marks.lab && !hosts.length)) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }, WIDGETS);
    await page.goto(server.url + path);
    await page.waitForFunction(ready, WIDGETS, { timeout: 60000 });
    const m = await page.evaluate(() => window.__marks);
    for (const k of marks) times[k].push(m[k]);
    times.widgets = m.widgets;
    files = seen;
    await context.close();
  }
  const rows = [...files].sort().map((f) => {
    const raw = readFileSync(join(dist, f.slice(1)));
    return { file: f, kind: kind(f), raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  });
  return { rows, times };
}

function table(title, rows) {
  const sum = (k, field) => rows.filter((r) => k === 'total' || r.kind === k).reduce((a, r) => a + r[field], 0);
  console.log(`### ${title}`);
  console.log('');
  console.log('| what | files | raw | gzip -9 |');
  console.log('|---|---|---:|---:|');
  for (const k of ['wasm', 'JS', 'CSS', 'HTML']) {
    const fs = rows.filter((r) => r.kind === k);
    if (fs.length) console.log(`| ${k} | ${fs.map((r) => r.file.replace(/-[0-9a-f]{16}/, '-…')).join(', ')} | ${sum(k, 'raw')} B (${kb(sum(k, 'raw'))}) | ${sum(k, 'gzip')} B (${kb(sum(k, 'gzip'))}) |`);
  }
  console.log(`| total transfer | ${rows.length} files | ${sum('total', 'raw')} B (${kb(sum('total', 'raw'))}) | ${sum('total', 'gzip')} B (${kb(sum('total', 'gzip'))}) |`);
  console.log('');
}

const line = (what, xs) => `${what}: median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

if (which === 'lab' || which === 'all') {
  const lab = await measure('', () => document.getElementById('main'), ['lab']);
  table('The lab (index.html)', lab.rows);
  console.log(`Cold load, headless Chromium, 127.0.0.1, empty cache, ${runs} runs. ${line('To the lab\'s first render', lab.times.lab)}`);
  console.log('');
}
if (which === 'notes' || which === 'all') {
  const ready = (widgets) => document.querySelectorAll(widgets).length > 0 && window.__marks?.all;
  const notes = await measure('notes.html', ready, ['first', 'all']);
  table(`The example notes page (notes.html, ${notes.times.widgets} widgets)`, notes.rows);
  console.log(`Cold load, headless Chromium, 127.0.0.1, empty cache, ${runs} runs. ` +
    `${line('To the first widget', notes.times.first)}; ${line('to all the widgets', notes.times.all)}.`);
}

await browser.close();
server.close();
