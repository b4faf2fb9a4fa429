// The web lab as a learner uses it, in headless Chromium. Expected values
// are worked out by hand from xv6 (see the comments), not read from the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  launch, open, linkFor, TINY_PREFIX, text, errorText, assertAlive, pick, exec, atStep, shot, ECHO_HELLO_WORLD_STACK, tabTo, twoFrames,
  newUserPages,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const hexOf = (s) => BigInt(s.trim());

test('translate an address: the fields as one types, then the walk', async () => {
  const page = await open(browser);
  // As they type: "0x4" already splits.
  await page.fill('#address', '');
  await page.type('#address', '0x4');
  await page.waitForFunction(() => document.querySelector('[data-field="offset"] .fhex')?.textContent === '0x4');
  // 0x00403abc = 0000000001 | 0000000011 | 101010111100: PDX 1, PTX 3, offset 0xabc.
  await page.fill('#address', '0x00403abc');
  await page.waitForFunction(() => document.querySelector('[data-field="offset"] .fhex')?.textContent === '0xabc');
  assert.equal(await text(page, '[data-field="PDX"] .fhex'), '0x1');
  assert.equal(await text(page, '[data-field="PDX"] .fbits'), '00 0000 0001');
  assert.equal(await text(page, '[data-field="PTX"] .fhex'), '0x3');
  assert.equal(await text(page, '[data-field="PTX"] .fbits'), '00 0000 0011');
  assert.equal(await text(page, '[data-field="offset"] .fbits'), '1010 1011 1100');
  assert.equal(await text(page, '[data-field="offset"] .fdec'), '2748');
  // Decimal with # gives the same split: 0x403abc = 4209340.
  await page.fill('#address', '#4209340');
  await page.waitForFunction(() => document.querySelector('[data-field="PTX"] .fhex')?.textContent === '0x3');
  // pid 1 is initcode, one page at 0: nothing at PDX 1.
  assert.match(await text(page, '#fault-text'), /stopped at the PDX entry: the entry is not present/);
  await shot(page, 'translate-fault', '.panel.translate');

  // Page 0 is mapped: cr3 -> pgdir[0] -> pgtab[0] -> frame; pa = frame | offset.
  await page.fill('#address', '0x123');
  await page.waitForSelector('#pa');
  const steps = await page.$$eval('#walk li', (ls) => ls.map((l) => l.textContent));
  assert.equal(steps.length, 4, steps.join('\n'));
  const cr3 = hexOf(steps[0].match(/cr3 = (0x[0-9a-f]+)/)[1]);
  const pde = steps[1].match(/entry at (0x[0-9a-f]+)/)[1];
  assert.equal(hexOf(pde), cr3 + 0n * 4n, 'the PDE for PDX 0 is at cr3 + 0*4');
  assert.match(steps[1], /PTE_P/);
  // PTE_ADDR(pde) = pde & ~0xFFF is the page table's address.
  const pdeValue = hexOf(steps[1].match(/value (0x[0-9a-f]{8})/)[1]);
  const pgtab = hexOf(steps[1].match(/PTE_ADDR\(pde\) = pde & ~0xFFF = (0x[0-9a-f]+) → the next table/)[1]);
  assert.equal(pgtab, pdeValue & ~0xfffn);
  assert.equal(hexOf(steps[2].match(/entry at (0x[0-9a-f]+)/)[1]), pgtab + 0n * 4n);
  const frame = hexOf(steps[2].match(/PTE_ADDR\(pte\) = pte & ~0xFFF = (0x[0-9a-f]+) → the frame/)[1]);
  assert.equal(hexOf(await text(page, '#pa')), frame | 0x123n);
  // P2V: the kernel sees the same byte at pa + KERNBASE.
  assert.match(await text(page, '#p2v'), /P2V\(0x[0-9a-f]{8}\) = 0x8[0-9a-f]{7}/);
  await shot(page, 'translate-walk', '.panel.translate');

  // A kernel address: a user read faults (no user bit); the kernel's read works, and V2P is shown.
  await page.fill('#address', '0x80100000');
  await page.waitForSelector('#fault-text');
  assert.match(await text(page, '#fault-text'), /no user bit/);
  await page.selectOption('#access', 'kr');
  await page.waitForSelector('#pa');
  assert.equal(await text(page, '#pa'), '0x00100000');
  assert.match(await text(page, '#p2v'), /V2P\(0x80100000\) = va − KERNBASE = 0x00100000/);
  await assertAlive(page, 'translate');
});

test('the guard page and a read-only page end the walk with the reason', async () => {
  const page = await open(browser, linkFor(TINY_PREFIX + 'exec 3 echo hi\n'));
  // echo is one page: text 0x0, guard 0x1000, stack 0x2000.
  await page.fill('#address', '0x1ff0');
  await page.waitForSelector('#fault-text');
  assert.match(await text(page, '#fault-text'), /no user bit/);
  // The lab knows which page it is, and what xv6 does next.
  assert.match(await text(page, '#place'), /the stack guard page \(0x1000–0x1fff\)/);
  assert.match(await text(page, '#after-fault'), /kills it/);
  // Above sz (0x3000): nothing is mapped.
  await page.fill('#address', '0x3000');
  await page.waitForFunction(() => /above the process's size \(sz = 0x3000\)/.test(document.querySelector('#place')?.textContent));
  // xv6-riscv maps text without PTE_W: a user write to it faults as read-only.
  const rv = await open(browser, linkFor('preset xv6-riscv-tiny\nuserinit\nexec 1 /init\n', '&acc=uw'));
  await rv.fill('#address', '0x10');
  await rv.waitForSelector('#fault-text');
  assert.match(await text(rv, '#fault-text'), /read-only/);
  // The RISC-V vocabulary: L2 | L1 | L0, satp, PTE_V.
  assert.deepEqual(await rv.$$eval('.field .fname', (f) => f.map((x) => x.firstChild.textContent)),
    ['sign extension', 'L2', 'L1', 'L0', 'offset']);
  assert.match(await text(rv, '#walk'), /satp = /);
  assert.match(await text(rv, '#vocab'), /PTE_V/);
  await shot(rv, 'translate-riscv', '.panel.translate');
});

test('exec echo hello world: the stack word by word', async () => {
  const page = await open(browser);
  // Choosing a machine starts a new lab at once.
  await page.click('#machine-xv6-public-tiny');
  await page.waitForFunction(() => document.querySelector('#mem-summary')?.textContent.startsWith('512 frames'));
  await exec(page, 'init', '');
  await page.click('#fork');
  await pick(page, 2);
  await exec(page, 'sh', '');
  await page.click('#fork');
  await pick(page, 3);
  await exec(page, 'echo', 'hello world');
  await page.waitForSelector('#stack');
  await atStep(page, 6, 6);
  const rows = await page.$$eval('#stack tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  // From core/tests/exec.rs, worked out from xv6's exec: the strings from the top of the
  // stack page 0x3000 down, each start rounded down to 4; then ustack below them.
  const want = ECHO_HELLO_WORLD_STACK;
  // The first two rows are the guard page and the unused part of the stack page.
  assert.match(rows[0][2], /guard page 0x00001000/);
  assert.match(rows[1][2], /unused below sp/);
  const words = rows.slice(2);
  assert.equal(words.length, want.length);
  want.forEach(([va, value, what], i) => {
    assert.equal(words[i][0], va);
    assert.equal(words[i][1], value, `value at ${va}`);
    assert.match(words[i][2], what);
  });
  assert.match(await text(page, '#stack-summary'), /sp = 0x00002fcc/);
  // The address space: text, guard, stack; then the kernel's two mapped
  // stretches (setupkvm's kmap): RAM from KERNBASE, 512 pages of this 2 MB
  // machine's PHYSTOP, and the devices from DEVSPACE (0xFE000000) to 4 GB, 0x2000 pages.
  const regions = await page.$$eval('#regions tbody tr', (rs) => rs.map((r) => [r.cells[0].textContent, r.cells[3].textContent]));
  assert.deepEqual(regions.map((r) => r[0].split(' ')[0]), ['TEXT', 'GUARD', 'STACK', 'KERNEL', 'KERNEL']);
  assert.deepEqual(regions.slice(3).map((r) => Number(r[1])), [512, 0x2000]);
  await shot(page, 'address-space-and-stack', '.panel.space');
  await shot(page, 'processes', '.panel.procs');
  await assertAlive(page, 'exec');
});

test('upload a program file and exec it', async () => {
  const page = await open(browser, linkFor(TINY_PREFIX, '&pid=3'));
  // The built x86 echo from the core, uploaded under another name.
  const echo = readFileSync(new URL('../core/programs/x86/echo', import.meta.url));
  await page.setInputFiles('#upload', { name: 'myecho', mimeType: 'application/octet-stream', buffer: echo });
  // The message gives the file's own size.
  await page.waitForFunction((n) => new RegExp(`/myecho added \\(${n} bytes, x86 \\(i386\\)`).test(document.querySelector('#info-text')?.textContent), echo.length);
  await atStep(page, 6, 6);
  await exec(page, 'myecho', 'a bcdefgh');
  await atStep(page, 7, 7);
  // argv = {"myecho", "a", "bcdefgh"}: "myecho\0" (7 bytes) at (0x3000 - 7) & ~3 = 0x2ff8,
  // "a\0" at (0x2ff8 - 2) & ~3 = 0x2ff4, "bcdefgh\0" at (0x2ff4 - 8) & ~3 = 0x2fec;
  // then 3 + argc + 1 = 7 words: sp = 0x2fec - 28 = 0x2fd0.
  assert.match(await text(page, '#stack-summary'), /sp = 0x00002fd0/);
  assert.match(await text(page, '.ptable'), /myecho/);
  await assertAlive(page, 'upload');
});

test('a heavy sbrk on xv6-riscv: its thousands of frames fold into runs of the map, each named by owner and span', async () => {
  // The story's machine after wait, then sbrk(64 MB) in sh (pid 2), run in the lab: 16384 user pages
  // (64 MB / 4 KB) and 32 L0 page tables (one per 2 MB of the 64 MB, as sz goes from
  // 0x5000 to 0x4005000: L0 tables cover 0x0-0x1fffff (there), then 32 more).
  const story = readFileSync(new URL('../core/src/lab/builtins/story-riscv.txt', import.meta.url), 'utf8');
  const page = await open(browser, linkFor(story));
  const n = Number((await page.textContent('#step-pos')).match(/of (\d+)/)[1]);
  await pick(page, 2);
  await page.fill('#sbrk-0', '67108864');
  await page.click('#sbrk-run');
  await atStep(page, n + 1, n + 1);
  const cells = await page.$$eval('#framemap .cell', (cs) => cs.map((c) => [c.textContent, c.getAttribute('aria-label')]));
  // Every frame the step allocated for pid 2 is in a cell marked new: one U2+ per frame, or a run U2+×N.
  const { pages, runs } = newUserPages(cells, 2, '( \\(used by the chosen process, pid 2\\))?');
  assert.equal(pages, 16384);
  assert.ok(runs >= 30, `the pages fold into runs between the page tables taken among them (${runs})`);
  assert.ok(cells.length < 400, `a map of a few hundred cells, not of 16,384 (${cells.length})`);
  // A run is one cell: choosing it shows its first frame.
  const run = page.locator('#framemap .cell.run.fk-user').first();
  const first = (await run.getAttribute('id')).replace('frame-', '');
  await run.click();
  await page.waitForFunction((f) => document.querySelector('#frame-info h3')?.textContent.startsWith(`frame 0x${f}`), first);
  assert.match(await text(page, '#frame-info'), /user page of pid 2/);
  // The run is named beside the frame too (its tooltip is no use to touch or keyboard users).
  const size = (await run.textContent()).match(/×(\d+)$/)[1];
  assert.match(await text(page, '#frame-run'), new RegExp(`^It is one of a run of ${size} frames, 0x${first.padStart(16, '0')}–0x[0-9a-f]{16}, each a user page of pid 2, all allocated in this step: the map shows them as one cell, U2\\+×${size}\\. Type an address in the frame box to choose another of them\\.$`));
  assert.equal(await page.isHidden('#panic'), true, 'the panic box is hidden');
  assert.deepEqual(page.errors, [], 'no error on the page');
  await shot(page, 'heavy-sbrk-frame-map', '#panel-memory');
  await page.close();
});

test("the page-table listing (vmprint) is printed when its box is opened, and follows the step", async () => {
  // The frames by hand, as in the command-line test of `pagelab show`: kinit2 frees 4 MB..PHYSTOP upward,
  // so kalloc hands out 0xdfff000 and down. userinit takes 0xdfff000 (kernel stack), 0xdffe000 (directory),
  // 64 kernel tables (56 for KERNBASE..PHYSTOP, 8 for DEVSPACE) 0xdffd000..0xdfbe000, 0xdfbd000 (initcode),
  // 0xdfbc000 (its table). exec /init: directory 0xdfbb000 and 64 tables 0xdfba000..0xdf7b000; init's page
  // 0xdf7a000, its table 0xdf79000; then the guard page 0xdf78000 (PTE_U cleared) and the stack 0xdf77000.
  const page = await open(browser, linkFor('preset xv6-public\nuserinit\nexec 1 /init\n'));
  await pick(page, 1);
  assert.equal(await page.$('#vmprint'), null, 'nothing is printed while the box is closed');
  await page.click('details.vmprint summary');
  await page.waitForSelector('#vmprint');
  assert.equal(await page.textContent('#vmprint'), `page directory 0x0dfbb000 (pid 1)
 PDX 0: pde 0x0df79007 pa 0x0df79000 PTE_P|PTE_W|PTE_U
  PTX 0: pte 0x0df7a007 pa 0x0df7a000 PTE_P|PTE_W|PTE_U va 0x00000000
  PTX 1: pte 0x0df78003 pa 0x0df78000 PTE_P|PTE_W va 0x00001000
  PTX 2: pte 0x0df77007 pa 0x0df77000 PTE_P|PTE_W|PTE_U va 0x00002000
 PDX 512-1023: 64 entries map the kernel's half, through 64 page tables of this process's own (setupkvm makes them for every process, all mapping alike)
`);
  // sbrk(4096) while it is open: the next page, 0x3000, gets the frame at the head of the free list.
  // That is not the next one down: exec's freevm freed initcode's page, then every table of the old
  // directory, and last the directory itself, 0xdffe000, which kfree put at the head.
  await page.fill('#sbrk-0', '4096');
  await page.click('#sbrk-run');
  await atStep(page, 3, 3);
  await page.waitForFunction(() => document.getElementById('vmprint')?.textContent.includes('PTX 3: pte 0x0dffe007 pa 0x0dffe000 PTE_P|PTE_W|PTE_U va 0x00003000'));
  await page.click('details.vmprint summary');
  await page.waitForFunction(() => !document.getElementById('vmprint'));
  await assertAlive(page, 'vmprint');
});

test('fork and sbrk: the frame map changes', async () => {
  const page = await open(browser, linkFor(TINY_PREFIX));
  const nfree = async () => Number((await text(page, '#nfree')).split(' ')[0]);
  const users = () => page.$$eval('#framemap .fk-user', (c) => c.length);
  const free0 = await nfree();
  const users0 = await users();
  await pick(page, 3);
  await page.fill('#sbrk-0', '8192');
  await page.click('#sbrk-run');
  await atStep(page, 6, 6);
  // sbrk(8192): two user pages, no new page table (the first 4 MB has one already).
  assert.equal(await nfree(), free0 - 2);
  assert.equal(await users(), users0 + 2);
  assert.equal(await page.$$eval('#framemap .cell.new', (c) => c.length), 2, 'the two new frames are marked');
  await page.click('#fork');
  await atStep(page, 7, 7);
  // fork copies pid 3's 6 user pages and makes a kernel stack and 11 page-table pages:
  // the page directory, 1 table for the user half, 9 for the kernel half (1 for the
  // 2 MB of RAM at KERNBASE, 8 for the 32 MB of device space from 0xfe000000).
  assert.equal(await nfree(), free0 - 2 - 18);
  assert.equal(await users(), users0 + 8);
  assert.match(await text(page, '#step-counts'), /allocated: 6 user pages \+ 11 page-table pages \+ 1 kernel stack; freed: nothing/);
  await shot(page, 'physical-memory', '.panel.memory');
  // The child exits and its parent waits: its frames go back on the free list.
  await pick(page, 4);
  await page.click('#exit');
  await atStep(page, 8, 8);
  await pick(page, 3);
  await page.click('#wait');
  await atStep(page, 9, 9);
  assert.equal(await nfree(), free0 - 2);
  assert.ok((await page.$$eval('#framemap .cell.gone', (c) => c.length)) >= 18, 'freed frames are marked');
  await assertAlive(page, 'fork and sbrk');
});

test('shared memory: one frame in two processes, a byte written by one is read by the other', async () => {
  const page = await open(browser, linkFor(TINY_PREFIX));
  await pick(page, 3);
  await page.fill('#openshm-0', '25');
  await page.click('#openshm-run');
  // sh's image is 4 pages, so the shared page goes at PGROUNDUP(sz) = 0x4000 = 16384.
  await page.waitForFunction(() => /returned 16384/.test(document.querySelector('#info-text')?.textContent));
  await pick(page, 2);
  await page.click('#openshm-run');
  await atStep(page, 7, 7);
  assert.equal(await page.$$eval('#framemap .fk-shared', (c) => c.length), 1, 'one shared frame');
  await page.click('#framemap .fk-shared');
  await page.waitForSelector('#frame-mappers');
  assert.match(await text(page, '#frame-mappers'), /pid 2 at va 0x00004000.*pid 3 at va 0x00004000/);
  assert.match(await text(page, '#frame-refs'), /2 processes have it open/);
  await shot(page, 'shared-frame', '.panel.memory');
  // Write 42 through pid 2, read it through pid 3.
  await page.fill('#write-0', '0x4000');
  await page.fill('#write-1', '42');
  await page.click('#write-run');
  await atStep(page, 8, 8);
  await pick(page, 3);
  await page.fill('#read-0', '0x4000');
  await page.fill('#read-1', '1');
  await page.click('#read-run');
  await page.waitForFunction(() => /read the byte 42/.test(document.querySelector('#info-text')?.textContent));
  // The shared-memory built-in: the 10-child test ends with 20 in the byte. It opens at step 0.
  await page.click('#builtin-shm-test');
  await atStep(page, 0, 90);
  // Step 89 is the parent's `read 3 0x4000 1`: the last child stored 20.
  await page.selectOption('#jump', '89');
  await atStep(page, 89, 90);
  assert.match(await text(page, '#step-detail h3'), /^Step 89: read 3 0x4000 1, event by event$/);
  assert.match(await text(page, '#steps li:nth-child(90)'), /read 3 0x4000 1 → 1/);
  await assertAlive(page, 'shared memory');
});

test('timeline: step back and forward, jump, and the story in one click', async () => {
  const page = await open(browser);
  await page.click('#builtin-story-x86');
  await atStep(page, 0, 9);
  await page.selectOption('#jump', '9');
  await atStep(page, 9, 9);
  await shot(page, 'timeline', '.panel.timeline');
  await page.click('#back');
  await atStep(page, 8, 9);
  // Step 8 is `exit 3`: pid 3 is a zombie until sh waits.
  assert.match(await text(page, '.ptable'), /echo\s*zombie/);
  assert.match(await text(page, '#truncate-warning'), /drops step 9,/);
  await page.click('#forward');
  await atStep(page, 9, 9);
  assert.doesNotMatch(await text(page, '.ptable'), /zombie/);
  await page.selectOption('#jump', '6');
  await atStep(page, 6, 9);
  // sbrk 3 32768: 8 heap pages, as the notes count ("PAGE ALLOCATED HERE = 8").
  assert.match(await text(page, '#step-counts'), /allocated: 8 user pages; freed: nothing/);
  assert.match(await text(page, '#what-happened'), /growproc → allocuvm: allocated 8 user pages \(heap\)/);
  await page.selectOption('#jump', '7');
  // exec echo: 1 text + guard + stack allocated, and the 4 + 8 pages of the old image freed.
  assert.match(await text(page, '#step-counts'), /allocated: 3 user pages .*freed: 12 user pages/);
  // The address bar is written in a task of its own, after the change is
  // drawn: once it says step 7, Back and Forward come back to step 7.
  await page.waitForFunction(() => location.hash.includes('step=7'));
  // The browser's Back button returns to the lab before the story was loaded.
  await page.goBack();
  await atStep(page, 1, 1);
  await page.goForward();
  await atStep(page, 7, 9);
  await assertAlive(page, 'timeline');
});

/** An init script: while `window.__held` is a list, the zero-delay timers
 * the page sets from an animation frame wait in it (the address bar's write
 * is set that way, after the frame that draws a change); `release()` (in the
 * page) runs them. At a popstate that reaches a story-riscv entry, the held
 * timers run in microtasks, before that traversal's hashchange. */
function holdTimers() {
  window.__held = [];
  let inFrame = false;
  const frame = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (f) => frame((t) => { inFrame = true; try { f(t); } finally { inFrame = false; } });
  const later = window.setTimeout.bind(window);
  window.setTimeout = (f, ms, ...rest) => {
    if (window.__held && inFrame && !ms) { window.__held.push(f); return 0; }
    return later(f, ms, ...rest);
  };
  window.release = () => { const held = window.__held ?? []; window.__held = null; for (const f of held) f(); };
  addEventListener('popstate', () => {
    if (!window.__held || !location.hash.includes('story-riscv')) return;
    const held = window.__held;
    window.__held = null;
    for (const f of held) queueMicrotask(f);
  });
}

test('Back and Forward keep a story loaded before the first lab was ever written to the address bar', async () => {
  // The learner clicks story-x86 the moment the lab appears, before the page
  // has written the first lab's link (that waits for a frame): here that
  // write is held until after the click. Back then opens that first lab from
  // an empty fragment: its link must replace the entry, not add one after
  // it, or Forward has nowhere to go.
  const page = await open(browser, '', undefined, holdTimers);
  await twoFrames(page);
  assert.equal(await page.evaluate(() => location.hash), '', 'the first lab is not written yet');
  await page.click('#builtin-story-x86');
  await atStep(page, 0, 9);
  await page.evaluate(() => window.release());
  await page.selectOption('#jump', '7');
  await atStep(page, 7, 9);
  await page.waitForFunction(() => location.hash.includes('step=7'));
  await page.goBack();
  await atStep(page, 1, 1);
  await page.goForward();
  await atStep(page, 7, 9);
  assert.match(await page.evaluate(() => location.hash), /^#b=story-x86&step=7/);
  await assertAlive(page, 'Back and Forward');
});

test('a link write still waiting when Forward comes is dropped, not written over the entry Forward reached', async () => {
  // The link of the lab Back opened is written after the next frame. Here
  // that write is held, and let go at the moment Forward's popstate comes,
  // before its hashchange: the order in which it landed on a busy machine.
  const page = await open(browser, '#b=story-x86&step=7', undefined, holdTimers);
  await atStep(page, 7, 9);
  await page.evaluate(() => window.release());
  // A new lab adds an entry.
  await page.click('#builtin-story-riscv');
  await page.waitForFunction(() => location.hash.startsWith('#b=story-riscv&step=0'));
  await page.evaluate(() => { window.__held = []; });
  await page.goBack();
  await atStep(page, 7, 9);
  await twoFrames(page);
  assert.ok((await page.evaluate(() => window.__held.length)) > 0, 'the write for the entry Back reached is held');
  await page.goForward();
  await page.waitForFunction(() => window.__held === null);
  await atStep(page, 0, 9);
  await page.waitForTimeout(300);
  assert.match(await page.evaluate(() => location.hash), /^#b=story-riscv&step=0/, 'the entry keeps its own link');
  assert.equal(await page.textContent('#step-pos'), 'Step 0 of 9');
  // (assertAlive types an x86 address; this lab is xv6-riscv.)
  assert.equal(await page.isHidden('#panic'), true);
  assert.deepEqual(page.errors, []);
});

test('a copied link reopens the lab exactly', async () => {
  const page = await open(browser);
  await page.click('#builtin-story-x86');
  await atStep(page, 0, 9);
  await page.selectOption('#jump', '7');
  await atStep(page, 7, 9);
  await pick(page, 3);
  await page.fill('#address', '0x2fcc');
  await page.selectOption('#access', 'uw');
  await page.click('#framemap .fk-user');
  // The address bar is written in a task of its own, just after the change is drawn.
  await page.waitForFunction(() => location.hash.includes('frame='));
  const url = page.url();
  const frame = await text(page, '#frame-info h3');
  const procs = await text(page, '.ptable');
  const again = await open(browser, url.slice(url.indexOf('#')));
  await atStep(again, 7, 9);
  assert.equal(await text(again, '.ptable'), procs);
  assert.equal(await again.inputValue('#address'), '0x2fcc');
  assert.equal(await again.inputValue('#access'), 'uw');
  assert.equal(await text(again, '#frame-info h3'), frame);
  // A built-in story is named in the link, not spelt out.
  assert.match(url, /#b=story-x86&step=7&pid=3&va=2fcc&acc=uw&frame=[0-9a-f]+$/);
  // Reload in place.
  await again.reload();
  await again.waitForSelector('#main');
  await atStep(again, 7, 9);
  // A link pasted into the address bar of an open lab is opened too.
  await again.evaluate((h) => { location.hash = h; }, linkFor('preset xv6-riscv-tiny\nuserinit\n').slice(1));
  await atStep(again, 1, 1);
  assert.match(await text(again, '#vocab'), /satp/);
});

test("a scenario of one's own, written in the lab, opens as a lab with its own link; Back returns", async () => {
  const page = await open(browser);
  await page.click('#builtin-story-x86');
  await atStep(page, 0, 9);
  await page.click('#panel-share summary:has-text("Open a scenario of your own")');
  // A mistake says where, and the lab stays as it was.
  await page.fill('#own-scenario', 'preset xv6-riscv-tiny\nuserinit\n  frob 1\n');
  await page.click('#open-own');
  await page.waitForFunction(() => /line 3, column 3/.test(document.getElementById('own-notice')?.textContent || ''));
  await atStep(page, 0, 9);
  // Two operations: it opens at its last step, on its own machine.
  await page.fill('#own-scenario', '# mine\npreset xv6-riscv-tiny\nuserinit\nfork 1\n');
  await page.click('#open-own');
  await atStep(page, 2, 2);
  assert.match(await text(page, '#vocab'), /satp/);
  await page.waitForFunction(() => location.hash.startsWith('#lab='));
  // Back returns to the story.
  await page.goBack();
  await atStep(page, 0, 9);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('keyboard only: tab to controls, Enter and Space act, arrows move through frames', async () => {
  const page = await open(browser, linkFor(TINY_PREFIX));
  // Tab until the address field has focus.
  assert.equal(await tabTo(page, 'address'), 'address', 'the address field is reachable with Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('0x2000');
  await page.waitForFunction(() => document.querySelector('[data-field="PTX"] .fhex')?.textContent === '0x2');
  // A button with Space, another with Enter.
  await page.focus('#pick-2');
  await page.keyboard.press('Space');
  await page.waitForSelector('#pick-2[aria-pressed="true"]');
  await page.focus('#fork');
  await page.keyboard.press('Enter');
  await atStep(page, 6, 6);
  // Forms submit with Enter.
  await page.focus('#sbrk-0');
  await page.keyboard.press('Enter');
  await atStep(page, 7, 7);
  // The frame map is one tab stop; arrow keys move the selection.
  await page.focus('#framemap');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#frame-info h3');
  const active = await page.getAttribute('#framemap', 'aria-activedescendant');
  assert.ok(active?.startsWith('frame-'), 'the map names the chosen frame');
  // Go to a frame by address.
  await page.fill('#goto-frame', '0x1ff123');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#frame-info h3')?.textContent.startsWith('frame 0x1ff000'));
  // Focus is visible (an outline is drawn).
  await page.focus('#fork');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await assertAlive(page, 'keyboard');
});

test("exec's stack push by push, with the keyboard", async () => {
  // xv6-public, step 7: exec("echo", {"echo", "hello", "world"}) on the stack page 0x2000.
  // sp starts at 0x3000; each string goes at sp = (sp - (len + 1)) & ~3: "echo" at 0x2ff8,
  // "hello" at 0x2ff0, "world" at 0x2fe8; then 7 words of array: sp = 0x2fcc.
  const page = await open(browser, '#b=story-x86&step=7');
  await atStep(page, 7, 9);
  await page.focus('#stack-push');
  await page.keyboard.press('Home');
  await page.waitForFunction(() => /^Before the first push: sp = 0x00003000/.test(document.querySelector('#stack-push-now')?.textContent));
  assert.equal(await page.locator('#stack tr.sp').count(), 0, 'sp is above the page\'s words');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => /^After push 1 of 4: argv\[0\]'s string "echo\\0" \(5 bytes\) at 0x00002ff8–0x00002ffc; sp = 0x00002ff8\./.test(document.querySelector('#stack-push-now')?.textContent));
  // The word at sp holds "echo" little-endian; the words below it are not written yet.
  assert.match(await text(page, '#stack tr.sp'), /0x00002ff8\s*0x6f686365/);
  assert.match(await text(page, '#stack tbody tr:nth-child(3)'), /0x00002fcc\s*0x00000000\s*not written yet/);
  await page.keyboard.press('End');
  await page.waitForFunction(() => /After push 4 of 4: the array.*sp = 0x00002fcc\. This is the stack the program starts with\./.test(document.querySelector('#stack-push-now')?.textContent));
  assert.match(await text(page, '#stack tr.sp'), /0x00002fcc\s*0xffffffff\s*fake return PC/);
  await page.close();
});

test('a free frame shows the junk kfree wrote and its next pointer', async () => {
  // xv6-public at step 1: the free list's head holds, in its first 4 bytes, P2V of the
  // next free frame (little-endian), and kfree's junk (1s) everywhere else.
  const page = await open(browser, '#b=story-x86&step=1');
  await atStep(page, 1, 9);
  const list = (await text(page, '#freelist')).match(/0x[0-9a-f]{8}/g);
  const [head, next] = list.map((h) => parseInt(h, 16));
  await page.fill('#goto-frame', list[0]);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#frame-bytes');
  const v = next + 0x80000000;
  const le = [0, 8, 16, 24].map((sh) => ((v >>> sh) & 0xff).toString(16).padStart(2, '0')).join(' ');
  const words = await text(page, '#frame-bytes');
  assert.ok(words.startsWith(`Its first 16 bytes: ${le} 01 01 01 01 01 01 01 01 01 01 01 01; the other 4080 are all 0x01.`), words);
  assert.ok(words.includes(`0x${v.toString(16)} (P2V of 0x${next.toString(16).padStart(8, '0')})`), words);
  assert.ok(head > next, 'the list runs down from PHYSTOP');
  // Going down pid 1's page table: its directory maps PDX 0 (initcode's table), the
  // 56 for KERNBASE..+224 MB and the 8 for DEVSPACE: 65 of 1024; the table at PDX 0
  // maps initcode's one page.
  await page.click('details.owners > summary');
  const rows = page.locator('#owners tr', { hasText: 'page directory' });
  await rows.first().locator('button').first().click();
  await page.waitForFunction(() => /65 of its 1024 entries are valid/.test(document.querySelector('#frame-entries')?.textContent));
  const first = await page.locator('#frame-entries').textContent();
  const pde = parseInt(first.match(/\[0\] (0x[0-9a-f]{8})/)[1], 16);
  await page.locator('#frame-entries button').first().click();
  await page.waitForFunction((f) => document.querySelector('#frame-info h3')?.textContent.startsWith(`frame 0x${f}`), (pde & ~0xfff).toString(16));
  assert.match(await text(page, '#frame-entries'), /1 of its 1024 entries is valid.*\[0\] 0x[0-9a-f]{8} → /);
  await page.close();
});

test('on a phone, the frame chosen with the keyboard is scrolled into sight inside the map', async () => {
  // After the story and a fork, xv6-public's map has about 280 cells: on a
  // phone the map (26rem high) scrolls, and its last cells start out of sight.
  const page = await open(browser, '#b=story-x86&step=9', { width: 390, height: 844 });
  await page.click('#fork');
  await atStep(page, 10, 10);
  // Where a cell lies against the part of the map that is seen: above (-1), in sight (0), below (1).
  const place = (id) => page.evaluate((id) => {
    const map = document.getElementById('framemap');
    const top = map.getBoundingClientRect().top + map.clientTop;
    const r = document.getElementById(id).getBoundingClientRect();
    return r.bottom <= top ? -1 : r.top >= top + map.clientHeight ? 1 : 0;
  }, id);
  // Wait until the map names cell `id` as the chosen one.
  const chosen = (id) => page.waitForFunction((id) => document.getElementById('framemap').getAttribute('aria-activedescendant') === id, id);
  const last = await page.$eval('#framemap', (m) => m.lastElementChild.id);
  assert.equal(await place(last), 1, 'the last cell starts below the part of the map in sight');
  await page.focus('#framemap');
  await page.keyboard.press('End');
  await chosen(last);
  assert.equal(await place(last), 0, 'End chooses the last cell and brings it into sight');
  await page.keyboard.press('Home');
  const first = await page.$eval('#framemap', (m) => m.firstElementChild.id);
  await chosen(first);
  assert.equal(await place(first), 0, 'Home brings the first cell back into sight');
  assert.equal(await place(last), 1);
  await assertAlive(page, 'frame map on a phone');
  await page.close();
});

test('phone and projector screens', async () => {
  for (const [name, viewport] of [['phone', { width: 390, height: 844 }], ['projector', { width: 1920, height: 1080 }]]) {
    const page = await open(browser, linkFor(TINY_PREFIX + 'exec 3 echo hello world\n'), viewport);
    await page.waitForSelector('#stack');
    // Nothing is wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than the screen`);
    await shot(page, `page-${name}`);
    await page.close();
  }
});
