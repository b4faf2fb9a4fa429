// Opening the lab: the page draws first, then the machine boots and a link's
// scenario replays in slices, with its progress on screen; a link that asks
// for more work than a page allows is refused with the reason.
//
// The work, worked by hand for xv6-public: userinit allocates 68 frames (a
// kernel stack, the page directory, 64 tables for the kernel half, a table and
// a page for initcode). sbrk(112 MiB) allocates 28,672 pages (112 MiB / 4 KiB)
// and, the first time, 28 page tables (PDX 1 to 28; xv6-public's deallocuvm
// keeps tables); sbrk(-112 MiB) frees the 28,672 pages. After 4 pairs that is
// 68 + 28 + 4 x 57,344 = 229,472 frames, under the page's limit of 250,000.
// A 5th pair's sbrk(112 MiB), operation 10, makes 258,144: over the limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, linkFor, text, errorText, atStep, shot, assertAlive, audit, URL_BASE } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const pairs = (n) => 'preset xv6-public\nuserinit\n' + 'sbrk 1 117440512\nsbrk 1 -117440512\n'.repeat(n);

/** Open `fragment`, recording what the page shows while it opens: every
 * progress text and value drawn before the lab itself. */
async function openWatching(fragment, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.addInitScript(() => {
    window.__seen = [];
    new MutationObserver(() => {
      const s = document.querySelector('.starting');
      if (!s) return;
      const p = s.querySelector('progress');
      const item = `${s.querySelector('p')?.textContent} | ${p ? p.value : '-'}`;
      if (window.__seen[window.__seen.length - 1] !== item) window.__seen.push(item);
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.goto(URL_BASE + fragment);
  await page.waitForSelector('#main', { timeout: 60000 });
  return page;
}

test('a long link replays in slices with its progress drawn, and opens at its last step', async () => {
  const page = await openWatching(linkFor(pairs(4)));
  const seen = await page.evaluate(() => window.__seen);
  // First the machine being started, in words, then the replay step by step.
  assert.ok(seen.some((s) => /^Starting xv6-public \(x86, two-level paging\), 224 MB/.test(s)), seen.join(' / '));
  const replaying = seen.filter((s) => s.startsWith('Replaying the link'));
  const values = new Set(replaying.map((s) => Number(s.split(' | ')[1])));
  assert.ok(values.size >= 3, `the progress was drawn at several steps: ${seen.join(' / ')}`);
  assert.ok(replaying.every((s) => / of 9 /.test(s)), replaying.join(' / '));
  assert.ok(replaying.some((s) => /a link may ask for at most 250000/.test(s)));
  // The lab opens at the link's last step: 9 operations, pid 1 back to its size.
  await atStep(page, 9, 9);
  assert.match(await text(page, '#step-detail'), /sbrk/);
  await assertAlive(page, 'after a long link');
  await page.close();
});

test('a link over the work limit is refused with the reason, and the lab opens clean', async () => {
  const page = await openWatching(linkFor(pairs(5)));
  const msg = await errorText(page);
  assert.match(msg, /This link could not be opened/);
  assert.match(msg, /operation 10 was refused/);
  assert.match(msg, /allocated and freed 258144 frames, more than the 250000/);
  assert.match(msg, /pagelab run/);
  // A clean lab: the first process made, step 1 of 1.
  await atStep(page, 1, 1);
  await shot(page, 'link-too-much-work', '#error-text', false);
  await assertAlive(page, 'after a refused link');
  await page.close();
});

test('a link pasted later opens in slices too, over the lab already open', async () => {
  const page = await openWatching('');
  await atStep(page, 1, 1);
  // The browser's hashchange: the lab shows the replay's progress above the page, then the new lab.
  await page.evaluate((f) => {
    window.__banner = [];
    new MutationObserver(() => {
      const b = document.querySelector('.opening');
      if (b) window.__banner.push(b.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
    location.hash = f;
  }, linkFor(pairs(3)));
  await atStep(page, 7, 7);
  const banner = await page.evaluate(() => window.__banner);
  assert.ok(banner.some((b) => /Replaying the link: step \d+ of 7/.test(b)), banner.join(' / '));
  assert.equal(await page.locator('.opening').count(), 0, 'the progress goes once the lab is open');
  await assertAlive(page, 'after a pasted link');
  await page.close();
});

test('the page shown while a link replays has no serious or critical axe-core violation', async () => {
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    const ctx = await browser.newContext({ bypassCSP: true, viewport });
    const page = await ctx.newPage();
    await page.goto(URL_BASE + linkFor(pairs(4)));
    // The page as it is while it shows the replay's progress (the machine has
    // booted), kept still (without its scripts) so that the audit does not
    // race the replay, and served from the same place so that its CSS loads.
    const shown = await page.waitForFunction(() => document.querySelector('.starting progress') && document.documentElement.outerHTML);
    const html = '<!doctype html>' + (await shown.jsonValue()).replace(/<script[\s\S]*?<\/script>/g, '').replace(/<link[^>]*(modulepreload|preload)[^>]*>/g, '');
    assert.match(html, /Replaying the link: step \d+ of 9/);
    const still = await ctx.newPage();
    await still.route(URL_BASE + 'starting.html', (r) => r.fulfill({ body: html, contentType: 'text/html' }));
    await still.goto(URL_BASE + 'starting.html');
    assert.deepEqual(await audit(still), [], `${viewport.width} px`);
    await page.waitForSelector('#main', { timeout: 60000 });
    await ctx.close();
  }
});
