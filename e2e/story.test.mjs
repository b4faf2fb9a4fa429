// The lab that leads: the story followed step by step with the keys, the
// narrative and "the notes say" lines, the step bar always in sight, the view
// following the step, translate's complete walk, shared memory, defects, the
// first screen, embedding, hosting from a folder, and an accessibility audit.
// Expected values are worked out from xv6 and the notes (see the comments).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  launch, open, text, atStep, shot, assertAlive, URL_BASE, TINY_PREFIX, linkFor, tabTo, audit,
} from './helpers.mjs';
import { serve } from './server.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SIZES = [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]];

// story-x86's steps that the notes (seed 000) count, each with a "the notes say" line:
// where they differ from xv6-public (userinit counts 1 page, xv6 also a kernel stack and 66
// page-table pages; the execs and forks leave out page tables; the notes free pages at exit,
// xv6-public in wait) and where they agree (sbrk: 32768 / 4096 = 8 pages).
const NOTES_DIFFER = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/** The step bar is on screen, Back and Forward in it. */
async function barInSight(page, where) {
  const r = await page.evaluate(() => {
    const b = document.getElementById('stepbar').getBoundingClientRect();
    const f = document.getElementById('forward').getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, ftop: f.top, fbottom: f.bottom, h: innerHeight };
  });
  assert.ok(r.top >= -1 && r.bottom <= r.h && r.ftop >= 0 && r.fbottom <= r.h, `${where}: the step bar is off screen ${JSON.stringify(r)}`);
}

for (const [size, viewport] of SIZES) {
  test(`the story from step 0 to the end with the keyboard only (${size})`, async () => {
    const page = await open(browser, '', viewport);
    // Load the story with Tab and Enter.
    assert.equal(await tabTo(page, 'builtin-story-x86', 30), 'builtin-story-x86', 'the story button is reachable with Tab');
    await page.keyboard.press('Enter');
    // A story opens at its beginning.
    await atStep(page, 0, 9);
    // The keys are listed on the page.
    assert.match(await text(page, '#keys'), /n or →\s*next step/);
    for (let k = 0; k <= 9; k++) {
      const narrative = await text(page, '#narrative');
      assert.ok(narrative.length > 40, `step ${k}: a narrative`);
      const says = (await page.locator('#narrative .notes-say').count()) > 0;
      assert.equal(says, NOTES_DIFFER.includes(k), `step ${k}: "the notes say" ${says ? 'present' : 'absent'}`);
      // The step bar stays in sight at the top, the middle and the bottom of the page.
      for (const where of ['top', 'middle', 'bottom']) {
        await page.evaluate((w) => {
          const max = document.documentElement.scrollHeight - innerHeight;
          window.scrollTo(0, w === 'top' ? 0 : w === 'middle' ? max / 2 : max);
        }, where);
        await barInSight(page, `step ${k}, ${where}`);
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, `story-x86-step-${k}-${size}`, null, false);
      if (k < 9) {
        await page.keyboard.press('n');
        await atStep(page, k + 1, 9);
      }
    }
    // Step 9: wait frees the zombie: its kernel stack, then freevm: 3 user pages
    // (deallocuvm) and 1 + 64 + 1 = 66 page-table pages (directory, kernel half, user table).
    assert.match(await text(page, '#what-happened'), /wait: freed 1 kernel stack/);
    assert.match(await text(page, '#what-happened'), /freevm: freed 66 page-table pages/);
    // Past the end: the message sits in the step bar.
    await page.keyboard.press('n');
    await page.waitForSelector('#steps-notice #error-text');
    assert.match(await text(page, '#steps-notice'), /this is the last step/);
    await barInSight(page, 'the error');
    await page.keyboard.press('p');
    await atStep(page, 8, 9);
    // t: the address field, its text selected, so what is typed replaces it; Escape
    // leaves the field and the keys work again.
    await page.keyboard.press('t');
    await page.keyboard.type('0x1ff0');
    assert.equal(await page.inputValue('#address'), '0x1ff0');
    await page.keyboard.press('Escape');
    await page.keyboard.press('n');
    await atStep(page, 9, 9);
    await page.keyboard.press('p');
    await atStep(page, 8, 9);
    // Enter on Forward to the last step disables it: the focus goes to Back, not to the page.
    await page.focus('#forward');
    await page.keyboard.press('Enter');
    await atStep(page, 9, 9);
    await page.waitForFunction(() => document.activeElement?.id === 'back');
    await page.keyboard.press('Enter');
    await atStep(page, 8, 9);
    // exit frees nothing in xv6-public; the notes say it frees 1 + 2 pages.
    assert.match(await text(page, '#what-happened'), /No page was allocated or freed/);
    assert.match(await text(page, '.notes-say'), /exit does not call freevm/);
    await assertAlive(page, `story (${size})`);
    await page.close();
  });
}

for (const [size, viewport] of SIZES) test(`exec of init in words, and the trace folded to a few lines (${size})`, async () => {
  const page = await open(browser, '#b=story-x86&step=2', viewport);
  await atStep(page, 2, 9);
  const what = await text(page, '#what-happened');
  // exec: setupkvm (1 + 64 tables), allocuvm for init's page (and its page table),
  // allocuvm for the guard and stack pages, then freevm of the old image.
  for (const line of [
    'setupkvm: allocated 65 page-table pages',
    'allocuvm: allocated 1 user page (text) + 1 page-table page',
    'allocuvm: allocated 2 user pages (guard page, stack)',
    'freevm → deallocuvm: freed 1 user page (initcode)',
    'freevm: freed 66 page-table pages',
  ]) assert.ok(what.includes(line), `missing "${line}" in ${what}`);
  assert.match(await text(page, '.notes-say'), /1 \+ 2 pages allocated and 1 freed/);
  // Entries by page table: the guard page lost PTE_U.
  const entries = await page.$$eval('#entries > li > ul > li', (l) => l.map((x) => x.textContent));
  assert.equal(await text(page, '#entries > li > strong'), 'pid 1');
  assert.ok(entries.includes('mapped va 0x0–0xfff (text), va 0x1000–0x1fff (guard page), va 0x2000–0x2fff (stack)'), entries.join('\n'));
  assert.ok(entries.includes('changed va 0x1000 (guard page): −PTE_U'), entries.join('\n'));
  // The trace: exec's call starts folded (it has hundreds of events); open it, then freevm,
  // whose 66 kfrees of page-table pages are one line.
  const visible = await page.locator('#events li:visible').count();
  assert.ok(visible < 12, `${visible} lines before opening anything`);
  await page.locator('#events details.callnode > summary', { hasText: 'exec(path="/init"' }).click();
  await page.locator('#events details.callnode > summary', { hasText: 'freevm(' }).click();
  await page.locator('#events .run > details > summary', { hasText: 'freevm: kfree 66 page-table pages' }).waitFor();
  await shot(page, `trace-folded-${size}`, '.panel.timeline');
  await page.close();
});

for (const [size, viewport] of SIZES) test(`the view follows the step: changed panels are marked and c brings them into sight (${size})`, async () => {
  const page = await open(browser, '#b=story-x86&step=5', viewport);
  await page.keyboard.press('n');
  await atStep(page, 6, 9);
  // sbrk: the process table (sz), pid 3's page table and physical memory changed.
  for (const id of ['#panel-procs', '#panel-space', '#panel-memory']) {
    assert.match(await page.getAttribute(id, 'class'), /changed/, id);
    assert.match(await text(page, `${id} h2`), /changed in step 6/);
  }
  assert.doesNotMatch(await page.getAttribute('#panel-shm', 'class'), /changed/);
  // The chosen process follows the step, and so does the address (pid 3's sp).
  assert.equal(await page.getAttribute('#pick-3', 'aria-pressed'), 'true');
  // c: the next changed panel comes into sight, its heading focused.
  const seen = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('c');
    await page.waitForTimeout(400);
    const r = await page.evaluate(() => {
      const h = document.activeElement;
      const p = h?.closest('.panel');
      const box = h?.getBoundingClientRect();
      return { id: p?.id, changed: p?.classList.contains('changed'), top: box?.top, h: innerHeight };
    });
    assert.ok(r.changed, `c focused ${r.id}`);
    assert.ok(r.top > 0 && r.top < r.h, `${r.id} is in sight`);
    seen.push(r.id);
  }
  assert.deepEqual(new Set(seen), new Set(['panel-procs', 'panel-space', 'panel-memory']));
  // The frames of the chosen process are marked in the map (pid 3: 12 user pages,
  // a page directory, 1 + 9 page tables on... the full machine: 1 + 65, and a kernel stack).
  assert.ok(await page.locator('#framemap .cell.mine').count() >= 12);
  assert.match(await text(page, '#mine-legend'), /pid 3/);
  await page.close();
});

for (const [size, viewport] of SIZES) test(`translate: V2P only where it applies, PTE_ADDR and PTE2PA as their own steps (${size})`, async () => {
  // Step 0 of the story: no process, so the kernel's table and a kernel read.
  const page = await open(browser, '#b=story-x86', viewport);
  await atStep(page, 0, 9);
  assert.equal(await page.inputValue('#access'), 'kr');
  // KERNBASE + 1 MB: in the map of RAM, V2P = va − KERNBASE.
  await page.fill('#address', '0x80100000');
  await page.waitForSelector('#pa');
  assert.match(await text(page, '#p2v'), /V2P\(0x80100000\) = va − KERNBASE = 0x00100000/);
  // PTE_ADDR between the directory entry and the table, and again for the frame.
  const lines = await page.$$eval('#walk .pte2pa', (l) => l.map((x) => x.textContent));
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^PTE_ADDR\(pde\) = pde & ~0xFFF = 0x[0-9a-f]{8} → the next table/);
  assert.match(lines[1], /^PTE_ADDR\(pte\) = pte & ~0xFFF = 0x00100000 → the frame/);
  // Device space: mapped one to one, no V2P.
  for (const va of ['0xfe000000', '0xffffffff']) {
    await page.fill('#address', va);
    await page.waitForFunction((v) => document.querySelector('#pa')?.textContent === (v === '0xffffffff' ? '0xffffffff' : '0xfe000000'), va);
    assert.equal(await page.locator('#p2v').count(), 0, `${va}: no V2P line`);
    assert.match(await text(page, '#place'), /mapped one to one, pa = va/);
  }
  // Above KERNBASE + PHYSTOP (0x8e000000), below DEVSPACE: nothing.
  await page.fill('#address', '0x90000000');
  await page.waitForSelector('#fault-text');
  assert.match(await text(page, '#place'), /nothing is mapped here/);
  assert.match(await text(page, '#after-fault'), /panics \("trap"\)/);
  // The translation is announced.
  assert.match(await text(page, '#translate-live'), /0x90000000 faults/);

  // RISC-V: each entry's PTE2PA is the next table's address.
  const rv = await open(browser, '#b=story-riscv&step=7', viewport);
  await atStep(rv, 7, 9);
  await rv.waitForSelector('#pa');
  const walk = await rv.$$eval('#walk li.wstep', (l) => l.map((x) => x.textContent));
  const pte2pa = await rv.$$eval('#walk .pte2pa', (l) => l.map((x) => x.textContent));
  assert.equal(pte2pa.length, 3);
  for (let i = 0; i < 3; i++) {
    const entry = BigInt(walk[i + 1].match(/value (0x[0-9a-f]{16})/)[1]);
    const pa = (entry >> 10n) << 12n;
    assert.match(pte2pa[i], /^PTE2PA\(pte\) = \(pte >> 10\) << 12 = (0x[0-9a-f]{16})/);
    assert.equal(BigInt(pte2pa[i].match(/= (0x[0-9a-f]{16}) →/)[1]), pa, `level ${2 - i}`);
    if (i < 2) assert.equal(BigInt(walk[i + 2].match(/= (0x[0-9a-f]{16}) \+/)[1]), pa, 'the next table is at PTE2PA');
  }
  // Each entry is said in words, from its own bits: R, W, X all clear is a
  // pointer to the next table; the leaf says what its R, W, X and U allow.
  const words = await rv.$$eval('#walk .pteword', (l) => l.map((x) => x.textContent));
  assert.equal(words.length, 3);
  for (let i = 0; i < 3; i++) {
    const entry = BigInt(walk[i + 1].match(/value (0x[0-9a-f]{16})/)[1]);
    const bit = (n) => ((entry >> BigInt(n)) & 1n) === 1n;
    if (!bit(1) && !bit(2) && !bit(3)) {
      assert.match(words[i], /R, W and X are 0: not a leaf, so it points to the next table/, `level ${2 - i}`);
      continue;
    }
    const may = [[1, 'read (R)'], [2, 'written (W)'], [3, 'run as code (X)']].filter(([n]) => bit(n)).map(([, w]) => w);
    assert.ok(words[i].includes(`4 KB page that may be ${may.length === 3 ? 'read (R), written (W) and run as code (X)' : may.join(' and ')}`), words[i]);
    assert.ok(words[i].includes(bit(4) ? 'user mode may use it (U)' : 'only the kernel may use it (no U)'), words[i]);
  }
  await rv.click('#flag-legend summary');
  assert.match(await text(rv, '#flag-legend'), /PTE_U\s*user mode may use the page/);
  // Sv39's rule: bits 63..39 must copy bit 38.
  await rv.fill('#address', '0x4000000000');
  await rv.waitForSelector('#sv39-rule');
  assert.match(await text(rv, '#sv39-rule'), /bits 63–39 must all be copies of bit 38\. Here bit 38 is 1, but bits 63–39 are 0x0/);
  assert.match(await text(rv, '#fault-text'), /bits 63–39 must all copy bit 38/);
  await rv.fill('#address', '0xffffffc000000000');
  await rv.waitForFunction(() => /MAXVA/.test(document.querySelector('#sv39-rule')?.textContent));
  await shot(rv, `translate-sv39-rule-${size}`, '.panel.translate');
  await page.close();
  await rv.close();
});

for (const [size, viewport] of SIZES) test(`the kernel's address space: kvmmake's mappings, and each translates in the kernel's table (${size})`, async () => {
  const rv = await open(browser, '#b=story-riscv&step=4', viewport);
  await atStep(rv, 4, 9);
  assert.equal(await rv.locator('#kernel-map').count(), 0, 'read only when opened');
  await rv.click('#kernel-space summary');
  await rv.waitForSelector('#kernel-map > li');
  const rows = await rv.$$eval('#kernel-map > li', (l) => l.map((x) => x.textContent));
  // kvmmake: the PLIC (64 MB), UART0, VIRTIO0, text (KERNBASE to etext = 0x80008000), data
  // up to PHYSTOP (0x88000000); proc_mapstacks' 64 stacks; the trampoline at MAXVA − 4096.
  assert.equal(rows.length, 7, rows.join('\n'));
  assert.match(rows[0], /PLIC.*0x000000000c000000–0x000000000fffffff · 16384 pages/);
  assert.match(rows[1], /UART0.*0x0000000010000000–0x0000000010000fff · 1 page · pa 0x0000000010000000 · V R W/);
  assert.match(rows[3], /kernel text.*0x0000000080000000–0x0000000080007fff · 8 pages · pa 0x0000000080000000 · V R X/);
  assert.match(rows[4], /kernel data and free RAM.*· 32760 pages/);
  assert.match(rows[5], /64 kernel stacks.*0x0000003ffff7f000–0x0000003fffffdfff · 64 pages mapped, unmapped guards between · a frame each · V R W/);
  assert.match(rows[6], /trampoline.*0x0000003ffffff000–0x0000003fffffffff · 1 page · pa 0x0000000080007000 · V R X/);
  // The trampoline's address, in the kernel's table: its page is the trampoline code's frame.
  await rv.click('#kernel-map > li:nth-child(7) button.addr');
  await rv.waitForFunction(() => document.querySelector('#address')?.value === '0x3ffffff000');
  assert.equal(await rv.locator('#table').inputValue(), 'kernel');
  await rv.waitForSelector('#pa');
  assert.equal(await text(rv, '#pa'), '0x0000000080007000');
  // The walk is where the learner is taken: the translate panel's heading has the focus.
  assert.equal(await rv.evaluate(() => document.activeElement?.id), 'tr-h');
  // The link keeps the kernel's table: a reload walks it again.
  await rv.waitForFunction(() => location.hash.includes('table=kernel'));
  await rv.reload();
  await rv.waitForSelector('#pa');
  assert.equal(await rv.locator('#table').inputValue(), 'kernel');
  assert.equal(await text(rv, '#pa'), '0x0000000080007000');
  // A press in the process's own list goes back to its table: pid 2's text at 0x0 is mapped.
  await rv.click('#regions tbody tr:first-child button.addr');
  await rv.waitForFunction(() => document.querySelector('#address')?.value === '0x0');
  assert.equal(await rv.locator('#table').inputValue(), '2');
  await rv.waitForSelector('#pa');
  assert.match(await text(rv, '#walk-result'), /user read allowed/);
  await rv.close();
});

for (const [size, viewport] of SIZES) test(`shared memory: eleven processes map the frame after the forks (${size})`, async () => {
  // shm-test step 18: the test (pid 3) opened page 25 and forked children 4..13;
  // pagelab's fork shares the page, so 1 + 10 processes map it and its count is 11.
  const page = await open(browser, '#b=shm-test&step=18', viewport);
  await atStep(page, 18, 90);
  const row = page.locator('#shm-table tr[data-id="25"]');
  assert.equal(await row.locator('.count').textContent(), '11');
  const who = await row.locator('.who').textContent();
  assert.match(who, /^11 processes: /);
  for (let pid = 3; pid <= 13; pid++) assert.ok(who.includes(`pid ${pid} at 0x00004000`), `pid ${pid} in ${who}`);
  await shot(page, `shared-pages-${size}`, '#panel-shm');
  // After the last child exits and the test closes the page (step 90), it is gone.
  await page.selectOption('#jump', '90');
  await atStep(page, 90, 90);
  await page.waitForSelector('#shm-none');
  await page.close();
});

for (const [size, viewport] of SIZES) test(`shm-test-note: DEFECT steps are marked, and d / "Next defect" go through them (${size})`, async () => {
  const page = await open(browser, '#b=shm-test-note', viewport);
  await atStep(page, 0, 90);
  // The note's fork copies the shared page (steps 9 to 18); its closeshmem clears the entry
  // without a TLB flush (each child's closeshmem and the test's own): 10 + 10 + 1 = 21 steps.
  assert.equal(await page.locator('#steps li.defect').count(), 21);
  await page.keyboard.press('d');
  await atStep(page, 9, 90);
  assert.match(await text(page, '#step-title'), /DEFECT/);
  assert.match(await text(page, '#step-defects'), /copyuvm copies shared page 25/);
  await page.click('#next-defect');
  await atStep(page, 10, 90);
  await page.selectOption('#jump', '19');
  await page.keyboard.press('d');
  // Child 0 (pid 4) closes the page at step 18 + 5 = 23.
  await atStep(page, 23, 90);
  assert.match(await text(page, '#step-defects'), /without a TLB flush/);
  await shot(page, `defect-step-${size}`, '#panel-story');
  await page.close();
});

test('machines apply at once, and the first screen says what to do', async () => {
  const page = await open(browser, '', { width: 1440, height: 900 });
  // Three ways in, on the first screen.
  const ways = await page.locator('#ways-in').boundingBox();
  assert.ok(ways && ways.y + ways.height <= 900, 'the three ways in are on the first screen');
  // The default address translates: no fault on the first screen.
  await page.waitForSelector('#pa');
  assert.equal(await page.locator('#fault-text').count(), 0);
  // Nothing in the header is cut off.
  const clipped = await page.evaluate(() => [...document.querySelectorAll('.top button, #machine-name')]
    .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth).map((e) => e.id));
  assert.deepEqual(clipped, []);
  await shot(page, 'first-screen-desktop', null, false);
  // A machine applies at once; Back in the browser returns. The address bar is
  // written in a task after the change is drawn: Back waits for the new lab's
  // entry (else, on a busy machine, Back left the page for about:blank).
  await page.waitForFunction(() => location.hash.startsWith('#lab='));
  const first = await page.evaluate(() => location.hash);
  await page.click('#machine-xv6-riscv');
  await page.waitForFunction(() => /satp/.test(document.querySelector('#vocab')?.textContent));
  assert.equal(await page.getAttribute('#machine-xv6-riscv', 'aria-pressed'), 'true');
  await atStep(page, 1, 1);
  await page.waitForFunction((f) => location.hash.startsWith('#lab=') && location.hash !== f, first);
  await page.goBack();
  await page.waitForFunction(() => /cr3/.test(document.querySelector('#vocab')?.textContent));
  // "Translate an address" puts the cursor in the field.
  await page.click('#way-translate');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'address');
  await page.click('#way-story');
  await atStep(page, 0, 9);
  await page.close();

  // On a phone the lab starts on the first screen, and words do not break inside.
  const phone = await open(browser, linkFor(TINY_PREFIX), { width: 390, height: 844 });
  const story = await phone.locator('#panel-story').boundingBox();
  assert.ok(story.y < 844 * 0.5, `the lab starts at ${story.y}px`);
  const broken = await phone.evaluate(() => {
    const out = [];
    for (const td of document.querySelectorAll('td, #step-pos, .fval, #nfree')) {
      for (const n of td.childNodes) {
        if (n.nodeType !== 3 || !n.textContent.trim()) continue;
        // A single word on more than one line has been broken inside (a range such as
        // 0x2000–0x2fff may break after its dash, as text does).
        for (const w of n.textContent.split(/[\s–]+/).filter(Boolean)) {
          const i = n.textContent.indexOf(w);
          const r = document.createRange();
          r.setStart(n, i); r.setEnd(n, i + w.length);
          const tops = new Set([...r.getClientRects()].map((b) => Math.round(b.top)));
          if (tops.size > 1) out.push(w);
        }
      }
    }
    return out;
  });
  assert.deepEqual(broken, [], 'words broken across lines');
  await shot(phone, 'first-screen-phone', null, false);
  await phone.close();
});

for (const [size, viewport] of SIZES) test(`embed this view: the element pasted into a notes page shows the same walk (${size})`, async () => {
  const page = await open(browser, '#b=story-x86&step=7', viewport);
  await atStep(page, 7, 9);
  await page.waitForSelector('#pa');
  const pa = await text(page, '#pa');
  const snippet = await page.inputValue('#embed-code');
  // pid 3's sp after exec of echo hello world: 0x2fcc (see helpers' stack table). The first
  // line loads the widgets from the lab's own folder.
  assert.equal(snippet, `<script type="module" src="${URL_BASE}widgets/pagelab-widgets.js"></script>\n`
    + '<pagelab-walk scenario="story-x86" step="7" pid="3" address="0x2fcc" access="user-read"></pagelab-walk>');
  // A page of course notes in another folder, with nothing but what was pasted.
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>notes</title></head>
<body><main><h1>Notes</h1>
${snippet}
</main></body></html>`;
  const file = `course/embed-check-${size}.html`;
  mkdirSync(`${dist}course`, { recursive: true });
  writeFileSync(`${dist}${file}`, html);
  try {
    const notes = await browser.newPage({ viewport });
    await notes.goto(`${URL_BASE}${file}`);
    await notes.waitForSelector('pagelab-walk[data-state="ready"]');
    assert.equal((await notes.locator('pagelab-walk .pa').textContent()).trim(), pa);
    await notes.close();
  } finally {
    rmSync(`${dist}${file}`);
    if (readdirSync(`${dist}course`).length === 0) rmSync(`${dist}course`, { recursive: true });
  }
  // A lab the learner changed is embedded with its text inside the element.
  await page.click('#fork');
  await atStep(page, 8, 8);
  await page.selectOption('#embed-kind', 'frames');
  const own = await page.inputValue('#embed-code');
  assert.match(own, /\n<pagelab-frames step="8">\n  <script type="text\/plain">\n/);
  assert.match(own, /\nfork 3\n/);
  // The scenario's text holds the operation the learner clicked, after the story's own.
  await page.click('.scenario-text summary');
  const t = await page.inputValue('#scenario-text');
  assert.match(t, /# The notes' story on xv6-public/);
  assert.match(t, /exec 3 echo hello world\nfork 3\n$/);
  await page.close();
});

test('the built site works from a folder of a static host', async () => {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const server = await serve(dist, 0, { prefix: '/os/pagelab/' });
  try {
    const page = await browser.newPage();
    const failed = [];
    page.on('response', (r) => { if (r.status() >= 400) failed.push(r.url()); });
    await page.goto(`${server.url}#b=story-x86&step=2`);
    await page.waitForSelector('#main');
    await atStep(page, 2, 9);
    await page.keyboard.press('n');
    await atStep(page, 3, 9);
    // Every file came from the folder.
    assert.deepEqual(failed, []);
    assert.ok(server.requests.every((p) => p.startsWith('/os/pagelab/')), server.requests.join(' '));
    const notes = await browser.newPage();
    await notes.goto(`${server.url}notes.html`);
    await notes.waitForSelector('#w-walk[data-state="ready"]');
    await page.close();
    await notes.close();
  } finally {
    server.close();
  }
});

for (const [size, viewport] of SIZES) test(`accessibility: no serious or critical axe-core violation on the lab and the notes page (${size})`, async () => {
  const ctx = await browser.newContext({ bypassCSP: true, viewport });
  const found = {};
  for (const [name, path] of [
    ['lab', ''], ['story step 2', '#b=story-x86&step=2'], ['shm-test-note at a defect', '#b=shm-test-note&step=9'],
    ['riscv', '#b=story-riscv&step=7'], ['notes page', 'notes.html'],
    // Predict mode: a question open, a verdict given, the set menu open.
    ['predict mode', `#set=quiz-story-x86&seed=1&qa=${Buffer.from(JSON.stringify([['w', 1, '1 0 1 0', 3]])).toString('base64url')}`],
  ]) {
    const page = await ctx.newPage();
    await page.goto(URL_BASE + path);
    await page.waitForSelector(name === 'notes page' ? '#w-lab[data-state="ready"]' : '#main');
    if (name !== 'notes page') {
      // Open what is folded, so that it is audited too.
      await page.click('.scenario-text summary');
      // The list of keys is left out on a phone's narrow screen.
      if (await page.locator('#keys summary').isVisible()) await page.click('#keys summary');
      if (await page.locator('#sets summary').count()) {
        await page.click('#sets summary');
        await page.waitForSelector('#verdict-1');
        await page.click('#answer-hint');
        await page.waitForSelector('#hints li');
      }
    }
    const v = await audit(page);
    if (v.length) found[name] = v;
    await page.close();
  }
  await ctx.close();
  assert.deepEqual(found, {});
});
