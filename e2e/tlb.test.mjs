// The TLB in the lab: the growproc experiment as a learner runs it. The
// expected values come from xv6-public's code (see tlb-noflush-x86.txt):
// after sbrk(-4096) without growproc's switchuvm, slot 0 still maps page
// 0x1000 to the freed frame; fork's allocproc takes that frame (the head of
// the free list) for pid 3's kernel stack; pid 2's store lands there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, text, atStep, shot, assertAlive, twoFrames } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const SIZES = [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]];

// A panel far from the screen is not laid out (content-visibility: auto), and
// innerText reads only what is laid out: a learner scrolls there first, so the
// test does too, and waits for the frame that draws it.
async function seen(locator) {
  await locator.scrollIntoViewIfNeeded();
  await twoFrames(locator);
  return locator.innerText();
}

for (const [size, viewport] of SIZES) {
  test(`the growproc experiment: a stale TLB slot changes pid 3's kernel stack, and xv6's flush makes the store fault (${size})`, async () => {
    const page = await open(browser, '#b=tlb-noflush-x86', viewport);
    await atStep(page, 0, 8);
    // The what-if is on, and the panel says so in words.
    assert.equal(await page.isChecked('#noflush'), true);
    assert.match(await text(page, '#tlb-whatif'), /growproc returns without switchuvm/);
    // Step 4: pid 2's store misses and fills slot 0 with page 0x1000.
    await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n');
    await atStep(page, 4, 8);
    assert.match(await text(page, '#tlb-counts'), /1 miss, 1 fill/);
    const row = page.locator('#tlb-table tr[data-slot="0"]');
    assert.match(await seen(row), /0x00001000/);
    assert.match(await seen(row), /says the same/);
    // The translate view follows the store: a TLB hit now (the slot is dirty).
    assert.match(await text(page, '#tlb-would'), /TLB hit and the MMU reads no page-table entry/);
    // Step 5: sbrk(-4096) frees the page, but slot 0 stays: STALE, the frame is free.
    await page.keyboard.press('n');
    await atStep(page, 5, 8);
    assert.match(await seen(row), /STALE: maps nothing here; the slot's frame is free/);
    // Step 8: the store hits slot 0 and lands in pid 3's kernel stack.
    await page.keyboard.press('n'); await page.keyboard.press('n'); await page.keyboard.press('n');
    await atStep(page, 8, 8);
    assert.match(await seen(row), /kernel stack of pid 3/);
    assert.match(await text(page, '#tlb-would'), /STALE: the table now maps nothing here/);
    assert.match(await text(page, '#step-detail'), /lands in a frame that belongs to someone else: kernel stack of pid 3/);
    // The slot's frame, chosen in the frame map, is pid 3's kernel stack; the store copied "C" (0x43) into it.
    await row.locator('button.addr').click();
    assert.match(await text(page, '#frame-info'), /kernel stack of pid 3/);
    assert.match(await text(page, '#step-detail'), /copyout 0x1010: "C"/);
    await shot(page, `tlb-noflush-${size}`, '#panel-tlb', false);
    // Turn xv6's flush back on: the store in step 6 faults, and the timeline ends there.
    await page.click('#noflush');
    await atStep(page, 6, 6);
    assert.equal(await page.isChecked('#noflush'), false);
    assert.match(await text(page, '#tlb-notice'), /with growproc's switchuvm, as xv6 does\. Step 7 cannot run/);
    assert.match(await text(page, '#step-detail'), /TLB miss for 0x1008/);
    assert.match(await text(page, '#step-detail'), /page fault at 0x1008/);
    await assertAlive(page, 'after the what-if switch');
  });
}

for (const [size, viewport] of SIZES) {
  test(`two CPUs: pid 2's stale slot on CPU 0 changes the page kalloc gave pid 1 on CPU 1; the learner moves to CPU 0 by keyboard (${size})`, async () => {
    // Expected values from xv6-public's code (see tlb-smp-x86.txt): kalloc's
    // free list is LIFO, so pid 1's sbrk on CPU 1 gets the frame pid 2's
    // sbrk(-4096) freed; growproc skipped switchuvm, so CPU 0's slot 0 still maps it.
    const page = await open(browser, '#b=tlb-smp-x86', viewport);
    await atStep(page, 0, 14);
    for (let i = 0; i < 9; i++) await page.keyboard.press('n');
    await atStep(page, 9, 14);
    assert.equal(await page.getAttribute('#cpu-0', 'aria-pressed'), 'true');
    assert.match(await text(page, '#tlb-cpu'), /CPU 0\s*operations run here[^]*Runs pid 2/);
    assert.match(await text(page, '#tlb-cpu-1'), /Runs pid 1/);
    const stale = page.locator('#tlb-table tr[data-slot="0"]');
    assert.match(await seen(stale), /STALE: maps nothing here[^]*user page of pid 1/);
    assert.match(await seen(page.locator('#tlb-table-1 tr[data-slot="0"]')), /0x00001000[^]*says the same/);
    assert.match(await text(page, '#step-detail'), /lands in a frame that belongs to someone else: user page of pid 1/);
    // Step 11: pid 1, on CPU 1, loads its byte back and finds pid 2's 'B'.
    await page.keyboard.press('n'); await page.keyboard.press('n');
    await atStep(page, 11, 14);
    assert.equal(await page.getAttribute('#cpu-1', 'aria-pressed'), 'true');
    assert.match(await text(page, '#step-detail'), /cpu 1: TLB hit for 0x1100[^]*copyin 0x1100: "B"/);
    await shot(page, `tlb-smp-${size}`, '#panel-tlb', false);
    // The choice says what it does to the steps after this one.
    assert.match(await text(page, '#cpu-help'), /step 11 of 14: choosing here drops steps 12 to 14; the browser's Back brings them back/);
    // Keyboard only. On a CPU button the arrow keys are the lab's own Back and
    // Forward: they move between steps and drop none (a radio group's arrows chose a CPU).
    await page.focus('#cpu-1');
    await page.keyboard.press('ArrowLeft');
    await atStep(page, 10, 14);
    await page.keyboard.press('ArrowRight');
    await atStep(page, 11, 14);
    await page.waitForFunction(() => location.hash.includes('step=11'));
    // Shift+Tab reaches CPU 0, and Enter moves there: `cpu 0` is step 12, the end now.
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'cpu-0');
    await page.keyboard.press('Enter');
    await atStep(page, 12, 12);
    assert.equal(await page.getAttribute('#cpu-0', 'aria-pressed'), 'true');
    assert.match(await text(page, '#tlb-cpu'), /operations run here/);
    assert.match(await text(page, '#tlb-notice'), /Steps 12 to 14 were dropped/);
    // The browser's Back brings the dropped steps back.
    await page.waitForFunction(() => location.hash.startsWith('#lab='));
    await page.goBack();
    await atStep(page, 11, 14);
    assert.equal(await page.getAttribute('#cpu-1', 'aria-pressed'), 'true');
    await assertAlive(page, 'after choosing a CPU');
  });
}
