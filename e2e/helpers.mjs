// Shared helpers for the end-to-end tests: launch Chromium (never downloaded:
// Debian's /usr/bin/chromium), open the lab, make links, check the page is alive.
import { chromium } from 'playwright-core';
import { deflateRawSync } from 'node:zlib';
import { mkdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

export const URL_BASE = process.env.E2E_URL || 'http://127.0.0.1:8080/';
export const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

export async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A page of the lab; `errors` collects uncaught page errors and console errors from wasm.
 * `init`, if given, runs in the page before any of the page's own scripts (`page.addInitScript`). */
export async function open(browser, fragment = '', viewport = { width: 1280, height: 900 }, init = undefined) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panick|RuntimeError|unreachable/i.test(m.text())) page.errors.push(m.text());
  });
  if (init) await page.addInitScript(init);
  await page.goto(URL_BASE + fragment);
  await page.waitForSelector('#main');
  return page;
}

/** The fragment for a scenario text, as the lab writes links: raw deflate, base64url. */
export function linkFor(text, extra = '') {
  const data = deflateRawSync(Buffer.from(text, 'utf8'), { level: 9 }).toString('base64url');
  return `#lab=${data}${extra}`;
}

/** The notes' story up to pid 3 (a child of sh) on the tiny x86 machine. */
export const TINY_PREFIX = 'preset xv6-public-tiny\nuserinit\nexec 1 /init\nfork 1\nexecv 2 sh sh\nfork 2\n';

export async function text(page, sel) {
  return (await page.textContent(sel)) ?? '';
}

export async function errorText(page) {
  await page.waitForSelector('#error-text', { timeout: 5000 });
  return text(page, '#error-text');
}

/** The page is alive: no panic box, no wasm error, and a normal action still works. */
export async function assertAlive(page, what) {
  assert.equal(await page.isHidden('#panic'), true, `${what}: the panic box is showing`);
  assert.deepEqual(page.errors, [], `${what}: errors in the page`);
  await page.fill('#address', '0x00403abc');
  await page.waitForFunction(() => document.querySelector('[data-field="offset"] .fhex')?.textContent === '0xabc');
  assert.match(await text(page, '[data-field="PDX"] .fhex'), /^0x1$/, `${what}: the address no longer splits`);
}

/** Press Tab until the element with `id` has the focus (at most `max` times); returns the id reached. */
export async function tabTo(page, id, max = 80) {
  let at = '';
  for (let i = 0; i < max && at !== id; i++) {
    await page.keyboard.press('Tab');
    at = await page.evaluate(() => document.activeElement?.id);
  }
  return at;
}

/** Choose the process with `pid` in the process table. */
export async function pick(page, pid) {
  await page.click(`#pick-${pid}`);
  await page.waitForSelector(`#pick-${pid}[aria-pressed="true"]`);
}

/** Run exec with a program and an argument line in the chosen process. */
export async function exec(page, program, args) {
  await page.fill('#program', program);
  await page.fill('#args', args);
  await page.click('#exec-run');
}

/** Wait until the timeline says "Step k of n". */
/** Wait until the page (or the element of a locator) has drawn two more
 * frames: what a change sets up after its first frame is done by then. */
export function twoFrames(pageOrLocator) {
  return pageOrLocator.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

export async function atStep(page, k, n) {
  await page.waitForFunction(
    ([k, n]) => document.querySelector('#step-pos')?.textContent === `Step ${k} of ${n}`,
    [k, n],
  );
}

/** A screenshot in artifacts/: of `selector`, or of the page (the whole of it, or with `full` false, what is on screen). */
export async function shot(page, name, selector, full = true) {
  const path = `${ARTIFACTS}${name}.png`;
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: full });
  return path;
}

/**
 * The stack words of `echo hello world` on xv6-public after the story's prefix, from
 * core/tests/exec.rs, worked out from xv6's exec: the strings from the top of the stack
 * page 0x3000 down, each start rounded down to 4; then argv, argc, the fake return PC.
 * [address, value, what the lab says it is].
 */
export const ECHO_HELLO_WORLD_STACK = [
  ['0x00002fcc', '0xffffffff', /fake return PC.*← sp/],
  ['0x00002fd0', '0x00000003', /argc/],
  ['0x00002fd4', '0x00002fd8', /argv \(pointer/],
  ['0x00002fd8', '0x00002ff8', /argv\[0\]/],
  ['0x00002fdc', '0x00002ff0', /argv\[1\]/],
  ['0x00002fe0', '0x00002fe8', /argv\[2\]/],
  ['0x00002fe4', '0x00000000', /argv\[argc\] = 0/],
  ['0x00002fe8', '0x6c726f77', /argv\[2\] bytes "worl"/], // "worl" little-endian
  ['0x00002fec', '0x00000064', /"d\\0" \+ 2 padding/],
  ['0x00002ff0', '0x6c6c6568', /argv\[1\] bytes "hell"/],
  ['0x00002ff4', '0x0000006f', /"o\\0" \+ 2 padding/],
  ['0x00002ff8', '0x6f686365', /argv\[0\] bytes "echo"/],
  ['0x00002ffc', '0x00000000', /"\\0" \+ 3 padding/],
];

const AXE = readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');

/** axe-core's serious and critical violations on `page`, as "rule: target" lines. */
export async function audit(page) {
  await page.evaluate(AXE);
  const v = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .flatMap((x) => x.nodes.map((n) => `${x.id}: ${n.target.join(' ')} (${n.failureSummary?.split('\n')[1]?.trim()})`));
  });
  return v;
}

/** The new user pages of `pid` in a frame map's cells ([text, aria-label] pairs): one `U<pid>+` cell a
 * page, or a folded run `U<pid>+×N`. Each run's name must give its span and owner, as
 * `tail` (a regular-expression source) ends it. Returns the pages counted and the runs. */
export function newUserPages(cells, pid, tail = '') {
  let pages = 0;
  let runs = 0;
  for (const [t, label] of cells) {
    const m = t.match(new RegExp(`^U${pid}\\+(?:×(\\d+))?$`));
    if (!m) continue;
    pages += m[1] ? Number(m[1]) : 1;
    if (m[1]) {
      runs += 1;
      const name = `^U${pid}\\+×${m[1]}: ${m[1]} frames 0x[0-9a-f]{16}–0x[0-9a-f]{16}, each a user page of pid ${pid} \\(allocated in this step\\)${tail}$`;
      if (!new RegExp(name).test(label)) throw new Error(`a run's name ${JSON.stringify(label)} does not match ${name}`);
    }
  }
  return { pages, runs };
}
