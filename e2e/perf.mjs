// The browser half of issue 13's table, measured on the built site (dist/)
// in headless Chromium on 127.0.0.1 (scripts/perf.sh prints the rest):
//
//   node e2e/perf.mjs [--runs N] [--dist DIR]
//
// - cold load to the lab drawn (#main), and a deep link into shm-test; the
//   same to the end of the frame that paints it, beside its floors (the lab's
//   page as static HTML with no code, and a page of one paragraph), and the
//   wasm functions Chromium compiles on first call before the lab is drawn;
// - a keystroke in the address field to the new decomposition and walk in
//   the DOM, and to the next frame (xv6-public after the story): split into
//   the browser's own handling of the key and the lab's code, beside the same
//   keys in a page that does nothing but echo them;
// - a fork click to the next frame (after the story), and Back on shm-test;
// - the lab's wasm memory (window.pagelabWasmBytes) and the renderer's
//   resident memory, cold and after loading scenarios;
// - links with heavy steps (sbrk(112 MiB) / sbrk(-112 MiB) pairs): the time
//   until the lab is drawn or the link refused;
// - running the real programs: boot to sh's prompt, and echo hello world sent
//   to its output drawn.
// Each figure is a median (and p95 where it says so) from one run.
import { execSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { launch } from './helpers.mjs';
import { serve } from './server.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const runs = Number(opt('--runs', '5'));
const dist = opt('--dist', fileURLToPath(new URL('../dist/', import.meta.url)));

const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const ms = (x) => `${x.toFixed(1)} ms`;
const MB = (b) => `${(b / 1048576).toFixed(1)} MB`;

const server = await serve(dist);
const browser = await launch();

/** Resident memory of the page's renderer process, in bytes (Linux ps): the
 * largest renderer of this headless browser (one page is open at a time). */
function rendererRss() {
  try {
    return execSync('ps -eo rss=,args=', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('--type=renderer') && l.includes('playwright') && !l.includes('top-chrome-webui'))
      .reduce((a, l) => Math.max(a, Number(l.trim().split(/\s+/)[0]) * 1024), 0);
  } catch { return NaN; }
}

async function open(fragment, viewport = { width: 1440, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(server.url + (fragment ? `#${fragment}` : ''));
  await page.waitForSelector('#main', { timeout: 120000 });
  return { context, page, loaded: Date.now() - t0 };
}

// ---- cold loads ----
/** Pages made up here and served on the lab's origin: the lab's page as
 * static HTML and a page of one paragraph (filled in below). */
const madePages = {};

/** `runs` cold loads (a fresh browser context each) of the site's `suffix`
 * (a fragment `#…` of the lab, or a page of `madePages`). Each gives, from
 * navigation start: `drawn`, the frame that first has the lab's #main (or a
 * made page wholly parsed), seen as it begins; `painted`, the end of that
 * frame; and with `trace`, the wasm functions Chromium compiled on first
 * call before `drawn` (V8's wasm.CompileLazy events): `compiled` and their
 * `compileMs`. */
async function coldLoads(suffix, { trace = false } = {}) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const c = await browser.newContext();
    await c.route(/\/(static-copy|one-paragraph)\.html$/, (route) => route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': "default-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'" },
      body: madePages[new URL(route.request().url()).pathname.slice(1)],
    }));
    const p = await c.newPage();
    const events = [];
    let cdp = null;
    if (trace) {
      cdp = await c.newCDPSession(p);
      cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
      await cdp.send('Tracing.start', { categories: 'v8.wasm,blink.user_timing', transferMode: 'ReportEvents' });
    }
    await p.addInitScript(() => {
      const made = location.pathname.endsWith('.html');
      const tick = () => {
        if (made ? document.readyState !== 'loading' : document.getElementById('main')) {
          performance.mark('pagelab-drawn');
          window.__drawn = performance.now();
          // A timer set in the frame's first callback runs once that frame is drawn.
          requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }, 0));
        } else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await p.goto(server.url + suffix);
    await p.waitForFunction(() => window.__painted, null, { timeout: 120000 });
    const load = await p.evaluate(() => ({ drawn: window.__drawn, painted: window.__painted }));
    if (cdp) {
      const done = new Promise((resolve) => cdp.on('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      await done;
      const drawn = events.find((e) => e.name === 'pagelab-drawn');
      const compiled = events.filter((e) => e.name === 'wasm.CompileLazy' && drawn && e.ts < drawn.ts);
      load.compiled = compiled.length;
      load.compileMs = compiled.reduce((t, e) => t + (e.dur || 0), 0) / 1000;
    }
    out.push(load);
    await c.close();
  }
  return out;
}
const med = (loads, key) => q(loads.map((x) => x[key]), 0.5);

console.log('### The lab in the browser (e2e/perf.mjs)');
console.log('');
const cold = await coldLoads('');
console.log(`- cold load to the lab drawn: median ${ms(med(cold, 'drawn'))} (${cold.map((x) => x.drawn.toFixed(0)).join(', ')}), ${runs} runs`);
{
  // The floors of the figure above, each to the end of the frame that first
  // paints the whole page: the lab's page as static HTML (its DOM once
  // drawn, saved without its scripts, with the same style sheet), and a page
  // of one paragraph with that style sheet. The static copy runs no code at
  // all, so the gap between it and the lab is what the wasm costs, and the
  // gap between it and the paragraph is what laying out the lab's elements costs.
  const { context, page } = await open('');
  await page.waitForTimeout(300);
  const copy = await page.evaluate(() => {
    const doc = document.documentElement.cloneNode(true);
    doc.querySelectorAll('script, link[rel=modulepreload], link[rel=preload]').forEach((s) => s.remove());
    return '<!doctype html>' + doc.outerHTML;
  });
  const sheet = await page.evaluate(() => document.querySelector('link[rel=stylesheet]').getAttribute('href'));
  await context.close();
  madePages['static-copy.html'] = copy;
  madePages['one-paragraph.html'] = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="${sheet}"><title>floor</title></head><body><p>pagelab</p></body></html>`;
  const [copied, para] = [await coldLoads('static-copy.html'), await coldLoads('one-paragraph.html')];
  console.log(`- the same, to the end of the frame that paints it: the lab ${ms(med(cold, 'painted'))}; the floors: the lab's page as static HTML (no code, ${copy.length} bytes) ${ms(med(copied, 'painted'))}, a page of one paragraph with the same style sheet ${ms(med(para, 'painted'))} (medians of ${runs})`);
  // Chromium compiles a wasm function when it is first called: the part of
  // the lab's own time that is the browser compiling its code.
  const traced = await coldLoads('', { trace: true });
  console.log(`- of the lab's own time: Chromium compiling its wasm functions as they are first called, before the lab is drawn: ${med(traced, 'compiled')} functions, ${ms(med(traced, 'compileMs'))} (medians of ${runs} traced loads)`);
}
const deep = await coldLoads('#b=shm-test&step=90');
console.log(`- a deep link into shm-test (step 90): median ${ms(med(deep, 'drawn'))}`);

// ---- keystrokes in the address field ----
/** Type five addresses into `#address` of `page` (after Control+A each) and
 * time every key that types a character: keydown to the first change of the
 * DOM inside #main (`dom`), keydown to the browser's input event (`native`:
 * the browser's own handling of the key, before any of the page's code for
 * the input runs), the input event to that change (`page`: the page's code),
 * and keydown to the next frame (`frame`). */
async function typeAddresses(page) {
  await page.evaluate(() => {
    window.__lat = [];
    const main = document.getElementById('main');
    // Only keys that type a character: Control+A changes nothing on screen,
    // so an observer started on it would time the next key's change too.
    addEventListener('keydown', (e) => {
      if (e.key.length !== 1 || e.ctrlKey || e.metaKey) return;
      const t0 = performance.now();
      let ti = NaN;
      addEventListener('input', () => { ti = performance.now(); }, { capture: true, once: true });
      const mo = new MutationObserver(() => {
        const t1 = performance.now();
        mo.disconnect();
        requestAnimationFrame(() => window.__lat.push({ dom: t1 - t0, native: ti - t0, page: t1 - ti, frame: performance.now() - t0 }));
      });
      mo.observe(main, { subtree: true, childList: true, characterData: true, attributes: true });
    }, true);
  });
  await page.click('#address', { clickCount: 3 });
  for (const addr of ['0x2fe4', '0x1000', '0x3ffc', '0x80000000', '0x2f00']) {
    await page.keyboard.press('Control+A');
    await page.keyboard.type(addr, { delay: 30 });
    await page.waitForTimeout(50);
  }
  const lat = await page.evaluate(() => window.__lat);
  const f = (k) => lat.map((x) => x[k]);
  return { n: lat.length, dom: f('dom'), native: f('native'), page: f('page'), frame: f('frame') };
}
{
  const { context, page } = await open('b=story-x86&step=9');
  const k = await typeAddresses(page);
  await context.close();
  // The floor: the same keys in a page whose only code copies the input's
  // text into a paragraph (a change of the DOM as cheap as can be).
  const c = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const p = await c.newPage();
  await p.setContent('<main id="main"><input id="address"><p id="echo"></p></main>');
  await p.evaluate(() => document.getElementById('address').addEventListener('input', (e) => { document.getElementById('echo').textContent = e.target.value; }));
  const floor = await typeAddresses(p);
  await c.close();
  const pq = (xs) => `p50 ${ms(q(xs, 0.5))}, p95 ${ms(q(xs, 0.95))}`;
  console.log(`- keystroke in the address field (xv6-public after the story, ${k.n} keys): to the DOM ${pq(k.dom)}; to the next frame p95 ${ms(q(k.frame, 0.95))}`);
  console.log(`  of which the browser's own handling of the key (keydown to input event) ${pq(k.native)}, and the lab's code (input event to the DOM changed) ${pq(k.page)}`);
  console.log(`- the floor: the same ${floor.n} keys in a page that only copies the input's text into a paragraph: to the DOM ${pq(floor.dom)} (the browser's handling ${pq(floor.native)})`);
}

// ---- clicks ----
/** Click `selector` `n` times: each click's time to the next frame; and in
 * `clicks.work`, its time to the end of the lab's own work (the click's task
 * and the redraw Yew runs after it, timed by a timer set at the click, which
 * runs once they are done): the part of the first figure that is the lab's,
 * and does not depend on where in the frame the click fell. */
async function clicks(fragment, selector, n, before, work) {
  const { context, page } = await open(fragment);
  if (before) await before(page);
  const out = [];
  for (let i = 0; i < n; i++) {
    const [t, w] = await page.evaluate((sel) => new Promise((resolve) => {
      const el = document.querySelector(sel);
      const t0 = performance.now();
      let tw = NaN;
      setTimeout(() => { tw = performance.now() - t0; }, 0);
      el.click();
      requestAnimationFrame(() => {
        const tf = performance.now() - t0;
        // The timer runs after the frame if the work took the frame.
        setTimeout(() => resolve([tf, Number.isNaN(tw) ? performance.now() - t0 : tw]), 0);
      });
    }), selector);
    out.push(t);
    work?.push(w);
    await page.waitForTimeout(30);
  }
  await context.close();
  return out;
}
{
  // The floor of this measure: a click on the page's title, which changes
  // nothing, waits for the next frame all the same.
  const idle = await clicks('b=story-x86&step=9', 'h1', 40);
  console.log(`- a click that changes nothing (the title) to the next frame, the floor of the figures below: median ${ms(q(idle, 0.5))}, p95 ${ms(q(idle, 0.95))}`);
  // 40 forks (sh has 2 of xv6-public's 64 process slots taken before): with
  // 8, a "p95" was the slowest click, which is the first one, when V8 first
  // compiles the code a fork runs. The first is reported by itself.
  const forkWork = [];
  const forks = await clicks('b=story-x86&step=9', '#fork', 40, null, forkWork);
  console.log(`- fork click to the next frame (xv6-public after the story, 40 forks): first ${ms(forks[0])}; median ${ms(q(forks, 0.5))}, p95 ${ms(q(forks, 0.95))}, max ${ms(Math.max(...forks))}`);
  console.log(`  the lab's own work in it (the click and the redraw): median ${ms(q(forkWork, 0.5))}, p95 ${ms(q(forkWork, 0.95))}`);
  const backWork = [];
  const backs = await clicks('b=shm-test&step=90', '#back', 20, null, backWork);
  console.log(`- Back on shm-test (from step 90, 20 clicks) to the next frame: p50 ${ms(q(backs, 0.5))}, p95 ${ms(q(backs, 0.95))}, max ${ms(Math.max(...backs))}`);
  console.log(`  the lab's own work in it: median ${ms(q(backWork, 0.5))}, p95 ${ms(q(backWork, 0.95))}`);
}

// ---- running the real programs ----
{
  // Boot xv6-riscv (128 MB) and run init to sh's prompt; then `echo hello world`
  // typed and sent, to its output and the next prompt on the console (the
  // programs' run and the lab's timeline following it, drawn).
  const boots = [];
  const echoes = [];
  for (let i = 0; i < runs; i++) {
    const { context, page } = await open(`lab=${deflateRawSync(Buffer.from('preset xv6-riscv\n'), { level: 9 }).toString('base64url')}`);
    await page.waitForSelector('#run-start');
    boots.push(await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      new MutationObserver((_, mo) => {
        if (document.getElementById('console')?.textContent.endsWith('$ ')) {
          mo.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
      document.getElementById('run-start').click();
    })));
    await page.fill('#run-input', 'echo hello world');
    echoes.push(await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      new MutationObserver((_, mo) => {
        if (document.getElementById('console')?.textContent.endsWith('hello world\n$ ')) {
          mo.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
      document.getElementById('run-send').click();
    })));
    await context.close();
  }
  console.log(`- run the programs: boot xv6-riscv and run init to sh's prompt, to the next frame: median ${ms(q(boots, 0.5))}`);
  console.log(`- run the programs: echo hello world sent, to its output and the next prompt drawn: median ${ms(q(echoes, 0.5))} (${echoes.map((x) => x.toFixed(0)).join(', ')})`);
}

// ---- memory ----
{
  const wasm = async (p) => p.evaluate(() => window.pagelabWasmBytes?.() ?? NaN);
  const rows = [];
  // The floor: the renderer of a blank page, with no pagelab in it.
  {
    const c = await browser.newContext();
    const p = await c.newPage();
    await p.goto('about:blank');
    await p.waitForTimeout(300);
    rows.push(['a blank page (about:blank), the floor', NaN, rendererRss()]);
    await c.close();
  }
  for (const frag of ['', 'b=story-x86&step=9', 'b=story-riscv&step=9', 'b=shm-test&step=90', 'b=tlb-smp-x86&step=14']) {
    const { context, page } = await open(frag);
    await page.waitForTimeout(300);
    rows.push([frag || 'cold (default lab)', await wasm(page), rendererRss()]);
    await context.close();
  }
  // Eight forks after the story, then a new lab on the same page.
  const { context, page } = await open('b=story-x86&step=9');
  for (let i = 0; i < 8; i++) { await page.click('#fork'); await page.waitForTimeout(30); }
  rows.push(['story-x86 + 8 forks', await wasm(page), rendererRss()]);
  await page.goto(server.url + '#b=shm-test&step=90');
  await page.waitForTimeout(800);
  rows.push(['then shm-test in the same tab', await wasm(page), rendererRss()]);
  await page.click('#machine-xv6-public-tiny');
  await page.waitForTimeout(500);
  rows.push(['then a new lab (xv6-public-tiny)', await wasm(page), rendererRss()]);
  await page.goto(server.url + '#b=shm-test&step=90');
  await page.waitForTimeout(800);
  rows.push(['then shm-test again', await wasm(page), rendererRss()]);
  await context.close();
  console.log('- memory (wasm: the lab\'s linear memory, which never shrinks but is reused; renderer: resident set of the headless renderers):');
  for (const [what, w, r] of rows) console.log(`  - ${what}: ${Number.isNaN(w) ? '' : `wasm ${MB(w)}, `}renderer ${MB(r)}`);
}

// ---- heavy links ----
for (const pairs of [100, 500]) {
  let text = 'preset xv6-public\nuserinit\n';
  for (let i = 0; i < pairs; i++) text += 'sbrk 1 117440512\nsbrk 1 -117440512\n';
  const frag = `lab=${deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url')}&step=${2 * pairs + 1}`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${server.url}#${frag}`);
  await page.waitForFunction(() => /could not be opened/.test(document.body.innerText) || document.querySelector('#step-detail'), null, { timeout: 300000 });
  const t = Date.now() - t0;
  const refused = await page.evaluate(() => /more than the \d+ a link/.test(document.body.innerText));
  console.log(`- a link of ${pairs} sbrk(112 MiB)/sbrk(-112 MiB) pairs (${frag.length + 1} characters): ${refused ? 'refused' : 'drawn'} after ${t} ms`);
  await context.close();
}

await browser.close();
server.close();
