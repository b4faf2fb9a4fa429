// Shared helpers for the end-to-end tests: launch Chromium (never downloaded:
// Debian's /usr/bin/chromium), open the lab, make links, check the page is alive.
import { chromium } from 'playwright-core';
import { deflateRawSync } from 'node:zlib';
import { mkdirSync } from 'node:fs';
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

/** A page of the lab; `errors` collects uncaught page errors and console errors from wasm. */
export async function open(browser, fragment = '', viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panick|RuntimeError|unreachable/i.test(m.text())) page.errors.push(m.text());
  });
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
export const TINY_PREFIX = 'preset xv6-public-tiny\nuserinit\nexecv 1 /init init\nfork 1\nexecv 2 sh sh\nfork 2\n';

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
export async function atStep(page, k, n) {
  await page.waitForFunction(
    ([k, n]) => document.querySelector('#step-pos')?.textContent === `Step ${k} of ${n}`,
    [k, n],
  );
}

export async function shot(page, name, selector) {
  const path = `${ARTIFACTS}${name}.png`;
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
  return path;
}
