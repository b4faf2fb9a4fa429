// The example course-notes page (dist/notes.html) with pagelab's widgets, in
// headless Chromium, served with the strict Content-Security-Policy. Expected
// values are worked out by hand from xv6 (see the comments), not read from the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, URL_BASE, ARTIFACTS, ECHO_HELLO_WORLD_STACK, newUserPages } from './helpers.mjs';
import { readFileSync } from 'node:fs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const WIDGETS = ['w-translate', 'w-translate-rv', 'w-walk', 'w-guard', 'w-exec', 'w-run', 'w-run-deep', 'w-frames', 'w-shm', 'w-tlb', 'w-lab', 'w-quiz', 'w-broken'];

/**
 * Open a page and watch it: console errors and warnings, uncaught errors,
 * CSP violations (the event, and Chromium's console report), requests to other origins.
 */
async function watched(path, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console error: ${m.text()}`);
    if (/Content.Security.Policy/i.test(m.text())) page.problems.push(`CSP: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(URL_BASE) && !r.url().startsWith('data:')) page.problems.push(`foreign request: ${r.url()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`securitypolicyviolation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  await page.goto(URL_BASE + path);
  return page;
}

/** Open the notes page and wait until every widget is drawn (or shows its message). */
async function notes(options) {
  const page = await watched('notes.html', options);
  await page.waitForFunction((ids) => ids.every((id) => document.getElementById(id)?.dataset.state), WIDGETS, { timeout: 60000 });
  return page;
}

/** Add a <pagelab-frames id=ID> to the page, its scenario the text inside. */
const addFrames = (page, id, scenario) => page.evaluate(([id, scenario]) => {
  const el = document.createElement('pagelab-frames');
  el.id = id;
  el.innerHTML = `<script type="text/plain">${scenario}</script>`;
  document.body.append(el);
}, [id, scenario]);
const text = async (page, sel) => ((await page.locator(sel).first().textContent()) ?? '').trim();
const texts = (page, sel) => page.locator(sel).allTextContents();

test('every widget on the notes page shows the values worked out by hand', async () => {
  const page = await notes();
  const state = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, document.getElementById(id).dataset.state])), WIDGETS);
  for (const id of WIDGETS) assert.equal(state[id], id === 'w-broken' ? 'error' : 'ready', `${id} is ${state[id]}`);

  // 0x00403abc = 0000000001 | 0000000011 | 1010 1011 1100: PDX 1, PTX 3, offset 0xabc.
  assert.equal(await text(page, '#w-translate [data-field="PDX"] .fhex'), '0x1');
  assert.equal(await text(page, '#w-translate [data-field="PTX"] .fhex'), '0x3');
  assert.equal(await text(page, '#w-translate [data-field="offset"] .fhex'), '0xabc');
  assert.equal(await text(page, '#w-translate [data-field="offset"] .fbits'), '1010 1011 1100');
  // Sv39, 0x3fffffe000 (the trapframe page): bits 38-30 = 0xff, 29-21 = 0x1ff, 20-12 = 0x1fe.
  assert.equal(await text(page, '#w-translate-rv [data-field="L2"] .fhex'), '0xff');
  assert.equal(await text(page, '#w-translate-rv [data-field="L1"] .fhex'), '0x1ff');
  assert.equal(await text(page, '#w-translate-rv [data-field="L0"] .fhex'), '0x1fe');
  assert.equal(await text(page, '#w-translate-rv [data-field="sign extension"] .fhex'), '0x0');
  assert.equal(await page.locator('#w-translate-rv input').count(), 0, 'fixed: no field to type in');

  // The walk of 0x2fcc (echo's sp) in pid 3: PDX 0, PTX 2, offset 0xfcc; a user store is allowed.
  assert.equal(await text(page, '#w-walk [data-field="PDX"] .fhex'), '0x0');
  assert.equal(await text(page, '#w-walk [data-field="PTX"] .fhex'), '0x2');
  const steps = await texts(page, '#w-walk ol.walk li');
  assert.equal(steps.length, 4, steps.join('\n'));
  assert.match(steps[1], /page directory \(pgdir\)\[PDX = 0\]/);
  assert.match(steps[2], /page table \(pgtab\)\[PTX = 2\]/);
  const frame = BigInt(steps[2].match(/→ frame (0x[0-9a-f]+)/)[1]);
  assert.equal(BigInt(await text(page, '#w-walk .pa')), frame | 0xfccn);
  assert.match(steps[3], /user write allowed/);
  // The guard page under echo's stack (0x1000-0x1fff) has no user bit.
  assert.match(await text(page, '#w-guard .fault-text'), /no user bit/);

  // echo hello world: the stack words of core/tests/exec.rs (strings from the top of the
  // stack page 0x3000 down, each start rounded down to 4; then argv, argc, the fake PC).
  const rows = await page.locator('#w-exec table.stack tbody tr').evaluateAll((rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  const want = ECHO_HELLO_WORLD_STACK;
  assert.equal(rows.length, want.length);
  want.forEach(([va, value, what], i) => {
    assert.equal(rows[i][0], va);
    assert.equal(rows[i][1], value, `the word at ${va}`);
    assert.match(rows[i][2], what);
  });
  const regions = await page.locator('#w-exec table.regions tbody tr td:first-child .tag').allTextContents();
  assert.deepEqual(regions, ['TEXT', 'GUARD', 'STACK', 'KERNEL', 'KERNEL']);

  // <pagelab-run>: init starts sh, sh runs the line; echo prints its arguments and exits,
  // sh reaps it, and every frame the command took is free again (user/README.md).
  // xv6-riscv's main prints its banner on hart 0, then each other hart (the widget trims the first newline).
  assert.equal(await text(page, '#w-run .pl-console'), 'xv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ echo hello world\nhello world\n$');
  assert.match(await text(page, '#w-run .pl-run'), /printed "hello world" and a newline/);
  assert.match(await text(page, '#w-run .pl-run'), /every frame the command used is free again/);
  // deep: three kilobyte calls fit in its stack page (0x3000-0x3fff); the fourth stores into the guard page.
  assert.match(await text(page, '#w-run-deep .pl-faults'), /pid 3: store at 0x2[0-9a-f]{3}: .*no user bit/);

  // The tiny machine (2 MB = 512 frames) after the shell's fork: the child gets sh's 4 user pages,
  // a kernel stack, a page directory and 10 page tables (1 for the user half, 9 for the kernel half).
  const summary = await text(page, '#w-frames .summary');
  const [, total, nfree, used, kernel, low] = summary.match(/^(\d+) frames .* (\d+) free, (\d+) in use, (\d+) hold the kernel image, (\d+) lie below it/).map(Number);
  assert.equal(total, 512);
  // Below EXTMEM (1 MB = 256 frames) is xv6's I/O space, not the kernel image.
  assert.equal(low, 256);
  assert.equal(nfree + used + kernel + low, 512);
  assert.equal(await page.locator('#w-frames .framemap .cell.new').count(), 4 + 1 + 1 + 10);
  assert.equal(await page.locator('#w-frames .framemap .cell.new.fk-user').count(), 4);
  assert.deepEqual(await page.locator('#w-frames .framemap .cell.fk-user.new').allTextContents(), ['U3+', 'U3+', 'U3+', 'U3+']);
  assert.match(await text(page, '#w-frames .freelist'), /^kmem\.freelist → (0x[0-9a-f]{8} → ){8}… \(\d+ frames in all\)$/);

  // Step 11 of the shared-memory test: pid 3 opened page 25 and stored 10, forked pid 4 (which
  // shares the open page: 2 references), and pid 4 has stored 11. sh is 4 pages, so the page is at 0x4000.
  // shm-test step 21: the test (pid 3) and its ten children (pids 4 to 13, forked at steps
  // 9 to 18) all map the frame at 0x4000; child 0 has just stored 11.
  assert.equal(await text(page, '#w-shm tr[data-id="25"] .refs'), '11');
  assert.equal(await text(page, '#w-shm tr[data-id="25"] .who'),
    Array.from({ length: 11 }, (_, i) => `pid ${i + 3} at 0x00004000`).join(', '));
  assert.match(await text(page, '#w-shm tr[data-id="25"] .bytes'), /^11 0 0 0/);

  // tlb-noflush-x86, step 8: pid 2's store at 0x1010 hits slot 0 (page 0x1000), which outlived
  // sbrk(-4096) because growproc left CR3 alone; its frame is now pid 3's kernel stack (fork's first kalloc).
  assert.match(await text(page, '#w-tlb .pl-whatif'), /leaves out xv6's flush in growproc/);
  assert.match(await text(page, '#w-tlb .pl-sub'), /TLB: 1 hit, 0 misses, 0 fills, 0 flushes/);
  const tlbRow = await page.locator('#w-tlb tr[data-slot="0"] td').allTextContents();
  assert.match(tlbRow[1], /^0x00001000 → 0x[0-9a-f]{8}$/);
  assert.match(tlbRow[2], /^STALE: maps nothing here; the slot's frame is now: kernel stack of pid 3$/);
  assert.match((await texts(page, '#w-tlb .pl-tlbev li')).join('\n'), /TLB hit for 0x1010 in slot 0[^]*kernel stack of pid 3/);

  // The small lab opens at its last step: after `wait 1`, only pid 1 (init) is left.
  assert.equal(await text(page, '#w-lab .step-pos'), 'Step 7 of 7');
  assert.deepEqual(await page.locator('#w-lab .ptable tbody td:nth-child(2)').allTextContents(), ['init']);

  // The page's own script used the JS API on the lab's scenario.
  assert.match(await text(page, '#api-demo'),
    /7 steps on xv6-public-tiny; “sbrk 2 8192” allocates 2 user pages and returns 12288; “wait 1” returns 2/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the broken widget shows its message, and the others work', async () => {
  const page = await notes();
  const msg = await text(page, '#w-broken .pl-error');
  assert.equal(msg, '<pagelab-walk> cannot be shown: there is no process with pid 9 at step 7 of the built-in scenario story-x86; the processes there are 1, 2, 3');
  assert.equal(await page.locator('#w-broken .walk').count(), 0);
  // Its neighbour above still works and still reacts.
  await page.locator('#w-translate input.addr-in').fill('0x2000');
  await page.waitForFunction(() => document.querySelector('#w-translate').shadowRoot.querySelector('[data-field="PTX"] .fhex')?.textContent === '0x2');
  await page.locator('#mistake').screenshot({ path: `${ARTIFACTS}notes-mistake.png` });
  // A scenario script left empty is refused, not read as the default scenario.
  await addFrames(page, 'w-empty', '  ');
  await page.waitForFunction(() => document.querySelector('#w-empty')?.dataset.state === 'error');
  assert.match(await text(page, '#w-empty .pl-error'), /the <script type="text\/plain"> inside <pagelab-frames> is empty: write a scenario in it, or remove it/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a frames widget of a heavy step folds its thousands of frames into runs, named as in the lab', async () => {
  const page = await notes();
  // sbrk(64 MB) in initcode on xv6-riscv: 16384 user pages (64 MB / 4 KB), and 32 L0 page tables
  // (sz goes from 0x1000 to 0x4001000: the 2 MB blocks 1 to 32 get one each; block 0 has initcode's).
  await addFrames(page, 'w-heavy', 'preset xv6-riscv\nuserinit\nsbrk 1 67108864\n');
  await page.waitForFunction(() => document.querySelector('#w-heavy')?.dataset.state === 'ready');
  const cells = await page.evaluate(() => [...document.querySelector('#w-heavy').shadowRoot.querySelectorAll('.framemap .cell')]
    .map((c) => [c.textContent, c.getAttribute('aria-label')]));
  const { pages, runs } = newUserPages(cells, 1);
  assert.equal(pages, 16384);
  assert.ok(runs >= 30, `the pages fold into runs between the page tables taken among them (${runs})`);
  assert.ok(cells.length < 400, `a map of a few hundred cells, not of 16,384 (${cells.length})`);
  assert.match(await text(page, '#w-heavy .step-counts'), /allocated: 16384 user pages \+ 32 page-table pages/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('widgets do not disturb each other', async () => {
  const page = await notes();
  const snapshot = () => page.evaluate(() => Object.fromEntries(
    ['w-translate-rv', 'w-walk', 'w-exec', 'w-frames', 'w-shm'].map((id) => [id, document.getElementById(id).shadowRoot.textContent])));
  const before = await snapshot();
  // Type in the translator: 0x80400123 = PDX 0x201, PTX 0, offset 0x123.
  await page.locator('#w-translate input.addr-in').fill('0x80400123');
  await page.waitForFunction(() => document.querySelector('#w-translate').shadowRoot.querySelector('[data-field="PDX"] .fhex')?.textContent === '0x201');
  // A bad address: a message in that widget, the last good split kept.
  await page.locator('#w-translate input.addr-in').fill('0xnope');
  await page.waitForFunction(() => /n is not a hex digit/.test(document.querySelector('#w-translate').shadowRoot.querySelector('.error-inline')?.textContent));
  assert.equal(await text(page, '#w-translate [data-field="PDX"] .fhex'), '0x201');
  // Step the small lab back to `exit 2`: pid 2 is a zombie there.
  await page.locator('#w-lab button.back').click();
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('.step-pos')?.textContent === 'Step 6 of 7');
  assert.match((await page.locator('#w-lab .ptable tbody').textContent()), /zombie/);
  // Go to step 4 (`sbrk 2 8192`), choose pid 2, translate 0x4000 (the second new heap page).
  await page.locator('#w-lab select.jump').selectOption('4');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('.step-pos')?.textContent === 'Step 4 of 7');
  await page.locator('#w-lab button.pick[data-pid="2"]').click();
  await page.locator('#w-lab #address').fill('0x4000');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('#pa') !== null);
  await page.locator('#w-lab #address').fill('0x5000');
  await page.waitForFunction(() => /not present/.test(document.querySelector('#w-lab').shadowRoot.querySelector('#fault-text')?.textContent));
  // Keyboard only: Enter on Forward up to the last step disables it; the focus goes to Back, not to the page.
  await page.locator('#w-lab select.jump').selectOption('6');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('.step-pos')?.textContent === 'Step 6 of 7');
  await page.locator('#w-lab button.forward').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('.step-pos')?.textContent === 'Step 7 of 7');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.activeElement?.classList.contains('back'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#w-lab').shadowRoot.querySelector('.step-pos')?.textContent === 'Step 6 of 7');
  // Nothing else changed.
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('attributes changed by a script redraw that widget only; untrusted text stays text', async () => {
  const page = await notes();
  const walkBefore = await page.evaluate(() => document.getElementById('w-walk').shadowRoot.textContent);
  // A new address for the translator: 0x1000 = PTX 1.
  await page.evaluate(() => document.getElementById('w-translate').setAttribute('address', '0x1000'));
  await page.waitForFunction(() => document.querySelector('#w-translate').shadowRoot.querySelector('[data-field="PTX"] .fhex')?.textContent === '0x1');
  // A hostile attribute: shown as text, never as HTML.
  await page.evaluate(() => {
    const el = document.createElement('pagelab-translate');
    el.id = 'w-hostile';
    el.setAttribute('address', '<img src=x onerror="window.__pwned=1">');
    document.querySelector('#mistake .mistake').append(el);
  });
  await page.waitForFunction(() => document.getElementById('w-hostile')?.dataset.state === 'error');
  assert.match(await text(page, '#w-hostile .pl-error'), /address="<img src=x onerror="window.__pwned=1">": an address is one number/);
  assert.equal(await page.evaluate(() => document.getElementById('w-hostile').shadowRoot.querySelectorAll('img').length), 0);
  // Hostile scenario text inside an element: read with textContent, shown as text.
  await page.evaluate(() => {
    const el = document.createElement('pagelab-lab');
    el.id = 'w-hostile-lab';
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.textContent = 'userinit\n<b onmouseover="window.__pwned=2">bold</b>\n';
    el.append(s);
    document.querySelector('#mistake .mistake').append(el);
  });
  await page.waitForFunction(() => document.getElementById('w-hostile-lab')?.dataset.state === 'error');
  assert.match(await text(page, '#w-hostile-lab .pl-error'), /the scenario inside the element has a mistake on line 2, column 16: a quote inside a word/);
  assert.equal(await page.evaluate(() => document.getElementById('w-hostile-lab').shadowRoot.querySelectorAll('b[onmouseover]').length), 0);
  // An unknown attribute, then a fix.
  await page.evaluate(() => document.getElementById('w-shm').setAttribute('stepp', '3'));
  await page.waitForFunction(() => document.getElementById('w-shm').dataset.state === 'error');
  assert.match(await text(page, '#w-shm .pl-error'), /has no attribute "stepp"; it takes scenario, step/);
  await page.evaluate(() => document.getElementById('w-shm').removeAttribute('stepp'));
  await page.waitForFunction(() => document.getElementById('w-shm').dataset.state === 'ready');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.evaluate(() => document.getElementById('w-walk').shadowRoot.textContent), walkBefore);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('global HTML attributes are taken; text where no scenario is taken, or two scenarios, is reported', async () => {
  const page = await notes();
  const add = (html) => page.evaluate((h) => {
    const t = document.createElement('template');
    t.innerHTML = h;
    const el = t.content.firstElementChild;
    document.querySelector('#mistake .mistake').append(el);
    return el.id;
  }, html);
  const state = async (id) => {
    await page.waitForFunction((i) => document.getElementById(i)?.dataset.state, id);
    return page.evaluate((i) => [document.getElementById(i).dataset.state, document.getElementById(i).shadowRoot.textContent], id);
  };
  // ARIA's role and HTML's inert, nonce, accesskey are any element's: the widget draws.
  await add('<pagelab-translate id="g-role" role="region" aria-label="Translator" nonce="n" accesskey="t" address="0x1000"></pagelab-translate>');
  assert.equal((await state('g-role'))[0], 'ready');
  // exec takes its program from attributes: text inside it is reported, not silently hidden.
  await add('<pagelab-exec id="g-exec" program="echo">userinit</pagelab-exec>');
  const [s1, t1] = await state('g-exec');
  assert.equal(s1, 'error');
  assert.match(t1, /<pagelab-exec> cannot be shown: it takes no scenario \(its settings are attributes: program=, args=, machine=\): remove the text inside it/);
  // Removing the text draws it.
  await page.evaluate(() => { document.getElementById('g-exec').textContent = ''; });
  await page.waitForFunction(() => document.getElementById('g-exec').dataset.state === 'ready');
  // Two scenarios: neither is dropped without a word.
  await add('<pagelab-frames id="g-two"><script type="text/plain">userinit</script><script type="text/plain">fork 1</script></pagelab-frames>');
  const [s2, t2] = await state('g-two');
  assert.equal(s2, 'error');
  assert.match(t2, /it holds 2 <script type="text\/plain"> elements: write its scenario in one/);
  // The element is named once in its message.
  await add('<pagelab-walk id="g-noaddr" scenario="story-x86"></pagelab-walk>');
  assert.match((await state('g-noaddr'))[1], /<pagelab-walk> cannot be shown: it needs an address=/);
  // An element inside is a fallback for pages where the widgets cannot load: not a scenario, and hidden once drawn.
  await add('<pagelab-translate id="g-fallback" address="0x1000"><p>This figure needs JavaScript.</p></pagelab-translate>');
  assert.equal((await state('g-fallback'))[0], 'ready');
  await add('<pagelab-walk id="g-fallback2" scenario="story-x86" address="0x2fcc"><p>Needs JavaScript.</p></pagelab-walk>');
  assert.equal((await state('g-fallback2'))[0], 'ready');
  assert.equal(await page.locator('#g-fallback p').first().isVisible(), false);
  // On a dark page read with a light system setting, the accents are the ones made for dark pages.
  await page.evaluate(() => { document.body.style.background = '#121212'; document.body.style.color = '#d8d8d8'; });
  // A widget drawn before the page switched follows it.
  await page.waitForFunction(() => document.getElementById('g-role').shadowRoot.querySelector('.pl-host').classList.contains('pl-dark'));
  await add('<pagelab-walk id="g-dark" scenario="story-x86"></pagelab-walk>');
  await state('g-dark');
  // A widget drawn after the switch takes the page's colours when it is drawn (a loaded machine may be a frame late).
  await page.waitForFunction(() => document.getElementById('g-dark').shadowRoot.querySelector('.pl-host')?.classList.contains('pl-dark'));
  // (Its error line may be drawn again once the machine is loaded: the colour is read until it settles.)
  const accent = () => page.evaluate(() => {
    const e = document.getElementById('g-dark').shadowRoot.querySelector('.pl-error strong');
    return e ? getComputedStyle(e).color : null;
  });
  await page.waitForFunction(() => {
    const e = document.getElementById('g-dark').shadowRoot.querySelector('.pl-error strong');
    return e && getComputedStyle(e).color === 'rgb(255, 123, 114)';
  }, null, { timeout: 5000 }).catch(() => {});
  assert.equal(await accent(), 'rgb(255, 123, 114)');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the JS API, called from the page', async () => {
  const page = await notes();
  const r = await page.evaluate(async () => {
    const mod = await import('./widgets/pagelab-widgets.js');
    const api = await window.pagelab.ready;
    const catchIt = (f) => { try { f(); return null; } catch (e) { return { name: e.name, message: e.message, line: e.line, column: e.column, isError: e instanceof Error }; } };
    const d = api.decompose('x86', '0x00403abc');
    const big = api.decompose('sv39', 0x3fffffe000n);
    const t = api.translate({ scenario: 'story-x86', step: 7, pid: 3, address: 0x2fcc, access: 'user-write' });
    const guard = api.translate({ scenario: 'story-x86', step: 7, pid: 3, address: '0x1000' });
    const run = api.run('preset xv6-public-tiny\nuserinit\nexec 1 /init\nfork 1\n');
    const progs = api.runPrograms({ machine: 'xv6-riscv-tiny', lines: ['echo hello world'] });
    const stepped = api.runPrograms({ machine: 'xv6-riscv-tiny', lines: ['echo hi'], steps: 4 });
    const replayed = api.run('preset xv6-riscv-tiny\n' + progs.operations.join('\n') + '\n');
    const host = document.createElement('div');
    document.body.append(host);
    host.append('the page\'s own text');
    const h = api.render(host, 'translate', { address: '0x80400123' });
    await new Promise((res) => setTimeout(res, 50));
    const rendered = host.shadowRoot.querySelector('[data-field="PDX"] .fhex')?.textContent;
    const handleError = h.error;
    // The widgets' stylesheet is in the shadow root, as for the elements; the page's own content stays on show.
    const link = host.shadowRoot.querySelector('link[rel="stylesheet"]');
    if (!link.sheet) await new Promise((res) => link.addEventListener('load', res, { once: true }));
    const styled = link.sheet.cssRules.length > 0 && host.shadowRoot.querySelector('slot') !== null;
    // Drawing again in the same element replaces the widget.
    api.render(host, 'translate', { address: '0x80400124' });
    await new Promise((res) => setTimeout(res, 50));
    const again = [host.shadowRoot.querySelectorAll('.pl-host > *').length, host.shadowRoot.querySelector('[data-field="offset"] .fhex')?.textContent];
    h.destroy();
    const bad = document.createElement('div');
    document.body.append(bad);
    const renderErr = catchIt(() => api.render(bad, 'walk', { scenario: 'story-x86', address: '0x0', pid: 42 }));
    await new Promise((res) => setTimeout(res, 50));
    // A number has no base: render walks 0x2fcc (12236), not 0x12236.
    const numbered = document.createElement('div');
    document.body.append(numbered);
    api.render(numbered, 'translate', { address: 0x2fcc, fixed: true });
    const bigNumbered = document.createElement('div');
    document.body.append(bigNumbered);
    api.render(bigNumbered, 'translate', { address: 0x3fffffe000n, scheme: 'sv39', fixed: true });
    await new Promise((res) => setTimeout(res, 50));
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const foreign = frame.contentDocument.body.appendChild(frame.contentDocument.createElement('div'));
    return {
      same: mod.default === window.pagelab && mod.decompose === api.decompose,
      d: { pdx: d.index.PDX, ptx: d.index.PTX, offset: d.offset, address: d.address, names: d.fields.map((f) => f.name) },
      big: { l2: big.index.L2, l1: big.index.L1, l0: big.index.L0, address: big.address },
      t: { ok: t.ok, pid: t.pid, step: t.step, fields: t.steps.map((s) => s.field), index: t.steps.map((s) => s.index), leafFlags: t.steps[1].flags, pa: t.pa, frame: t.steps[1].pointsTo, access: t.access },
      guard: { ok: guard.ok, kind: guard.fault.kind, code: guard.fault.code },
      run: {
        preset: run.preset, n: run.steps.length, ops: run.steps.map((s) => s.op),
        execCounts: [run.steps[1].counts.userAlloc, run.steps[1].counts.userFree], forkValue: run.steps[2].result.value,
        firstEvent: run.steps[0].events[0], kallocs: run.steps[2].events.filter((e) => e.kind === 'kalloc').length,
        nullError: run.steps[2].result.error,
      },
      builtins: api.builtins().map((b) => `${b.name}:${b.operations}`),
      progs: { console: progs.console, ops: progs.operations.slice(-4), faults: progs.faults, echoExec: progs.trips.some((t) => t.pid === 3 && t.text.startsWith('exec("echo"')) },
      replayedFree: replayed.steps[replayed.steps.length - 1].nfree, progsFree: progs.nfree,
      stepped: stepped.stepped.map((x) => [x.pid, typeof x.pc, typeof x.instruction]),
      rendered,
      hostEmpty: host.shadowRoot.querySelector('.pl-host').childElementCount,
      handleError, styled, again,
      renderErr,
      badShown: bad.shadowRoot.textContent,
      numbered: [numbered.shadowRoot.querySelector('.addr-fixed code')?.textContent, bigNumbered.shadowRoot.querySelector('.addr-fixed code')?.textContent],
      errors: {
        parse: catchIt(() => api.run('userinit\n  frobnicate 1\n')),
        refused: catchIt(() => api.run('userinit\nfork 1\nfork 9\n')),
        scheme: catchIt(() => api.decompose('arm', 0)),
        wide: catchIt(() => api.decompose('x86', '0x100000000')),
        negative: catchIt(() => api.decompose('x86', -1)),
        notText: catchIt(() => api.run(42)),
        progsMachine: catchIt(() => api.runPrograms({ machine: 'vax' })),
        progsSteps: catchIt(() => api.runPrograms({ steps: -1 })),
        progsLines: catchIt(() => api.runPrograms({ lines: 'echo hi' })),
        noAddress: catchIt(() => api.translate({ scenario: 'story-x86' })),
        step: catchIt(() => api.translate({ scenario: 'story-x86', step: 99, address: 0 })),
        kind: catchIt(() => api.render(document.body, 'teapot')),
        element: catchIt(() => api.render('#nope', 'translate')),
        ownElement: catchIt(() => api.render(document.querySelector('pagelab-translate'), 'translate')),
        translateTypo: catchIt(() => api.translate({ scenario: 'story-x86', step: 7, pid: 3, address: 0x2fcc, acess: 'user-write' })),
        progsTypo: catchIt(() => api.runPrograms({ bogus: 1 })),
        quizText: catchIt(() => api.quiz('quiz-shm')),
        infinite: catchIt(() => api.decompose('x86', Infinity)),
        emptyText: catchIt(() => api.quiz({ text: '' })),
        emptyScenario: catchIt(() => api.translate({ scenario: ' ', address: 0 })),
        quizTypo: catchIt(() => api.quiz({ set: 'quiz-shm', extra: 1 })),
        quizLater: catchIt(() => api.quiz({ scenario: 'userinit\nask sp 1\n' })),
        renderTypo: catchIt(() => api.render(document.createElement('div'), 'walk', { address: 0, junk: 1 })),
        pidInfinite: catchIt(() => api.translate({ scenario: 'story-x86', address: 0, pid: Infinity })),
        pidBig: catchIt(() => api.translate({ scenario: 'story-x86', address: 0, pid: 2n })),
        stepHuge: catchIt(() => api.translate({ scenario: 'story-x86', address: 0, step: 2 ** 40 })),
        foreign: catchIt(() => api.render(foreign, 'translate')),
        crabs: catchIt(() => api.runPrograms({ lines: ['echo ' + '\u{1f980}'.repeat(32)] })),
      },
      accepted: {
        userExec: api.translate({ scenario: 'story-x86', step: 7, pid: 3, address: 0x0, access: 'user-exec' }).access,
        quizNull: api.quiz(null).set,
        hexSeed: api.quiz({ set: 'quiz-shm', seed: '0x10' }).seed,
        bigSeed: api.quiz({ set: 'quiz-shm', seed: 2n ** 64n - 1n }).seed,
      },
    };
  });
  assert.equal(r.same, true, 'the ES module exports the same API as window.pagelab');
  assert.deepEqual(r.d, { pdx: 1, ptx: 3, offset: 0xabc, address: '0x00403abc', names: ['PDX', 'PTX', 'offset'] });
  assert.deepEqual(r.big, { l2: 255, l1: 511, l0: 510, address: '0x0000003fffffe000' });
  assert.equal(r.t.ok, true);
  assert.deepEqual([r.t.pid, r.t.step, r.t.fields, r.t.index, r.t.access], [3, 7, ['PDX', 'PTX'], [0, 2], 'user-write']);
  assert.deepEqual(r.t.leafFlags, ['PTE_P', 'PTE_W', 'PTE_U']);
  assert.equal(BigInt(r.t.pa), BigInt(r.t.frame) | 0xfccn);
  // A user read of the guard page: present, user mode, not a write → x86 error code 0b101 = 5.
  assert.deepEqual(r.guard, { ok: false, kind: 'not_user', code: 5 });
  assert.deepEqual(r.run.ops, ['userinit', 'exec 1 /init', 'fork 1']);
  assert.equal(r.run.preset, 'xv6-public-tiny');
  // exec of init: text, guard and stack allocated; initcode's page freed. fork returns pid 2.
  assert.deepEqual(r.run.execCounts, [3, 1]);
  assert.equal(r.run.forkValue, 2);
  assert.equal(r.run.nullError, null);
  assert.equal(r.run.firstEvent.depth, 0);
  assert.equal(typeof r.run.firstEvent.text, 'string');
  // fork of init (3 user pages): 3 user pages + kernel stack + page directory + 10 page tables.
  assert.equal(r.run.kallocs, 3 + 1 + 1 + 10);
  assert.deepEqual(r.builtins, ['story-x86:9', 'story-riscv:9', 'shm-test:90', 'shm-test-note:90', 'tlb-x86:9', 'tlb-noflush-x86:8', 'tlb-smp-x86:14', 'tlb-riscv:6']);
  // runPrograms: the real sh runs echo; the operations it made replay with run() to the same free count.
  assert.equal(r.progs.console, '\nxv6 kernel is booting\n\nhart 2 starting\nhart 1 starting\ninit: starting sh\n$ echo hello world\nhello world\n$ ');
  // sh's child (pid 3) mallocs its parse tree (sbrk 64 KiB), execs echo; echo exits; sh waits.
  assert.deepEqual(r.progs.ops, ['sbrk 3 65536', 'exec 3 echo hello world', 'exit 3', 'wait 2']);
  assert.equal(r.progs.echoExec, true);
  assert.deepEqual(r.progs.faults, []);
  assert.equal(r.replayedFree, r.progsFree, 'the operations replayed leave the machine with the same free frames');
  assert.deepEqual(r.stepped, [[2, 'string', 'string'], [2, 'string', 'string'], [2, 'string', 'string'], [2, 'string', 'string']]);
  assert.match(r.errors.progsMachine.message, /is not a machine/);
  assert.match(r.errors.progsSteps.message, /steps must be a whole number/);
  assert.match(r.errors.progsLines.message, /lines must be an array/);
  assert.equal(r.rendered, '0x201');
  assert.equal(r.hostEmpty, 0, 'destroy removes the widget');
  assert.equal(r.handleError, null, 'a drawn widget\'s error is null, not undefined');
  assert.equal(r.styled, true, 'the widget has its stylesheet, and the element\'s own content a slot');
  assert.deepEqual(r.again, [1, '0x124'], 'drawing again replaces the widget');
  assert.equal(r.renderErr.isError, true);
  assert.match(r.renderErr.message, /no process with pid 42/);
  assert.match(r.badShown, /cannot be shown: there is no process with pid 42/);
  const e = r.errors;
  assert.deepEqual([e.parse.isError, e.parse.line, e.parse.column], [true, 2, 3]);
  assert.match(e.parse.message, /line 2, column 3: unknown operation `frobnicate`/);
  assert.deepEqual([e.refused.line, e.refused.column], [3, 1]);
  assert.match(e.refused.message, /operation 3 `fork 9` \(line 3\) was refused: there is no process with pid 9/);
  assert.match(e.scheme.message, /use x86, sv39 or sv32/);
  assert.equal(e.scheme.line, undefined);
  assert.match(e.wide.message, /does not fit in 32 bits/);
  assert.match(e.negative.message, /not a whole number/);
  assert.match(e.notText.message, /must be a string/);
  assert.match(e.noAddress.message, /needs an address/);
  assert.match(e.step.message, /step=99 is past the end: the built-in scenario story-x86 has 9 operations/);
  assert.match(e.kind.message, /no widget called "teapot"; the widgets are translate, exec, walk, frames, shm, tlb, lab, quiz/);
  assert.match(e.element.message, /needs an element/);
  assert.match(e.ownElement.message, /draws in a plain element: <pagelab-translate> draws itself/);
  assert.match(e.translateTypo.message, /translate has no option acess: its options are scenario, machine, step, pid, address, access/);
  assert.match(e.progsTypo.message, /runPrograms has no option bogus/);
  assert.match(e.quizText.message, /options must be an object/);
  assert.match(e.infinite.message, /the address Infinity is not a whole number/);
  assert.deepEqual(r.numbered, ['0x00002fcc', '0x0000003fffffe000']);
  assert.match(e.emptyText.message, /the option text is empty: give scenario text/);
  assert.match(e.emptyScenario.message, /the scenario is empty/);
  assert.match(e.quizTypo.message, /^quiz has no option extra: its options are set, scenario, text/);
  assert.match(e.quizLater.message, /^the scenario text/);
  assert.doesNotMatch(e.quizLater.message, /element/);
  assert.match(e.renderTypo.message, /^the walk widget has no option "junk"/);
  assert.match(e.pidInfinite.message, /pid="Infinity" is not a pid/);
  assert.match(e.pidBig.message, /pid must be a number like 3, or "kernel"/);
  assert.match(e.stepHuge.message, /step 1099511627776 is past the end/);
  assert.match(e.foreign.message, /not of another frame or window/);
  // 5 + 32 × 4 bytes, in 37 characters: xv6's console counts bytes.
  assert.match(e.crabs.message, /at most 127 bytes .*this one has 133 bytes \(37 characters\)/);
  assert.deepEqual(r.accepted, { userExec: 'user-execute', quizNull: 'quiz-story-x86', hexSeed: '16', bigSeed: '18446744073709551615' });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the quiz widget: keyboard answers, hints, feedback, and the page collects pagelab-answer events', async () => {
  const page = await notes();
  // questions="5,6" of quiz-story-x86: init's sp after `exec 1 /init`, and its guard page.
  assert.deepEqual(await texts(page, '#w-quiz .pl-question .pl-qpos'), [
    'Question 5 — before step 2: exec 1 /init',
    'Question 6 — before step 2: exec 1 /init',
  ]);
  assert.equal(await text(page, '#w-quiz .pl-score'), '0 right of 2 (0 wrong, 0 given up)');
  const q5 = page.locator('#w-quiz [data-question="5"]');
  const q6 = page.locator('#w-quiz [data-question="6"]');
  // An answer that cannot be read: a message beside the box, the question stays open, no event.
  await q5.locator('input.pl-answer').focus();
  await page.keyboard.type('the top');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('w-quiz').shadowRoot.querySelector('[data-question="5"] .error-inline')?.textContent);
  assert.equal(await q5.locator('.pl-verdict').count(), 0);
  assert.equal(await q5.locator('input.pl-answer').getAttribute('aria-invalid'), 'true');
  assert.match(await text(page, '#answer-log'), /none yet/);
  // Another question's unreadable answer leaves question 5's message where it is.
  await q6.locator('input.pl-answer').fill('nowhere');
  await q6.locator('input.pl-answer').press('Enter');
  await page.waitForFunction(() => document.getElementById('w-quiz').shadowRoot.querySelector('[data-question="6"] .error-inline')?.textContent);
  assert.notEqual(await text(page, '#w-quiz [data-question="5"] .error-inline'), '');
  await q6.locator('input.pl-answer').fill('');
  // A wrong one. By hand: sz 0x3000 after init's page, the guard and the stack; "/init\0" (6 bytes) puts sp at
  // 0x2ff8 (rounded down to 4); then five words (fake pc, argc, argv, argv[0], 0): 0x2ff8 - 20 = 0x2fe4.
  await q5.locator('input.pl-answer').fill('0x2ff8');
  await page.keyboard.press('Enter');
  await q5.locator('.pl-verdict').waitFor();
  // The form is gone: the keyboard's place is the verdict, not the top of the page.
  assert.equal(await page.evaluate(() => document.getElementById('w-quiz').shadowRoot.activeElement?.id), 'pl-q5-verdict');
  assert.match(await text(page, '#w-quiz [data-question="5"] .pl-vtag'), /Wrong/);
  assert.match(await text(page, '#w-quiz [data-question="5"] .pl-vmsg'), /0x2fe4/);
  assert.equal(await text(page, '#answer-log'),
    'Collected by this page from pagelab-answer events: 1 answered, 0 right; last: question 5, wrong, you wrote 0x2ff8.');
  // Hints, one at a time, then a right answer with the keyboard only.
  await q6.locator('.pl-hint').focus();
  await page.keyboard.press('Enter');
  assert.equal(await q6.locator('.pl-hints li').count(), 1);
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.type('0x1000 PTE_P|PTE_W');
  await page.keyboard.press('Enter');
  await q6.locator('.pl-verdict').waitFor();
  assert.match(await text(page, '#w-quiz [data-question="6"] .pl-vtag'), /Right/);
  assert.equal(await text(page, '#w-quiz .pl-score'), '1 right of 2 (1 wrong, 0 given up)');
  // The answers download as the lab's log, and a reload goes on where the learner was.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('#w-quiz .pl-log-json').click()]);
  assert.match(dl.suggestedFilename(), /^pagelab-quiz-story-x86-seed0\.json$/);
  const log = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  assert.deepEqual(log.questions.map((q) => [q.question, q.result, q.answer]), [[5, 'wrong', '0x2ff8'], [6, 'right', '0x1000 PTE_P|PTE_W']]);
  // The quiz started when the page drew it: the log says when, and how long the first answer took.
  assert.match(log.started, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(typeof log.questions[0].seconds, 'number');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('w-quiz')?.dataset.state === 'ready', null, { timeout: 60000 });
  assert.equal(await text(page, '#w-quiz .pl-score'), '1 right of 2 (1 wrong, 0 given up)');
  assert.match(await text(page, '#w-quiz [data-question="5"] .pl-vtag'), /Wrong/);
  // Another quiz element added by a script, given up at once: one event, and its detail.
  await page.evaluate(() => {
    document.addEventListener('pagelab-answer', (e) => { window.lastAnswer = e.detail; });
    const el = document.createElement('pagelab-quiz');
    el.setAttribute('set', 'quiz-story-riscv');
    el.setAttribute('student', 'ada');
    el.setAttribute('questions', '1');
    el.id = 'w-quiz-2';
    document.querySelector('#quiz').append(el);
  });
  await page.locator('#w-quiz-2 .pl-giveup').click({ timeout: 20000 });
  await page.waitForFunction(() => window.lastAnswer?.set === 'quiz-story-riscv', null, { timeout: 20000 });
  const detail = await page.evaluate(() => window.lastAnswer);
  assert.equal(detail.set, 'quiz-story-riscv');
  assert.equal(detail.student, 'ada');
  assert.equal(typeof detail.seed, 'string');
  assert.equal(detail.question, 1);
  assert.equal(detail.result, 'gave_up');
  assert.equal(detail.right, false);
  assert.ok(detail.expected.length > 0 && detail.message.length > 0);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the quiz API: questions, answers on request, checks, and plain errors', async () => {
  const page = await notes();
  const r = await page.evaluate(() => {
    const api = window.pagelab;
    const catchIt = (f) => { try { f(); return null; } catch (e) { return { message: e.message, isError: e instanceof Error }; } };
    const q = api.quiz({ set: 'quiz-story-x86' });
    const withAnswers = api.quiz({ set: 'quiz-story-x86', questions: '1', answers: true });
    const own = api.quiz({ scenario: 'preset xv6-public-tiny\nuserinit\nask free\nfork 1\n' });
    return {
      first: q.questions.slice(0, 6).map((x) => x.kind),
      hidden: q.questions.every((x) => x.answer === undefined && x.hints === undefined),
      seed: q.seed,
      answer1: withAnswers.questions.map((x) => [x.number, x.answer, x.hints.length >= 2]),
      own: own.questions.map((x) => [x.kind, x.step, x.before]),
      right: api.check({ set: 'quiz-story-x86' }, 1, '1 0 66 0'),
      wrong: api.check({ set: 'quiz-story-x86' }, 5, '#12264'),
      unreadable: api.check({ set: 'quiz-story-x86' }, 5, 'near the top'),
      noSuch: catchIt(() => api.check({ set: 'quiz-story-x86' }, 500, '1')),
      badSet: catchIt(() => api.quiz({ set: 'quiz-none' })),
      badOpt: catchIt(() => api.quiz({ set: 'quiz-shm', colour: 'red' })),
      badNumber: catchIt(() => api.check({}, -1, '1')),
      badAnswer: catchIt(() => api.check({}, 1, 42)),
      badAnswers: catchIt(() => api.quiz({ answers: 'yes' })),
    };
  });
  assert.deepEqual(r.first, ['pages', 'kalloc', 'free', 'pages', 'sp', 'guard']);
  assert.ok(r.hidden);
  assert.equal(r.seed, '0');
  // userinit on xv6-public: setupkvm's directory + 56 tables (KERNBASE..PHYSTOP) + 8 (DEVSPACE) + 1 for va 0 = 66
  // page-table pages, and initcode's one user page.
  assert.deepEqual(r.answer1, [[1, '1 0 66 0', true]]);
  assert.deepEqual(r.own, [['free', 2, 'before step 2: fork 1']]);
  assert.equal(r.right.result, 'right');
  assert.equal(r.right.parts.length, 4);
  // #12264 is 0x2fe8: readable, and wrong; the right one is 0x2fe4 (see the widget test).
  assert.deepEqual([r.wrong.readable, r.wrong.right, r.wrong.result, r.wrong.expected], [true, false, 'wrong', '0x2fe4']);
  assert.deepEqual([r.unreadable.readable, r.unreadable.result], [false, 'unreadable']);
  assert.ok(r.unreadable.message.length > 0);
  for (const k of ['noSuch', 'badSet', 'badOpt', 'badNumber', 'badAnswer', 'badAnswers']) assert.ok(r[k]?.isError, `${k} throws an Error`);
  assert.match(r.noSuch.message, /no question 500/);
  assert.match(r.badSet.message, /not an exercise set/);
  assert.match(r.badOpt.message, /^quiz has no option colour: its options are set, scenario, text, seed, student, questions, answers$/);
  assert.match(r.badNumber.message, /question number/);
  assert.match(r.badAnswer.message, /answer must be a string/);
  assert.match(r.badAnswers.message, /answers must be true or false/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('screenshots: desktop, phone and dark mode; nothing wider than a phone', async () => {
  const desk = await notes();
  await desk.screenshot({ path: `${ARTIFACTS}notes-desktop.png`, fullPage: true });
  await desk.locator('#w-walk').screenshot({ path: `${ARTIFACTS}notes-walk.png` });
  await desk.locator('#w-exec').screenshot({ path: `${ARTIFACTS}notes-exec.png` });
  await desk.locator('#w-frames').screenshot({ path: `${ARTIFACTS}notes-frames.png` });
  await desk.locator('#w-lab').screenshot({ path: `${ARTIFACTS}notes-lab.png` });
  await desk.locator('#w-quiz').screenshot({ path: `${ARTIFACTS}notes-quiz.png` });
  await desk.close();
  const phone = await notes({ viewport: { width: 390, height: 844 } });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the phone page is ${overflow}px wider than the screen`);
  for (const id of WIDGETS) {
    const w = await phone.evaluate((i) => document.getElementById(i).getBoundingClientRect().width, id);
    assert.ok(w <= 390, `${id} is ${w}px wide on a 390px screen`);
  }
  await phone.screenshot({ path: `${ARTIFACTS}notes-phone.png`, fullPage: true });
  assert.deepEqual(phone.problems, []);
  await phone.close();
  const dark = await notes({ colorScheme: 'dark' });
  // The widgets inherit the page's (dark-mode) text colour.
  const [pageColour, widgetColour] = await dark.evaluate(() => [
    getComputedStyle(document.body).color,
    getComputedStyle(document.getElementById('w-walk').shadowRoot.querySelector('.pl-host')).color,
  ]);
  assert.equal(widgetColour, pageColour);
  assert.notEqual(pageColour, 'rgb(29, 29, 27)', 'the page is in its dark colours');
  await dark.screenshot({ path: `${ARTIFACTS}notes-dark.png`, fullPage: true });
  assert.deepEqual(dark.problems, []);
  await dark.close();
});

test('the lab page works under the same Content-Security-Policy', async () => {
  const page = await watched('');
  await page.waitForSelector('#main');
  await page.fill('#address', '0x00403abc');
  await page.waitForFunction(() => document.querySelector('[data-field="PTX"] .fhex')?.textContent === '0x3');
  await page.click('#builtin-story-x86');
  await page.waitForFunction(() => document.querySelector('#step-pos')?.textContent === 'Step 0 of 9');
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.querySelector('#step-pos')?.textContent === 'Step 1 of 9');
  // Event lines are nested lists, with no style attribute the policy would block.
  assert.ok(await page.locator('#events li').count() > 0);
  // (<html> carries the step bar's height, --bar, set through the CSSOM, which the policy allows.)
  assert.equal(await page.locator(':not(html)[style]').count(), 0, 'no style attribute');
  assert.match(await page.evaluate(() => document.documentElement.style.getPropertyValue('--bar')), /^\d+px$/);
  // Trunk's preload warns that it ignores `integrity` for fetch preloads; that is not an error.
  assert.deepEqual(page.problems, []);
  assert.equal(await page.locator('script:not([src])').count(), 0, 'no inline script');
  await page.close();
});
